"""Render a spec file before YAML parsing, remembering where each character came from.

In: the spec's path and ``--var`` values. Out: :class:`Rendered`, the YAML text and a map from
every rendered position back to the (file, line, column) the user wrote, so errors found later
in the YAML point at the loop body, macro or included file that produced them
(:mod:`synthc.compiler.positions` puts the markers in and reads them back), which ``--var``
printed a value, and which ``--var`` values the spec never reads.

A spec with Jinja2 syntax (``{{``, ``{%`` or ``{#``) is rendered by
:mod:`synthc.compiler.jinja_render`; one without is its own rendering, so reading it loads no
Jinja2 (about a tenth of a second of ``synthc validate``). Both give the same :class:`Rendered`.

``include``/``import`` search the spec's directory, then the repository root or ``--templates``
(:func:`template_roots`), never outside them; ``Rendered.reads`` records every file read, with
its sha256, for the manifest's provenance.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthc.compiler.positions import TEXT, MarkedText, Span
from synthc.compiler.rendered import (
    Rendered,
    TemplateRead,
    TemplateRoot,
    VariableNotSet,
    VarReads,
)
from synthc.compiler.source import (
    UnreadableSource,
    check_text,
    normalise_newlines,
    read_source_written,
)
from synthc.errors import Problem, SpecError, UsageError
from synthc.hints import sibling_hint
from synthc.inputs import repository_root
from synthc.lazy import lazy_module
from synthc.provenance import through

# Jinja2 is imported only for a spec with its syntax (synthc.lazy); the import graph reads it here
if TYPE_CHECKING:
    from synthc.compiler import jinja_render as _jinja_render
else:
    _jinja_render = lazy_module("synthc.compiler.jinja_render")

__all__ = [
    "Rendered",
    "TemplateRead",
    "TemplateRoot",
    "VarReads",
    "VariableNotSet",
    "plain_rendering",
    "render_spec",
    "template_roots",
]

#: what starts Jinja2 syntax (its default delimiters, which synthc keeps)
_TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")


def template_roots(spec: Path, display: str, templates: Path | None = None) -> list[TemplateRoot]:
    """Where templates of the spec at ``spec`` (shown as ``display``) are searched, in order: the
    spec's directory, then ``templates`` if given, else the spec repository's root (the nearest
    directory at or above the spec's holding ``.git``). UsageError for a ``templates`` that is
    not a directory."""
    spec_dir = spec.parent.resolve()
    display_dir = str(Path(display).parent)
    roots = [TemplateRoot(spec_dir, display_dir, "the spec's directory")]
    if templates is not None:
        if not templates.is_dir():
            what = "not a directory" if templates.exists() else "does not exist"
            raise UsageError(
                f"--templates {templates}: {what}; give the directory to search include and "
                "import templates in"
            )
        roots.append(TemplateRoot(templates.resolve(), str(templates), "--templates"))
    else:
        repo = repository_root(spec_dir)
        if repo is not None:
            shown = os.path.normpath(os.path.join(display_dir, os.path.relpath(repo, spec_dir)))
            roots.append(TemplateRoot(repo.resolve(), shown, "the repository root"))
    unique: dict[Path, TemplateRoot] = {}
    for root in roots:
        unique.setdefault(root.path, root)
    return list(unique.values())


#: the names a spec file is likely to have, for a did-you-mean when the one given is missing
SPEC_SUFFIXES = (".yaml", ".yml", ".j2")


def check_mapping(variables: object) -> None:
    """UsageError unless ``variables`` (the Python API's --var values) is None or a mapping."""
    if variables is not None and not isinstance(variables, Mapping):
        raise UsageError(
            f"variables must map each name to its value ({{'samples': 1000}}), not a "
            f"{type(variables).__name__}"
        )


def render_spec(
    path: Path,
    variables: Mapping[str, Any] | None = None,
    display_path: str | None = None,
    templates: Path | None = None,
    text: str | None = None,
    text_display: str | None = None,
) -> Rendered:
    """Render the spec at ``path``; SpecError (with a position) for every template problem.

    ``include``/``import`` search :func:`template_roots` (``templates`` overrides the repository
    root); ``Rendered.reads`` lists the spec and every template read, in first-read order.
    ``text``: the spec's source instead of the file's (``reproduce`` renders a recorded copy
    as if it stood at ``path``, so its includes resolve from there); checked like a file's.
    ``text_display``: how positions in ``text`` name it (the copy; default: ``display_path``),
    while templates are still shown from the spec's place.
    """
    check_mapping(variables)
    given = variables
    variables = dict(variables or {})
    display = display_path or str(path)
    roots = template_roots(path, display, templates)
    try:
        if text is None:
            source_text, source_sha256, written = read_source_written(path, display)
        else:  # a spec copy: the bytes of the spec as written, its line endings kept
            written = text
            source_text = check_text(normalise_newlines(text), text_display or display)
            source_sha256 = hashlib.sha256(text.encode()).hexdigest()
    except UnreadableSource as error:
        if error.position is not None:
            raise SpecError(Problem(error.position, "", error.message)) from None
        if error.missing and display == "-":
            raise UsageError(
                "spec file not found: -; a spec is read from its file, not from stdin (the "
                "file's place decides what the spec may read and where its templates are): "
                "give its path"
            ) from None
        if error.missing:
            hint = sibling_hint(display, SPEC_SUFFIXES)
            raise UsageError(f"spec file not found: {display}{hint}") from None
        hint = ""
        if path.is_dir():  # `synthc validate specs/`: the specs in it were meant
            hint = f"; give the spec files in it ({os.path.join(display, '*.yaml')})"
        raise UsageError(f"cannot read spec {display}: {error.message}{hint}") from None

    var_reads = VarReads(variables, getattr(given, "raw", {}), getattr(given, "recorded_in", None))
    real = path.resolve()
    read = TemplateRead(display, real, source_sha256, through(path, real))
    shown = text_display or display
    if _TEMPLATE_SYNTAX.search(source_text) is None:
        rendered = plain_rendering(source_text, shown)
    else:
        rendered = _jinja_render.render_template(path, shown, roots, source_text, read, var_reads)
    source = "\n".join("\n".join(lines) for lines in rendered.sources.values())
    unused = var_reads.unused(source)
    reads = (read, *(r for r in rendered.reads if r.real != read.real))
    return dataclasses.replace(
        rendered, var_problems=tuple(unused), reads=reads, written_text=written
    )


def plain_rendering(text: str, display: str) -> Rendered:
    """``text`` (of the file shown as ``display``) as its own rendering: each line marked as
    literal text at its own line, as a template without Jinja2 syntax renders."""
    offsets: list[int] = []
    spans: list[Span] = []
    pieces = text.split("\n")
    offset = 0
    for number, piece in enumerate(pieces):
        if piece or number < len(pieces) - 1:
            offsets.append(offset)
            spans.append(Span(TEXT, display, number + 1, 1, len(piece)))
        offset += len(piece) + 1
    marks = MarkedText(text, tuple(offsets), tuple(spans), (None,) * len(spans))
    line_map = tuple((display, span.line) for span in spans)
    sources = {display: tuple(text.splitlines())}
    return Rendered(text, line_map, text, sources, marks)
