"""Scatter plots of a point table's observed coordinates ``x0, x1, ...`` for preview.png.

Each panel has axes with ticks and an equal aspect (one unit is as long across as up), colour
says what it means in a legend (``label``: one entry per class) or a colour bar (``u0``: the
first intrinsic coordinate), and the title names the dataset and counts the points. Two
coordinates make one panel, three make a panel per pair; more are projected on their first
three principal components (a rotated embedding shows its shape, not a random slice).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthc.outputs.caption import Caption, shorten
from synthc.outputs.figure import new_figure, render

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: inches of one square panel
PANEL = 4.0
#: classes drawn as legend entries at most; more get a colour bar
LEGEND_CLASSES = 10


def points_preview_png(frame: pl.DataFrame, caption: Caption | None = None) -> bytes:
    """A PNG of :func:`points_figure`."""
    return render(lambda: points_figure(frame, caption or Caption()))


def points_figure(frame: pl.DataFrame, caption: Caption) -> Figure:
    """The scatter panels of ``frame``'s ``x`` columns, before rendering."""
    dims = _coordinates(frame)
    coords, names = _projected(frame, dims)
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    figure = new_figure(PANEL * max(1, len(pairs)) + 2.2, PANEL + 0.7)
    figure.suptitle(_title(caption, frame.height, dims, len(names) < len(dims)))
    if not pairs:
        axes = figure.add_subplot(1, 1, 1)
        axes.text(
            0.5, 0.5, "fewer than two coordinates x0, x1, ... to draw", ha="center", va="center"
        )
        axes.set_axis_off()
        return figure
    colour = _colouring(frame)
    panels = [figure.add_subplot(1, len(pairs), k + 1) for k in range(len(pairs))]
    drawn: Any = None
    for axes, (i, j) in zip(panels, pairs, strict=True):
        drawn = axes.scatter(
            coords[:, i], coords[:, j], s=4.0, linewidths=0.0, alpha=0.7, **colour.scatter
        )
        _equal_axes(axes, names[i], names[j])
    colour.explain(figure, panels, drawn, caption)
    return figure


def _coordinates(frame: pl.DataFrame) -> list[str]:
    """The observed coordinates ``x0, x1, ...`` in order, numeric columns only."""
    dims: list[str] = []
    while f"x{len(dims)}" in frame.columns and frame[f"x{len(dims)}"].dtype.is_numeric():
        dims.append(f"x{len(dims)}")
    return dims


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
    centred = x - x.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
    variance = singular**2 / max(float((singular**2).sum()), 1e-300)
    count = 3 if variance[2] >= 0.1 else 2
    names = [f"PC{k + 1} ({variance[k]:.0%} of variance)" for k in range(count)]
    return centred @ vt[:count].T, names


def _title(caption: Caption, shown: int, dims: list[str], projected: bool) -> str:
    title = caption.title(shown, "points")
    if projected:
        title += f"\nprojected on the principal components of {dims[0]}..{dims[-1]}"
    return title


def _equal_axes(axes: Axes, x: str, y: str) -> None:
    """Equal units across and up; the panel keeps its size and the limits grow instead."""
    axes.set_aspect("equal", adjustable="datalim")
    axes.set_xlabel(shorten(x, 40))
    axes.set_ylabel(shorten(y, 40))
    axes.locator_params(nbins=6)
    axes.grid(True, linewidth=0.4, alpha=0.4)


class _Colouring:
    """How points are coloured and how the figure says what colour means."""

    def __init__(self, scatter: dict[str, Any], column: str | None, classes: list[int]) -> None:
        self.scatter = scatter
        self.column = column
        self.classes = classes

    def explain(self, figure: Figure, panels: list[Axes], drawn: Any, caption: Caption) -> None:
        """A legend of the classes, a colour bar of a continuous value, or nothing."""
        if self.column is None:
            return
        title = caption.meaning(self.column, width=28)
        if self.classes and len(self.classes) <= LEGEND_CLASSES:
            from matplotlib.lines import Line2D

            colours = _class_colours(len(self.classes))
            handles = [
                Line2D([], [], marker="o", linestyle="", color=colours[k], label=str(value))
                for k, value in enumerate(self.classes)
            ]
            figure.legend(
                handles=handles, title=title, loc="outside right center", alignment="left"
            )
            return
        bar = figure.colorbar(drawn, ax=panels, shrink=0.9)
        bar.set_label(title)


def _colouring(frame: pl.DataFrame) -> _Colouring:
    """By ``label`` (the class) when there is one, else by ``u0`` (the first intrinsic
    coordinate), else one colour."""
    import numpy as np
    import polars as pl

    if "label" in frame.columns and frame["label"].dtype.is_integer():
        labels = frame["label"].fill_null(-1).to_numpy()
        classes = sorted(int(v) for v in np.unique(labels))
        if len(classes) <= LEGEND_CLASSES:
            colours = _class_colours(len(classes))
            index = np.searchsorted(np.array(classes), labels)
            return _Colouring({"c": colours[index]}, "label", classes)
        return _Colouring({"c": labels, "cmap": "viridis"}, "label", classes)
    if "u0" in frame.columns and frame["u0"].dtype.is_numeric():
        u = frame["u0"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        return _Colouring({"c": u, "cmap": "viridis"}, "u0", [])
    return _Colouring({"color": "C0"}, None, [])


def _class_colours(count: int) -> np.ndarray:
    """RGBA rows of matplotlib's ten-colour qualitative palette, one per class."""
    import numpy as np
    from matplotlib import colormaps

    return np.asarray(colormaps["tab10"](np.arange(count) % 10))
