"""The OCR generator's modules, read with ast: readers that take paths or entries never import
the config, the config imports no other OCR module, and no import runs in a circle (counting
imports inside functions, which would otherwise hide one)."""

from __future__ import annotations

import ast
from pathlib import Path

import synthc.generators.ocr

PACKAGE = "synthc.generators.ocr"
ROOT = Path(synthc.generators.ocr.__file__).parent
#: (module, function) whose function-level import stays until the generator contract lands
#: TODO(merge): removed with OcrConfig.with_files
UNTIL_MERGE = {("config", "with_files")}


def _modules() -> dict[str, ast.Module]:
    return {path.stem: ast.parse(path.read_text()) for path in sorted(ROOT.glob("*.py"))}


def _imported(node: ast.Import | ast.ImportFrom, names: set[str]) -> set[str]:
    """The OCR modules (short names) that ``node`` imports."""
    assert not isinstance(node, ast.ImportFrom) or node.level == 0, "relative import"
    full = (
        [alias.name for alias in node.names]
        if isinstance(node, ast.Import)
        else [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
    )
    prefix = PACKAGE + "."
    return {f[len(prefix) :] for f in full if f.startswith(prefix) and f[len(prefix) :] in names}


def _imports(
    this: str, tree: ast.Module, names: set[str]
) -> tuple[set[str], list[tuple[str, int]]]:
    """The OCR modules module ``this`` imports anywhere (but in an UNTIL_MERGE function), and
    the function and line of each import of a synthc module inside a function."""
    found: set[str] = set()
    local: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                targets = [a.name for a in child.names] if isinstance(child, ast.Import) else []
                targets += [child.module or ""] if isinstance(child, ast.ImportFrom) else []
                if function is not None and any(t.startswith("synthc") for t in targets):
                    local.append((function, child.lineno))
                if function is None or (this, function) not in UNTIL_MERGE:
                    found.update(_imported(child, names))
            visit(child, function)

    visit(tree, None)
    return found, local


def _graph() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, int]]]]:
    modules = _modules()
    names = set(modules)
    graph, local = {}, {}
    for name, tree in modules.items():
        graph[name], local[name] = _imports(name, tree, names)
    return graph, local


def test_no_import_circle_among_ocr_modules() -> None:
    graph, _ = _graph()
    done: set[str] = set()

    def walk(name: str, path: list[str]) -> None:
        assert name not in path, f"import circle: {' -> '.join([*path, name])}"
        if name in done:
            return
        for other in sorted(graph[name]):
            walk(other, [*path, name])
        done.add(name)

    for name in sorted(graph):
        walk(name, [])


def test_config_and_readers_stay_below_resolution() -> None:
    graph, _ = _graph()
    assert graph["config"] == set(), "the config model imports no other OCR module"
    assert not graph["resources"] & {"config", "text", "files"}, "readers know no config"
    assert "files" in graph and {"config", "resources", "text"} <= graph["files"]


def test_no_function_level_import_of_synthc_modules() -> None:
    _, local = _graph()
    hidden = {
        (name, function, line)
        for name, found in local.items()
        for function, line in found
        if (name, function) not in UNTIL_MERGE
    }
    assert hidden == set(), "imports inside functions hide the import graph"
