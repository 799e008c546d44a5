"""The non-empty lines of a text file, kept as the text and the offsets of its lines.

A tuple of one ``str`` per line costs about 50 bytes a line beyond the text: 30 MB of two-letter
lines took 930 MB to validate. :class:`LineIndex` holds the decoded text once and two arrays of
offsets (16 bytes a line), and gives the lines ``str.splitlines`` and ``str.strip`` make, the
empty ones left out, in the same order.
"""

from __future__ import annotations

import operator
import re
from array import array
from bisect import bisect_right
from collections.abc import Iterator

from synthc.generators.ocr.made_sequence import MadeSequence

#: where ``str.splitlines`` breaks a line; each is whitespace to ``str.strip`` too
_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
#: a stripped non-empty line: from its first character that is no whitespace to its last
#: (``\s`` and ``\S`` are ``str.isspace``'s classes), never across a line break
_LINE = re.compile(rf"\S(?:[^{_BREAKS}]*\S)?")


class LineIndex(MadeSequence):
    """``tuple(line.strip() for line in text.splitlines() if line.strip())``, kept compact."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts = array("q")
        self._ends = array("q")
        start, end = self._starts.append, self._ends.append
        for match in _LINE.finditer(text):
            start(match.start())
            end(match.end())

    def __len__(self) -> int:
        return len(self._starts)

    def _item(self, index: int) -> str:
        return self._text[self._starts[index] : self._ends[index]]

    def __iter__(self) -> Iterator[str]:
        text = self._text
        for start, end in zip(self._starts, self._ends, strict=True):
            yield text[start:end]

    def characters(self) -> set[str]:
        """Every character of the text (its lines', and the whitespace between them)."""
        return characters(self._text)

    def longest(self) -> int:
        """The length of the longest line (0 without lines)."""
        return max(map(operator.sub, self._ends, self._starts), default=0)

    def line_at(self, offset: int) -> int | None:
        """The number (from 1) of the line holding the text's character at ``offset``, or None
        when that character is in no line (a line break, or whitespace stripped off)."""
        found = bisect_right(self._starts, offset)
        if found and offset < self._ends[found - 1]:
            return found
        return None

    def first_in_lines(self, pattern: re.Pattern[str]) -> tuple[int, str] | None:
        """The line number and text of the first match of ``pattern`` inside a line."""
        for match in pattern.finditer(self._text):
            number = self.line_at(match.start())
            if number is not None:
                return number, match.group()
        return None


#: every byte value, and the ASCII ones
_BYTES = bytes(range(256))
_ASCII = bytes(range(128))


def characters(text: str) -> set[str]:
    """Every character of ``text``, in time linear in its length: the ASCII ones from the byte
    values its UTF-8 holds (``bytes.translate`` deletes them from all 256 in one pass in C),
    the others by ``set()`` over the text once its ASCII bytes are deleted (``set(text)`` takes
    0.06 s on trdg's English dictionary, 0.5 s on its Japanese one)."""
    data = text.encode("utf-8", "surrogatepass")
    absent = _BYTES.translate(None, data)
    found = {chr(byte) for byte in _ASCII if byte not in absent}
    if text.isascii():
        return found
    # what deleting ASCII bytes leaves of UTF-8 is whole multibyte sequences
    return found | set(data.translate(None, _ASCII).decode("utf-8", "surrogatepass"))
