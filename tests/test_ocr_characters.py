"""The characters of a text source (synthc.generators.ocr.line_index.characters), which the OCR
checks at validate read off whole dictionaries: every one found, in a time that grows with the
text, not with the square of its distinct characters (Japanese: 6,757 of them)."""

from __future__ import annotations

import pytest

from synthc.generators.ocr.line_index import characters


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ascii\nwords\t and \x00 controls\x7f",
        "Straße café naïve Ωμέγα Кириллица",
        "日本語のテキスト、漢字とかな。\n한국어 텍스트\nالعربية",
        "emoji 👍🏽 and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, combining e\u0301",
        "lone surrogate \ud800 kept",
    ],
)
def test_every_character_of_the_text_is_found(text):
    assert characters(text) == set(text)


def test_a_text_of_thousands_of_distinct_characters():
    """Each distinct character cost a regular expression over all those found before, so the
    time grew with their square: trdg's Japanese dictionary (6,757) took 27 s, and 20,000
    distinct CJK characters 277 s; 3,000 here, with ASCII and multibyte text between them."""
    text = "".join(f"{chr(0x4E00 + k)}a\u00e9" for k in range(3_000)) + "abc" * 1000
    assert characters(text) == set(text)
