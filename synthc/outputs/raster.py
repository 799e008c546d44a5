"""Draw a :class:`~synthc.outputs.chart.Chart` to PNG bytes with Pillow.

Text is set in Pillow's built-in font (no font files are read, so the picture does not depend
on what fonts a machine has), points are blended discs, and the PNG carries no metadata: the
same chart gives the same bytes with the same Pillow. Pillow and NumPy are imported inside
the functions, when a preview is drawn.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

from synthc.outputs.chart import Chart, ColourBar, Legend, Panel, Points
from synthc.outputs.palette import FIRST, ramp

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

#: font sizes in pixels
TITLE, PANEL_TITLE, LABEL, TICK, NOTE = 15, 11, 11, 10, 9
INK = (0, 0, 0)
FRAME = (60, 60, 60)
GRID = (225, 225, 225)
#: degrees a slanted tick label is turned, and its pixels along the slant at most
SLANT = 35
SLANTED_WIDTH = 72


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font at ``size`` pixels."""
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def fit_text(text: str, size: int, width: float) -> str:
    """``text`` cut with an ellipsis to at most ``width`` pixels at font ``size`` ("" when not
    even one character fits)."""
    face = font(size)
    if face.getlength(text) <= width:
        return text
    low, high = 0, len(text)  # the longest cut that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if face.getlength(text[:middle].rstrip() + "…") <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…" if low else ""


def render(chart: Chart) -> bytes:
    """PNG bytes of ``chart``."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", chart.size(), "white")
    for k, panel in enumerate(chart.panels):
        _marks(image, panel, chart.box(k))
    draw = ImageDraw.Draw(image)
    width = chart.size()[0]
    _lines(draw, chart.title.split("\n"), TITLE, width / 2, 8, width - 16)
    for k, panel in enumerate(chart.panels):
        _frame(image, draw, chart, k, panel)
    side = (chart.columns * chart.cell[0], chart.title_height)
    if chart.legend is not None:
        _legend(draw, chart.legend, side, chart.side)
    if chart.colour_bar is not None:
        _colour_bar(image, draw, chart.colour_bar, side, chart)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _lines(
    draw: ImageDraw.ImageDraw, lines: list[str], size: int, centre: float, top: float, width: float
) -> float:
    """Lines centred on ``centre`` from ``top`` down, each cut to ``width``; returns the
    pixel row under the last."""
    for line in lines:
        draw.text(
            (centre, top), fit_text(line, size, width), fill=INK, font=font(size), anchor="ma"
        )
        top += size + 4
    return top


def _marks(image: Image.Image, panel: Panel, box: tuple[int, int, int, int]) -> None:
    """The grid, bars and points of ``panel`` inside ``box`` (under the frame and text)."""
    from PIL import ImageDraw

    left, top, right, bottom = box
    draw = ImageDraw.Draw(image)
    if panel.grid:
        for value, _ in panel.x.ticks:
            at = panel.x.position(value, left, right - left)
            draw.line([(at, top), (at, bottom)], fill=GRID)
        for value, _ in panel.y.ticks:
            at = panel.y.position(value, bottom, top - bottom)
            draw.line([(left, at), (right, at)], fill=GRID)
    for bar in panel.bars:
        x0, x1 = (
            panel.x.position(bar.left, left, right - left),
            panel.x.position(bar.right, left, right - left),
        )
        y0, y1 = (
            panel.y.position(0.0, bottom, top - bottom),
            panel.y.position(bar.height, bottom, top - bottom),
        )
        x0, x1 = sorted((max(left, x0), min(right, x1)))
        y1 = max(top, min(bottom, y1))
        if y1 < y0 and x1 > x0:
            draw.rectangle([(x0, y1), (x1, y0)], fill=FIRST)
        if bar.label:
            draw.text(((x0 + x1) / 2, y1 - 2), bar.label, fill=INK, font=font(NOTE), anchor="mb")
    if panel.points is not None:
        _points(image, panel.points, panel, box)


def _points(
    image: Image.Image, points: Points, panel: Panel, box: tuple[int, int, int, int]
) -> None:
    """Blend discs of the points' colours into ``box`` of ``image``, in order (later points on
    top); a pixel at a disc's edge gets the share of it the disc covers."""
    import numpy as np
    from PIL import Image

    left, top, right, bottom = box
    with np.errstate(invalid="ignore", over="ignore"):
        x = panel.x.pixel(np.asarray(points.x, dtype=np.float64), 0.0, right - left)
        y = panel.y.pixel(np.asarray(points.y, dtype=np.float64), bottom - top, top - bottom)
    keep = np.isfinite(x) & np.isfinite(y) & (np.abs(x) < 1e9) & (np.abs(y) < 1e9)
    x, y = np.rint(x[keep]).astype(np.int64), np.rint(y[keep]).astype(np.int64)
    colours = np.asarray(points.colours, dtype=np.float32)[keep]
    inner = (left + 1, top + 1, right, bottom)  # inside the frame
    canvas = np.asarray(image.crop(inner), dtype=np.float32).copy()
    reach = int(np.ceil(points.radius))
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            cover = min(1.0, points.radius + 0.5 - float(np.hypot(dx, dy)))
            if cover <= 0:
                continue
            xs, ys = x + dx - 1, y + dy - 1
            inside = (xs >= 0) & (xs < canvas.shape[1]) & (ys >= 0) & (ys < canvas.shape[0])
            xs, ys = xs[inside], ys[inside]
            under = canvas[ys, xs]
            canvas[ys, xs] = under + (colours[inside] - under) * (points.alpha * cover)
    image.paste(Image.fromarray(np.rint(canvas).astype(np.uint8), "RGB"), inner[:2])


def _frame(
    image: Image.Image, draw: ImageDraw.ImageDraw, chart: Chart, k: int, panel: Panel
) -> None:
    """The box, ticks, tick labels, axis labels, title and note of panel ``k``."""
    left, top, right, bottom = chart.box(k)
    cell_left = (k % chart.columns) * chart.cell[0]
    cell_top = chart.title_height + (k // chart.columns) * chart.cell[1]
    draw.rectangle([(left, top), (right, bottom)], outline=FRAME)
    lines = panel.title.split("\n") if panel.title else []
    title_top = top - 4 - len(lines) * (PANEL_TITLE + 4)
    _lines(
        draw,
        lines,
        PANEL_TITLE,
        (left + right) / 2,
        max(cell_top + 2, title_top),
        chart.cell[0] - 8,
    )
    if panel.note:
        draw.text(
            ((left + right) / 2, (top + bottom) / 2),
            fit_text(panel.note, LABEL, right - left - 8),
            fill=INK,
            font=font(LABEL),
            anchor="mm",
        )
    below = bottom + 6
    for value, label in panel.x.ticks:
        at = panel.x.position(value, left, right - left)
        if not left - 1 <= at <= right + 1:
            continue
        draw.line([(at, bottom), (at, bottom + 4)], fill=FRAME)
        if panel.x.slanted:
            _slanted(image, fit_text(label, TICK, SLANTED_WIDTH), at, below)
        else:
            draw.text((at, below), label, fill=INK, font=font(TICK), anchor="ma")
    for value, label in panel.y.ticks:
        at = panel.y.position(value, bottom, top - bottom)
        if not top - 1 <= at <= bottom + 1:
            continue
        draw.line([(left - 4, at), (left, at)], fill=FRAME)
        draw.text(
            (left - 6, at),
            fit_text(label, TICK, chart.margins.left - 22),
            fill=INK,
            font=font(TICK),
            anchor="rm",
        )
    if panel.x.label:
        draw.text(
            ((left + right) / 2, below + TICK + 6),
            fit_text(panel.x.label, LABEL, chart.cell[0] - 8),
            fill=INK,
            font=font(LABEL),
            anchor="ma",
        )
    if panel.y.label:
        _upright(
            image, fit_text(panel.y.label, LABEL, bottom - top), cell_left + 4, (top + bottom) / 2
        )


def _text_tile(text: str, size: int) -> Image.Image:
    """``text`` as white-on-black coverage (a mask), on its own."""
    from PIL import Image, ImageDraw

    face = font(size)
    tile = Image.new("L", (int(face.getlength(text)) + 4, size + 6), 0)
    ImageDraw.Draw(tile).text((2, 1), text, fill=255, font=face)
    return tile


def _slanted(image: Image.Image, text: str, right: int, top: int) -> None:
    """A tick label turned up by :data:`SLANT` degrees, ending under the tick at ``right``."""
    from PIL import Image

    turned = _text_tile(text, TICK).rotate(SLANT, resample=Image.Resampling.BICUBIC, expand=True)
    image.paste(INK, (right - turned.width + 2, top), mask=turned)


def _upright(image: Image.Image, text: str, left: int, middle: float) -> None:
    """An axis label read from bottom to top, centred on the row ``middle``."""
    turned = _text_tile(text, LABEL).rotate(90, expand=True)
    image.paste(INK, (left, int(middle - turned.height / 2)), mask=turned)


def _legend(draw: ImageDraw.ImageDraw, legend: Legend, corner: tuple[int, int], width: int) -> None:
    left, top = corner[0] + 10, corner[1] + 30
    for line in legend.title.split("\n"):
        draw.text((left, top), fit_text(line, LABEL, width - 16), fill=INK, font=font(LABEL))
        top += LABEL + 4
    top += 4
    for colour, text in legend.entries:
        draw.ellipse([(left + 2, top + 2), (left + 10, top + 10)], fill=colour)
        draw.text((left + 16, top), fit_text(text, LABEL, width - 32), fill=INK, font=font(LABEL))
        top += LABEL + 7


def _colour_bar(
    image: Image.Image,
    draw: ImageDraw.ImageDraw,
    bar: ColourBar,
    corner: tuple[int, int],
    chart: Chart,
) -> None:
    import numpy as np
    from PIL import Image

    left, top = corner[0] + 10, corner[1] + 30
    for line in bar.title.split("\n"):
        draw.text((left, top), fit_text(line, LABEL, chart.side - 16), fill=INK, font=font(LABEL))
        top += LABEL + 4
    top += 8
    bottom = chart.size()[1] - chart.margins.bottom
    if bottom - top < 40:
        return
    fractions = np.linspace(1.0, 0.0, bottom - top)
    strip = np.repeat(ramp(fractions)[:, None, :], 16, axis=1)
    image.paste(Image.fromarray(strip, "RGB"), (left, top))
    draw.rectangle([(left, top), (left + 16, bottom)], outline=FRAME)
    half = bar.high / 2 - bar.low / 2  # halves: no overflow near the float64 limits
    for value, label in bar.ticks:
        if half <= 0 or not bar.low <= value <= bar.high:
            continue
        at = int(round(bottom - (value / 2 - bar.low / 2) / half * (bottom - top)))
        draw.line([(left + 16, at), (left + 20, at)], fill=FRAME)
        draw.text((left + 23, at), label, fill=INK, font=font(TICK), anchor="lm")
