"""CTC decoding of text lines: greedy, beam search with character/word LMs and lexicons, tuning."""
