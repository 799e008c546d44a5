"""Render a spec file with Jinja2 before YAML parsing, remembering which source line made each line.

In: the spec's path and ``--var`` values. Out: :class:`Rendered`, the YAML text and a line map from
every rendered line back to the (file, line) the user wrote, so errors found later in the YAML can
point at the loop body or included file that produced them.

How the map is kept: before rendering, every newline of literal template text (never one inside a
``{{ }}``, ``{% %}`` or ``{# #}`` tag, as Jinja's own lexer tells) gets an invisible marker naming
its file and line. Markers travel through loops and includes with the text around them; after
rendering they are stripped and each rendered line takes the first marker at or after its start.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError

from synthc import limits
from synthc.compiler.sandbox import BoundedEnvironment, TemplateLimit, check_printed_size
from synthc.compiler.source import (
    UNPRINTABLE,
    UnreadableSource,
    check_text,
    describe_char,
    read_source,
)
from synthc.errors import Position, Problem, SpecError, UsageError

# A forged marker (the template cannot print control characters, but be safe) has a bounded size.
_MARK = re.compile("\x1e(\\d{1,9}):(\\d{1,9})\x1f")
_MISSING = object()


@dataclass(frozen=True)
class Rendered:
    """Rendered YAML text and, for every 0-based rendered line, the (file, line) that made it."""

    text: str
    line_map: tuple[tuple[str, int], ...]
    source_text: str
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def position(self, line0: int, col0: int) -> Position:
        """Map a 0-based rendered line and column to a 1-based position in the user's file."""
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


class _SpecDirLoader(BaseLoader):
    """Loads the spec and its includes, only from under the spec's directory, marking lines."""

    def __init__(self, root: Path, display_root: str, mark: Callable[[str, str], str]) -> None:
        self.root = root.resolve()
        self.display_root = display_root
        self.mark = mark

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        if Path(template).is_absolute():
            raise _IncludeProblem(f"'{template}' is outside the spec's directory")
        path = (self.root / template).resolve()
        if not path.is_relative_to(self.root):
            raise _IncludeProblem(f"'{template}' is outside the spec's directory")
        if not path.is_file():
            raise TemplateNotFound(template)
        display = template if self.display_root in ("", ".") else f"{self.display_root}/{template}"
        try:
            text = read_source(path, display)
        except UnreadableSource as error:
            if error.position is not None:
                raise SpecError(Problem(error.position, "", error.message)) from None
            raise _IncludeProblem(f"'{template}': {error.message}") from None
        return self.mark(text, display), str(path), lambda: True


def _finalize(value: Any) -> Any:
    # Values land in YAML: make None, booleans and collections read back as what they were.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        check_printed_size(value, limits.MAX_RENDERED_BYTES, _TOO_LONG)
        return json.dumps(value, default=str)
    text = value if isinstance(value, str) else str(value)
    bad = UNPRINTABLE.search(text)
    if bad:
        raise _BadOutput(f"the template printed a {describe_char(bad[0])}, not allowed in a spec")
    return text


_TOO_LONG = (
    f"the rendered spec would be larger than the limit of {limits.MAX_RENDERED_BYTES:,} bytes "
    "(synthc.limits.MAX_RENDERED_BYTES)"
)


def parse_var_assignments(items: Sequence[str]) -> dict[str, Any]:
    """``["n=1000", "xs=[1, 2]"]`` -> ``{"n": 1000, "xs": [1, 2]}``, values typed as YAML.

    A value is untrusted like a spec: the same size, character, depth and alias limits apply,
    and breaking one is a UsageError naming the ``--var``.
    """
    from synthc.compiler.loading import load_value  # loading builds on this module

    variables: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            shown = item if len(item) <= 80 else item[:77] + "..."
            raise UsageError(f"--var {shown!r}: expected KEY=VALUE with KEY a name")
        if len(raw.encode("utf-8", "surrogatepass")) > limits.MAX_SPEC_BYTES:
            raise UsageError(
                f"--var {key}: the value is larger than the limit of {limits.MAX_SPEC_BYTES:,} "
                "bytes (synthc.limits.MAX_SPEC_BYTES)"
            )
        try:
            check_text(raw, f"--var {key}")
            variables[key] = load_value(raw, f"--var {key}") if raw.strip() else ""
        except UnreadableSource as error:
            raise UsageError(f"--var {key}: {error.message}") from None
        except SpecError as error:
            raise UsageError(f"--var {key}: {error.problems[0].message}") from None
    return variables


def render_spec(
    path: Path, variables: Mapping[str, Any] | None = None, display_path: str | None = None
) -> Rendered:
    """Render the spec at ``path``; SpecError (with a position) for every template problem."""
    variables = dict(variables or {})
    display = display_path or str(path)
    try:
        source_text = read_source(path, display)
    except UnreadableSource as error:
        if error.position is not None:
            raise SpecError(Problem(error.position, "", error.message)) from None
        if error.missing:
            raise UsageError(f"spec file not found: {display}") from None
        raise UsageError(f"cannot read spec {display}: {error.message}") from None

    files: list[str] = []  # file id -> display path
    sources: dict[str, tuple[str, ...]] = {}
    real_to_display: dict[str, str] = {}
    env = BoundedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
    )

    def mark(text: str, shown: str) -> str:
        files.append(shown)
        sources[shown] = tuple(text.splitlines())
        return _mark_lines(env, text, len(files) - 1)

    display_dir = str(Path(display).parent)
    loader = _SpecDirLoader(path.parent, display_dir, mark)
    env.loader = loader

    def var(name: str, default: Any = _MISSING) -> Any:
        if name in variables:
            return variables[name]
        if default is _MISSING:
            raise _VariableNotSet(f"variable '{name}' is not set; pass --var {name}=VALUE")
        return default

    env.globals.update(var=var, vars=dict(variables))
    top_real = str(path.resolve())
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
        except Exception as error:  # noqa: BLE001 - compiling folds constants: any failure
            raise SpecError(_compile_problem(error, source_text, display)) from None
        template.filename = top_real
        template.name = path.name
        marked = _render(template, env, real_to_display, files, loader)
    return _unmark(marked, files, source_text, sources)


def _render(
    template: Any,
    env: BoundedEnvironment,
    real_to_display: dict[str, str],
    files: list[str],
    loader: _SpecDirLoader,
) -> str:
    """The rendered text, counting its size as it is made."""
    pieces: list[str] = []
    size = 0
    stream = template.generate()
    try:
        for piece in stream:
            pieces.append(piece)
            size += len(piece.encode("utf-8", "surrogatepass"))
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
    except Exception as error:  # noqa: BLE001 - every template failure is the spec's problem
        position = _template_position(error, real_to_display, loader, files)
        if position is None:
            position = _last_line(pieces, files)
        raise SpecError(Problem(position, "", _describe(error))) from None
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


def _last_line(pieces: list[str], files: list[str]) -> Position:
    """The template line after the last complete line of output (for errors out of frames)."""
    for piece in reversed(pieces):
        found = _MARK.findall(piece)
        if found and int(found[-1][0]) < len(files):
            return Position(files[int(found[-1][0])], int(found[-1][1]) + 1, 1)
    return Position(files[0] if files else "<spec>", 1, 1)


def _describe(error: BaseException) -> str:
    if isinstance(error, UndefinedError):
        match = re.match(r"'(.+)' is undefined", str(error))
        return f"undefined variable '{match[1]}'" if match else f"undefined: {error}"
    if isinstance(error, SecurityError):
        return f"not allowed in a spec template (sandbox): {error}"
    if isinstance(error, TemplateNotFound):
        return f"include '{error.name}' not found under the spec's directory"
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
    loader: _SpecDirLoader,
    files: list[str],
) -> str:
    if filename in real_to_display:
        return real_to_display[filename]
    if filename:
        try:
            rel = Path(filename).resolve().relative_to(loader.root).as_posix()
            root = loader.display_root
            return rel if root in ("", ".") else f"{root}/{rel}"
        except ValueError:
            pass
    return files[0] if files else "<spec>"


def _template_position(
    error: BaseException,
    real_to_display: Mapping[str, str],
    loader: _SpecDirLoader,
    files: list[str],
) -> Position | None:
    """The template line where ``error`` was raised (Jinja rewrites tracebacks to carry it)."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        name = frame.filename
        if name in real_to_display or (
            name
            and Path(name).is_relative_to(loader.root)
            and name.endswith((".yaml", ".yml", ".j2", ".jinja"))
        ):
            return Position(_display_of(name, real_to_display, loader, files), frame.lineno or 1, 1)
    return None


def _mark_lines(env: Any, text: str, file_id: int) -> str:
    """Append a marker to every newline of literal text, naming file and line."""
    if not text.endswith("\n"):
        text += "\n"
    try:
        tokens = list(env.lex(text))
    except TemplateSyntaxError:
        return text  # rendering reports the syntax error with its line
    if "".join(value for _, _, value in tokens) != text:
        return text  # cannot mark safely; positions fall back to rendered lines
    out: list[str] = []
    for lineno, kind, value in tokens:
        if kind == "data" and "\n" in value:
            pieces = value.split("\n")
            for offset, piece in enumerate(pieces[:-1]):
                out.append(f"{piece}\x1e{file_id}:{lineno + offset}\x1f\n")
            out.append(pieces[-1])
        else:
            out.append(value)
    return "".join(out)


def _unmark(
    marked: str, files: list[str], source_text: str, sources: dict[str, tuple[str, ...]]
) -> Rendered:
    lines = marked.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    clean_lines: list[str] = []
    line_map: list[tuple[str, int] | None] = []
    for line in lines:
        found = _MARK.findall(line)
        clean_lines.append(_MARK.sub("", line))
        known = found and int(found[0][0]) < len(files)
        line_map.append((files[int(found[0][0])], int(found[0][1])) if known else None)
    # A line without a marker (made by a multi-line expression) belongs to the next marked line.
    following: tuple[str, int] | None = None
    for i in range(len(line_map) - 1, -1, -1):
        if line_map[i] is None:
            line_map[i] = following or (files[0], max(1, len(sources[files[0]])))
        following = line_map[i]
    text = "\n".join(clean_lines) + ("\n" if clean_lines else "")
    rendered = Rendered(text, tuple(line_map), source_text, sources)  # type: ignore[arg-type]
    for index, line in enumerate(clean_lines):
        bad = UNPRINTABLE.search(line)
        if bad:  # only a filter block can get here: printed values are checked in _finalize
            message = f"the template produced a {describe_char(bad[0])}, not allowed in a spec"
            raise SpecError(Problem(rendered.position(index, bad.start()), "", message))
    return rendered
