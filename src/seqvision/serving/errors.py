"""Every failure the API reports: a status, a stable machine-readable code and one clear sentence."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Answered as ``{"error": code, "detail": message}`` with ``status`` (and ``headers``, e.g. ``Retry-After``)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "detail": self.message}


def too_large(message: str) -> ApiError:
    return ApiError(413, "too_large", message)


def unsupported(message: str) -> ApiError:
    return ApiError(415, "unsupported_media_type", message)


def invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)
