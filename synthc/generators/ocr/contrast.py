"""Legibility of a drawn line: the WCAG 2.x contrast ratio between the ink as the image shows
it and the background under it.

Each pixel's relative luminance is WCAG's (sRGB channels linearised, weighted 0.2126, 0.7152,
0.0722); the contrast of two luminances is ``(lighter + 0.05) / (darker + 0.05)``, from 1 (none)
to 21 (black on white). A line's contrast is taken pixel by pixel over its ink (the pixels the
text layer covers fully, or, for a hairline font that covers none fully at this size, its most
covered ones): the output pixel (text composited, then blurred) against the background alone
(blurred the same way), and is the ``QUANTILE`` of those ratios. Unblurred, a fully covered
pixel is the text colour itself, so the rule compares the text colour with the background
under it; blur lowers it as much as it washes the strokes out. A line passes
when nine tenths of its ink stands out, so text over a dark patch of a photograph fails even when
the rest of the line is clear, and so does a hairline font that blur washes into its background.
"""

from __future__ import annotations

import numpy as np

from synthc.generators.ocr.legibility import FLARE, NO_INK, WEIGHTS, linear

#: the share of a line's ink allowed below the threshold
QUANTILE = 0.1
_WEIGHTS = np.array(WEIGHTS)
#: each 8-bit sRGB level linearised (WCAG 2.x), looked up rather than raised to 2.4 per pixel;
#: validation bounds what a spec can reach with the same function (legibility.py)
_LINEAR = np.array([linear(level) for level in range(256)])


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of uint8 RGB values (..., 3), in [0, 1]."""
    return np.asarray(_LINEAR[rgb] @ _WEIGHTS)


def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """WCAG contrast ratio of luminances ``a`` and ``b`` (elementwise), 1 to 21."""
    return (np.maximum(a, b) + FLARE) / (np.minimum(a, b) + FLARE)


def ink_mask(alpha: np.ndarray) -> np.ndarray:
    """The pixels a text layer's ``alpha`` covers fully, or its most covered ones if it covers
    none fully (empty when nothing is drawn)."""
    top = int(alpha.max(initial=0))
    return alpha >= top if top > 0 else np.zeros(alpha.shape, dtype=bool)


def line_contrast(background: np.ndarray, image: np.ndarray, mask: np.ndarray) -> float:
    """The contrast of ``image`` (RGB, the text drawn) over ``background`` (RGB, without the
    text) at the ink pixels ``mask``: the QUANTILE of the per-pixel WCAG ratios (NO_INK, 1.0,
    when there is no ink)."""
    if not mask.any():
        return NO_INK
    ink = relative_luminance(image[mask])
    under = relative_luminance(background[mask])
    return float(np.quantile(ratio(ink, under), QUANTILE))
