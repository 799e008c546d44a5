"""Render a spec file with Jinja2 before YAML parsing, remembering where each character came from.

In: the spec's path and ``--var`` values. Out: :class:`Rendered`, the YAML text and a map from
every rendered position back to the (file, line, column) the user wrote, so errors found later
in the YAML point at the loop body, macro or included file that produced them
(:mod:`synthc.compiler.positions` puts the markers in and reads them back), which ``--var``
printed a value, and which ``--var`` values the spec never reads.

``include``/``import`` search the spec's directory, then the repository root or ``--templates``
(:func:`template_roots`), never outside them; ``Rendered.reads`` records every file read, with
its sha256, for the manifest's provenance.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError

from synthc import limits
from synthc.compiler.hints import did_you_mean
from synthc.compiler.positions import (
    AT_NAME,
    MARK,
    READS_NAME,
    MarkedText,
    SpanTable,
    locate,
    mark_source,
    strip_marks,
)
from synthc.compiler.sandbox import BoundedEnvironment, TemplateLimit, check_printed_size
from synthc.compiler.source import (
    UNPRINTABLE,
    UnreadableSource,
    check_text,
    describe_char,
    read_source_hashed,
)
from synthc.errors import Position, Problem, SpecError, UsageError
from synthc.inputs import repository_root

_MISSING = object()
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


class _VariableNotSet(Exception):
    pass


class _IncludeProblem(Exception):
    pass


class _BadOutput(Exception):
    pass


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


class _SearchLoader(BaseLoader):
    """Loads the spec's includes from its template roots, in order, never from outside them;
    marks their lines and records each file read."""

    def __init__(
        self,
        roots: list[TemplateRoot],
        mark: Callable[[str, str], str],
        real_to_display: dict[str, str],
        reads: dict[Path, TemplateRead],
    ) -> None:
        self.roots = roots
        self.mark = mark
        self.real_to_display = real_to_display
        self.reads = reads

    def searched(self) -> str:
        """The roots in words, for messages."""
        return " or ".join(f"{r.what} ({r.display or '.'})" for r in self.roots)

    def inside(self, path: Path) -> bool:
        """True if the resolved ``path`` is under one of the roots."""
        return any(path.is_relative_to(root.path) for root in self.roots)

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        if Path(template).is_absolute() or "\0" in template:
            raise _IncludeProblem(f"'{template}' is outside {self.searched()} (an absolute name)")
        for root in self.roots:
            try:
                path = (root.path / template).resolve()
            except (OSError, RuntimeError, ValueError) as error:  # a symlink loop
                raise _IncludeProblem(f"'{template}': cannot be resolved ({error})") from None
            if not self.inside(path):
                raise _IncludeProblem(f"'{template}' is outside {self.searched()}")
            if path.is_file():
                return self._load(path, root.shown(template), template)
        raise TemplateNotFound(template)

    def _load(self, path: Path, display: str, template: str) -> tuple[str, str, Callable[[], bool]]:
        display = self.real_to_display.setdefault(str(path), display)
        try:
            text, sha256 = read_source_hashed(path, display)
        except UnreadableSource as error:
            if error.position is not None:
                raise SpecError(Problem(error.position, "", error.message)) from None
            raise _IncludeProblem(f"'{template}': {error.message}") from None
        self.reads.setdefault(path, TemplateRead(display, path, sha256))
        return self.mark(text, display), str(path), lambda: True


def _finalize(value: Any) -> Any:
    # Values land in YAML: make None, booleans and collections read back as what they were.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):  # as YAML 1.2 spells them
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, list | tuple | dict):
        check_printed_size(value, limits.MAX_RENDERED_BYTES, _TOO_LONG)
        return json.dumps(value, default=str)
    text = value if isinstance(value, str) else str(value)
    bad = UNPRINTABLE.search(MARK.sub("", text))  # text a macro returned carries markers
    if bad:
        raise _BadOutput(f"the template printed a {describe_char(bad[0])}, not allowed in a spec")
    return text


_TOO_LONG = (
    f"the rendered spec would be larger than the limit of {limits.MAX_RENDERED_BYTES:,} bytes "
    "(synthc.limits.MAX_RENDERED_BYTES)"
)


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

    files: list[str] = []  # display paths, in the order the render loaded them
    sources: dict[str, tuple[str, ...]] = {}
    real_to_display: dict[str, str] = {}
    table = SpanTable()
    var_reads = _Reads(variables, getattr(given, "raw", {}))

    def finalize(value: Any) -> Any:
        if isinstance(value, _Printed):
            return value.start + _finalize(value.value) + value.end
        return _finalize(value)

    def at(index: Any, since: Any, value: Any) -> Any:
        # A rewritten {{ expr }}: its value between "expression at" and "expression ends" marks.
        if not isinstance(index, int) or not 0 <= index < len(table.spans) - 1:
            return value
        if isinstance(value, _TrackedVars):
            var_reads.everything = True  # {{ vars }} prints them all
        origin = var_reads.origin(since, value) if isinstance(since, int) else None
        start = (
            table.add(dataclasses.replace(table.spans[index], origin=origin)) if origin else index
        )
        return _Printed(table.marker(start), value, table.marker(index + 1))

    env = BoundedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=finalize,
    )

    def mark(text: str, shown: str) -> str:
        files.append(shown)
        sources[shown] = tuple(text.splitlines())
        return mark_source(env, text, shown, table)

    top_real = str(path.resolve())
    reads = {Path(top_real): TemplateRead(display, Path(top_real), source_sha256)}
    loader = _SearchLoader(roots, mark, real_to_display, reads)
    env.loader = loader
    env.own_helpers.update((at, var_reads.mark))
    env.globals.update(
        {
            "var": var_reads.var,
            "vars": _TrackedVars(variables, var_reads),
            AT_NAME: at,
            READS_NAME: var_reads.mark,
        }
    )
    real_to_display[top_real] = display
    with env.bounded_time():
        try:
            template = env.from_string(mark(source_text, display))
        except TemplateSyntaxError as error:
            raise SpecError(
                Problem(
                    Position(display, error.lineno, 1),
                    "",
                    f"template syntax error: {error.message}",
                )
            ) from None
        except Exception as error:  # compiling folds constants: any failure
            raise SpecError(_compile_problem(error, source_text, display)) from None
        template.filename = top_real
        template.name = path.name
        marked = _render(template, env, real_to_display, files, loader, table)
    rendered = _unmark(marked, table, source_text, sources)
    unused = var_reads.unused("\n".join("\n".join(lines) for lines in sources.values()))
    return dataclasses.replace(rendered, var_problems=tuple(unused), reads=tuple(reads.values()))


class _Printed:
    """A value a ``{{ }}`` printed, with the markers that go around its text."""

    __slots__ = ("start", "value", "end")

    def __init__(self, start: str, value: Any, end: str) -> None:
        self.start, self.value, self.end = start, value, end


class _Reads:
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
            raise _VariableNotSet(f"variable '{name}' is not set; pass --var {name}=VALUE")
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


class _TrackedVars(dict):
    """The ``vars`` mapping of a template, telling :class:`_Reads` what the template reads."""

    def __init__(self, values: Mapping[str, Any], reads: _Reads) -> None:
        super().__init__(values)
        self._reads = reads

    def __getitem__(self, key: Any) -> Any:
        self._reads.read(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._reads.read(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._reads.read(key)
        return super().__contains__(key)

    def __iter__(self) -> Any:
        self._reads.everything = True
        return super().__iter__()

    def keys(self) -> Any:
        self._reads.everything = True
        return super().keys()

    def values(self) -> Any:
        self._reads.everything = True
        return super().values()

    def items(self) -> Any:
        self._reads.everything = True
        return super().items()


def _render(
    template: Any,
    env: BoundedEnvironment,
    real_to_display: dict[str, str],
    files: list[str],
    loader: _SearchLoader,
    table: SpanTable,
) -> str:
    """The rendered text, counting its size as it is made."""
    pieces: list[str] = []
    size = 0
    stream = template.generate()
    try:
        for piece in stream:
            pieces.append(piece)
            # position markers are synthc's, not the spec's: they do not count
            size += len(MARK.sub("", piece).encode("utf-8", "surrogatepass"))
            if size > limits.MAX_RENDERED_BYTES:
                raise TemplateLimit(_TOO_LONG)
            env.tick()
        return "".join(pieces)
    except SpecError:
        raise
    except TemplateSyntaxError as error:
        file = _display_of(error.filename, real_to_display, loader, files)
        raise SpecError(
            Problem(Position(file, error.lineno, 1), "", f"template syntax error: {error.message}")
        ) from None
    except Exception as error:  # every template failure is the spec's problem
        position = _template_position(error, real_to_display, loader, files)
        if position is None:
            position = _last_line(pieces, files, table)
        raise SpecError(Problem(position, "", _describe(error, loader.searched()))) from None
    finally:
        stream.close()


def _compile_problem(error: Exception, source_text: str, display: str) -> Problem:
    """A failure while compiling (not a syntax error): an integer literal too long to read."""
    digits = sys.get_int_max_str_digits()
    long_number = re.search(rf"\d{{{digits + 1},}}", source_text)
    if isinstance(error, ValueError) and long_number:
        start = long_number.start()
        line = source_text.count("\n", 0, start) + 1
        col = start - source_text.rfind("\n", 0, start)
        message = f"template: an integer literal of more than {digits:,} digits"
        return Problem(Position(display, line, col), "", message)
    return Problem(Position(display, 1, 1), "", _describe(error))


def _last_line(pieces: list[str], files: list[str], table: SpanTable) -> Position:
    """The template line of the last output (for errors raised out of template frames)."""
    for piece in reversed(pieces):
        for found in reversed(MARK.findall(piece)):
            if int(found) < len(table.spans):
                span = table.spans[int(found)]
                return Position(span.file, span.line, 1)
    return Position(files[0] if files else "<spec>", 1, 1)


def _describe(error: BaseException, searched: str = "the spec's directory") -> str:
    if isinstance(error, UndefinedError):
        match = re.match(r"'(.+)' is undefined", str(error))
        return f"undefined variable '{match[1]}'" if match else f"undefined: {error}"
    if isinstance(error, SecurityError):
        return f"not allowed in a spec template (sandbox): {error}"
    if isinstance(error, TemplateNotFound):
        return f"include '{error.name}' not found in {searched}"
    if isinstance(error, _IncludeProblem):
        return f"include {error}"
    if isinstance(error, _VariableNotSet | _BadOutput):
        return str(error)
    if isinstance(error, TemplateLimit):
        return f"template: {error}"
    if isinstance(error, RecursionError):
        return "template error: nested too deeply (recursion without end?)"
    if isinstance(error, MemoryError):
        return "template error: out of memory"
    return f"template error: {type(error).__name__}: {error}"


def _display_of(
    filename: str | None,
    real_to_display: Mapping[str, str],
    loader: _SearchLoader,
    files: list[str],
) -> str:
    if filename is not None and filename in real_to_display:
        return real_to_display[filename]
    if filename:
        real = Path(filename).resolve()
        for root in loader.roots:
            if real.is_relative_to(root.path):
                return root.shown(real.relative_to(root.path).as_posix())
    return files[0] if files else "<spec>"


def _template_position(
    error: BaseException,
    real_to_display: Mapping[str, str],
    loader: _SearchLoader,
    files: list[str],
) -> Position | None:
    """The template line where ``error`` was raised (Jinja rewrites tracebacks to carry it)."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        name = frame.filename
        if name in real_to_display or (
            name and loader.inside(Path(name)) and name.endswith((".yaml", ".yml", ".j2", ".jinja"))
        ):
            return Position(_display_of(name, real_to_display, loader, files), frame.lineno or 1, 1)
    return None


def _unmark(
    marked: str, table: SpanTable, source_text: str, sources: dict[str, tuple[str, ...]]
) -> Rendered:
    clean = strip_marks(marked, table)
    rendered = Rendered(clean.text, (), source_text, sources, clean)
    bad = UNPRINTABLE.search(clean.text)
    if bad:  # only a filter block can get here: printed values are checked in _finalize
        line = clean.text.count("\n", 0, bad.start())
        col = bad.start() - (clean.text.rfind("\n", 0, bad.start()) + 1)
        message = f"the template produced a {describe_char(bad[0])}, not allowed in a spec"
        raise SpecError(Problem(rendered.position(line, col), "", message))
    return dataclasses.replace(rendered, line_map=_line_map(clean, next(iter(sources), "<spec>")))


def _line_map(clean: MarkedText, top: str) -> tuple[tuple[str, int], ...]:
    """(file, line) of the first mark at or after each rendered line's start (a rough map)."""
    result = []
    fallback = (top, 0)
    at = 0
    start = 0
    lines = clean.text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        while at < len(clean.offsets) and clean.offsets[at] < start:
            at += 1
        span = clean.spans[at] if at < len(clean.offsets) else None
        result.append((span.file, span.line) if span else fallback)
        start += len(line) + 1
    return tuple(result)
