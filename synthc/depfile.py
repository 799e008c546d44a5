"""Depfiles: a Make rule naming every file a dataset was built from, for make and ninja.

The rule's target is the output's ``manifest.json`` spelled as the output directory was given
(``-o out/a`` gives ``out/a/manifest.json``, as gcc's ``-MD`` spells its target, so it matches the
Makefile's rule), less its ``.`` components and doubled slashes (make matches targets by their
text: ``out/a/./manifest.json`` never matches ``out/a/manifest.json``); its prerequisites are
the build's inputs, each spelled relative to the current directory when under it, else
absolute (a depfile is a local build artifact, never shipped).
Ninja reads the same file (``depfile = $out.d``, with or without ``deps = gcc``). As gcc's
``-MP`` does, each prerequisite also gets an empty rule of its own, so a renamed or deleted input
makes make rebuild instead of stopping with "No rule to make target".

Which paths can be written (the decision). make and ninja read a depfile with different
grammars, and a path is written only where both read back exactly the same file: letters,
digits, ``+ , - . / _ ! @ { } ~`` and every non-ASCII character (UTF-8, or the raw bytes of a
non-UTF-8 name) as they are; a space as ``\\ ``, ``$`` as ``$$`` and ``#`` as ``\\#``, which
both unescape. Every other character is refused (DepfileError), because one of the two reads it
as something else: ``;`` starts a make recipe (it would run the rest of the line), ``:`` and
``|`` split a make rule, ``=`` makes it a variable assignment, ``%`` a pattern, ``*?[]`` a
wildcard, ``()`` an archive member, ``\\`` escapes differently in each, and ninja ends a path at
``;*?&'"<>^`` and a backquote (and at a control character). So are a path starting with
``~`` (make's home directory), ending in a space (make keeps the escaping backslash), or, for a
name directly in the current directory, starting with ``.`` (``.SILENT:``, ``.c:`` are make's
special targets and suffix rules) or being a make directive (``define`` ends the build).
"""

from __future__ import annotations

import os
import string
import time
from collections.abc import Iterable
from pathlib import Path


class DepfileError(ValueError):
    """A path that make and ninja cannot both read back from a depfile."""


#: characters make and ninja both read as part of a path, written as they are
_PLAIN = frozenset(string.ascii_letters + string.digits + "+,-./_!@{}~")
#: characters both read back from an escape: the escape
_ESCAPED = {" ": "\\ ", "$": "$$", "#": "\\#"}
#: words make reads as a directive where a rule's target or first prerequisite would stand
_DIRECTIVES = frozenset(
    [
        "define",
        "endef",
        "undefine",
        "export",
        "unexport",
        "override",
        "private",
        "include",
        "-include",
        "sinclude",
        "load",
        "-load",
        "vpath",
        "ifdef",
        "ifndef",
        "ifeq",
        "ifneq",
        "else",
        "endif",
    ]
)


def escape(path: str) -> str:
    """``path`` as a depfile spells it: space -> ``\\ ``, ``$`` -> ``$$``, ``#`` -> ``\\#``.

    DepfileError, naming the path and what in it, for a path make and ninja would not both read
    as this file (see the module doc).
    """
    for char in path:
        if char not in _PLAIN and char not in _ESCAPED and not _non_ascii(char):
            raise DepfileError(_refused(path, f"holds {_described(char)}"))
    if path.startswith("~"):
        raise DepfileError(_refused(path, "starts with '~' (make reads a home directory)"))
    if path.endswith(" "):
        raise DepfileError(_refused(path, "ends in a space"))
    if "/" not in path and path.startswith("."):
        raise DepfileError(
            _refused(path, "starts with '.' in the current directory (a make special target)")
        )
    if path in _DIRECTIVES:
        raise DepfileError(_refused(path, "is a make directive"))
    return "".join(_ESCAPED.get(char, char) for char in path)


def _non_ascii(char: str) -> bool:
    """True for a non-ASCII character that is written as bytes (a lone surrogate is not, unless
    it stands for a byte of a non-UTF-8 name)."""
    if char < "\x80":
        return False
    try:
        char.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def _described(char: str) -> str:
    if char in "\n\r":
        return "a line break"
    if char == "\t":
        return "a tab"
    if char < " " or char == "\x7f":
        return f"the control character {char!r}"
    return repr(char)


def _refused(path: str, what: str) -> str:
    return (
        f"{path!r} {what}: make or ninja would not read it back as this file; rename it "
        "(safe: letters, digits, non-ASCII, space and + , - . _ ! @ { } ~ $ #)"
    )


def spelled(real: Path, cwd: Path) -> str:
    """``real`` relative to ``cwd`` when it is under it, else absolute."""
    if real.is_relative_to(cwd) and real != cwd:
        return real.relative_to(cwd).as_posix()
    return str(real)


def target_name(out: str, name: str) -> str:
    """The file ``name`` in the directory ``out`` spelled as make and ninja name it: ``.``
    components and doubled slashes dropped (``out/a/.``, ``out//a`` and ``./out/a`` are all
    ``out/a``), since make matches a depfile's target to a rule's by its text; ``..`` stays (with
    a symlink on the way it is no lexical step), and so does a relative path."""
    parts = [part for part in out.split("/") if part not in ("", ".")]
    spelt = "/".join([*parts, name])
    return "/" + spelt if out.startswith("/") else spelt


def make_rule(target: str, prerequisites: Iterable[str]) -> str:
    """``target: prereq \\`` continuation lines, each path escaped, then an empty rule
    ``prereq:`` for each prerequisite (gcc's ``-MP``: make rebuilds when one is gone, where it
    would stop; ninja skips them); DepfileError for a path make and ninja cannot both read."""
    spelt = escape(target)
    prereqs = [escape(p) for p in dict.fromkeys(prerequisites) if p != target]
    rule = " \\\n".join([f"{spelt}:", *(f" {p}" for p in prereqs)]) + "\n"
    return rule + "".join(f"\n{p}:\n" for p in prereqs)


def depfile_rule(target: str, inputs: Iterable[Path], cwd: Path | None = None) -> str:
    """The rule for ``target`` and the files ``inputs`` (absolute), spelled from ``cwd`` (default:
    the current directory). DepfileError for a path make and ninja cannot both read."""
    here = Path(os.path.realpath(cwd or Path.cwd()))
    return make_rule(target, [spelled(Path(p), here) for p in inputs])


def refresh_target(target: Path, inputs: Iterable[Path]) -> bool:
    """Set ``target``'s modification time (never its bytes) to now when an input is newer, so
    make and ninja see it up to date; True if it was touched."""
    try:
        built = os.stat(target).st_mtime_ns
    except FileNotFoundError:
        return False
    newest = max((_mtime(p) for p in inputs), default=0)
    if newest <= built:
        return False
    stamp = max(newest, time.time_ns())
    os.utime(target, ns=(stamp, stamp))
    return True


def _mtime(path: Path) -> int:
    """The later of ``path``'s and, if it is a symlink, the link's own time (``make -L``)."""
    try:
        return max(os.stat(path).st_mtime_ns, os.lstat(path).st_mtime_ns)
    except OSError:
        return 0
