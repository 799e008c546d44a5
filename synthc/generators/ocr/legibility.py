"""The WCAG 2.x arithmetic and the colour levels the OCR renderer draws with, without NumPy:
contrast.py measures lines with it, backgrounds.py and drawing.py draw with it, and the spec's
config side can reason about it without importing array libraries.
"""

from __future__ import annotations

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
