"""Several drawn lines stacked into one layer (a paragraph): top to bottom in reading order,
``spacing`` line heights apart, aligned left, centre or right; one image holds them all.

Character boxes come back for the lines' text joined with ``\\n``: each newline gets an empty
box (zero width) at the end of the line it closes, so the boxes still index the text.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from synthc.generators.ocr.layout import Boxes


def paragraph(
    drawn: list[tuple[Image.Image, Boxes]],
    spacing: float,
    alignment: str,
    rtl: list[bool] | None = None,
) -> tuple[Image.Image, Boxes, list[tuple[int, int]], float]:
    """The stacked layer, the boxes of the joined text, each line's ``[start, stop)`` in that
    text, and the layer's height in line heights (1.0 for one line). ``rtl[k]``: line ``k``
    reads right to left (its newline sits at its left end)."""
    if len(drawn) == 1:
        layer, boxes = drawn[0]
        return layer, boxes, [(0, len(boxes))], 1.0
    line = max(layer.size[1] for layer, _ in drawn)
    gap = round(spacing * line)
    width = max(layer.size[0] for layer, _ in drawn)
    height = len(drawn) * line + (len(drawn) - 1) * gap
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    parts: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    start = 0
    for k, (layer, boxes) in enumerate(drawn):
        x = {"left": 0, "center": (width - layer.size[0]) // 2, "right": width - layer.size[0]}[
            alignment
        ]
        y = k * (line + gap)
        canvas.paste(layer, (x, y))
        moved = boxes + np.array([x, y, x, y], dtype=np.float64)
        parts.append(moved)
        spans.append((start, start + len(boxes)))
        start += len(boxes)
        if k < len(drawn) - 1:  # the newline: empty, at the end of the line in reading order
            last = moved[-1]
            edge = last[0] if rtl and rtl[k] else last[2]
            parts.append(np.array([[edge, last[1], edge, last[3]]]))
            start += 1
    return canvas, np.concatenate(parts).reshape(-1, 4), spans, height / line
