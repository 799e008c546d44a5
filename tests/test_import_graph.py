"""The import graph read from the code: no circle, and no import from a later phase into an
earlier one (docs/architecture.md draws the same layers).

Every ``import`` counts, wherever it stands: at module level, inside a function, or under
``TYPE_CHECKING``; a circle hidden by a function-level import is still a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "synthc"

#: the phases of the data flow, earliest first; a module may import its own layer or earlier
LAYERS: list[tuple[str, ...]] = [
    # shared foundations: no knowledge of specs, generators or outputs
    ("synthc", "synthc.errors", "synthc.limits", "synthc.hints", "synthc.digest", "synthc.atomic",
     "synthc.checkpoint", "synthc.inputs", "synthc.provenance", "synthc.git_state",
     "synthc.depfile", "synthc.lazy", "synthc.quick_exit", "synthc.allocator",
     "synthc.numba_blas", "synthc.numba_cache_lock", "synthc.own_process", "synthc.startup_gc",
     "synthc.dist_versions",
     "synthc.library_logs", "synthc.secret_text", "synthc.cancellation",
     "synthc.deferred_stop"),
    # generator kinds: configs, kernels, samples
    ("synthc.generators",),
    # the compiler: spec text -> validated spec -> plan
    ("synthc.compiler",),
    # writers, readers and the finished dataset; executors (know nothing of generators)
    ("synthc.outputs", "synthc.executors"),
    # one shard: generator -> writer (what a generator hands the writers checked on the way)
    ("synthc.shard", "synthc.generator_output"),
    # a whole build: decide, execute, finish (one driver; its target a directory or an object
    # store); reproducing one; progress reporting; per-shard plan statuses; what a change does
    # (two outputs or specs compared); samples streamed on the fly and one sample alone; whether
    # a build compiles its kernels first, and compiles its late kernels ahead
    ("synthc.building", "synthc.build_target", "synthc.dir_target", "synthc.store_target",
     "synthc.compile_ahead", "synthc.plain_first", "synthc.reproducing", "synthc.progress",
     "synthc.plan_status", "synthc.diffing", "synthc.streaming", "synthc.one_sample",
     "synthc.compile_notice"),
    # what users script against
    ("synthc.api",),
    # the command line
    ("synthc.cli", "synthc.arguments", "synthc.command", "synthc.__main__"),
]  # fmt: skip


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The synthc modules that module ``name`` imports (``from pkg import mod`` is ``pkg.mod``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                out.add(submodule if submodule in known else source)
    return {module for module in out if module in known and module != name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imported(name, path, known) for name, path in known.items()}


def layer(module: str) -> int:
    """The layer of a module: the longest prefix that a layer lists."""
    best = (-1, -1)
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best[0]:
                best = (len(prefix), index)
    if best[1] < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")
    return best[1]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_from_the_code() -> None:
    edges = graph()
    assert len(edges) > 50
    assert "synthc.compiler.compiling" in edges["synthc.api"]
    assert "synthc.generators.base" in edges["synthc.generators"]


def test_no_import_circle() -> None:
    assert cycles(graph()) == []


def test_the_circle_finder_finds_circles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_runs_back_to_an_earlier_phase() -> None:
    upward = [
        f"{module} (layer {layer(module)}) imports {target} (layer {layer(target)})"
        for module, targets in sorted(graph().items())
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]
    assert upward == []


def test_generator_kinds_do_not_import_each_other() -> None:
    kinds = {p.name for p in (PACKAGE / "generators").iterdir() if (p / "__init__.py").is_file()}
    crossing = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if module.startswith("synthc.generators.")
        and target.startswith("synthc.generators.")
        and (kind := module.split(".")[2]) in kinds
        and target.split(".")[2] in kinds
        and target.split(".")[2] != kind
    ]
    assert crossing == []


@pytest.mark.parametrize("module", sorted(modules()))
def test_every_module_has_a_layer(module: str) -> None:
    assert 0 <= layer(module) < len(LAYERS)


def test_no_synthc_import_hides_inside_a_function() -> None:
    """Imports of synthc modules stand at module level, where the graph is plain to see (a lazy
    import of a heavy third-party library inside a function is fine)."""
    hidden = []
    for name, path in modules().items():
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                targets = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                if any(t == "synthc" or t.startswith("synthc.") for t in targets):
                    hidden.append(f"{name}.{function.name}:{node.lineno}")
    assert hidden == []


def test_ocr_readers_and_config_stay_below_resolution() -> None:
    """OCR's readers take paths and entries, its config knows no files (only the renderer's
    arithmetic, legibility.py, which reads none); resolution (files.py) builds on both."""
    edges = graph()
    ocr = "synthc.generators.ocr."
    assert {m for m in edges[ocr + "config"] if m.startswith(ocr)} <= {ocr + "legibility"}
    assert not {m for m in edges[ocr + "legibility"] if m.startswith("synthc.")}
    assert not edges[ocr + "resources"] & {ocr + "config", ocr + "text", ocr + "files"}
    assert {ocr + "config", ocr + "resources", ocr + "text"} <= edges[ocr + "files"]
