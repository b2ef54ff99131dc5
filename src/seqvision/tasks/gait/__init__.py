"""Gait recognition: silhouette clips -> identity embeddings; gallery/probe ranking (CMC rank-k, mAP)."""
