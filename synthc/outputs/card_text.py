"""Text from a spec as the dataset card (Markdown) may show it: control and bidirectional
characters escaped as every one-line message escapes them (:func:`synthc.errors.one_line`),
so a description read from ``"\\e[31m"`` cannot move a terminal's cursor when someone prints
the card, and table cells and headings kept to one line."""

from __future__ import annotations

from synthc.errors import one_line


def card_paragraph(text: str) -> str:
    """``text`` with its line breaks kept and every other control character escaped."""
    return "\n".join(one_line(line) for line in text.split("\n"))


def card_line(text: str) -> str:
    """``text`` on one line (a heading): every control character, newlines too, escaped."""
    return one_line(text)


def card_cell(text: str) -> str:
    """``text`` in one cell of a Markdown table: one line, ``|`` escaped."""
    return one_line(text).replace("|", "\\|")
