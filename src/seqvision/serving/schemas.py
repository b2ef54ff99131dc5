"""Request options and response bodies: validation and the OpenAPI documentation at ``/docs``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReadOptions(BaseModel):
    """Options of a read request: form fields beside the upload, or keys of the JSON body."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str | None = Field(None, description="a served model's name (default: the first one served)")
    decoder: Literal["greedy", "beam"] | None = Field(
        None, description="best path, or CTC beam search (default: beam when `lm` is given, else greedy)"
    )
    beam_width: int = Field(16, description="hypotheses kept per frame in beam search (1 to the server's maximum)")
    lm: str | None = Field(None, description="a language model the server offers, by name (see /v1/models)")


class ReadJSON(ReadOptions):
    image: str = Field(description="the line image, base64 (a data: URL also works)")
    name: str | None = Field(None, description="a label echoed back in the result")


class BatchJSON(ReadOptions):
    images: list[str] = Field(description="line images, base64 each (data: URLs also work)")
    names: list[str] | None = Field(None, description="a label per image, echoed back")


class Char(BaseModel):
    char: str
    confidence: float
    x0: float = Field(description="left edge in the image's own pixels")
    x1: float = Field(description="right edge in the image's own pixels")


class Word(BaseModel):
    text: str
    confidence: float
    x0: float
    x1: float


class Timing(BaseModel):
    queue_ms: float = Field(description="waiting for a free worker")
    image_ms: float = Field(description="decoding and normalising the images of the batch it was part of")
    model_ms: float = Field(description="the network and CTC decoding of that batch")
    total_ms: float = Field(description="from the request's arrival to the answer")
    batch_lines: int = Field(description="lines recognised together (waiting requests share forward passes)")


class LineResult(BaseModel):
    name: str = Field(description="the uploaded file's name, or #index")
    text: str
    confidence: float = Field(description="geometric mean of the best path's per-frame probabilities")
    width: int
    height: int
    chars: list[Char]
    words: list[Word]


class ReadResult(LineResult):
    model: str
    decoder: str
    timing: Timing


class BatchResult(BaseModel):
    model: str
    decoder: str
    lines: list[LineResult]
    timing: Timing


class ModelInfo(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    name: str
    default: bool
    alphabet_size: int = Field(description="characters the model can write (the CTC blank not counted)")
    input_height: int
    backend: str
    preset: str | None
    metrics: dict[str, float]
    calibrated: bool


class Models(BaseModel):
    default: str
    models: list[ModelInfo]
    decoders: list[str]
    lms: list[str]
    max_beam_width: int
    limits: dict[str, float]


class Health(BaseModel):
    status: Literal["ok"]
    models: list[str]
    workers: int
    running: int
    waiting: int
    queue: int


class Error(BaseModel):
    error: str = Field(description="a stable code: too_large, unsupported_media_type, corrupt_image, ...")
    detail: str = Field(description="one sentence saying what is wrong")
