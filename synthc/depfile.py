"""Depfiles: a Make rule naming every file a dataset was built from, for make and ninja.

The rule's target is the output's ``manifest.json`` spelled as the output directory was given
(``-o out/a`` gives ``out/a/manifest.json``, as gcc's ``-MD`` spells its target, so it matches the
Makefile's rule); its prerequisites are the build's inputs, each spelled relative to the current
directory when under it, else absolute (a depfile is a local build artifact, never shipped).
Ninja reads the same file (``depfile = $out.d`` and ``deps = gcc``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path


class DepfileError(ValueError):
    """A path that a Make rule cannot spell (a newline in it)."""


def escape(path: str) -> str:
    """``path`` escaped for a Make rule: space -> ``\\ ``, ``$`` -> ``$$``, ``#`` -> ``\\#``.

    DepfileError for a line break or a tab, which a Make rule cannot hold.
    """
    if any(c in path for c in "\n\r\t"):
        raise DepfileError(
            f"{path!r}: a path with a line break or a tab cannot be written in a depfile"
        )
    return path.replace("$", "$$").replace("#", "\\#").replace(" ", "\\ ")


def spelled(real: Path, cwd: Path) -> str:
    """``real`` relative to ``cwd`` when it is under it, else absolute."""
    if real.is_relative_to(cwd) and real != cwd:
        return real.relative_to(cwd).as_posix()
    return str(real)


def make_rule(target: str, prerequisites: Iterable[str]) -> str:
    """``target: prereq \\`` continuation lines, each path escaped; a newline at the end."""
    lines = [f"{escape(target)}:", *(f" {escape(p)}" for p in dict.fromkeys(prerequisites))]
    return " \\\n".join(lines) + "\n"


def depfile_rule(target: str, inputs: Iterable[Path], cwd: Path | None = None) -> str:
    """The rule for ``target`` and the resolved files ``inputs``, spelled from ``cwd`` (default:
    the current directory). DepfileError for a path Make cannot spell."""
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
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0
