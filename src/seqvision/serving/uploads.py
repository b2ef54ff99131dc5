"""Request bodies to images, in memory only: size-limited reads, multipart and base64 JSON, safe decoding.

Nothing from a client is written to disk or used as a path: multipart parts are collected in
memory (Starlette's own form parser would spool large files to a temporary file), file names
are only echoed back as labels, and images are decoded from bytes with a pixel budget checked
against the header before any pixel is decoded (decompression bombs).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from seqvision.serving.errors import ApiError, invalid, too_large, unsupported

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")  # the decoders a client can reach
NAME_LIMIT = 120  # characters of a client's file name kept as a label
T = TypeVar("T")
OFF_LOOP_BYTES = 256 * 1024  # larger bodies are parsed (multipart, JSON, base64) on a thread, not the event loop


@dataclass
class Upload:
    """One uploaded image: a label (the client's file name or its position) and the encoded bytes."""

    name: str
    data: bytes


async def parse_off_loop(body: bytes, parse: Callable[..., T], *args: Any) -> T:
    """``parse(body, *args)``: on the event loop for a small body, on a thread beyond ``OFF_LOOP_BYTES``."""
    if len(body) <= OFF_LOOP_BYTES:
        return parse(body, *args)
    return await asyncio.to_thread(parse, body, *args)


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The whole body, refused with ``413`` as soon as it passes ``limit`` bytes (declared or streamed), and
    with ``408`` when it has not all arrived within ``timeout`` seconds (a client trickling bytes holds no
    connection for ever)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(f"request body of {int(declared)} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []

    async def receive() -> None:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(f"request body is over the limit of {limit} bytes")
            chunks.append(chunk)

    try:
        await asyncio.wait_for(receive(), timeout)
    except ClientDisconnect:
        raise invalid("the client closed the connection before the body was complete") from None
    except TimeoutError:
        raise ApiError(408, "timeout", f"the request body did not arrive within {timeout:g} s") from None
    return b"".join(chunks)


def parse_multipart(body: bytes, content_type: str, max_parts: int) -> tuple[dict[str, str], list[tuple[str, Upload]]]:
    """``multipart/form-data`` -> (text fields, [(field name, upload)]) with every part kept in memory."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise invalid("multipart body without a boundary in its Content-Type")
    parts: list[dict] = []
    header: dict[str, bytes] = {"field": b"", "value": b""}

    def on_part_begin() -> None:
        if len(parts) >= max_parts:
            raise invalid(f"too many parts in the multipart body (at most {max_parts})")
        parts.append({"headers": {}, "data": bytearray()})

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        parts[-1]["headers"][header["field"].lower()] = header["value"]
        header["field"], header["value"] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1]["data"] += data[start:end]

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
    }
    try:
        parser = MultipartParser(boundary, callbacks, max_size=len(body))  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise invalid(f"malformed multipart body ({exc})") from None
    fields: dict[str, str] = {}
    files: list[tuple[str, Upload]] = []
    for part in parts:
        _, disposition = parse_options_header(part["headers"].get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            label = disposition[b"filename"].decode("utf-8", "replace").replace("\\", "/").rsplit("/", 1)[-1]
            files.append((name, Upload(label[:NAME_LIMIT] or f"#{len(files)}", bytes(part["data"]))))
        else:
            try:
                fields[name] = part["data"].decode("utf-8")
            except UnicodeDecodeError:
                raise invalid(f"form field {name!r} is not UTF-8 text") from None
    return fields, files


def from_base64(text: object, name: str) -> Upload:
    """A base64 string (a ``data:image/...;base64,`` URL also works) -> the image bytes."""
    if not isinstance(text, str):
        raise invalid(f"{name}: expected a base64 string")
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        return Upload(name, base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        raise invalid(f"{name}: not valid base64") from None


def decode_image(upload: Upload, max_pixels: int, per_request: int | None = None) -> Image.Image:
    """Encoded bytes -> 8-bit grayscale, upright (EXIF orientation); refuses what is not a small enough image.

    Args:
        max_pixels: Pixels this image may have (what is left of the request's budget).
        per_request: The request's whole budget, named in the error when it differs.

    Raises:
        ApiError: ``415`` not an image in a supported format, ``413`` more than ``max_pixels`` pixels,
            ``422`` empty, corrupt or truncated.
    """
    name = upload.name
    if not upload.data:
        raise invalid(f"{name}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(upload.data), formats=FORMATS)
            width, height = img.size
            if width * height > max_pixels:
                limit = f"{per_request or max_pixels} per request"
                limit += f", {max_pixels} left" if per_request and max_pixels < per_request else ""
                raise too_large(f"{name}: {width}x{height} image is over the pixel limit ({limit})")
            if width == 0 or height == 0:
                raise invalid(f"{name}: image has zero size")
            img.load()
            gray = ImageOps.exif_transpose(img).convert("L")
    except UnidentifiedImageError:
        raise unsupported(f"{name}: not an image in a supported format ({', '.join(FORMATS)})") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large(f"{name}: image has too many pixels (a decompression bomb?)") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ApiError(422, "corrupt_image", f"{name}: corrupt or truncated image ({exc})") from None
    return gray
