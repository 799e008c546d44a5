"""Draw a line of text on a transparent layer and measure every character's box.

Horizontal lines are laid out by Pillow as one run (with Raqm, so complex scripts are shaped,
never drawn character by character) unless ``character_spacing`` asks for extra space, which
needs per-character placement. A character's box spans its advance: from the pen position
before it to the pen position after it (measured on the logical prefix), and the line's ink
height. Vertical lines stack characters top to bottom, each centred in the column.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from synthc.generators.ocr.shaping import have_raqm

Boxes = np.ndarray  # (n, 4) float64: x0, y0, x1, y1 per character


@functools.lru_cache(maxsize=1024)
def font_at(path: str, size: int, shaped: bool) -> ImageFont.FreeTypeFont:
    """A font at a pixel size: with Raqm layout for text that needs shaping (complex scripts
    are drawn as shaped runs), else FreeType's basic layout (advances plus kerning; faster)."""
    raqm = shaped and have_raqm()
    layout = ImageFont.Layout.RAQM if raqm else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size, layout_engine=layout)


def draw_horizontal(
    text: str,
    font: ImageFont.FreeTypeFont,
    color: tuple[int, int, int],
    spacing: int,
    stroke_width: int,
    stroke_color: tuple[int, int, int],
    space_width: float = 1.0,
) -> tuple[Image.Image, Boxes]:
    """The text on a transparent RGBA layer, and one box per character.

    The whole line is one shaped run, unless ``spacing`` asks for extra room between characters
    (drawn one by one) or ``space_width`` rescales spaces (words drawn as runs, trdg's word
    split). The layer has room for glyphs that overhang their advance (italics, negative
    bearings, strokes) and is then cropped to the ink or the advances, whichever reaches further.
    """
    ascent, descent = font.getmetrics()
    pad = stroke_width + math.ceil(0.3 * font.size)  # overhang room on both sides
    height = ascent + descent + 2 * stroke_width
    pens, runs = _placement(text, font, spacing, space_width)
    width = max(1, math.ceil(pens[-1]) + 2 * pad)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for first, last in runs:
        draw.text(
            (pad + pens[first], stroke_width + ascent),
            text[first:last],
            font=font,
            fill=(*color, 255),
            anchor="ls",
            stroke_width=stroke_width,
            stroke_fill=(*stroke_color, 255),
        )
    boxes = np.array(
        [[pad + pens[k], 0.0, pad + pens[k + 1], float(height)] for k in range(len(text))],
        dtype=np.float64,
    ).reshape(len(text), 4)
    return _crop_to_ink(layer, boxes)


def _placement(
    text: str, font: ImageFont.FreeTypeFont, spacing: int, space_width: float
) -> tuple[list[float], list[tuple[int, int]]]:
    """Pen positions (before each character, and after the last) and the runs to draw."""
    if spacing > 0:
        pens = [0.0]
        for ch in text:
            pens.append(pens[-1] + font.getlength(ch) + spacing)
        pens[-1] -= spacing
        return pens, [(k, k + 1) for k in range(len(text)) if not text[k].isspace()]
    if space_width == 1.0:
        return pen_positions(text, font), [(0, len(text))]
    pens = [0.0]
    runs: list[tuple[int, int]] = []
    k = 0
    while k < len(text):
        if text[k] == " ":
            pens.append(pens[-1] + font.getlength(" ") * space_width)
            k += 1
            continue
        end = text.find(" ", k)
        end = len(text) if end < 0 else end
        start = pens[-1]
        pens.extend(start + p for p in pen_positions(text[k:end], font)[1:])
        runs.append((k, end))
        k = end
    return pens, runs


def draw_vertical(
    text: str,
    font: ImageFont.FreeTypeFont,
    color: tuple[int, int, int],
    spacing: int,
    stroke_width: int,
    stroke_color: tuple[int, int, int],
) -> tuple[Image.Image, Boxes]:
    """Characters stacked top to bottom, each centred; one box per character cell."""
    ascent, descent = font.getmetrics()
    cell = ascent + descent + 2 * stroke_width
    widths = [font.getlength(ch) for ch in text]
    width = max(1, math.ceil(max(widths, default=1.0)) + 2 * stroke_width)
    height = max(1, len(text) * cell + max(0, len(text) - 1) * spacing)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    boxes = np.zeros((len(text), 4), dtype=np.float64)
    for k, ch in enumerate(text):
        top = k * (cell + spacing)
        draw.text(
            (width / 2, top + stroke_width + ascent),
            ch,
            font=font,
            fill=(*color, 255),
            anchor="ms",
            stroke_width=stroke_width,
            stroke_fill=(*stroke_color, 255),
        )
        boxes[k] = [0.0, top, float(width), top + cell]
    return layer, boxes


def pen_positions(text: str, font: ImageFont.FreeTypeFont) -> list[float]:
    """The pen position before each character and after the last, as the shaper places them.

    With the basic layout a position is the sum of advances and pair kernings, each cached per
    font. Shaped text is measured on every logical prefix; a ligature can make a longer prefix
    narrower, so positions never move backwards (its characters share the ligature's advance).
    """
    if font.layout_engine == ImageFont.Layout.BASIC:
        pens = [0.0]
        for k, ch in enumerate(text):
            pens.append(
                pens[-1] + _advance(font, ch) + (_kern(font, text[k - 1], ch) if k else 0.0)
            )
        return pens
    prefixes = [font.getlength(text[:k]) for k in range(len(text) + 1)]
    return [float(v) for v in np.maximum.accumulate(prefixes)]


@functools.lru_cache(maxsize=65536)
def _advance(font: ImageFont.FreeTypeFont, ch: str) -> float:
    return font.getlength(ch)


@functools.lru_cache(maxsize=262144)
def _kern(font: ImageFont.FreeTypeFont, a: str, b: str) -> float:
    return font.getlength(a + b) - _advance(font, a) - _advance(font, b)


def _crop_to_ink(layer: Image.Image, boxes: Boxes) -> tuple[Image.Image, Boxes]:
    """Crop the layer's columns to the ink and the boxes; the outer boxes grow over ink that
    spills past the first and last advance."""
    if len(boxes) == 0:
        return layer, boxes
    columns = np.nonzero(np.asarray(layer)[:, :, 3].max(axis=0) > 0)[0]
    left = math.floor(boxes[0, 0])
    right = math.ceil(boxes[-1, 2])
    if columns.size:
        left, right = min(left, int(columns[0])), max(right, int(columns[-1]) + 1)
        boxes[0, 0] = min(boxes[0, 0], columns[0])
        boxes[-1, 2] = max(boxes[-1, 2], columns[-1] + 1)
    left, right = max(0, left), min(layer.size[0], max(right, left + 1))
    boxes[:, [0, 2]] -= left
    return layer.crop((left, 0, right, layer.size[1])), boxes
