"""What synthc keeps on disk of each font it has read with fontTools, keyed by the font's sha256
and fontTools' version (under ``$XDG_CACHE_HOME/synthc``, default ``~/.cache/synthc``): the code
points its cmap maps (``font-coverage/fonttools-<version>/<sha256>.ranges.json``) and which
characters it draws with an outline (``font-ink/fonttools-<version>/<sha256>.json``).

Each file is strict JSON of one exact, canonical shape. A file that is not (damaged, cut short,
the older format, written by something else) is as good as absent: the font is read again and
the file rewritten, never trusted and never a crash. Writes are atomic and best effort.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError
from itertools import chain
from typing import Any

from synthc import dist_versions
from synthc.cache_files import cache_path, read_cache_json, write_cache

#: bytes of a cache file: every code point there is, as ranges or as a list, is under 16 MiB
MAX_CACHE_BYTES = 16 * 1024 * 1024
#: the last code point
MAX_CODE_POINT = 0x10FFFF


def _coverage_path(sha256: str) -> str | None:
    return cache_path(f"font-coverage/{reader_version()}", f"{sha256}.ranges.json")


def _ink_path(sha256: str) -> str | None:
    return cache_path(f"font-ink/{reader_version()}", f"{sha256}.json")


@functools.cache
def reader_version() -> str:
    """``fonttools-<version>``: what read the fonts whose answers are kept. Another fontTools
    may read a cmap or an outline otherwise, so its answers are kept apart."""
    try:
        return f"fonttools-{dist_versions.version('fonttools')}"
    except PackageNotFoundError:  # not installed as a distribution (OCR then fails anyway)
        return "fonttools-unknown"


def read_coverage(sha256: str) -> list[list[int]] | None:
    """The code points cached for the font with ``sha256``, as ranges ``[first, last]`` (for
    :func:`points`); None without a usable file."""
    found = _read(_coverage_path(sha256))
    if type(found) is not list:
        return None
    last = -2
    for pair in found:  # ascending, disjoint, not adjacent: the one way to write a set
        if type(pair) is not list or len(pair) != 2:
            return None
        start, end = pair
        if type(start) is not int or type(end) is not int:
            return None
        if not last + 1 < start <= end <= MAX_CODE_POINT:
            return None
        last = end
    return found


def points(ranges: list[list[int]]) -> frozenset[int]:
    """The code points of ``ranges`` (from :func:`read_coverage`)."""
    return frozenset(chain.from_iterable(range(start, end + 1) for start, end in ranges))


def write_coverage(sha256: str, points: Iterable[int]) -> None:
    """Cache ``points``, the code points of the font with ``sha256``, as ranges."""
    ranges: list[list[int]] = []
    for point in sorted(points):
        if ranges and ranges[-1][1] + 1 == point:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    _write(_coverage_path(sha256), ranges)


def read_ink(sha256: str) -> dict[str, bool] | None:
    """Characters judged in the font with ``sha256``: True if drawn with an outline (or not
    mapped), False if drawn without one; None without a usable file."""
    found = _read(_ink_path(sha256))
    if type(found) is not dict or set(found) != {"inked", "blank"}:
        return None
    verdicts: dict[str, bool] = {}
    for key, ink in (("inked", True), ("blank", False)):
        points = found[key]
        if type(points) is not list:
            return None
        last = -1
        for point in points:  # ascending
            if type(point) is not int or not last < point <= MAX_CODE_POINT:
                return None
            last = point
        verdicts.update((chr(point), ink) for point in points)
    if len(verdicts) != len(found["inked"]) + len(found["blank"]):
        return None  # a character both ways
    return verdicts


def write_ink(sha256: str, verdicts: dict[str, bool]) -> None:
    """Cache ``verdicts`` (see :func:`read_ink`) of the font with ``sha256``."""
    inked = sorted(ord(ch) for ch, ink in verdicts.items() if ink)
    blank = sorted(ord(ch) for ch, ink in verdicts.items() if not ink)
    _write(_ink_path(sha256), {"inked": inked, "blank": blank})


def _read(path: str | None) -> Any:
    """The strict JSON in ``path``; None if it is no regular file (a FIFO planted there is not
    waited on), cannot be read, is too large or is no JSON (synthc.cache_files)."""
    return read_cache_json(path, MAX_CACHE_BYTES)


def _write(path: str | None, value: Any) -> None:
    write_cache(path, json.dumps(value, separators=(",", ":")).encode())
