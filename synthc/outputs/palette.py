"""The colours of preview plots: one per class for labels, a ramp for continuous values.

Class colours are ten well-separated hues, repeated after the tenth class. The ramp runs from
dark blue-violet through teal and green to yellow, so lightness rises with the value and it
reads in grey too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

RGB = tuple[int, int, int]

#: the colour of a single series (bars, histograms, uncoloured points)
FIRST: RGB = (31, 119, 180)
CLASSES: tuple[RGB, ...] = (
    FIRST,
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)
#: the ramp's colours at evenly spaced stops from the lowest value to the highest
RAMP: tuple[RGB, ...] = (
    (68, 1, 84),
    (65, 68, 135),
    (42, 120, 142),
    (34, 168, 132),
    (122, 209, 81),
    (253, 231, 37),
)
#: grey for values the ramp cannot place (NaN)
MISSING: RGB = (190, 190, 190)


def class_colour(k: int) -> RGB:
    """The colour of the ``k``-th class (0-based)."""
    return CLASSES[k % len(CLASSES)]


def ramp(fractions: np.ndarray) -> np.ndarray:
    """uint8 RGB rows of the ramp at ``fractions`` (0 = lowest, 1 = highest; clipped), grey
    for NaN."""
    import numpy as np

    stops = np.asarray(RAMP, dtype=np.float64)
    where = np.clip(np.nan_to_num(fractions, nan=0.0), 0.0, 1.0) * (len(stops) - 1)
    below = np.minimum(where.astype(np.int64), len(stops) - 2)
    part = (where - below)[:, None]
    rows = stops[below] * (1 - part) + stops[below + 1] * part
    rows[np.isnan(fractions)] = MISSING
    return np.rint(rows).astype(np.uint8)
