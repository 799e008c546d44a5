"""What a preview plot shows, before it is drawn: panels with axes, ticks, marks and titles, and
the legend or colour bar saying what colour means.

The plot modules (points_plot, table_plot) build a :class:`Chart` from data; outputs.raster
draws it to PNG with Pillow. Everything a reader of the picture sees (titles, tick labels,
legend entries, counts over bars, axis limits) is here as plain values, so tests read the
chart rather than its pixels. Sizes are pixels; the layout is fixed by the chart's fields:
panels in a grid of equal cells under a title strip, a side strip on the right for the legend
or colour bar, and in every cell the same margins around the plot box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from synthc.outputs.palette import RGB
from synthc.outputs.ticks import Tick

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Axis:
    """One axis of a panel: the data range it shows, its ticks and its label."""

    low: float
    high: float
    ticks: list[Tick] = field(default_factory=list)
    label: str = ""
    #: tick labels drawn at a slant (long category names that would touch across)
    slanted: bool = False

    def pixel(self, values: np.ndarray, start: float, length: float) -> np.ndarray:
        """Pixel offsets of ``values`` along an axis ``length`` pixels long from ``start``."""
        span = self.high - self.low
        return start + (values - self.low) * (length / span if span > 0 else 0.0)

    def position(self, value: float, start: float, length: float) -> int:
        """The pixel of one value, as :meth:`pixel`, rounded."""
        span = self.high - self.low
        at = start + (value - self.low) * (length / span if span > 0 else 0.0)
        return int(round(at)) if math.isfinite(at) else int(start)


@dataclass
class Points:
    """A scatter of points, each with its own RGB colour (uint8 rows)."""

    x: np.ndarray
    y: np.ndarray
    colours: np.ndarray
    #: pixels of a point's radius, and how opaque it is
    radius: float = 2.0
    alpha: float = 0.7


@dataclass(frozen=True)
class Bar:
    """A filled bar from ``left`` to ``right`` and from 0 up to ``height`` (data units), with
    ``label`` (its count) over it when given."""

    left: float
    right: float
    height: float
    label: str = ""


@dataclass
class Panel:
    """One plot: a box with two axes and what is drawn in it."""

    x: Axis
    y: Axis
    title: str = ""
    points: Points | None = None
    bars: list[Bar] = field(default_factory=list)
    #: said in the middle of the box instead of data (no values, a type not drawn)
    note: str = ""
    grid: bool = False


@dataclass(frozen=True)
class Legend:
    """Entries of a colour and what it stands for, under a title."""

    title: str
    entries: list[tuple[RGB, str]]


@dataclass(frozen=True)
class ColourBar:
    """The colour ramp from ``low`` to ``high`` with ticks, under a title."""

    title: str
    low: float
    high: float
    ticks: list[Tick]


@dataclass(frozen=True)
class Margins:
    """Pixels around each plot box inside its cell: tick labels and axis labels go left and
    below, the panel title above."""

    left: int = 62
    right: int = 14
    top: int = 36
    bottom: int = 44


#: margins with room below for slanted tick labels (raster.SLANTED_WIDTH at 35 degrees)
SLANTED_MARGINS = Margins(bottom=58)


@dataclass
class Chart:
    """A figure: a title over a grid of panels in cells of ``cell`` pixels, ``columns`` to a
    row, and a ``side`` strip on the right for the legend or colour bar."""

    title: str
    cell: tuple[int, int]
    columns: int = 1
    panels: list[Panel] = field(default_factory=list)
    margins: Margins = Margins()
    title_height: int = 50
    side: int = 0
    legend: Legend | None = None
    colour_bar: ColourBar | None = None

    def rows(self) -> int:
        """Rows of cells (at least one)."""
        return max(1, math.ceil(len(self.panels) / self.columns))

    def size(self) -> tuple[int, int]:
        """Width and height of the picture in pixels."""
        width, height = self.cell
        return self.columns * width + self.side, self.title_height + self.rows() * height

    def box(self, k: int) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` pixels of panel ``k``'s plot box."""
        width, height = self.cell
        left = (k % self.columns) * width + self.margins.left
        top = self.title_height + (k // self.columns) * height + self.margins.top
        return (
            left,
            top,
            left + width - self.margins.left - self.margins.right,
            top + height - self.margins.top - self.margins.bottom,
        )


def title_height(title: str) -> int:
    """Pixels of the strip a chart's title takes: its lines and some room under them."""
    return 31 + 19 * (title.count("\n") + 1)
