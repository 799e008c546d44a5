"""How many attempts draw a text their font can draw: an attempt draws a font and a text
independently, and re-draws both when the font lacks a character of the text, so a source
whose text the fonts rarely cover (a Thai dictionary, whose only Latin words are 11 runs of
dots, on Latin fonts) fails its samples' every attempt although some text is drawable.

Per font, the share of the source's lines it covers is counted exactly (a dictionary's words,
a list's items, a file's lines; a random line's characters), and raised to the number of words
or characters a line draws; the mean over the fonts is the chance an attempt has a drawable
text (fonts covering every character count 1 without counting lines).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from synthc.generators.ocr.config import MAX_ATTEMPTS, MAX_WASHED_OUT_CHANCE, OcrConfig
from synthc.generators.ocr.resources import font_coverage

#: the least chance of an attempt drawing a text its font covers: under it, all MAX_ATTEMPTS
#: attempts of a sample fail with a chance over MAX_WASHED_OUT_CHANCE
LEAST_SHARE = 1 - MAX_WASHED_OUT_CHANCE ** (1 / MAX_ATTEMPTS)


def _lacking(config: OcrConfig, chars: Iterable[str], font: dict[str, str]) -> frozenset[str]:
    """The characters of ``chars`` whose case-folded text ``font`` cannot draw."""
    covered = font_coverage(font)
    fold = config.text.folded
    return frozenset(
        ch for ch in chars if any(ord(c) not in covered for c in fold(ch) if not c.isspace())
    )


def _mean_power(share: float, low: int, high: int) -> float:
    """The mean of ``share ** k`` over k = low..high."""
    if share >= 1.0:
        return 1.0
    if share <= 0.0:
        return 1.0 if low == 0 else 0.0
    count = high - low + 1
    return share**low * (1 - share**count) / (1 - share) / count


def drawable_share(
    config: OcrConfig, chars: set[str], lines: Sequence[str] | None, blob: str | None
) -> tuple[float, str] | None:
    """The chance an attempt draws a text its font covers, and a character some font lacks,
    when under LEAST_SHARE (else None). ``chars``: every character of the source; ``lines``:
    its lines (items, a file's, an own dictionary's), or ``blob``: a trdg dictionary's text,
    one word a line (counted by regular expression, not split)."""
    fonts = config.fonts.resolved or []
    if not fonts:
        return None
    groups: dict[frozenset[str], int] = {}
    for font in fonts:
        key = _lacking(config, chars, font)
        groups[key] = groups.get(key, 0) + 1
    if groups.get(frozenset(), 0) >= LEAST_SHARE * len(fonts):
        return None
    total = 0.0
    for lacking, count in groups.items():
        total += count * _font_share(config, chars, lacking, lines, blob)
    share = total / len(fonts)
    if share >= LEAST_SHARE:
        return None
    shown = min((k for k in groups if k), key=len, default=frozenset())
    return share, "".join(sorted(shown)[:10])


def _font_share(
    config: OcrConfig,
    chars: set[str],
    lacking: frozenset[str],
    lines: Sequence[str] | None,
    blob: str | None,
) -> float:
    text = config.text
    if text.source == "random":
        alphabet = text.alphabet()
        share = sum(ch not in lacking for ch in alphabet) / max(1, len(alphabet))
        return _mean_power(share, text.length[0], text.length[1])
    bad = re.compile("[" + "".join(re.escape(ch) for ch in sorted(lacking)) + "]")
    if blob is not None:
        total = len(re.findall(r"^[^\S\n]*\S", blob, re.MULTILINE))
        hit = len(re.findall(r"^.*?" + bad.pattern, blob, re.MULTILINE)) if lacking else 0
        share = (total - hit) / max(1, total)
    else:
        items = list(lines or ())
        good = sum(1 for t in items if t.strip() and not (lacking and bad.search(t)))
        share = good / max(1, len(items))
    if text.source == "dict":
        return _mean_power(share, text.words[0], text.words[1])
    return share
