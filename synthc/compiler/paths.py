"""Spelling a path into the spec data for messages: ``generator.centers[1]``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

#: a mapping key written as is after a dot; any other is quoted in brackets (``splits['v1.0']``)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def format_path(path: Sequence[Any]) -> str:
    """``('generator', 'centers', 1)`` -> ``'generator.centers[1]'``; a boolean or null mapping
    key is spelt as YAML writes it (``weights.true``), and a key that a dot or bracket could
    misread (``'..'``, ``'v1.0'``, ``''``, ``'a b'``) is quoted: ``splits['..']``."""
    text = ""
    for part in path:
        if isinstance(part, bool) or part is None:
            part = "null" if part is None else str(part).lower()
        if not isinstance(part, str):  # a list index, or a number as a mapping key
            text += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(part):
            text += f"[{str(part)!r}]"
        else:
            text += f".{part}" if text else part
    return text
