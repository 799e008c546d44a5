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
from synthc.outputs.chart import SLANTED_MARGINS, Axis, Bar, Chart, Panel, title_height
from synthc.outputs.raster import render
from synthc.outputs.ticks import FIRST_DAY, LAST_DAY, date_ticks, number_ticks

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

#: panels per row, and panels at most (the rest of the columns are named in the title)
COLUMNS_PER_ROW = 4
MAX_PANELS = 24
#: pixels of one panel's cell
PANEL_W, PANEL_H = 320, 250
BINS = 30
#: an integer column with at most this many distinct values is drawn as bars, one per value
DISCRETE = 20
#: bars of a categorical column at most (the most frequent ones)
MAX_BARS = 12
#: the column every table has, 0..n-1: no information to plot
SKIP = ("index",)


def table_preview_png(frame: pl.DataFrame, caption: Caption | None = None) -> bytes:
    """A PNG of :func:`table_chart`."""
    return render(table_chart(frame, caption or Caption()))


def table_chart(frame: pl.DataFrame, caption: Caption) -> Chart:
    """A grid of distribution plots of ``frame``'s columns, before drawing."""
    import numpy as np

    with np.errstate(all="ignore"):  # extreme values are drawn as well as they can be, quietly
        return _table_chart(frame, caption)


def _table_chart(frame: pl.DataFrame, caption: Caption) -> Chart:
    names = [name for name in frame.columns if name not in SKIP]
    shown = names[:MAX_PANELS]
    title = caption.title(frame.height, "rows")
    if len(shown) < len(names):
        title += f" ({len(shown)} of {len(names)} columns)"
    columns = max(1, min(COLUMNS_PER_ROW, len(shown)))
    chart = Chart(title, (PANEL_W, PANEL_H), columns, title_height=title_height(title))
    if not shown:
        chart.panels.append(Panel(Axis(0.0, 1.0), Axis(0.0, 1.0), note="no columns to draw"))
    for k, name in enumerate(shown):
        panel = column_panel(frame[name])
        if k % columns == 0:
            panel.y.label = "count"
        chart.panels.append(panel)
    if any(panel.x.slanted for panel in chart.panels):
        chart.margins = SLANTED_MARGINS
    return chart


def column_panel(series: pl.Series) -> Panel:
    """The distribution of one column, titled with its value and null counts."""
    import polars as pl

    present = series.drop_nulls()
    nulls = series.null_count()
    notes = [f"{nulls:,} null ({nulls / series.len():.1%})" if nulls else "no nulls"]
    dtype = series.dtype
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        panel = _bars(present.cast(pl.String), by_count=True, notes=notes)
    elif dtype == pl.Boolean or (dtype.is_integer() and present.n_unique() <= DISCRETE):
        panel = _bars(present.sort().cast(pl.String), by_count=False, notes=notes)
    elif dtype.is_numeric():
        panel = _numbers(present.cast(pl.Float64).to_numpy(), notes)
    elif dtype in (pl.Date, pl.Datetime):
        panel = _dates(present, notes)
    elif dtype == pl.Duration:
        seconds = present.dt.total_microseconds().cast(pl.Float64).to_numpy() / 1e6
        panel = _numbers(seconds, notes)
        panel.x.label = "seconds"
    else:
        panel = _empty(f"{shorten(str(dtype), 30)}: not drawn")
    panel.title = f"{shorten(series.name, 40)}\n{present.len():,} values, " + ", ".join(notes)
    return panel


def _bars(values: pl.Series, by_count: bool, notes: list[str]) -> Panel:
    """A bar per distinct value (the most frequent first when ``by_count``, else in order of
    first appearance in ``values``), with its count on top."""
    if values.len() == 0:
        return _empty("no values")
    column = "value"  # not the column's own name, which may be "count" or "order"
    values = values.rename(column)
    counts = values.value_counts(sort=False, name="count", normalize=False)
    if by_count:
        counts = counts.sort(["count", column], descending=[True, False])
    else:
        order = values.unique(maintain_order=True).to_frame().with_row_index("order")
        counts = counts.join(order, on=column).sort("order")
    if counts.height > MAX_BARS:
        notes.append(f"{MAX_BARS} of {counts.height} values shown")
        counts = counts.head(MAX_BARS)
    labels = [shorten(str(v), 12) for v in counts[column].to_list()]
    heights = [int(c) for c in counts["count"].to_list()]
    bars = [Bar(k - 0.4, k + 0.4, h, f"{h:,}") for k, h in enumerate(heights)]
    x = Axis(-0.6, len(labels) - 0.4, [(float(k), label) for k, label in enumerate(labels)])
    # labels that would touch each other across the panel are slanted
    x.slanted = sum(len(label) + 2 for label in labels) > 36
    return Panel(x, _count_axis(max(heights), 0.15), bars=bars)


def _numbers(values: np.ndarray, notes: list[str]) -> Panel:
    """A histogram of the finite values; NaN and infinities are counted in the title."""
    import numpy as np

    finite = np.isfinite(values)
    nan = int(np.isnan(values).sum())
    if nan:
        notes.append(f"{nan:,} NaN")
    if int((~finite).sum()) > nan:
        notes.append(f"{int((~finite).sum()) - nan:,} infinite")
    values = values[finite]
    if values.size == 0:
        return _empty("no finite values")
    low, high = float(values.min()), float(values.max())
    if not math.isfinite(high - low):  # too wide for float64 bin edges
        return _empty(f"values from {low:.3g} to {high:.3g}")
    counts, edges = _histogram(values, low, high)
    bars = [
        Bar(float(a), float(b), int(c)) for a, b, c in zip(edges, edges[1:], counts, strict=False)
    ]
    low, high = float(edges[0]), float(edges[-1])
    pad = (high - low) * 0.05
    x = Axis(low - pad, high + pad, number_ticks(low - pad, high + pad))
    return Panel(x, _count_axis(int(counts.max()), 0.05), bars=bars)


def _histogram(values: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """:data:`BINS` bins from ``low`` to ``high``; one bin around a single value, or where
    the range is too narrow for float64 to split (values near 1e15 a fraction apart)."""
    import numpy as np

    if high > low:
        try:
            return np.histogram(values, bins=BINS, range=(low, high))
        except ValueError:  # "too many bins for data range"
            pass
    middle = low / 2 + high / 2
    half = max(high / 2 - low / 2, abs(middle) * 1e-9, 0.5)
    return np.array([values.size]), np.array([middle - half, middle + half])


def _dates(present: pl.Series, notes: list[str]) -> Panel:
    """A histogram of dates or datetimes with date ticks; dates near or beyond years 1 and
    9999 (which Python cannot name) as days since 1970."""
    import polars as pl

    days = present.cast(pl.Datetime("ms")).dt.epoch("ms").cast(pl.Float64).to_numpy() / 86_400_000
    panel = _numbers(days, notes)
    if panel.note:
        return panel
    if panel.x.low < FIRST_DAY or panel.x.high > LAST_DAY:
        panel.x.label = "days since 1970-01-01"
        return panel
    panel.x.ticks = date_ticks(panel.x.low, panel.x.high)
    panel.x.slanted = any(len(label) > 7 for _, label in panel.x.ticks)  # not years
    return panel


def _count_axis(highest: int, margin: float) -> Axis:
    """A count axis from 0 to ``highest`` and a ``margin`` share above, whole-number ticks."""
    top = max(1.0, highest * (1 + margin))
    ticks = [(v, label) for v, label in number_ticks(0.0, top) if float(v).is_integer()]
    return Axis(0.0, top, [(v, f"{int(v):,}") for v, _ in ticks])


def _empty(text: str) -> Panel:
    return Panel(Axis(0.0, 1.0), Axis(0.0, 1.0), note=text)
