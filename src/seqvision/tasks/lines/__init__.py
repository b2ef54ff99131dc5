"""Text lines (the flagship): readers of shards, synthetic lines, CTC decoding and LMs, calibration,
page output, error rates, the Recognizer and the training task.
"""
