"""The route of ``POST /v1/read/page`` and its request forms: multipart, base64 JSON, or the raw image as the body."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError

from seqvision.serving import schemas
from seqvision.serving.config import ServeConfig
from seqvision.serving.errors import ApiError, invalid, unsupported
from seqvision.serving.pages import Pages
from seqvision.serving.uploads import NAME_LIMIT, Upload, from_base64, parse_multipart, parse_off_loop, read_body

XML_TYPES = {"page": "application/vnd.prima.page+xml", "alto": "application/alto+xml"}


def _body_doc() -> dict[str, Any]:
    """The three request forms, for /docs (the body is parsed by hand to keep uploads in memory)."""
    options = schemas.PageOptions.model_json_schema()["properties"]
    binary = {"type": "string", "format": "binary"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {**binary, "description": "the page image"}, **options},
                    }
                },
                "application/json": {"schema": schemas.PageJSON.model_json_schema()},
                "image/*": {"schema": {**binary, "description": "the page image itself (options in the query)"}},
            },
        },
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": schema, "description": schema.get("description")}
            for name, schema in options.items()
        ],
        "responses": {
            "200": {
                "description": "the lines and text (format=json), or the PAGE-XML / ALTO document",
                "content": {"application/xml": {"schema": {"type": "string"}}},
            }
        },
    }


def add_page_route(app: FastAPI, pages: Pages, config: ServeConfig, errors: dict[int | str, dict[str, Any]]) -> None:
    """Register ``POST /v1/read/page`` on ``app``."""
    responses = {**errors, 503: {"model": schemas.Error, "description": "busy (Retry-After), or no page segmenter"}}

    @app.post(
        "/v1/read/page",
        response_model=schemas.PageResult,
        responses=responses,
        summary="read a whole page: its lines found, read in reading order",
        description="multipart with the image in the field `file`, JSON with it in base64, or the image itself "
        "as the body (`Content-Type: image/png`, options as query parameters). `format=page|alto` answers with "
        "the PAGE-XML or ALTO document instead of JSON. A page without text gives an empty list of lines.",
        openapi_extra=_body_doc(),
    )
    async def read_page(request: Request) -> Any:
        started = time.perf_counter()
        options, upload = await _parse(request, config)
        kinds = (options.format,) if options.format != "json" else ("page",)
        result, queue_ms = await pages.read(upload, options.model, kinds)
        if options.format != "json":
            doc = result.documents[options.format]
            body = await asyncio.to_thread(lambda: (doc.finish(), doc.to_bytes())[1])
            return Response(body, media_type=XML_TYPES[options.format], headers={"X-Seqvision-Model": result.model})
        record = result.to_json()
        seconds = result.seconds
        timing = {
            "queue_ms": round(queue_ms, 2),
            "segment_ms": round(1000 * seconds["segment"], 2),
            "read_ms": round(1000 * seconds["read"], 2),
            "total_ms": round(1000 * (time.perf_counter() - started), 2),
        }
        width, height = next(iter(result.documents.values())).pixels.size
        return {
            "name": upload.name,
            "width": width,
            "height": height,
            "model": result.model or None,
            "chosen": result.why,
            "segmenter": pages.segmenter,
            "text": record["text"],
            "lines": record["lines"],
            "timing": timing,
        }


async def _parse(request: Request, config: ServeConfig) -> tuple[schemas.PageOptions, Upload]:
    content_type = request.headers.get("content-type", "")
    kind = content_type.split(";")[0].strip().lower()
    if kind not in ("multipart/form-data", "application/json") and not kind.startswith("image/"):
        raise unsupported(
            f"send multipart/form-data (field 'file'), application/json or the image itself, not {kind or 'no type'!r}"
        )
    body = await read_body(request, config.max_body_bytes, config.timeout)
    query = dict(request.query_params)
    return await parse_off_loop(body, _parse_body, kind, content_type, query, config)


def _parse_body(
    body: bytes, kind: str, content_type: str, query: dict[str, str], config: ServeConfig
) -> tuple[schemas.PageOptions, Upload]:
    name = query.pop("name", None)  # options may come in the query whatever the body; the body's own win
    try:
        if kind == "application/json":
            parsed = schemas.PageJSON.model_validate_json(body)
            upload = from_base64(parsed.image, parsed.name or name or "page")
            given = {**query, **parsed.model_dump(include={"model", "format"}, exclude_unset=True)}
        elif kind == "multipart/form-data":
            fields, files = parse_multipart(body, content_type, 8)
            if [field for field, _ in files if field != "file"] or len(files) > 1:
                raise invalid("send one page image, in the multipart field 'file' (one page per request)")
            if not files:
                raise invalid("no image: upload it in the multipart field 'file'")
            upload, given = files[0][1], {**query, **fields}
        else:
            upload, given = Upload((name or "page")[:NAME_LIMIT] or "page", body), query
        options = schemas.PageOptions.model_validate(given)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise invalid(where or "invalid request") from None
    if len(upload.data) > config.max_upload_bytes:
        size = len(upload.data)
        raise ApiError(413, "too_large", f"{size} bytes of image is over the limit of {config.max_upload_bytes}")
    return options, upload
