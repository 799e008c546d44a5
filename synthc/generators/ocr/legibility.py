"""The most contrast a line can reach, from the colours and blur the renderer draws with (no
NumPy): the WCAG 2.x arithmetic that contrast.py measures lines with, the grey levels each
background kind draws, and the bounds that validation checks ``min_contrast`` and ``blur``
against, so a setting under which no line can ever pass is refused before the build.

Every bound is an upper bound: a setting is refused only when no sample can reach
``min_contrast``; one that passes sometimes is left to the build's re-draws.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import cast

#: WCAG 2.x: the weights of the linear R, G, B channels in the relative luminance, and the
#: flare added to both luminances of a ratio
WEIGHTS = (0.2126, 0.7152, 0.0722)
FLARE = 0.05
#: the contrast of a line that put no ink on the image (none of its pixels to measure)
NO_INK = 1.0

#: the backgrounds' grey levels (backgrounds.py draws them): plain is white; Gaussian noise
#: around NOISE_MEAN, clipped to 0..255; a quasicrystal folds into QUASI_BASE + QUASI_SPAN * [0, 1]
WHITE = 255
NOISE_MEAN = 235.0
NOISE_STD = 10.0
QUASI_BASE = 185
QUASI_SPAN = 70
#: the levels a background kind can put under the ink, per channel (an image: any)
BACKGROUND_LEVELS = {
    "plain": (WHITE, WHITE),
    "gaussian_noise": (0, 255),
    "quasicrystal": (QUASI_BASE, QUASI_BASE + QUASI_SPAN),
    "image": (0, 255),
}

#: How far resampling can move an ink pixel that the text covers fully away from the colour it
#: was drawn in, as a factor on its channel levels: Lanczos scaling (fit_line) has negative
#: lobes, and Pillow's weights for one output pixel sum to at most 1.28 on their positive side
#: per axis (1.72 over both axes); a bilinear rotation (skew) also blends a glyph's edge with
#: the transparent black around it, darkening what Lanczos then spreads. Twice the level up,
#: and three quarters of it down (half when a skew may rotate the layer), plus ROUNDING
#: levels, bound both with room to spare (tests/test_ocr_contrast.py draws lines against it).
BRIGHTER = 2.0
DARKER_ROTATED = 0.5
DARKER = 0.75
#: 8-bit rounding in premultiplying, resampling and compositing, in levels
ROUNDING = 2
#: passes of Pillow's box blur (3 along each axis), each rounding once in 8 bits, in levels:
#: the image and the background alone can round apart by one level per pass
BLUR_ROUNDING = 6


def linear(level: int) -> float:
    """An 8-bit sRGB level (0..255) linearised (WCAG 2.x)."""
    v = level / 255.0
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def ratio(a: float, b: float) -> float:
    """The WCAG contrast ratio of luminances ``a`` and ``b``, 1 to 21."""
    return (max(a, b) + FLARE) / (min(a, b) + FLARE)


def colour_ends(spec: str) -> list[tuple[int, int, int]]:
    """The colours of ``'#rrggbb'`` or a range ``'#a,#b'`` (each channel is sampled between
    the two ends)."""
    return [(int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)) for c in spec.split(",")]


def channel_range(specs: Iterable[str]) -> tuple[int, int]:
    """The lowest and highest channel level the colours ``specs`` can be drawn in."""
    levels = [v for spec in specs for end in colour_ends(spec) for v in end]
    return min(levels), max(levels)


def best_contrast(
    inks: Sequence[str], kinds: Sequence[str], rotated: bool, need: float = math.inf
) -> tuple[float, int, int, tuple[int, int]]:
    """An upper bound on the contrast any ink pixel can have over the background under it,
    with the ink drawn in the colours ``inks`` over backgrounds of ``kinds`` (``rotated``: a
    skew may turn the layer): the bound, the ink's reachable lowest and highest level, and
    the backgrounds' levels. The search stops once the bound reaches ``need``.

    Per channel, at an ink pixel the image is ``a + w * ink`` and the background alone
    ``a + w * under`` in levels: ``w`` is the share of the pixel's value that came from ink
    (its coverage, or the blur's weight on the ink around it), ``a`` the part both share (the
    background around it, blurred alike, between ``(1 - w)`` times the lowest and the highest
    background level). The bound is the largest ratio over every ``w``, ``a`` and the extreme
    levels; a ratio of luminances, which weigh the channels, is at most the largest ratio of
    one channel's, so levels per channel are enough."""
    low, high = channel_range(inks)
    darker = DARKER_ROTATED if rotated else DARKER
    ink = (
        max(0, math.floor(low * darker) - ROUNDING),
        min(255, math.ceil(high * BRIGHTER) + ROUNDING),
    )
    levels = [BACKGROUND_LEVELS[k] for k in kinds]
    under = (min(lo for lo, _ in levels), max(hi for _, hi in levels))
    table = [linear(level) for level in range(256)]
    pairs = ((under[1], ink[0]), (ink[1], under[0]))  # dark ink on light, light ink on dark
    bound = NO_INK
    for step in range(255, 0, -1):  # unblurred, fully covered ink (w = 1) first: the usual best
        w = step / 255
        for shared in range(math.floor((1 - w) * under[0]), math.ceil((1 - w) * under[1]) + 1):
            for lighter, dark in pairs:
                top = max(0, min(255, math.ceil(shared + w * lighter - 1e-9)))
                bottom = max(0, min(255, math.floor(shared + w * dark + 1e-9)))
                bound = max(bound, ratio(table[top], table[bottom]))
        if bound >= need:
            break
    return bound, ink[0], ink[1], under


def best_contrast_within(levels: int) -> float:
    """The most contrast two colours can have whose channels differ by at most ``levels``
    (every pair of levels that far apart is tried: 256 ratios)."""
    levels = max(0, min(255, levels))
    return max(ratio(linear(x + levels), linear(x)) for x in range(256 - levels))


def ink_band(
    size: int, margins: Sequence[int], vertical: bool, lines: int, spacing: float
) -> tuple[int, int, int]:
    """The image's extent across its line(s) and the first and last-plus-one pixel the ink
    can cover in it (fit_line scales the layer to the room between the margins; a paragraph
    stacks up to ``lines`` lines with gaps, counted as ink here)."""
    top, left, bottom, right = margins
    before, after = (left, right) if vertical else (top, bottom)
    room = max(1, size - before - after)
    # a gap is round(spacing * line height) px, at most half a pixel more than spacing lines
    stacked = lines + (lines - 1) * (spacing + 0.5) if lines > 1 else 1.0
    ink = max(1, math.ceil(room * stacked))
    return before + ink + after, before, before + ink


def blurred_ink_levels(extent: int, band: tuple[int, int], radius: float) -> int:
    """The most a Gaussian blur of ``radius`` (Pillow's, as the renderer applies it) leaves of
    a full-strength step of ink that covers ``band`` across the line and runs along it without
    end: a bound, in levels, on how far blur lets the image stand from its background.

    The image and the background alone differ only under ink, by at most 255 levels, and
    blur is linear: their difference after it is at most this picture's, one column across
    the line whose edges Pillow extends (so the ink runs on along the line), plus rounding.
    ValueError: Pillow refuses the radius."""
    from PIL import Image, ImageFilter

    picture = Image.new("L", (1, extent), 0)
    picture.paste(255, (0, band[0], 1, band[1]))
    blurred = picture.filter(ImageFilter.GaussianBlur(radius))
    _, top = cast("tuple[int, int]", blurred.getextrema())  # one band: (min, max)
    return top + BLUR_ROUNDING
