"""Scatter plots of a point table's observed coordinates ``x0, x1, ...`` for preview.png.

Each panel has axes with ticks and an equal aspect (one unit is as long across as up), colour
says what it means in a legend (``label``: one entry per class) or a colour bar (``u0``: the
first intrinsic coordinate), and the title names the dataset and counts the points. Two
coordinates make one panel, three make a panel per pair; more are projected on their first
three principal components (a rotated embedding shows its shape, not a random slice).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from synthc.outputs.caption import Caption, shorten
from synthc.outputs.chart import Axis, Chart, ColourBar, Legend, Panel, Points, title_height
from synthc.outputs.palette import FIRST, class_colour, ramp
from synthc.outputs.raster import render
from synthc.outputs.ticks import number_ticks

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

#: pixels of one square panel's cell, and of the strip on the right for a legend or colour bar
PANEL = 400
SIDE = 220
#: classes drawn as legend entries at most; more get a colour bar
LEGEND_CLASSES = 10
#: the share of the data's range left empty on each side of a panel
PAD = 0.05


def points_preview_png(frame: pl.DataFrame, caption: Caption | None = None) -> bytes:
    """A PNG of :func:`points_chart`."""
    return render(points_chart(frame, caption or Caption()))


def points_chart(frame: pl.DataFrame, caption: Caption) -> Chart:
    """The scatter panels of ``frame``'s ``x`` columns, before drawing."""
    import numpy as np

    with np.errstate(all="ignore"):  # extreme values are drawn as well as they can be, quietly
        return _points_chart(frame, caption)


def _points_chart(frame: pl.DataFrame, caption: Caption) -> Chart:
    dims = _coordinates(frame)
    coords, names = _projected(frame, dims)
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    projected = bool(names) and names[0].startswith("PC")  # not the first columns as they are
    title = _title(caption, frame.height, dims, projected)
    chart = Chart(
        title, (PANEL, PANEL), max(1, len(pairs)), side=SIDE, title_height=title_height(title)
    )
    if not pairs:
        note = "fewer than two coordinates x0, x1, ... to draw"
        chart.panels.append(Panel(Axis(0.0, 1.0), Axis(0.0, 1.0), note=note))
        return chart
    colours, chart.legend, chart.colour_bar = _colouring(frame, caption)
    for k, (i, j) in enumerate(pairs):
        x, y = _equal_axes(coords[:, i], coords[:, j], chart.box(k))
        x.label, y.label = shorten(names[i], 40), shorten(names[j], 40)
        points = Points(coords[:, i], coords[:, j], colours, radius=2.2)
        chart.panels.append(Panel(x, y, points=points, grid=True))
    return chart


def _coordinates(frame: pl.DataFrame) -> list[str]:
    """The observed coordinates ``x0, x1, ...`` there are, by number, numeric columns only: a
    spec's ``output.columns`` may keep any of them (``[x1, x2]``)."""
    found = (_COORDINATE.fullmatch(name) for name in frame.columns)
    numbered = [(int(m[1]), m[0]) for m in found if m and frame[m[0]].dtype.is_numeric()]
    return [name for _, name in sorted(numbered)]


_COORDINATE = re.compile(r"x(0|[1-9][0-9]{0,8})")


def _projected(frame: pl.DataFrame, dims: list[str]) -> tuple[np.ndarray, list[str]]:
    """The coordinates to draw and their axis names: the columns themselves up to three,
    else the first principal components (signs fixed: the largest loading positive), three
    when the third holds a tenth of the variance, else two."""
    import numpy as np

    if not dims:
        return np.zeros((frame.height, 0)), []
    x = np.nan_to_num(frame.select(dims).to_numpy().astype(np.float64), posinf=0.0, neginf=0.0)
    if len(dims) <= 3:
        return x, dims
    if x.shape[0] < 2:  # no variance to project on: the first coordinates as they are
        return x[:, :2], dims[:2]
    # in units of the largest magnitude, so that values near the float64 limits do not overflow
    scale = (float(np.abs(x).max()) if x.size else 0.0) or 1.0
    centred = x / scale - (x / scale).mean(axis=0)
    try:
        _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    except np.linalg.LinAlgError:  # no projection to be had: the first coordinates as they are
        return x[:, :2], dims[:2]
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
    variance = singular**2 / max(float((singular**2).sum()), 1e-300)
    # fewer rows than three make fewer components
    count = 3 if len(variance) > 2 and variance[2] >= 0.1 else min(2, len(variance))
    names = [f"PC{k + 1} ({variance[k]:.0%} of variance)" for k in range(count)]
    return (centred @ vt[:count].T) * scale, names


def _title(caption: Caption, shown: int, dims: list[str], projected: bool) -> str:
    title = caption.title(shown, "points")
    if projected:
        title += f"\nprojected on the principal components of {dims[0]}..{dims[-1]}"
    return title


def _equal_axes(x: np.ndarray, y: np.ndarray, box: tuple[int, int, int, int]) -> tuple[Axis, Axis]:
    """Axes showing every finite point with equal units across and up in ``box``: the range
    with fewer units per pixel grows about its middle. (Halves of ranges, so that values
    near the float64 limits do not overflow.)"""
    pixels = (box[2] - box[0], box[3] - box[1])
    halves = [_half_range(x), _half_range(y)]
    per_pixel = max(half / count for (_, half), count in zip(halves, pixels, strict=True))
    axes = []
    for (middle, _), count in zip(halves, pixels, strict=True):
        low, high = middle - per_pixel * count, middle + per_pixel * count
        axes.append(Axis(low, high, number_ticks(low, high, 6)))
    return axes[0], axes[1]


def _half_range(values: np.ndarray) -> tuple[float, float]:
    """The middle and half the width of the finite values' range, :data:`PAD` wider on each
    side (half a unit each side when they are all one value, or none)."""
    import numpy as np

    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 0.5
    low, high = float(finite.min()), float(finite.max())
    half = high / 2 - low / 2
    return low / 2 + high / 2, half * (1 + 2 * PAD) if half > 0 else 0.5


def _colouring(
    frame: pl.DataFrame, caption: Caption
) -> tuple[np.ndarray, Legend | None, ColourBar | None]:
    """A colour per point, by ``label`` (the class) when there is one, else by ``u0`` (the
    first intrinsic coordinate), else one colour; and the legend or colour bar saying so."""
    import numpy as np
    import polars as pl

    if "label" in frame.columns and frame["label"].dtype.is_integer():
        labels = frame["label"].to_list()  # Python ints: any width, None for null
        classes: list[int | None] = sorted({v for v in labels if v is not None})
        if None in labels:
            classes.append(None)  # drawn last in the legend, as "null"
        title = caption.meaning("label", width=28)
        if len(classes) <= LEGEND_CLASSES:
            index = {value: k for k, value in enumerate(classes)}
            palette = np.asarray([class_colour(k) for k in range(len(classes))], np.uint8)
            palette = palette.reshape(-1, 3)  # (0, 3) without rows
            colours = palette[np.asarray([index[v] for v in labels], dtype=np.int64)]
            names = ["null" if v is None else str(v) for v in classes]
            entries = [(class_colour(k), name) for k, name in enumerate(names)]
            return colours, Legend(title, entries), None
        numbers = np.asarray([np.nan if v is None else float(v) for v in labels])
        return _ramped(numbers, title)
    if "u0" in frame.columns and frame["u0"].dtype.is_numeric():
        u = frame["u0"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        return _ramped(u, caption.meaning("u0", width=28))
    return np.tile(np.asarray(FIRST, dtype=np.uint8), (frame.height, 1)), None, None


def _ramped(values: np.ndarray, title: str) -> tuple[np.ndarray, None, ColourBar]:
    """Colours on the ramp from the lowest finite value to the highest, and its colour bar."""
    import numpy as np

    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    half = high / 2 - low / 2  # halves: no overflow near the float64 limits
    fractions = (values / 2 - low / 2) / half if half > 0 else np.full(values.size, 0.5)
    fractions[~np.isfinite(values)] = np.nan
    return ramp(fractions), None, ColourBar(title, low, high, number_ticks(low, high, 6))
