"""Sounds for silent video (Owens et al. 2016): per-frame CNN -> sequence model -> sound features per frame."""
