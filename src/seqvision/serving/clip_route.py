"""The route of ``POST /v1/clips``: clips in (multipart, or one clip as the raw body); per clip, its top-k labels.

Clips go to the served clip models (video, emotion: :class:`~seqvision.serving.models.ClipModel`) and
are decoded and classified on the worker pool the line routes use, so they share its bounds.
"""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from fastapi import FastAPI, Request
from pydantic import ValidationError

from seqvision.serving import schemas
from seqvision.serving.config import ServeConfig
from seqvision.serving.engine import Engine
from seqvision.serving.errors import invalid, too_large, unsupported
from seqvision.serving.uploads import NAME_LIMIT, Upload, parse_multipart, parse_off_loop, read_body

RAW_TYPES = ("video/", "audio/")  # a body of one of these types is the clip itself


def _body_doc() -> dict[str, Any]:
    """Both request forms, for /docs (the body is parsed by hand to keep uploads in memory)."""
    options = schemas.ClipOptions.model_json_schema()["properties"]
    binary = {"type": "string", "format": "binary"}
    files = {"type": "array", "items": binary, "description": "video files (repeat the field for several)"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": {"file": files, **options}}
                },
                "video/*": {"schema": {**binary, "description": "one clip itself (options in the query)"}},
            },
        },
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema, "description": schema.get("description")}
            for name, schema in {**options, "name": {"type": "string", "description": "a raw clip's file name"}}.items()
        ],
    }


def add_clip_route(app: FastAPI, engine: Engine, config: ServeConfig, errors: dict[int | str, dict[str, Any]]) -> None:
    """Register ``POST /v1/clips`` on ``app``."""

    @app.post(
        "/v1/clips",
        response_model=schemas.ClipsResult,
        response_model_exclude_none=True,
        responses=errors,
        summary="classify video clips: the top-k labels of each",
        description="multipart with the clips in repeated `file` fields, or one clip itself as the body "
        "(`Content-Type: video/mp4`, options as query parameters). A clip model answers as `seqvision read "
        "MODEL CLIP --json` prints (an emotion model of two streams also gives each stream's own best label); "
        "one bad clip fails the whole request, naming it.",
        openapi_extra=_body_doc(),
    )
    async def clips(request: Request) -> dict[str, Any]:
        started = time.perf_counter()
        options, uploads = await _parse(request, config)
        name, rec = engine.clip_model(options.model)
        records, timing = await engine.classify(name, options.top_k, uploads)
        return {
            "model": name,
            "task": rec.task,
            "clips": records,
            "timing": {
                "queue_ms": round(timing.queue_ms, 2),
                "decode_ms": round(timing.decode_ms, 2),
                "model_ms": round(timing.model_ms, 2),
                "total_ms": round(1000 * (time.perf_counter() - started), 2),
                "batch_clips": timing.batch_clips,
            },
        }


async def _parse(request: Request, config: ServeConfig) -> tuple[schemas.ClipOptions, list[Upload]]:
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if kind != "multipart/form-data" and not kind.startswith(RAW_TYPES):
        raise unsupported(
            f"send multipart/form-data (field 'file') or the clip itself (e.g. video/mp4), not {kind or 'no type'!r}"
        )
    body = await read_body(request, config.max_body_bytes, config.timeout)
    query = dict(request.query_params)
    return await parse_off_loop(body, _parse_body, kind, content_type, query, config)


def _parse_body(
    body: bytes, kind: str, content_type: str, query: dict[str, str], config: ServeConfig
) -> tuple[schemas.ClipOptions, list[Upload]]:
    name = query.pop("name", None)  # options may come in the query whatever the body; the form's own win
    if kind == "multipart/form-data":
        fields, files = parse_multipart(body, content_type, config.max_clips + 8)
        others = sorted({field for field, _ in files if field != "file"})
        if others:
            raise invalid(f"clips go in the field 'file', not {', '.join(map(repr, others))}")
        uploads, given = [upload for _, upload in files], {**query, **fields}
    else:
        label = (name or f"clip{mimetypes.guess_extension(kind) or ''}")[:NAME_LIMIT]
        uploads, given = [Upload(label or "clip", body)], query
    try:
        options = schemas.ClipOptions.model_validate(given)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise invalid(where or "invalid request") from None
    if not uploads:
        raise invalid("no clip: upload it in the multipart field 'file'")
    if len(uploads) > config.max_clips:
        raise too_large(f"{len(uploads)} clips is over the limit of {config.max_clips} per request")
    total = sum(len(u.data) for u in uploads)
    if total > config.max_upload_bytes:
        raise too_large(f"{total} bytes of clips is over the limit of {config.max_upload_bytes}")
    return options, uploads
