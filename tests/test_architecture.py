"""The layout of docs/architecture.md, checked from the package's imports (read with ``ast``, nothing imported).

Rules:

* a module under ``tasks/X/`` never imports ``tasks/Y/`` (``tasks/__init__.py``, ``tasks/base.py``,
  ``tasks/predictor.py`` and ``tasks/clip_task.py`` are the shared protocols, the registry and what the clip
  tasks share, not a task);
* nothing under ``nn/`` imports a task, the trainer, a data reader (``data/``), the CLI, serving, export or compare;
* ``training/``, ``export/``, ``serving/`` and ``compare/`` reach a task only through the shared ``tasks`` modules,
  except for the imports listed in :data:`ALLOWED_TASK_IMPORTS`, which may only shrink (an entry nothing uses fails);
* no import circle among module-level imports;
* no ``.py`` file over 300 lines.

What counts as an import: every ``import`` and ``from ... import`` in a file, inside functions too, with relative
imports resolved against the file's package. An import names the most specific module it reaches
(``from seqvision.tasks import lines`` -> ``seqvision.tasks.lines``; ``from seqvision.tasks.lines.task import X`` ->
``seqvision.tasks.lines.task``). Imports under ``if TYPE_CHECKING:`` count for the layer rules (naming another
task's type is coupling all the same) but not for circles: they never run, so they cannot close one.

Circles: the graph holds module-level imports only, those that run when a module is imported (a class body or a
top-level ``try``/``if`` counts). An import inside a function runs when the function is called, after every module
has loaded, so a function-level lazy import is the allowed way to break a circle. The implicit import of parent
packages is not an edge (every module would otherwise depend on ``seqvision/__init__.py``); a package's
``__init__`` importing its own submodules is not reported either, since the submodule is loaded first.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "seqvision"
MAX_LINES = 300
SHARED_TASK_MODULES = ("__init__", "base", "predictor", "clip_task")  # tasks/<these>.py: shared, not a task
NN_FORBIDDEN = ("tasks", "training", "data", "cli", "serving", "export", "compare")
MACHINERY = ("training", "export", "serving", "compare")  # reach tasks only through the shared tasks modules

# (importer, imported) pairs of seqvision modules that break the machinery rule today. Each is a debt: remove the
# entry when the import goes (test_allow_list_is_not_stale fails on an entry nothing uses), never add one.
ALLOWED_TASK_IMPORTS: dict[tuple[str, str], str] = {
    # TODO(issue 18): the compare data suites build each task's data set; each task could register its own suite.
    ("seqvision.compare.suites", "seqvision.tasks.image_classes.synth_digits"): "MNIST digits and digit strings",
    ("seqvision.compare.suites", "seqvision.tasks.video.synth"): "synthetic clips of the video suite",
}


@dataclass(frozen=True)
class Import:
    """One import statement's target inside the package."""

    target: str  # dotted module name, resolved to a module that exists in the package
    line: int
    module_level: bool  # runs when the importing module is imported (not inside a function)
    type_checking: bool  # under ``if TYPE_CHECKING:``


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``root`` (a package directory)."""
    mods = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


def _resolve(name: str, mods: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is a module of the package (``a.b.func`` -> ``a.b``)."""
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def parse_imports(name: str, path: Path, mods: dict[str, Path]) -> list[Import]:
    """Every import of a package module in ``path`` (module ``name``), with where and how it runs."""
    pkg = name.split(".")[0]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: list[Import] = []

    def add(target: str, node: ast.stmt, module_level: bool, type_checking: bool) -> None:
        if target != pkg and not target.startswith(pkg + "."):
            return
        resolved = _resolve(target, mods)
        if resolved and resolved != name and (resolved, node.lineno) not in {(i.target, i.line) for i in found}:
            found.append(Import(resolved, node.lineno, module_level, type_checking))

    def visit(node: ast.AST, module_level: bool, type_checking: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, module_level, type_checking)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from .x import y / from .. import y
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # from a import b: b may be a submodule (a.b) or a name in a
                add(
                    f"{module}.{alias.name}" if f"{module}.{alias.name}" in mods else module,
                    node,
                    module_level,
                    type_checking,
                )
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                visit(statement, module_level, True)
            for statement in node.orelse:
                visit(statement, module_level, type_checking)
            return
        inner = module_level and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.iter_child_nodes(node):
            visit(child, inner, type_checking)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), True, False)
    return found


def _task_of(module: str) -> str | None:
    """``pkg.tasks.lines.task`` -> ``lines``; None for the shared tasks modules and everything outside tasks/."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "tasks" and parts[2] not in SHARED_TASK_MODULES:
        return parts[2]
    return None


def layer_violations(module: str, imports: list[Import], allowed: dict[tuple[str, str], str]) -> list[str]:
    """Each forbidden import of ``module`` as ``module:LINE imports TARGET (rule)``."""
    layer = module.split(".")[1] if module.count(".") else ""
    own_task = _task_of(module)
    problems = []
    for imp in imports:
        target_parts = imp.target.split(".")
        target_task = _task_of(imp.target)
        if own_task and target_task and target_task != own_task:
            rule = f"task {own_task!r} imports task {target_task!r}"
        elif layer == "nn" and len(target_parts) > 1 and target_parts[1] in NN_FORBIDDEN:
            rule = f"nn/ imports {target_parts[1]}/"
        elif layer in MACHINERY and target_task and (module, imp.target) not in allowed:
            rule = f"{layer}/ imports task {target_task!r} directly, not through tasks.base / the registry"
        else:
            continue
        problems.append(f"{module}:{imp.line} imports {imp.target} ({rule})")
    return problems


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                # a package whose __init__ imports its own submodules: they load first, not a circle
                package_only = all(m == min(component) or m.startswith(min(component) + ".") for m in component)
                if len(component) > 1 and not package_only:
                    circles.append(sorted(component))
    return circles


def module_graph(all_imports: dict[str, list[Import]]) -> dict[str, set[str]]:
    """Module -> the modules it imports when it is imported (module level, not under TYPE_CHECKING)."""
    return {m: {i.target for i in imps if i.module_level and not i.type_checking} for m, imps in all_imports.items()}


def describe_circle(circle: list[str], all_imports: dict[str, list[Import]]) -> str:
    members = set(circle)
    edges = [
        f"{m}:{i.line} -> {i.target}"
        for m in circle
        for i in all_imports[m]
        if i.target in members and i.module_level and not i.type_checking
    ]
    return "import circle among " + ", ".join(circle) + ":\n    " + "\n    ".join(edges)


@cache
def package_imports(root: Path = SRC) -> dict[str, list[Import]]:
    mods = module_names(root)
    return {name: parse_imports(name, path, mods) for name, path in mods.items()}


MODULES = module_names(SRC)


def _rel(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


# ------------------------------------------------------------------------------------------ the package


def test_the_package_is_found() -> None:
    assert "seqvision.nn.model" in MODULES and "seqvision.tasks.base" in MODULES, f"no seqvision package at {SRC}"
    tasks = {_task_of(m) for m in MODULES} - {None}
    assert len(tasks) >= 5, f"expected one folder per task under tasks/, found {sorted(t for t in tasks if t)}"


@pytest.mark.parametrize("module", sorted(MODULES), ids=lambda m: _rel(MODULES[m]))
def test_imports_follow_the_layer_rules(module: str) -> None:
    problems = layer_violations(module, package_imports()[module], ALLOWED_TASK_IMPORTS)
    assert not problems, f"{_rel(MODULES[module])}: forbidden imports\n  " + "\n  ".join(problems)


def too_long(path: Path) -> str | None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    return f"{path.name}: {lines} lines > {MAX_LINES}; split it by component" if lines > MAX_LINES else None


@pytest.mark.parametrize("path", sorted(MODULES.values()), ids=_rel)
def test_file_is_short(path: Path) -> None:
    problem = too_long(path)
    assert problem is None, f"{_rel(path)}: {problem}"


def test_no_import_circle() -> None:
    imports = package_imports()
    circles = import_circles(module_graph(imports))
    assert not circles, "\n".join(describe_circle(c, imports) for c in circles)


@pytest.mark.parametrize("pair", sorted(ALLOWED_TASK_IMPORTS) or [None], ids=str)
def test_allow_list_is_not_stale(pair: tuple[str, str] | None) -> None:
    if pair is None:
        return  # nothing allowed: nothing to go stale
    importer, imported = pair
    assert importer in MODULES, f"ALLOWED_TASK_IMPORTS names {importer}, which no longer exists: remove the entry"
    targets = {i.target for i in package_imports()[importer]}
    assert imported in targets, f"{importer} no longer imports {imported}: remove the entry from ALLOWED_TASK_IMPORTS"


# ------------------------------------------------------------------------------------------ the checkers


def write_package(root: Path, files: dict[str, str]) -> Path:
    """A tiny package ``pkg`` under ``root`` from relative path -> source; every folder gets an ``__init__.py``."""
    pkg = root / "pkg"
    for rel, source in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    for folder in [pkg, *(p for p in pkg.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    return pkg


BROKEN = {
    "a.py": "from pkg import b\n",
    "b.py": "from .c import thing\n",
    "c.py": "import pkg.a\nthing = 1\n",
    "lazy_x.py": "import pkg.lazy_y\n",
    "lazy_y.py": "def later():\n    import pkg.lazy_x\n",
    "typed_x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.typed_y import T\n",
    "typed_y.py": "import pkg.typed_x\nT = int\n",
    "tasks/base.py": "",
    "tasks/lines/task.py": "from ..base import *\n",
    "tasks/video/task.py": "def f():\n    from pkg.tasks.lines import task\n",
    "nn/model.py": "from pkg.tasks import base\n",
    "nn/heads/ctc.py": "from ...tasks.video.task import f\n",
    "nn/typed.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.training import Trainer\n",
    "long.py": "x = 1\n" * (MAX_LINES + 1),
    "training/run.py": "",
    "serving/app.py": "import pkg.tasks.lines.task\nimport pkg.tasks.base\n",
}


def broken_imports(tmp_path: Path) -> tuple[dict[str, Path], dict[str, list[Import]]]:
    mods = module_names(write_package(tmp_path, BROKEN))
    return mods, {name: parse_imports(name, path, mods) for name, path in mods.items()}


def test_parse_resolves_relative_and_function_level_imports(tmp_path: Path) -> None:
    _, imports = broken_imports(tmp_path)
    assert imports["pkg.b"] == [Import("pkg.c", 1, True, False)]
    assert imports["pkg.a"] == [Import("pkg.b", 1, True, False)]
    assert imports["pkg.nn.heads.ctc"] == [Import("pkg.tasks.video.task", 1, True, False)]
    assert imports["pkg.tasks.video.task"] == [Import("pkg.tasks.lines.task", 2, False, False)]
    assert imports["pkg.typed_x"] == [Import("pkg.typed_y", 3, True, True)]


def test_circle_checker_reports_a_circle(tmp_path: Path) -> None:
    _, imports = broken_imports(tmp_path)
    # lazy_x/lazy_y: the way back is inside a function; typed_x/typed_y: only under TYPE_CHECKING
    assert import_circles(module_graph(imports)) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert "pkg.c:1 -> pkg.a" in describe_circle(["pkg.a", "pkg.b", "pkg.c"], imports)


def test_layer_checker_reports_cross_task_nn_and_machinery_imports(tmp_path: Path) -> None:
    mods, imports = broken_imports(tmp_path)
    found = {m: layer_violations(m, imports[m], {}) for m in mods}
    assert found["pkg.tasks.video.task"] == [
        "pkg.tasks.video.task:2 imports pkg.tasks.lines.task (task 'video' imports task 'lines')"
    ]
    assert found["pkg.nn.model"] == ["pkg.nn.model:1 imports pkg.tasks.base (nn/ imports tasks/)"]
    assert found["pkg.nn.heads.ctc"] == ["pkg.nn.heads.ctc:1 imports pkg.tasks.video.task (nn/ imports tasks/)"]
    assert found["pkg.serving.app"] == [
        "pkg.serving.app:1 imports pkg.tasks.lines.task "
        "(serving/ imports task 'lines' directly, not through tasks.base / the registry)"
    ]
    assert found["pkg.nn.typed"] == ["pkg.nn.typed:3 imports pkg.training (nn/ imports training/)"]  # TYPE_CHECKING too
    assert [m for m, problems in found.items() if problems] == [
        "pkg.nn.heads.ctc",
        "pkg.nn.model",
        "pkg.nn.typed",
        "pkg.serving.app",
        "pkg.tasks.video.task",
    ]
    assert (
        layer_violations(
            "pkg.serving.app",
            imports["pkg.serving.app"],
            {allowed: "" for allowed in [("pkg.serving.app", "pkg.tasks.lines.task")]},
        )
        == []
    )


def test_length_checker_reports_a_long_file(tmp_path: Path) -> None:
    mods, _ = broken_imports(tmp_path)
    assert [name for name, path in mods.items() if too_long(path)] == ["pkg.long"]
    assert too_long(mods["pkg.long"]) == f"long.py: {MAX_LINES + 1} lines > {MAX_LINES}; split it by component"
