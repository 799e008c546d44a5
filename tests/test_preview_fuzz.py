"""Previews of arbitrary tables never fail: any column type, extreme, NaN, infinite or null
values, odd text, few or many rows still give a PNG of the chart's size with its ticks inside
the axes (the data behind a preview comes from specs and files users hand us)."""

from __future__ import annotations

import io
import math
from datetime import date, datetime, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from synthc.outputs.caption import Caption
from synthc.outputs.points_plot import points_chart
from synthc.outputs.raster import render
from synthc.outputs.table_plot import table_chart

FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 1e-320, 1e308, -1e308, 2.0**53 + 1]
)
TEXT = st.text(st.characters(codec="utf-8"), max_size=60)
COLUMNS = {
    "float": (pl.Float64, FLOATS),
    "int": (pl.Int64, st.integers(-(2**63), 2**63 - 1)),
    "small_int": (pl.Int64, st.integers(-3, 3)),
    "uint": (pl.UInt64, st.integers(0, 2**64 - 1)),
    "bool": (pl.Boolean, st.booleans()),
    "text": (pl.String, TEXT),
    "date": (pl.Date, st.dates(date(1, 1, 1), date(9999, 12, 31))),
    "datetime": (pl.Datetime("us"), st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30))),
    "duration": (pl.Duration("us"), st.timedeltas(timedelta(days=-(10**6)), timedelta(10**6))),
}


@st.composite
def frames(draw, names: list[str] | None = None) -> pl.DataFrame:
    rows = draw(st.integers(0, 40))
    names = names or draw(st.lists(TEXT, min_size=1, max_size=6, unique=True))
    data = {}
    for name in names:
        dtype, values = COLUMNS[draw(st.sampled_from(sorted(COLUMNS)))]
        column = draw(st.lists(values | st.none(), min_size=rows, max_size=rows))
        data[name] = pl.Series(name, column, dtype=dtype)
    return pl.DataFrame(data)


def drawn_inside(chart) -> None:
    with Image.open(io.BytesIO(render(chart))) as image:
        image.load()
        assert image.size == chart.size()
    for panel in chart.panels:
        for axis in (panel.x, panel.y):
            assert all(isinstance(label, str) for _, label in axis.ticks)
            if math.isfinite(axis.low) and math.isfinite(axis.high):
                assert all(axis.low <= value <= axis.high for value, _ in axis.ticks)


#: reproducible in CI; warnings are errors under pytest, so an overflow warning fails too
FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: names a table's own helper columns could collide with
HELPER_NAMES = ["count", "order", "value", "index", "label"]
POINT_TABLES = (
    frames(["x0", "x1", "x2", "label"])
    | frames(["x0", "x1", "u0"])
    | frames(["x0", "x1", "x2", "x3", "label"])  # projected on principal components
    | frames(["x0", "x1", "x2", "x3", "x4", "u0"])
)


@FUZZ
@given(frames() | frames(HELPER_NAMES), TEXT)
def test_any_table_draws(frame, name):
    drawn_inside(table_chart(frame, Caption(name, None)))


@FUZZ
@given(POINT_TABLES)
def test_any_point_table_draws(frame):
    drawn_inside(points_chart(frame, Caption("points", 10**12)))
