"""Offline validation of PAGE-XML and ALTO files against the bundled official schemas (needs lxml).

>>> validate(Path("out.xml").read_bytes())   # [] when valid   # doctest: +SKIP
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from seqvision.errors import ConfigError

FOLDER = Path(__file__).parent
SCHEMAS = {
    "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15": "page-2013-07-15.xsd",
    "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15": "page-2019-07-15.xsd",
    "http://www.loc.gov/standards/alto/ns-v4#": "alto-4-2.xsd",
}


def _etree() -> Any:
    try:
        from lxml import etree
    except ImportError:
        raise ConfigError("validating XML needs lxml: pip install lxml") from None
    return etree


@cache
def _schema(namespace: str) -> Any:
    etree = _etree()
    parser = etree.XMLParser(no_network=True)
    return etree.XMLSchema(etree.parse(str(FOLDER / SCHEMAS[namespace]), parser))


def validate(data: bytes) -> list[str]:
    """Schema errors of a PAGE (2013/2019) or ALTO v4 document (``[]`` when valid); raises for other formats."""
    etree = _etree()
    try:
        root = etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        return [f"malformed XML: {exc}"]
    namespace = etree.QName(root).namespace or ""
    if namespace not in SCHEMAS:
        raise ConfigError(f"no bundled schema for namespace {namespace!r} (have: {', '.join(SCHEMAS)})")
    schema = _schema(namespace)
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]  # type: ignore[attr-defined]
