"""Render a spec with Jinja2 (in its bounded sandbox), marking where each character came from.

:func:`synthc.compiler.templating.render_spec` calls :func:`render_template` for a spec with
Jinja2 syntax; see there for what :class:`~synthc.compiler.templating.Rendered` holds.
Imported only then: a spec without templates loads no Jinja2.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError

from synthc import limits
from synthc.compiler.positions import (
    AT_NAME,
    MARK,
    READS_NAME,
    MarkedText,
    SpanTable,
    VarText,
    mark_source,
    strip_marks,
)
from synthc.compiler.rendered import (
    BadVarCall,
    Rendered,
    TemplateRead,
    TemplateRoot,
    VariableNotSet,
    VarReads,
)
from synthc.compiler.sandbox import BoundedEnvironment, TemplateLimit, check_printed_size
from synthc.compiler.source import UNPRINTABLE, UnreadableSource, describe_char, read_source_hashed
from synthc.errors import Position, Problem, SpecError
from synthc.provenance import through


class _IncludeProblem(Exception):
    pass


class _BadOutput(Exception):
    """A printed value holding a character no spec may (``char``)."""

    def __init__(self, message: str, char: str = "") -> None:
        super().__init__(message)
        self.char = char


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
        folder = None  # the first searched place where the name is a directory
        for root in self.roots:
            try:
                path = (root.path / template).resolve()
            except (OSError, RuntimeError, ValueError) as error:  # a symlink loop
                raise _IncludeProblem(f"'{template}': cannot be resolved ({error})") from None
            if not self.inside(path):
                raise _IncludeProblem(f"'{template}' is outside {self.searched()}")
            if path.exists() and not path.is_dir():  # a FIFO or device: say what it is
                return self._load(path, root.shown(template), template, root.path / template)
            if folder is None and path.is_dir():
                folder = root.shown(template)
        if folder is not None:  # was "not found", beside a folder of that very name
            raise _IncludeProblem(f"'{template}': {folder} is a directory; name a file in it")
        raise TemplateNotFound(template)

    def _load(
        self, path: Path, display: str, template: str, opened: Path
    ) -> tuple[str, str, Callable[[], bool]]:
        display = self.real_to_display.setdefault(str(path), display)
        try:
            text, sha256 = read_source_hashed(path, display)
        except UnreadableSource as error:
            if error.position is not None:
                raise SpecError(Problem(error.position, "", error.message)) from None
            raise _IncludeProblem(f"'{template}': {error.message}") from None
        self.reads.setdefault(path, TemplateRead(display, path, sha256, through(opened, path)))
        # a byte order mark (Windows editors write one) is no text: YAML skips it only at the
        # start of the whole spec, and an include's would become part of its first key
        text = text.removeprefix("\ufeff")
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
        raise _BadOutput(
            f"the template printed a {describe_char(bad[0])}, not allowed in a spec", bad[0]
        )
    return text


_TOO_LONG = (
    f"the rendered spec would be larger than the limit of {limits.MAX_RENDERED_BYTES:,} bytes "
    "(synthc.limits.MAX_RENDERED_BYTES)"
)


def render_template(
    path: Path,
    display: str,
    roots: list[TemplateRoot],
    source_text: str,
    read: TemplateRead,
    var_reads: VarReads,
) -> Rendered:
    """Render the spec ``source_text`` (at ``path``, shown as ``display``) with Jinja2;
    ``Rendered.reads`` holds ``read`` (the spec), then each template read. SpecError (with a
    position) for every template problem."""
    variables = var_reads.variables
    files: list[str] = []  # display paths, in the order the render loaded them
    sources: dict[str, tuple[str, ...]] = {}
    real_to_display: dict[str, str] = {}
    table = SpanTable()

    def finalize(value: Any) -> Any:
        printed = value.value if isinstance(value, _Printed) else value
        try:
            text = _finalize(printed)
        except _BadOutput as error:  # from a --var's value: name it, as a spec error does
            origin = value.origin if isinstance(value, _Printed) else None
            origin = origin or _var_holding(error.char, var_reads)
            if origin is None:
                raise
            raise _BadOutput(f"{error} (from {origin})", error.char) from None
        if isinstance(value, _Printed):
            return value.start + text + value.end
        return text

    def at(index: Any, since: Any, value: Any) -> Any:
        # A rewritten {{ expr }}: its value between "expression at" and "expression ends" marks.
        if not isinstance(index, int) or not 0 <= index < len(table.spans) - 1:
            return value
        if isinstance(value, _TrackedVars):
            var_reads.everything = True  # {{ vars }} prints them all
        name = var_reads.origin(since, value) if isinstance(since, int) else None
        start = index
        origin = None
        if name is not None:
            given = variables[name]
            printed = None
            if isinstance(value, str) and isinstance(given, str):
                # text from a text --var: loading checks that YAML reads it as one value (a
                # list or mapping --var is printed as JSON, or joined, to make structure)
                printed = VarText(name, given)
            origin = var_reads.origin_text(name)
            start = table.add(
                dataclasses.replace(table.spans[index], origin=origin, printed=printed)
            )
        return _Printed(table.marker(start), value, table.marker(index + 1), origin)

    env = BoundedEnvironment(
        undefined=_Undefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=finalize,
    )

    def mark(text: str, shown: str) -> str:
        files.append(shown)
        sources[shown] = tuple(text.splitlines())
        return mark_source(env, text, shown, table)

    top_real = str(read.real)
    reads = {read.real: read}
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
    return dataclasses.replace(rendered, reads=tuple(reads.values()))


def _var_holding(char: str, var_reads: VarReads) -> str | None:
    """``--var NAME=VALUE`` of the first variable whose value holds ``char`` (a value the
    template changed on its way, ``{{ d | upper }}``, is no longer known by its value)."""
    for name, value in var_reads.variables.items():
        if char and _holds(value, char):
            return var_reads.origin_text(name)
    return None


def _holds(value: Any, char: str) -> bool:
    """Whether text in ``value`` (a --var: text, a number, lists and mappings of them) holds
    ``char``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and char in item:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


class _Printed:
    """A value a ``{{ }}`` printed, with the markers that go around its text."""

    __slots__ = ("start", "value", "end", "origin")

    def __init__(self, start: str, value: Any, end: str, origin: str | None = None) -> None:
        self.start, self.value, self.end = start, value, end
        #: the ``--var`` the value came from (``--var NAME=VALUE``), if any
        self.origin = origin


class _Undefined(StrictUndefined):
    """StrictUndefined, but an unset ``vars.NAME`` or ``vars['NAME']`` is named as ``var()``
    names it (what to pass), not as an attribute missing from synthc's mapping class."""

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner, name = self._undefined_obj, self._undefined_name
        if isinstance(owner, _TrackedVars) and isinstance(name, str):
            self._undefined_hint = owner._reads.not_set(name)
            self._undefined_exception = _UnsetVar


class _UnsetVar(UndefinedError):
    """``vars.NAME`` of a variable no ``--var`` set: described as VariableNotSet is."""


class _TrackedVars(dict):
    """The ``vars`` mapping of a template, telling :class:`VarReads` what the template reads."""

    def __init__(self, values: Mapping[str, Any], reads: VarReads) -> None:
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
    if isinstance(error, _UnsetVar):
        return str(error)
    if isinstance(error, UndefinedError):
        match = re.match(r"'(.+)' is undefined", str(error))
        return f"undefined variable '{match[1]}'" if match else f"undefined: {error}"
    if isinstance(error, SecurityError):
        return f"not allowed in a spec template (sandbox): {error}"
    if isinstance(error, TemplateNotFound):
        return f"include '{error.name}' not found in {searched}"
    if isinstance(error, _IncludeProblem):
        return f"include {error}"
    if isinstance(error, VariableNotSet | BadVarCall | _BadOutput):
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
