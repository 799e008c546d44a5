"""An OCR text file's lines: the lines str.splitlines and str.strip make, kept compactly."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from synthc.generators.ocr.resources import remember_lines

#: characters a text file may break or pad its lines with, and a few it may hold
PIECES = [
    *("a", "b", "é", " ", "\t", "\xa0", "\u3000", "\u200b"),
    *("\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"),
]


def entry(name: str) -> dict[str, str]:
    return {"sha256": f"test-{name}", "file": name}


def test_the_lines_are_those_splitlines_and_strip_make():
    rng = random.Random(7)
    for case in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30)))
        expected = tuple(line.strip() for line in text.splitlines() if line.strip())
        lines = remember_lines(entry(f"case{case}"), text.encode(), "t.txt")
        assert (tuple(lines), len(lines)) == (expected, len(expected)), repr(text)
        assert [lines[i] for i in range(len(lines))] == list(expected)
        assert list(lines[:2]) == list(expected[:2])


def test_many_short_lines_take_a_few_bytes_each_not_a_string_each():
    """30 MB of two-letter lines took 930 MB to validate: a str per line is about 50 bytes."""
    data = b"ab\n" * 200_000
    tracemalloc.start()
    try:
        lines = remember_lines(entry("many"), data, "many.txt")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(lines) == 200_000 and lines[123_456] == "ab"
    assert peak < 20 * 200_000  # the text once, 16 bytes a line and the arrays' slack


@pytest.mark.parametrize(
    ("text", "line"),
    [("ok\nbad\x07line\n", 2), ("\x0c\x1c one \x0b two\x01\n", 2), ("\x01\n", 1)],
)
def test_a_control_character_inside_a_line_is_named_with_the_lines_number(text, line):
    """Breaks (\\x0c, \\x1c, \\x0b) separate lines; a control character in a line is refused."""
    with pytest.raises(ValueError, match=rf"'t.txt': text line {line} holds the control char"):
        remember_lines(entry(repr(text)), text.encode(), "t.txt")


def test_a_byte_order_mark_is_no_text_of_the_first_line():
    """A word list saved as 'UTF-8 with BOM' labelled its first line '\\ufeffhello', an
    invisible character with a zero-width box that the image does not show."""
    lines = remember_lines(entry("bom"), "\ufeffhello\nworld\n".encode(), "t.txt")
    assert list(lines) == ["hello", "world"]
