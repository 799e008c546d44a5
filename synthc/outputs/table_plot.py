"""One distribution plot per column of a table for preview.png.

Numbers, dates and durations get a histogram with a count axis; categories, booleans and
integers with few distinct values get a bar chart with the count on each bar. Every panel's
title says how many values it shows and how many are null (and NaN), the figure's title
names the dataset and counts the rows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from synthc.outputs.caption import Caption, shorten
from synthc.outputs.figure import new_figure, render

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: panels per row, and panels at most (the rest of the columns are named in the title)
COLUMNS_PER_ROW = 4
MAX_PANELS = 24
#: inches of one panel
PANEL_W, PANEL_H = 3.2, 2.5
BINS = 30
#: an integer column with at most this many distinct values is drawn as bars, one per value
DISCRETE = 20
#: bars of a categorical column at most (the most frequent ones)
MAX_BARS = 12
#: the column every table has, 0..n-1: no information to plot
SKIP = ("index",)


def table_preview_png(frame: pl.DataFrame, caption: Caption | None = None) -> bytes:
    """A PNG of :func:`table_figure`."""
    return render(lambda: table_figure(frame, caption or Caption()))


def table_figure(frame: pl.DataFrame, caption: Caption) -> Figure:
    """A grid of distribution plots of ``frame``'s columns, before rendering."""
    names = [name for name in frame.columns if name not in SKIP]
    shown = names[:MAX_PANELS]
    columns = max(1, min(COLUMNS_PER_ROW, len(shown)))
    rows = max(1, math.ceil(len(shown) / columns))
    figure = new_figure(PANEL_W * columns, PANEL_H * rows + 0.5)
    title = caption.title(frame.height, "rows")
    if len(shown) < len(names):
        title += f" ({len(shown)} of {len(names)} columns)"
    figure.suptitle(title)
    if not shown:
        axes = figure.add_subplot(1, 1, 1)
        axes.text(0.5, 0.5, "no columns to draw", ha="center", va="center")
        axes.set_axis_off()
        return figure
    for k, name in enumerate(shown):
        axes = figure.add_subplot(rows, columns, k + 1)
        draw_column(axes, frame[name])
        if k % columns == 0:
            axes.set_ylabel("count")
    return figure


def draw_column(axes: Axes, series: pl.Series) -> None:
    """The distribution of one column on ``axes``, titled with its value and null counts."""
    import polars as pl

    present = series.drop_nulls()
    nulls = series.null_count()
    notes = [f"{nulls:,} null ({nulls / series.len():.1%})" if nulls else "no nulls"]
    dtype = series.dtype
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        notes += _bars(axes, present.cast(pl.String), by_count=True)
    elif dtype == pl.Boolean or (dtype.is_integer() and present.n_unique() <= DISCRETE):
        notes += _bars(axes, present.sort().cast(pl.String), by_count=False)
    elif dtype.is_numeric():
        notes += _numbers(axes, present.cast(pl.Float64).to_numpy())
    elif dtype in (pl.Date, pl.Datetime):
        notes += _dates(axes, present)
    elif dtype == pl.Duration:
        seconds = present.dt.total_microseconds().cast(pl.Float64).to_numpy() / 1e6
        notes += _numbers(axes, seconds)
        axes.set_xlabel("seconds")
    else:
        _empty(axes, f"{shorten(str(dtype), 30)}: not drawn")
    axes.set_title(f"{shorten(series.name, 40)}\n{present.len():,} values, " + ", ".join(notes))


def _bars(axes: Axes, values: pl.Series, by_count: bool) -> list[str]:
    """A bar per distinct value (the most frequent first when ``by_count``, else in order of
    first appearance in ``values``), with its count on top."""
    import numpy as np

    if values.len() == 0:
        _empty(axes, "no values")
        return []
    counts = values.value_counts(sort=False, name="count", normalize=False)
    column = values.name
    if by_count:
        counts = counts.sort(["count", column], descending=[True, False])
    else:
        order = values.unique(maintain_order=True).to_frame().with_row_index("order")
        counts = counts.join(order, on=column).sort("order")
    notes = []
    if counts.height > MAX_BARS:
        notes.append(f"{MAX_BARS} of {counts.height} values shown")
        counts = counts.head(MAX_BARS)
    labels = [shorten(str(v), 12) for v in counts[column].to_list()]
    positions = np.arange(len(labels))
    bars = axes.bar(positions, counts["count"].to_numpy(), color="C0", width=0.8)
    axes.bar_label(bars, fmt="{:,.0f}", fontsize=7, padding=1)
    axes.set_xticks(positions, labels)
    if sum(len(label) + 2 for label in labels) > 36:  # would touch each other across the panel
        axes.tick_params(axis="x", labelrotation=35)
        for label in axes.get_xticklabels():
            label.set_horizontalalignment("right")
    axes.margins(y=0.15)
    return notes


def _numbers(axes: Axes, values: np.ndarray) -> list[str]:
    """A histogram of the finite values; NaN and infinities are counted in the title."""
    import numpy as np

    finite = np.isfinite(values)
    notes = []
    nan = int(np.isnan(values).sum())
    if nan:
        notes.append(f"{nan:,} NaN")
    if int((~finite).sum()) > nan:
        notes.append(f"{int((~finite).sum()) - nan:,} infinite")
    values = values[finite]
    if values.size == 0:
        _empty(axes, "no finite values")
        return notes
    low, high = float(values.min()), float(values.max())
    if not math.isfinite(high - low):  # too wide for float64 bin edges
        _empty(axes, f"values from {low:.3g} to {high:.3g}")
        return notes
    counts, edges = np.histogram(values, bins=BINS, range=(low, high))
    axes.stairs(counts, edges, fill=True, color="C0")
    axes.margins(y=0.05)
    return notes


def _dates(axes: Axes, present: pl.Series) -> list[str]:
    """A histogram of dates or datetimes, with date ticks; dates near or beyond years 1 and
    9999 (which matplotlib cannot name) as days since 1970."""
    import numpy as np
    import polars as pl

    days = present.cast(pl.Datetime("ms")).dt.epoch("ms").cast(pl.Float64).to_numpy() / 86_400_000
    slack = 0.1 * float(np.ptp(days)) + 366 if days.size else 0.0  # the axis margins
    if days.size and (days.min() - slack < -719_162 or days.max() + slack > 2_932_896):
        notes = _numbers(axes, days)
        axes.set_xlabel("days since 1970-01-01")
        return notes
    import matplotlib.dates as mdates

    notes = _numbers(axes, days)
    locator = mdates.AutoDateLocator(minticks=2, maxticks=5)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return notes


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])
