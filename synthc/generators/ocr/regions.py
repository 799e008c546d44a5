"""Words and quadrilaterals of a text image: which characters make each word, and the layout
rectangles (characters, words, lines) as four corners that the effects move with the pixels.

A word is a maximal run of characters that are not whitespace (``str.isspace``). Scripts written
without spaces (Chinese, Japanese, Thai) therefore make one word per run between spaces: synthc
does no dictionary segmentation.
"""

from __future__ import annotations

import numpy as np

Quads = np.ndarray  # (n, 4, 2) float64: top-left, top-right, bottom-right, bottom-left (x, y)


def word_ranges(text: str) -> list[tuple[int, int]]:
    """``[start, stop)`` of every maximal run of non-whitespace characters, in logical order."""
    ranges: list[tuple[int, int]] = []
    start = None
    for k, ch in enumerate(text):
        if ch.isspace():
            if start is not None:
                ranges.append((start, k))
                start = None
        elif start is None:
            start = k
    if start is not None:
        ranges.append((start, len(text)))
    return ranges


def union(boxes: np.ndarray) -> list[float]:
    """The axis-aligned box around ``boxes`` (n, 4)."""
    return [
        float(boxes[:, 0].min()),
        float(boxes[:, 1].min()),
        float(boxes[:, 2].max()),
        float(boxes[:, 3].max()),
    ]


def corners(rects: np.ndarray) -> Quads:
    """Rectangles (n, 4: x0, y0, x1, y1) as quadrilaterals (n, 4, 2), clockwise on the page
    (image y points down) from the top-left."""
    x0, y0, x1, y1 = (rects[:, k] for k in range(4))
    return np.stack(
        [
            np.stack([x0, y0], 1),
            np.stack([x1, y0], 1),
            np.stack([x1, y1], 1),
            np.stack([x0, y1], 1),
        ],
        axis=1,
    ).reshape(len(rects), 4, 2)


def bounds(quads: Quads) -> np.ndarray:
    """The axis-aligned box (n, 4) around each quadrilateral."""
    return np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1).reshape(len(quads), 4)


def rounded(quads: Quads) -> list[list[list[float]]]:
    """Quadrilaterals as JSON: four [x, y] each, with two decimals."""
    return np.round(quads, 2).tolist()


def polygon_area(quad: np.ndarray) -> float:
    """The area of a simple polygon (shoelace formula)."""
    x, y = quad[:, 0], quad[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)
