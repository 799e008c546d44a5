"""What rendering a spec gives (:class:`Rendered`), the files it read and the ``--var`` names it
read: shared by :mod:`synthc.compiler.templating`, which renders a spec without Jinja2 syntax
itself, and :mod:`synthc.compiler.jinja_render`, which renders one with it. No Jinja2 here."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from synthc.compiler.hints import did_you_mean
from synthc.compiler.positions import MarkedText, locate
from synthc.errors import Position, Problem
from synthc.hints import MAX_LISTED, listed

_MISSING = object()
#: unread variables named one problem each, and names read listed in their hint: a manifest
#: may record millions (reproduce), each looked up among every name the spec reads
MAX_SHOWN_NAMES = MAX_LISTED
#: names a template reads with a literal name, even in a branch this render did not take
_STATIC_READS = re.compile(
    r"""\bvar\(\s*(['"])(\w+)\1|\bvars\s*(?:\.\s*(\w+)|\[\s*(['"])(\w+)\4)"""
)


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
    #: the spec's text as written, its line endings kept (None: ``source_text``)
    written_text: str | None = field(default=None, repr=False)

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


class BadVarCall(Exception):
    """``var(...)`` called with other arguments than a name and an optional default."""


#: what a template is told of a ``var(...)`` call of the wrong shape
VAR_USAGE = "var() takes a variable name in quotes and an optional default: var('NAME', DEFAULT)"


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


@dataclass(frozen=True)
class TemplateRead:
    """A file the render read: the spec or a template, as shown, resolved, its sha256, and the
    path it was opened by if a symlink led from there (synthc.provenance.through)."""

    display: str
    real: Path
    sha256: str
    opened: Path | None = field(default=None, compare=False)


class VarReads:
    """The ``--var`` names a render reads, and which ``--var`` printed an expression's value."""

    def __init__(
        self, variables: Mapping[str, Any], raw: Mapping[str, str], recorded_in: str | None = None
    ) -> None:
        self.variables = variables
        self.raw = raw
        #: the manifest whose ``spec.vars`` the values are (reproduce), None for ``--var``s
        self.recorded_in = recorded_in
        self.names: list[Any] = []  # in the order read (an expression's reads follow its mark)
        self.seen: set[Any] = set()
        self.everything = False  # the template iterated over ``vars``

    def read(self, name: Any) -> None:
        """Note that the template read ``name``."""
        self.names.append(name)
        if isinstance(name, str):
            self.seen.add(name)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        """``var(name[, default])`` in a template (either by keyword too); BadVarCall for other
        arguments, or a name that is not a string."""
        given = dict(zip(("name", "default"), args, strict=False))
        if len(args) > 2 or kwargs.keys() - {"name", "default"} or kwargs.keys() & given.keys():
            raise BadVarCall(VAR_USAGE)
        given.update(kwargs)
        if "name" not in given:
            raise BadVarCall(VAR_USAGE)
        name, default = given["name"], given.get("default", _MISSING)
        if not isinstance(name, str):
            raise BadVarCall(f"var({name!r:.40}): {VAR_USAGE}")
        self.read(name)
        if name in self.variables:
            return self.variables[name]
        if default is _MISSING:
            raise VariableNotSet(self.not_set(name))
        return default

    def not_set(self, name: str) -> str:
        """The message for ``name`` read without a default when no ``--var`` set it."""
        if self.recorded_in is not None:
            return (
                f"variable '{name}' is not set; spec.vars in {self.recorded_in} does not record it"
            )
        return f"variable '{name}' is not set; pass --var {name}=VALUE"

    def mark(self) -> int:
        """How many reads so far: an expression's reads are the ones after its mark."""
        return len(self.names)

    def origin(self, since: int, value: Any) -> str | None:
        """The name of the last given variable read since ``since``, else of a given variable
        read earlier whose value ``value`` is (``{% set n = var('n') %}``)."""
        for name in reversed(self.names[since:]):
            if name in self.variables:
                return str(name)
        for name in self.seen:
            given = self.variables.get(name, _MISSING)
            if given is value or (type(given) is type(value) and given == value):
                return name
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
        unread = [name for name in self.variables if name not in read]
        names = sorted(read)
        reads = listed(names)
        for name in unread[:MAX_SHOWN_NAMES]:
            hint = did_you_mean(name, names) or (
                "; it reads no variables" if not names else f"; it reads {reads}"
            )
            given = self.origin_text(name)
            problems.append(Problem(None, "", f"{given}: the spec never reads '{name}'{hint}"))
        if len(unread) > MAX_SHOWN_NAMES:
            more = len(unread) - MAX_SHOWN_NAMES
            what = "--var values"
            if self.recorded_in is not None:
                what = f"recorded vars (spec.vars in {self.recorded_in})"
            problems.append(Problem(None, "", f"{more:,} more {what} the spec never reads"))
        return problems

    def origin_text(self, name: str) -> str:
        """``--var NAME=VALUE`` as given (shortened); for recorded vars, ``the recorded var
        NAME=VALUE, spec.vars in MANIFEST``."""
        shown = self.raw.get(name)
        if shown is None:
            shown = json.dumps(self.variables[name], default=str)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        if self.recorded_in is not None:
            return f"the recorded var {name}={shown}, spec.vars in {self.recorded_in}"
        return f"--var {name}={shown}"
