"""Text from a spec as the dataset card (Markdown) may show it: control characters escaped,
so a description read from ``"\\e[31m"`` cannot move a terminal's cursor when someone prints
the card, and table cells and headings kept to one line."""

from __future__ import annotations

import re

#: C0 and C1 controls, DEL, the Unicode line and paragraph separators and the bidirectional
#: controls (which make a terminal show text reordered)
_BIDI = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
_CONTROL_BUT_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def card_paragraph(text: str) -> str:
    """``text`` with every control character but newline and tab written as an escape."""
    return _CONTROL_BUT_LINES.sub(_escape, text)


def card_line(text: str) -> str:
    """``text`` on one line (a heading): every control character, newlines too, escaped."""
    return _CONTROL.sub(_escape, text)


def card_cell(text: str) -> str:
    """``text`` in one cell of a Markdown table: one line, ``|`` escaped."""
    return card_line(text).replace("|", "\\|")
