"""A histogram per numeric or date column of a table and a bar chart per categorical one, drawn
with NumPy (no plotting library), for preview.png."""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
from PIL import Image, ImageDraw

PANEL_W, PANEL_H = 240, 150
COLUMNS_PER_ROW = 4
MAX_PANELS = 16
BINS = 40
_BAR = np.array([31, 119, 180], dtype=np.uint8)


def table_preview_png(table: Mapping[str, np.ndarray], skip: tuple[str, ...] = ("index",)) -> bytes:
    """A grid of small distribution plots of the first rows of a table, one per column."""
    panels: list[np.ndarray] = []
    for name, values in table.items():
        if name in skip or len(panels) >= MAX_PANELS:
            continue
        counts, caption = _counts(np.asarray(values))
        if counts is not None:
            panels.append(_panel(counts, f"{name}: {caption}"))
    if not panels:
        panels = [np.full((PANEL_H, PANEL_W, 3), 255, np.uint8)]
    while len(panels) % COLUMNS_PER_ROW and len(panels) > COLUMNS_PER_ROW:
        panels.append(np.full((PANEL_H, PANEL_W, 3), 255, np.uint8))
    rows = [
        np.concatenate(panels[i : i + COLUMNS_PER_ROW], axis=1)
        for i in range(0, len(panels), COLUMNS_PER_ROW)
    ]
    buffer = io.BytesIO()
    Image.fromarray(np.concatenate(rows, axis=0)).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _counts(values: np.ndarray) -> tuple[np.ndarray | None, str]:
    if values.dtype == object or values.dtype.kind in "US":
        present = values[np.array([v is not None for v in values], dtype=bool)]
        if present.size == 0:
            return None, ""
        labels, counts = np.unique(present.astype(str), return_counts=True)
        return counts.astype(np.float64), " ".join(labels[:6]) + (" ..." if len(labels) > 6 else "")
    if values.dtype.kind == "M":
        present = values[~np.isnat(values)]
        if present.size == 0:
            return None, ""
        seconds = present.astype("datetime64[s]").astype(np.int64).astype(np.float64)
        counts, _ = _histogram(seconds)
        return counts, f"{present.min()} .. {present.max()}"
    if values.dtype.kind == "m":
        values = values.astype("timedelta64[s]").astype(np.int64).astype(np.float64)
    elif values.dtype.kind == "b":
        values = values.astype(np.float64)
    elif values.dtype.kind not in "iuf":
        return None, ""
    values = values[np.isfinite(values.astype(np.float64))].astype(np.float64)
    if values.size == 0:
        return None, ""
    counts, (low, high) = _histogram(values)
    return counts, f"{low:g}" if low == high else f"{low:.4g} .. {high:.4g}"


def _histogram(values: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    low, high = float(values.min()), float(values.max())
    if low == high:
        return np.array([float(values.size)]), (low, high)
    counts, _ = np.histogram(values, bins=BINS, range=(low, high))
    return counts.astype(np.float64), (low, high)


def _panel(counts: np.ndarray, title: str) -> np.ndarray:
    img = np.full((PANEL_H, PANEL_W, 3), 255, dtype=np.uint8)
    top, bottom, left, right = 16, PANEL_H - 4, 4, PANEL_W - 4
    width = (right - left) / len(counts)
    heights = (counts / counts.max() * (bottom - top)).astype(np.int64)
    for k, height in enumerate(heights):
        x0 = left + int(k * width)
        x1 = max(x0 + 1, left + int((k + 1) * width) - 1)
        img[bottom - height : bottom, x0:x1] = _BAR
    pil = Image.fromarray(img)
    ImageDraw.Draw(pil).text((4, 2), title[:40], fill=(0, 0, 0))
    return np.asarray(pil)
