"""Scatter panels of the observed coordinates of a point table, drawn with NumPy (preview.png)."""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
from PIL import Image, ImageDraw

PANEL = 320
_MARGIN = 12
_PALETTE = np.array(
    [
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [127, 127, 127],
        [188, 189, 34],
        [23, 190, 207],
    ],
    dtype=np.uint8,
)


def _colours(table: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    if "label" in table:
        return _PALETTE[np.asarray(table["label"][:n]) % len(_PALETTE)]
    if "u0" in table:
        u = np.asarray(table["u0"][:n], dtype=np.float64)
        span = np.ptp(u) or 1.0
        t = (u - u.min()) / span
        # a blue -> yellow ramp: position along the first intrinsic coordinate
        return np.stack([40 + 215 * t, 60 + 160 * t, 200 - 170 * t], axis=1).astype(np.uint8)
    return np.tile(_PALETTE[0], (n, 1))


def _panel(a: np.ndarray, b: np.ndarray, colours: np.ndarray, title: str) -> np.ndarray:
    img = np.full((PANEL, PANEL, 3), 255, dtype=np.uint8)
    inner = PANEL - 2 * _MARGIN
    px = _scale(a, inner) + _MARGIN
    py = PANEL - 1 - _MARGIN - _scale(b, inner)
    img[py, px] = colours
    pil = Image.fromarray(img)
    ImageDraw.Draw(pil).text((4, 2), title, fill=(0, 0, 0))
    return np.asarray(pil)


def _scale(v: np.ndarray, size: int) -> np.ndarray:
    lo, hi = float(v.min()), float(v.max())
    span = (hi - lo) or 1.0
    return np.clip(((v - lo) / span * (size - 1)).astype(np.int64), 0, size - 1)


def points_preview_png(table: Mapping[str, np.ndarray], limit: int = 4000) -> bytes:
    """A PNG with one scatter panel per pair of the first three ``x`` columns."""
    dims = [name for name in (f"x{i}" for i in range(3)) if name in table]
    n = min(limit, len(next(iter(table.values()))))
    colours = _colours(table, n)
    pairs = [(dims[i], dims[j]) for i in range(len(dims)) for j in range(i + 1, len(dims))]
    if not pairs:
        pairs = [(dims[0], dims[0])] if dims else []
    panels = [
        _panel(np.asarray(table[a][:n]), np.asarray(table[b][:n]), colours, f"{a} vs {b}")
        for a, b in pairs
    ]
    image = np.concatenate(panels, axis=1) if panels else np.full((PANEL, PANEL, 3), 255, np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()
