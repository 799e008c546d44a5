"""One exception family: every user-facing error says where it happened.

Errors pickle cleanly (they are rebuilt from their constructor arguments), so an error raised in
a worker process reaches the parent intact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Anything that could end a line or move the cursor when printed; keys and values from a spec
# land in messages, and each problem must stay one line.
#: line breaks, control characters, and the bidirectional controls that reorder what a
#: terminal shows (a name holding U+202E reads backwards)
_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """``text`` with line breaks and control characters escaped as Python writes them."""
    return _BREAKS.sub(lambda m: _ESCAPES.get(m[0]) or repr(m[0])[1:-1], text)


@dataclass(frozen=True)
class Position:
    """A place in a file the user wrote: 1-based line and column (line 0: not known)."""

    file: str
    line: int
    col: int
    #: "--var NAME=VALUE" when the text here was printed from a ``--var`` value
    origin: str | None = field(default=None, compare=False)

    @property
    def known(self) -> bool:
        """Whether the line is known (a template construct may make it unknowable)."""
        return self.line > 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}" if self.known else self.file


#: said instead of a wrong line when a rendered position maps to no line of the template
UNMAPPED = "line unknown: produced by a template construct synthc cannot map"


@dataclass(frozen=True)
class Problem:
    """One problem found in a spec: where, which field, what is wrong."""

    position: Position | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position else ""
        named = f"{self.path}: " if self.path else ""
        notes = ""
        if self.position is not None and not self.position.known:
            notes += f" ({UNMAPPED})"
        if self.position is not None and self.position.origin:
            notes += f" (from {self.position.origin})"
        return one_line(f"{where}{clipped(named, 200)}{clipped(self.message)}{notes}")


def counted(count: int, noun: str, plural: str | None = None, *, grouped: bool = False) -> str:
    """``count`` and ``noun``, the noun singular for 1 and ``plural`` (default: ``noun`` with
    an s) otherwise: "1 shard", "2 shards"; ``grouped``: thousands separated ("1,000 rows")."""
    shown = f"{count:,}" if grouped else str(count)
    return f"{shown} {noun if count == 1 else plural or noun + 's'}"


#: characters of a problem's message shown at most: one that quotes a value the user wrote
#: (a 900,000-character column name) keeps its start and its end (where a hint stands)
MAX_MESSAGE_CHARS = 600


def clipped(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text``, or its start and end with how much was left out between them."""
    if len(text) <= limit:
        return text
    tail = limit // 3
    head = limit - tail
    return f"{text[:head]} ... ({len(text) - limit:,} characters left out) ... {text[-tail:]}"


class SynthcError(Exception):
    """Base of every error synthc reports to a user."""

    exit_code = 1
    #: whether the message's line breaks are its own (problems listed one a line); in any
    #: other message a line break is a value's (a path's) and is printed escaped
    multiline = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, self.args)


class SpecError(SynthcError):
    """The spec (or the command line) is wrong; carries every problem found in one run."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(None, "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class UsageError(SynthcError):
    """The command was asked to do something it must refuse (bad directory, bad option)."""

    exit_code = 2


class BuildError(SynthcError):
    """Generating or writing a shard failed."""

    exit_code = 1
    #: the failing task's traceback where it ran (a worker process), as text, for --debug
    worker_traceback: str | None = None


class OutputError(SynthcError):
    """An existing dataset on disk is missing, corrupt or does not match its manifest."""

    exit_code = 1


class OutputProblems(OutputError):
    """OutputError listing the problems found, one a line (synthc verify's)."""

    multiline = True


class UsageProblems(UsageError):
    """UsageError listing what it refuses, one a line (the inputs --require-clean names)."""

    multiline = True


class NotAnOutput(UsageError, OutputError):
    """What was given as a built dataset's directory does not exist or is no directory (a spec
    given to ``synthc verify``): a usage mistake (exit 2) in every command, as in ``diff``; an
    OutputError still, for programs that catch those."""
