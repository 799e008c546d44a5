"""Spelling a path into the spec data for messages: ``generator.centers[1]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def format_path(path: Sequence[Any]) -> str:
    """``('generator', 'centers', 1)`` -> ``'generator.centers[1]'``; a boolean or null mapping
    key is spelt as YAML writes it (``weights.true``)."""
    text = ""
    for part in path:
        if isinstance(part, bool) or part is None:
            part = "null" if part is None else str(part).lower()
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
