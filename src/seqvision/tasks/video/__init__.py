"""Video clips: clip lists and decoding, synthetic clips, the ClipClassifier and the training task."""
