"""Name -> builder registries, one per model slot (encoders, sequence models, heads, presets)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from seqvision.errors import ConfigError

F = TypeVar("F", bound=Callable)


class Registry(Generic[F]):
    """A named collection of builders filled by the :meth:`register` decorator.

    >>> widgets = Registry("widget")
    >>> @widgets.register("plain")
    ... def plain(): return 1
    >>> widgets.get("plain")()
    1
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, F] = {}

    def register(self, name: str) -> Callable[[F], F]:
        def decorator(fn: F) -> F:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = fn
            return fn

        return decorator

    def get(self, name: str) -> F:
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def describe(self, name: str) -> str:
        """First line of the builder's docstring."""
        doc = self._items[name].__doc__ or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""


ENCODERS: Registry = Registry("encoder")
SEQUENCES: Registry = Registry("sequence model")
# (B, T, C, H, W) maps -> (B, T, C', H, W): ConvLSTM; a sibling of SEQUENCES because the contract differs
SPATIAL_SEQUENCES: Registry = Registry("spatial sequence model")
HEADS: Registry = Registry("head")
PRESETS: Registry = Registry("preset")
TASKS: Registry = Registry("task")


def declared(root: Path, registries: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """What the ``@REGISTRY.register("name")`` decorators under ``root`` declare, read from the source with ``ast``:
    ``{registry: {name: first docstring line}}``, as :meth:`Registry.describe` gives it, with nothing imported.

    ``seqvision models`` lists the model parts this way, so it needs no torch; a test checks it
    against the registries filled by importing the modules.
    """
    found: dict[str, dict[str, str]] = {r: {} for r in registries}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.ClassDef):
                continue
            for dec in node.decorator_list:
                if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)):
                    continue
                owner, args = dec.func.value, dec.args
                if dec.func.attr != "register" or not isinstance(owner, ast.Name) or owner.id not in found:
                    continue
                if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                    doc = (ast.get_docstring(node) or "").strip()
                    found[owner.id][args[0].value] = doc.splitlines()[0] if doc else ""
    return {r: dict(sorted(items.items())) for r, items in found.items()}
