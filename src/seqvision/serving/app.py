"""The FastAPI app: health, models, reading one line or a batch, clips, the web page at ``/`` and docs at ``/docs``."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from seqvision import __version__
from seqvision.serving import schemas
from seqvision.serving.clip_route import add_clip_route
from seqvision.serving.config import ServeConfig
from seqvision.serving.engine import Engine, Line
from seqvision.serving.errors import ApiError, invalid, unsupported
from seqvision.serving.models import ClipModel, LineModel, model_info
from seqvision.serving.page_route import add_page_route
from seqvision.serving.pages import Pages
from seqvision.serving.uploads import Upload, from_base64, parse_multipart, parse_off_loop, read_body

log = logging.getLogger("seqvision.serve")
STATIC = files("seqvision.serving") / "static"
# The page loads nothing from elsewhere; this header makes the browser enforce it.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.Error, "description": text}
    for status, text in {
        404: "unknown model",
        408: "the body did not arrive within the timeout",
        413: "body, upload bytes, pixels or number of images or clips over the limit",
        415: "not a form of request the route takes, or not an image (line routes) or video (clips)",
        422: "invalid options, corrupt image, line too wide, unusable clip, a model of the other kind",
        503: "busy: queue full or no worker free in time (see Retry-After)",
        504: "recognition took longer than the timeout",
    }.items()
}


def _body_doc(batch: bool) -> dict[str, Any]:
    """Both request forms, for /docs (the body is parsed by hand to keep uploads in memory)."""
    options = {k: v for k, v in schemas.ReadOptions.model_json_schema()["properties"].items()}
    binary = {"type": "string", "format": "binary"}
    upload = (
        {"file": {"type": "array", "items": binary, "description": "line images (repeat the field)"}}
        if batch
        else {"file": {**binary, "description": "the line image"}}
    )
    json_model = schemas.BatchJSON if batch else schemas.ReadJSON
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": {**upload, **options}}
                },
                "application/json": {"schema": json_model.model_json_schema()},
            },
        }
    }


def _line(line: Line) -> dict[str, Any]:
    d = line.decoded
    chars = [
        {"char": c, "confidence": round(p, 4), "x0": a, "x1": b}
        for c, p, (a, b) in zip(d.text, d.char_confidences, d.char_spans(), strict=True)
    ]
    words = [{"text": w.text, "confidence": round(w.confidence, 4), "x0": w.x0, "x1": w.x1} for w in d.words()]
    return {
        "name": line.name,
        "text": d.text,
        "confidence": round(d.confidence, 4),
        "width": line.width,
        "height": line.height,
        "chars": chars,
        "words": words,
    }


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), exc.status, headers=exc.headers)


def create_app(
    models: dict[str, LineModel | ClipModel], config: ServeConfig | None = None, segmenter: Any = None
) -> FastAPI:
    """The service for ``models`` (name -> loaded text-line or clip model; the first of each kind is its default).

    Args:
        segmenter: The page segmenter behind ``/v1/read/page``: a name or path (loaded now; when it cannot be,
            the endpoint answers 503 saying why), a loaded one, or None (no pages).
    """
    config = config or ServeConfig()
    engine = Engine(models, config)
    pages = Pages(dict(engine.lines), config, segmenter)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine.start()
        pages.start()
        yield
        pages.stop()
        engine.stop()

    app = FastAPI(
        title="seqvision",
        version=__version__,
        description="Text recognition (CRNN + CTC). Upload a line image, or a whole page, whose lines are found and "
        "read in reading order; get text, confidences and positions. Clip models (video, emotion) classify "
        "uploaded video clips at /v1/clips.",
        lifespan=lifespan,
    )
    app.state.engine, app.state.pages = engine, pages

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "detail": str(exc.detail)}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(invalid(_validation_message(exc.errors())))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "internal", "detail": "internal server error (logged)"}, 500)

    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"), headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/healthz", response_model=schemas.Health, summary="liveness, models and load")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "models": list(engine.models), **engine.stats()}

    @app.get("/v1/models", response_model=schemas.Models, summary="the served models and what clients may choose")
    async def list_models() -> dict[str, Any]:
        return {
            "default": engine.default,
            "default_clip": engine.default_clip,
            "models": [
                model_info(name, rec, name in (engine.default, engine.default_clip))
                for name, rec in engine.models.items()
            ],
            "decoders": ["greedy", "beam"] if engine.beam else ["greedy"],
            "lms": list(config.lms),
            "max_beam_width": config.max_beam_width,
            "limits": {
                "max_upload_bytes": config.max_upload_bytes,
                "max_pixels": config.max_pixels,
                "max_width": config.max_width,
                "max_lines": config.max_lines,
                "max_clips": config.max_clips,
                "timeout_s": config.timeout,
                "page_workers": config.page_workers,
            },
            "segmenter": pages.segmenter,
        }

    async def recognise(request: Request, batch: bool) -> tuple[str, str, list[Line], dict[str, Any]]:
        started = time.perf_counter()
        options, uploads = await _parse(request, config, batch)
        name, _ = engine.model(options.model)
        spec = engine.decoder_spec(options.decoder, options.beam_width, options.lm)
        lines, timing = await engine.read(name, spec, uploads)
        label = "greedy" if spec.kind == "greedy" else f"beam {spec.beam_width}"
        label += f", LM {options.lm}" if options.lm else ""
        timing_ms = {
            "queue_ms": round(timing.queue_ms, 2),
            "image_ms": round(timing.image_ms, 2),
            "model_ms": round(timing.model_ms, 2),
            "total_ms": round(1000 * (time.perf_counter() - started), 2),
            "batch_lines": timing.batch_lines,
        }
        return name, label, lines, timing_ms

    @app.post(
        "/v1/read",
        response_model=schemas.ReadResult,
        responses=ERRORS,
        summary="recognise one line image",
        description="multipart with the image in the field `file`, or JSON with the image in base64.",
        openapi_extra=_body_doc(batch=False),
    )
    async def read(request: Request) -> dict[str, Any]:
        name, label, lines, timing = await recognise(request, batch=False)
        return {"model": name, "decoder": label, **_line(lines[0]), "timing": timing}

    @app.post(
        "/v1/read/batch",
        response_model=schemas.BatchResult,
        responses=ERRORS,
        summary="recognise many line images in one request",
        description="multipart with the images in repeated `file` fields, or JSON with a list of base64 images; "
        "one bad image fails the whole request, naming it.",
        openapi_extra=_body_doc(batch=True),
    )
    async def read_batch(request: Request) -> dict[str, Any]:
        name, label, lines, timing = await recognise(request, batch=True)
        return {"model": name, "decoder": label, "lines": [_line(line) for line in lines], "timing": timing}

    add_page_route(app, pages, config, ERRORS)
    add_clip_route(app, engine, config, ERRORS)
    return app


def _validation_message(errors: Any) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _parse(request: Request, config: ServeConfig, batch: bool) -> tuple[schemas.ReadOptions, list[Upload]]:
    """The request's options and images, from a multipart form or a JSON body."""
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/json"):
        raise unsupported(f"send multipart/form-data (field 'file') or application/json, not {kind or 'no type'!r}")
    body = await read_body(request, config.max_body_bytes, config.timeout)
    return await parse_off_loop(body, _parse_body, kind, content_type, config, batch)


def _parse_body(
    body: bytes, kind: str, content_type: str, config: ServeConfig, batch: bool
) -> tuple[schemas.ReadOptions, list[Upload]]:
    uploads: list[Upload]
    try:
        if kind == "application/json":
            options: schemas.ReadOptions
            if batch:
                parsed = schemas.BatchJSON.model_validate_json(body)
                names = parsed.names or []
                if names and len(names) != len(parsed.images):
                    raise invalid(f"names has {len(names)} entries for {len(parsed.images)} images")
                _check_count(len(parsed.images), config)
                uploads = [from_base64(img, names[i] if names else f"#{i}") for i, img in enumerate(parsed.images)]
                options = parsed
            else:
                single = schemas.ReadJSON.model_validate_json(body)
                uploads, options = [from_base64(single.image, single.name or "#0")], single
        else:
            fields, files = parse_multipart(body, content_type, config.max_lines + 8)
            others = sorted({field for field, _ in files if field != "file"})
            if others:
                raise invalid(f"images go in the field 'file', not {', '.join(map(repr, others))}")
            uploads = [upload for _, upload in files]
            if not uploads:
                raise invalid("no image: upload it in the multipart field 'file'")
            if not batch and len(uploads) > 1:
                raise invalid(f"{len(uploads)} images sent to /v1/read; use /v1/read/batch for many")
            _check_count(len(uploads), config)
            options = schemas.ReadOptions.model_validate(fields)
    except ValidationError as exc:
        raise invalid(_validation_message(exc.errors())) from None
    total = sum(len(u.data) for u in uploads)
    if total > config.max_upload_bytes:
        raise ApiError(413, "too_large", f"{total} bytes of images is over the limit of {config.max_upload_bytes}")
    return options, uploads


def _check_count(count: int, config: ServeConfig) -> None:
    if count < 1:
        raise invalid("no image in the request")
    if count > config.max_lines:
        raise ApiError(413, "too_large", f"{count} images is over the limit of {config.max_lines} per request")
