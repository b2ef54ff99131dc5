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


class PageOptions(BaseModel):
    """Options of a page request: form fields, JSON keys, or query parameters beside a raw image body."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str | None = Field(None, description="a served text model (default: the most confident on this page)")
    format: Literal["json", "page", "alto"] = Field(
        "json", description="the answer: JSON, or the page as a PAGE-XML (2019) or ALTO (4) document with the text"
    )


class PageJSON(PageOptions):
    image: str = Field(description="the page image, base64 (a data: URL also works)")
    name: str | None = Field(None, description="a file name for the page, echoed back and written into the XML")


class PageWord(Word):
    box: list[float] = Field(description="(x0, y0, x1, y1) in page pixels; x0 and x1 are in the line crop's")


class PageLine(BaseModel):
    id: str
    polygon: list[list[float]] = Field(description="the line's outline, (x, y) points in page pixels")
    baseline: list[list[float]] | None = Field(description="(x, y) points in page pixels, when the segmenter gives one")
    box: list[int] = Field(description="(left, top, right, bottom) of the line crop in page pixels")
    text: str
    confidence: float
    width: float = Field(description="width of the line crop (character and word x-ranges are in its pixels)")
    words: list[PageWord]
    chars: list[Char]


class PageTiming(BaseModel):
    queue_ms: float = Field(description="waiting for a free page worker")
    segment_ms: float = Field(description="finding the lines (the page segmenter)")
    read_ms: float = Field(description="choosing the model and reading every line")
    total_ms: float = Field(description="from the request's arrival to the answer")


class PageResult(BaseModel):
    name: str = Field(description="the uploaded file's name")
    width: int
    height: int
    model: str | None = Field(description="the text model that read the lines (None: no line found)")
    chosen: str = Field(description="how the model was chosen, or why nothing was read")
    segmenter: str
    text: str = Field(description="the page's text, one line per line, in reading order")
    lines: list[PageLine] = Field(description="the lines in reading order")
    timing: PageTiming


class ModelInfo(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    name: str
    default: bool = Field(description="the model used when a request names none (one per kind)")
    task: str = Field(description="the task it was trained for: text_lines, video, emotion, ...")
    kind: Literal["line", "clip"] = Field(description="line: /v1/read, /v1/read/batch, pages; clip: /v1/clips")
    backend: str
    preset: str | None
    metrics: dict[str, float]
    alphabet_size: int | None = Field(None, description="line models: characters (the CTC blank not counted)")
    input_height: int | None = Field(None, description="line models: input line height in pixels")
    calibrated: bool | None = Field(None, description="line models: whether a calibration temperature applies")
    labels: list[str] | None = Field(None, description="clip models: the classes it tells apart")
    frames: int | None = Field(None, description="clip models: frames sampled from each clip")
    input_size: int | None = Field(None, description="clip models: frame width and height in pixels")
    streams: list[str] | None = Field(None, description="clip models reading more than frames: their streams")


class Models(BaseModel):
    default: str | None = Field(description="the default text-line model (None: no line model served)")
    default_clip: str | None = Field(None, description="the default clip model (None: no clip model served)")
    models: list[ModelInfo]
    decoders: list[str]
    lms: list[str]
    max_beam_width: int
    limits: dict[str, float]
    segmenter: str | None = Field(None, description="the page segmenter behind /v1/read/page (None: pages are off)")


class ClipOptions(BaseModel):
    """Options of a clip request: form fields beside the uploads, or query parameters."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str | None = Field(None, description="a served clip model's name (default: the first clip model served)")
    top_k: int = Field(5, ge=1, le=1000, description="labels given per clip, best first")


class Label(BaseModel):
    label: str
    probability: float


class ClipRecord(BaseModel):
    name: str = Field(description="the uploaded file's name, or clip")
    label: str = Field(description="the most probable label")
    top: list[Label] = Field(description="the top-k labels with their probabilities, best first")
    streams: dict[str, Label] | None = Field(
        None, description="models of more than one stream (emotion: video, audio): each stream's own best label"
    )


class ClipTiming(BaseModel):
    queue_ms: float = Field(description="waiting for a free worker")
    decode_ms: float = Field(description="opening and decoding the clips of the batch it was part of")
    model_ms: float = Field(description="the network on that batch")
    total_ms: float = Field(description="from the request's arrival to the answer")
    batch_clips: int = Field(description="clips classified together (waiting requests share forward passes)")


class ClipsResult(BaseModel):
    model: str
    task: str
    clips: list[ClipRecord] = Field(description="one record per uploaded clip, in upload order")
    timing: ClipTiming


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
