"""Captioning: caption files, vocabulary, beam search, metrics, the Captioner and the training task."""
