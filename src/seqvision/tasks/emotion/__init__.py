"""Emotion from face and voice (EmotiW-style two-stream clips)."""
