"""PAGE-XML and ALTO files as element trees that are changed and written back: parsing that keeps comments and
namespace prefixes, children in schema order, PAGE ``Metadata`` notes, serialisation.

Shared by every writer that edits an existing file (text into its lines, new lines into its regions), so
all of them keep the same things and validate the same way.

>>> root, namespaces, kind, image_name = parse_xml(Path("page.xml").read_bytes(), Path("page.xml"))  # doctest: +SKIP
>>> data = tree_bytes(root, namespaces)                                                         # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from seqvision.data.pages import descendants, local_name, malformed_xml
from seqvision.errors import DataError

PAGE_METADATA = {"Creator", "Created", "LastChange", "Comments", "UserDefined", "MetadataItem"}


def read_xml_bytes(path: Path) -> bytes:
    """The bytes of the XML file at ``path``; missing or unreadable is a one-line :class:`DataError`."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such XML file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read XML file ({exc.strerror or exc})") from None


def parse_xml(raw: bytes, path: Path) -> tuple[ET.Element, dict[str, str], str, str | None]:
    """Parse a PAGE or ALTO file keeping comments and namespace prefixes: ``(root, namespaces, kind, image name)``."""
    namespaces: dict[str, str] = {}
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True))
    try:
        for _, item in ET.iterparse(io.BytesIO(raw), events=("start-ns",)):
            prefix, uri = item  # type: ignore[misc]
            namespaces.setdefault(prefix, uri)
        parser.feed(raw)
        root = parser.close()
    except (ET.ParseError, LookupError, ValueError) as exc:
        raise malformed_xml(path, exc) from None
    kind = {"PcGts": "page", "alto": "alto"}.get(local_name(root.tag)) or (
        "alto" if local_name(root.tag).lower() == "alto" else ""
    )
    if not kind:
        raise DataError(f"{path}: root element <{local_name(root.tag)}> is neither PAGE-XML <PcGts> nor ALTO <alto>")
    if kind == "page":
        page = next(descendants(root, "Page"), None)
        if page is None:
            raise DataError(f"{path}: PAGE-XML file has no <Page> element")
        name = page.get("imageFilename")
    else:
        file_name = next(descendants(root, "fileName"), None)
        name = file_name.text if file_name is not None else None
    return root, namespaces, kind, name


def namespace(root: ET.Element) -> str:
    """The namespace URI of the root element ('' when it has none)."""
    return root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""


def qualified(root: ET.Element, name: str) -> str:
    """``name`` in the root element's namespace, for new elements."""
    ns = namespace(root)
    return f"{{{ns}}}{name}" if ns else name


def position_after(parent: ET.Element, names: tuple[str, ...]) -> int:
    """Index just after the last child named in ``names`` (0 when there is none)."""
    at = 0
    for i, child in enumerate(parent):
        if local_name(child.tag) in names:
            at = i + 1
    return at


def insert_before(parent: ET.Element, elem: ET.Element, followers: tuple[str, ...]) -> None:
    """Insert ``elem`` before the first child named in ``followers``, else append it (schema order)."""
    for i, child in enumerate(parent):
        if local_name(child.tag) in followers:
            parent.insert(i, elem)
            return
    parent.append(elem)


def stamp_page_metadata(root: ET.Element, path: Path, note: str) -> list[str]:
    """PAGE only: set ``LastChange`` to now, add ``note`` to ``Comments`` and drop the ``Metadata`` children the
    schema forbids (Transkribus writes one); returns one message per element dropped."""
    meta = next(descendants(root, "Metadata"), None)
    if meta is None:
        return []
    dropped = []
    for child in list(meta):
        name = local_name(child.tag)
        if name and name not in PAGE_METADATA:
            meta.remove(child)
            dropped.append(f"{path}: dropped <{name}> from <Metadata>: the PAGE schema does not allow it")
    last = next((c for c in meta if local_name(c.tag) == "LastChange"), None)
    if last is not None:
        last.text = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    comments = next((c for c in meta if local_name(c.tag) == "Comments"), None)
    if comments is None:
        comments = ET.Element(qualified(root, "Comments"))
        insert_before(meta, comments, ("UserDefined", "MetadataItem"))
    comments.text = f"{comments.text.strip()}\n{note}" if comments.text and comments.text.strip() else note
    return dropped


def tree_bytes(root: ET.Element, namespaces: dict[str, str]) -> bytes:
    """The document as UTF-8 bytes with an XML declaration, its namespace prefixes as the file declared them."""
    for prefix, uri in namespaces.items():
        with contextlib.suppress(ValueError):  # a prefix like ns0 that ElementTree reserves: it picks its own
            ET.register_namespace(prefix, uri)
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
