"""How much contrast a blur leaves of the lines a spec's own fonts draw (Pillow, no NumPy).

``legibility.blurred_ink_levels`` bounds a blurred line by a solid band of ink as tall as the
line, which no font draws: glyphs are strokes, and a radius that leaves a band legible washes
most lines out (at size 32, a radius of 40 leaves a band a contrast of 3.2, the lines of trdg's
fonts under 1.5). Here each font draws a line of its densest character (most ink per advance,
among the characters the text source gives that the font maps), laid out, fitted into the
margins and blurred as the renderer does; the most the blur leaves at any pixel it covers fully
bounds every line of that font, as no text packs more ink along the line. Only text laid out
without shaping is bounded this way (shaped runs, marks and ligatures can pack more).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, cast

from synthc.generators.ocr import legibility
from synthc.generators.ocr.config import MAX_ATTEMPTS, MAX_WASHED_OUT_CHANCE
from synthc.generators.ocr.resources import drawable, fitted_size, font_path
from synthc.generators.ocr.shaping import needs_shaping

if TYPE_CHECKING:
    from PIL import Image

    from synthc.generators.ocr.config import OcrConfig

#: a font's densest characters whose lines are tried
TRIED_CHARS = 2
#: how far along the line, in blur radii either side, a line must run to stand for an endless
#: one (Pillow's Gaussian is three box blurs, zero beyond about 3 radii)
REACH = 4
#: the widest picture drawn, in output px, and the most pixels drawn before it is fitted (a
#: thin room scales a line down a lot); a radius needing more is not bounded here
MAX_PICTURE_WIDTH = 16384
MAX_PICTURE_PIXELS = 1 << 24


class FontLine:
    """One font's densest characters, each drawn as an endless line (a paragraph of them) as
    the renderer draws it for ``config``, up to a blur radius of ``radius``."""

    def __init__(
        self, config: OcrConfig, font: dict[str, str], chars: Iterable[str], radius: float
    ) -> None:
        from PIL import ImageFont

        self.config = config
        self.name = font["file"]
        path = font_path(font)
        top, _, bottom, _ = config.margins
        metrics = ImageFont.truetype(path, config.size).getmetrics()
        size = fitted_size(config.size, config.size - top - bottom, sum(metrics))
        self.font = ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
        mapped = sorted(ch for ch in set(chars) if not ch.isspace() and drawable(ch, font))
        ranked = sorted(mapped, key=self._density, reverse=True)
        self.pictures = [self._picture(ch, radius) for ch in ranked[:TRIED_CHARS]]

    def _density(self, ch: str) -> float:
        """Ink per px of advance of ``ch`` (its stroke included)."""
        from PIL import Image

        mask = self.font.getmask(ch, stroke_width=self.config.stroke.width)
        if mask.size[0] * mask.size[1] == 0:
            return 0.0
        glyph = Image.Image()._new(mask).convert("F")
        mean = cast("float", glyph.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0)))
        ink = mean * glyph.size[0] * glyph.size[1]
        return ink / max(1.0, self.font.getlength(ch) + self.config.character_spacing)

    def contrast(self, radius: float) -> float:
        """The most WCAG contrast any line of this font keeps under a blur of ``radius``
        (21 when its picture is too short to tell)."""
        best = legibility.NO_INK
        for picture in self.pictures:
            if picture is None:
                return 21.0
            canvas, full, repeat, pitch = picture
            # the blur's reach either side of a whole repeat of the glyph (of a paragraph's
            # line), so the crop holds fully covered pixels wherever it falls
            reach = 2 * math.ceil(REACH * radius) + 3
            wide, tall = reach + repeat, min(canvas.size[1], reach + pitch)
            if wide > canvas.size[0]:
                return 21.0
            # the middle of the line (paragraph), where most ink is near
            x, y = (canvas.size[0] - wide) // 2, (canvas.size[1] - tall) // 2
            best = max(best, _kept(canvas.crop((x, y, x + wide, y + tall)), full, radius))
        return best

    def _picture(self, ch: str, radius: float) -> tuple[Image.Image, int, int, int] | None:
        """The alpha of a line of ``ch`` (a paragraph of them) long enough for ``radius``,
        fitted into the image as effects.fit_line fits a line, its fully covered level, and
        how far its glyphs and its lines repeat, in output px (None: wider than
        MAX_PICTURE_WIDTH). Glyphs repeat a whole pixel closer than their advance (and
        kerning) puts them, overlapping as Pillow draws them (the most ink)."""
        from PIL import Image, ImageChops, ImageDraw

        config, font = self.config, self.font
        stroke, spacing = config.stroke.width, config.character_spacing
        ascent, descent = font.getmetrics()
        height = ascent + descent + 2 * stroke
        top, left, bottom, right = config.margins
        room = config.size - top - bottom
        step = font.getlength(ch) + spacing if spacing else font.getlength(ch * 2)
        period = max(1, math.floor(step - (0 if spacing else font.getlength(ch))))
        # output px per drawing px is at least room / height (fit crops, scaling more)
        along = (2 * REACH * radius + 4) * height / max(1, room)
        glyph = math.ceil(font.getlength(ch)) + 2 * stroke + 2 * math.ceil(0.3 * font.size)
        count = math.ceil(along / period) + 2 * math.ceil((period + glyph) / period) + 1
        pad = stroke + math.ceil(0.3 * font.size)
        width = count * period + 2 * pad + math.ceil(font.getlength(ch))
        lines = config.lines[1]
        gap = round(config.line_spacing * height)
        tall = lines * height + (lines - 1) * gap
        if width * room / height > MAX_PICTURE_WIDTH or width * tall > MAX_PICTURE_PIXELS:
            return None
        line = Image.new("L", (width, height), 0)
        ImageDraw.Draw(line).text(
            (pad, stroke + ascent), ch, font=font, fill=255, anchor="ls", stroke_width=stroke
        )
        done = 1
        while done < count:  # doubling: the line so far, shifted past itself
            shifted = Image.new("L", line.size, 0)
            shifted.paste(line, (done * period, 0))
            line, done = ImageChops.lighter(line, shifted), 2 * done
        layer = Image.new("L", (width, tall), 0)
        for k in range(lines):
            layer.paste(line, (0, k * (height + gap)))
        stacked = layer.size[1] / height
        if config.fit:
            box = layer.getbbox()
            layer = layer.crop(box) if box else layer
        target = max(1, round(room * stacked))
        scale = target / layer.size[1]
        wide = max(1, round(layer.size[0] * scale))
        scaled = layer.resize((wide, target), Image.Resampling.LANCZOS)
        canvas = Image.new("L", (scaled.size[0] + left + right, target + top + bottom), 0)
        canvas.paste(scaled, (left, top))
        _, full = cast("tuple[int, int]", canvas.getextrema())  # one band: (min, max)
        repeat = math.ceil((period + glyph) * scale) + 1
        return canvas, full, repeat, math.ceil((height + gap) * scale) + 1


def _kept(canvas: Image.Image, full: int, radius: float) -> float:
    """The most contrast the pixels of ``canvas`` at level ``full`` (the ink mask of
    contrast.py; the crop's most covered ones, where resampling left none at ``full`` in it)
    keep after the blur: the image and the background alone differ there by at most the
    blurred alpha, in levels, plus rounding."""
    from PIL import ImageFilter, ImageStat

    _, most = cast("tuple[int, int]", canvas.getextrema())
    full = min(full, most)
    if full <= 0:
        return legibility.NO_INK
    mask = canvas.point([255 if level >= full else 0 for level in range(256)])
    blurred = canvas.filter(ImageFilter.GaussianBlur(radius))
    _, top = ImageStat.Stat(blurred, mask).extrema[0]
    levels = math.ceil(top) + legibility.BLUR_ROUNDING + legibility.ROUNDING
    return legibility.best_contrast_within(levels)


def font_lines(config: OcrConfig, chars: Iterable[str]) -> Iterator[FontLine] | None:
    """Each font's densest line for ``config`` drawing ``chars``, made as it is asked for;
    None when this bound does not apply: vertical lines, or characters laid out with shaping."""
    text = "".join(set(chars))
    if config.orientation != "horizontal" or needs_shaping(text):
        return None
    fonts = config.fonts.resolved or []
    return (FontLine(config, font, text, config.blur[1]) for font in fonts)


def washed_out(config: OcrConfig, chars: Iterable[str]) -> str | None:
    """Why ``blur`` washes out nearly every line the spec's fonts draw of ``chars``, or None:
    an attempt draws a font uniformly, then a radius, so at most the fonts' mean share of the
    radii that leave their densest line legible (:class:`FontLine`) of the attempts can pass;
    a share so small that all MAX_ATTEMPTS attempts of a sample fail with a chance over
    MAX_WASHED_OUT_CHANCE is refused (each font is bounded only until the share clears it)."""
    low, high = config.blur
    if high <= 0 or config.min_contrast <= legibility.NO_INK:
        return None
    lines = font_lines(config, chars)
    fonts = len(config.fonts.resolved or [])
    if lines is None or not fonts:
        return None
    need = 1 - MAX_WASHED_OUT_CHANCE ** (1 / MAX_ATTEMPTS)
    share = 0.0
    best: tuple[float, str] = (legibility.NO_INK, "")
    for line in lines:
        at_low = line.contrast(low)
        best = max(best, (at_low, line.name))
        share += _legible_share(line, low, high, at_low) / fonts
        if share >= need:
            return None
    return (
        f"a blur radius drawn from [{low:g}, {high:g}] washes nearly every line into its "
        f"background: a line of the densest characters of each of the {fonts} fonts, "
        f"fitted at size {config.size} and blurred, keeps a WCAG contrast of at most "
        f"{best[0]:.2f} (in {best[1]!r}) at radius {low:g}, and at most {share * 100:.2g}% of "
        f"attempts can reach min_contrast {config.min_contrast:g} (all {MAX_ATTEMPTS:,} "
        f"attempts of a sample would fail with a chance of {(1 - share) ** MAX_ATTEMPTS:.2g}); "
        "use a smaller blur or a lower min_contrast"
    )


def _legible_share(line: FontLine, low: float, high: float, at_low: float) -> float:
    """The share of radii in [low, high] under which ``line`` stays legible (its contrast
    falls as the radius grows): found by bisection, to 1/1024."""
    need = line.config.min_contrast
    if at_low < need:
        return 0.0
    if high <= low or line.contrast(high) >= need:
        return 1.0
    good, bad = low, high
    for _ in range(10):
        middle = (good + bad) / 2
        good, bad = (middle, bad) if line.contrast(middle) >= need else (good, middle)
    return (good - low) / (high - low)
