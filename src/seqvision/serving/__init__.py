"""Recognition as an HTTP service (the ``[serve]`` extra): a FastAPI app, its worker pool and a web page.

>>> from seqvision.serving import ServeConfig, create_app, load_models   # doctest: +SKIP
>>> app = create_app(load_models(["print-en"]), ServeConfig(workers=2))   # doctest: +SKIP

``seqvision serve`` runs it with uvicorn.
"""

from seqvision.serving.app import create_app
from seqvision.serving.config import ServeConfig
from seqvision.serving.models import load_models

__all__ = ["ServeConfig", "create_app", "load_models"]
