"""Pure model parts: encoders, sequence models, heads, the SeqModel that composes them, presets.

Nothing here imports a task, a trainer, a reader or the CLI: every forward returns tensors.
"""
