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
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from synthc.compiler.hints import did_you_mean
from synthc.compiler.positions import TEXT, MarkedText, Span, locate
from synthc.compiler.source import UnreadableSource, check_text, read_source_hashed
from synthc.errors import Position, Problem, SpecError, UsageError
from synthc.inputs import repository_root

_MISSING = object()
#: names a template reads with a literal name, even in a branch this render did not take
_STATIC_READS = re.compile(
    r"""\bvar\(\s*(['"])(\w+)\1|\bvars\s*(?:\.\s*(\w+)|\[\s*(['"])(\w+)\4)"""
)
#: what starts Jinja2 syntax (its default delimiters, which synthc keeps)
_TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")


@dataclass(frozen=True)
class Rendered:
    """Rendered YAML text and, for every 0-based rendered line, the (file, line) that made it."""

    text: str
    line_map: tuple[tuple[str, int], ...]
    source_text: str
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    #: where each marker stood in ``text`` (None: text not rendered from a template)
    marks: MarkedText | None = field(default=None, repr=False)
    #: ``--var`` values the spec never reads: reported with the spec's other problems
    var_problems: tuple[Problem, ...] = ()
    #: the spec, then each template, as read (first-read order; provenance)
    reads: tuple[TemplateRead, ...] = ()

    @cached_property
    def _line_starts(self) -> tuple[int, ...]:
        return (0, *(i + 1 for i, c in enumerate(self.text) if c == "\n"))

    @cached_property
    def _blank(self) -> bool:
        return not self.text.strip()  # once: position() is asked once per YAML node

    def position(self, line0: int, col0: int) -> Position:
        """Map a 0-based rendered line and column to a 1-based position in the user's file.

        Literal text maps exactly; a value an expression printed maps to the expression's
        start. A position no marker explains has line 0 (the message says it is unknown).
        """
        if self.marks is not None and self._blank:
            return Position(next(iter(self.sources), "<spec>"), 1, 1)  # nothing: the file's start
        if self.marks is not None:
            found = locate(self.marks, self._line_starts, line0, col0)
            if found is None:
                return Position(next(iter(self.sources), "<spec>"), 0, 0)
            span, col = found
            lines = self.sources.get(span.file, ())
            width = len(lines[span.line - 1]) if 0 < span.line <= len(lines) else col
            return Position(span.file, span.line, max(1, min(col, width or 1)), span.origin)
        if not self.line_map:
            return Position(next(iter(self.sources), "<spec>"), 1, col0 + 1)
        file, line = self.line_map[min(max(line0, 0), len(self.line_map) - 1)]
        lines = self.sources.get(file, ())
        width = len(lines[line - 1]) if 0 < line <= len(lines) else col0 + 1
        return Position(file, line, max(1, min(col0 + 1, width or 1)))


class VariableNotSet(Exception):
    """``var(name)`` of a variable no ``--var`` set and without a default."""


@dataclass(frozen=True)
class TemplateRoot:
    """A directory ``include``/``import`` search: resolved ``path``, spelled ``display`` in
    messages and positions, described as ``what``."""

    path: Path
    display: str
    what: str

    def shown(self, name: str) -> str:
        """How a template ``name`` found under this root is spelled in positions."""
        return name if self.display in ("", ".") else f"{self.display}/{name}"


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
            raise UsageError(f"--templates {templates}: not a directory")
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


@dataclass(frozen=True)
class TemplateRead:
    """A file the render read: the spec or a template, as shown, resolved, and its sha256."""

    display: str
    real: Path
    sha256: str


def render_spec(
    path: Path,
    variables: Mapping[str, Any] | None = None,
    display_path: str | None = None,
    templates: Path | None = None,
    text: str | None = None,
) -> Rendered:
    """Render the spec at ``path``; SpecError (with a position) for every template problem.

    ``include``/``import`` search :func:`template_roots` (``templates`` overrides the repository
    root); ``Rendered.reads`` lists the spec and every template read, in first-read order.
    ``text``: the spec's source instead of the file's (``reproduce`` renders a recorded copy
    as if it stood at ``path``, so its includes resolve from there); checked like a file's.
    """
    given = variables
    variables = dict(variables or {})
    display = display_path or str(path)
    roots = template_roots(path, display, templates)
    try:
        if text is None:
            source_text, source_sha256 = read_source_hashed(path, display)
        else:
            source_text = check_text(text, display)
            source_sha256 = hashlib.sha256(source_text.encode()).hexdigest()
    except UnreadableSource as error:
        if error.position is not None:
            raise SpecError(Problem(error.position, "", error.message)) from None
        if error.missing:
            raise UsageError(f"spec file not found: {display}") from None
        raise UsageError(f"cannot read spec {display}: {error.message}") from None

    var_reads = VarReads(variables, getattr(given, "raw", {}))
    read = TemplateRead(display, path.resolve(), source_sha256)
    if _TEMPLATE_SYNTAX.search(source_text) is None:
        rendered = plain_rendering(source_text, display)
    else:
        from synthc.compiler.jinja_render import render_template

        rendered = render_template(path, display, roots, source_text, read, var_reads)
    source = "\n".join("\n".join(lines) for lines in rendered.sources.values())
    unused = var_reads.unused(source)
    reads = (read, *(r for r in rendered.reads if r.real != read.real))
    return dataclasses.replace(rendered, var_problems=tuple(unused), reads=reads)


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


class VarReads:
    """The ``--var`` names a render reads, and which ``--var`` printed an expression's value."""

    def __init__(self, variables: Mapping[str, Any], raw: Mapping[str, str]) -> None:
        self.variables = variables
        self.raw = raw
        self.names: list[Any] = []  # in the order read (an expression's reads follow its mark)
        self.seen: set[Any] = set()
        self.everything = False  # the template iterated over ``vars``

    def read(self, name: Any) -> None:
        """Note that the template read ``name``."""
        self.names.append(name)
        if isinstance(name, str):
            self.seen.add(name)

    def var(self, name: str, default: Any = _MISSING) -> Any:
        """``var(name[, default])`` in a template."""
        self.read(name)
        if name in self.variables:
            return self.variables[name]
        if default is _MISSING:
            raise VariableNotSet(f"variable '{name}' is not set; pass --var {name}=VALUE")
        return default

    def mark(self) -> int:
        """How many reads so far: an expression's reads are the ones after its mark."""
        return len(self.names)

    def origin(self, since: int, value: Any) -> str | None:
        """``--var NAME=VALUE`` for the last given variable read since ``since``, else for a
        given variable read earlier whose value ``value`` is (``{% set n = var('n') %}``)."""
        for name in reversed(self.names[since:]):
            if name in self.variables:
                return self.origin_text(name)
        for name in self.seen:
            given = self.variables.get(name, _MISSING)
            if given is value or (type(given) is type(value) and given == value):
                return self.origin_text(name)
        return None

    def unused(self, source: str) -> list[Problem]:
        """A problem for each given variable the spec never reads.

        Read means: read during this render (var(), vars.NAME, vars['NAME'], iterating vars),
        or named literally as var('NAME') / vars.NAME / vars['NAME'] in a file the render
        loaded, so a variable read only in a branch not taken this time still counts.
        """
        if self.everything:
            return []
        read = set(self.seen)
        for match in _STATIC_READS.finditer(source):
            read.add(match[2] or match[3] or match[5])
        problems = []
        for name in self.variables:
            if name in read:
                continue
            hint = did_you_mean(name, sorted(read)) or (
                "; it reads no variables" if not read else f"; it reads {', '.join(sorted(read))}"
            )
            given = self.origin_text(name)
            problems.append(Problem(None, "", f"{given}: the spec never reads '{name}'{hint}"))
        return problems

    def origin_text(self, name: str) -> str:
        """``--var NAME=VALUE`` as given (shortened)."""
        shown = self.raw.get(name)
        if shown is None:
            shown = json.dumps(self.variables[name], default=str)
        return f"--var {name}={shown if len(shown) <= 40 else shown[:37] + '...'}"
