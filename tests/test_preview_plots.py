"""Point and table previews read as plots: axes with ticks, equal aspect for point clouds, a
legend or colour bar saying what colour means, counts and nulls, a title naming the dataset;
the same input gives the same PNG bytes; drawing one loads Pillow, never matplotlib."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import ROOT, spec_text
from PIL import Image

from synthc import api, generators
from synthc.outputs.caption import Caption
from synthc.outputs.chart import Chart
from synthc.outputs.image_grid import grid_png
from synthc.outputs.palette import CLASSES, RAMP
from synthc.outputs.points_plot import points_chart, points_preview_png
from synthc.outputs.raster import render
from synthc.outputs.table_plot import table_chart, table_preview_png
from synthc.outputs.ticks import date_ticks, number_ticks

#: blobs much wider than tall: drawn in a square panel without equal aspect they look round
BLOBS = (
    "kind: manifold\n  shape: blobs\n  dim: 2\n"
    "  centers: [[0, 0], [9, 0], [18, 0]]\n  cluster_std: 0.4"
)
MOONS_10D = "kind: manifold\n  shape: moons\n  noise: 0.05\n  ambient_dim: 10\n  rotate: true"


def generated(write_spec, generator: str, samples: int = 300, name: str = "tiny"):
    """The spec's samples as a polars frame, and the caption its preview gets."""
    spec = api.validate(write_spec(spec_text(name=name, samples=samples, generator=generator)))
    kind = generators.get(spec.generator.kind)
    table = kind.generate(spec.generator, spec.seed, 0, samples)
    columns = [c.to_json() for c in kind.columns(spec.generator)]
    return pl.DataFrame(dict(table)), Caption.of(spec.name, spec.sample_count, columns)


def fresh_python(script: str, home: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -c script`` in a fresh interpreter that imports synthc from this checkout (and
    runs in ``home``, as its HOME, when given)."""
    env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")}
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=home, env=env)


def units_per_pixel(chart: Chart, k: int) -> tuple[float, float]:
    left, top, right, bottom = chart.box(k)
    panel = chart.panels[k]
    return (panel.x.high - panel.x.low) / (right - left), (panel.y.high - panel.y.low) / (
        bottom - top
    )


def pixels(chart: Chart) -> np.ndarray:
    with Image.open(io.BytesIO(render(chart))) as image:
        assert image.size == chart.size()
        return np.asarray(image.convert("RGB")).astype(np.int64)


def near(image: np.ndarray, colour, tolerance: int = 40) -> np.ndarray:
    """Where ``image`` is within ``tolerance`` of ``colour`` (points are blended with white)."""
    return np.abs(image - np.asarray(colour)).sum(axis=2) <= tolerance


def test_blobs_are_drawn_with_equal_aspect_and_a_legend_of_their_classes(write_spec):
    frame, caption = generated(write_spec, BLOBS, name="wide-blobs")
    span = frame.select(pl.all().max() - pl.all().min())
    assert span["x0"][0] > 4 * span["x1"][0]  # the data is wide and flat
    chart = points_chart(frame, caption)
    (panel,) = chart.panels
    across, up = units_per_pixel(chart, 0)
    assert across == pytest.approx(up, rel=1e-9)  # one unit as long across as up
    assert panel.x.low <= frame["x0"].min() and panel.x.high >= frame["x0"].max()
    assert panel.y.low <= frame["x1"].min() and panel.y.high >= frame["x1"].max()
    assert (panel.x.label, panel.y.label) == ("x0", "x1")
    for axis in (panel.x, panel.y):
        assert len(axis.ticks) >= 3 and all(axis.low <= v <= axis.high for v, _ in axis.ticks)
    assert chart.legend is not None and chart.colour_bar is None
    assert [text for _, text in chart.legend.entries] == ["0", "1", "2"]
    assert [colour for colour, _ in chart.legend.entries] == list(CLASSES[:3])
    assert chart.legend.title.startswith("label: class")
    assert chart.title == "wide-blobs: all 300 points"
    # in the picture: each blob (the same spread across and up) is drawn round, not stretched
    image = pixels(chart)
    left, top, right, bottom = chart.box(0)
    for colour in CLASSES[:3]:
        rows, columns = np.nonzero(near(image[top:bottom, left:right], colour))
        assert rows.size > 50
        assert 0.6 < np.ptp(columns) / np.ptp(rows) < 1.6
    xs = np.nonzero(
        near(image[top:bottom, left:right], CLASSES[0])
        | near(image[top:bottom, left:right], CLASSES[2])
    )[1]
    assert np.ptp(xs) > 0.7 * (right - left)  # the three blobs fill the width


def test_a_manifold_is_coloured_by_its_intrinsic_coordinate_with_a_colour_bar(write_spec):
    frame, caption = generated(write_spec, "kind: manifold\n  shape: swiss_roll")
    chart = points_chart(frame, caption)
    assert [(p.x.label, p.y.label) for p in chart.panels] == [
        ("x0", "x1"),
        ("x0", "x2"),
        ("x1", "x2"),
    ]
    for k in range(3):
        across, up = units_per_pixel(chart, k)
        assert across == pytest.approx(up, rel=1e-9)
    bar = chart.colour_bar
    assert bar is not None and chart.legend is None
    assert bar.title.replace("\n", " ").startswith("u0: intrinsic coordinate 0: t,")
    assert (bar.low, bar.high) == (frame["u0"].min(), frame["u0"].max())
    assert len(bar.ticks) >= 3
    # the points take the ramp's colours from one end to the other
    image = pixels(chart)
    left, top, right, bottom = chart.box(1)
    drawn = image[top:bottom, left:right]
    assert near(drawn, RAMP[0], 60).sum() > 20 and near(drawn, RAMP[-1], 60).sum() > 20


def test_many_dimensions_are_projected_on_principal_components(write_spec):
    frame, caption = generated(write_spec, MOONS_10D)
    chart = points_chart(frame, caption)
    (panel,) = chart.panels  # a flat shape in 10-D: the third component is noise, not drawn
    assert panel.x.label.startswith("PC1 (") and panel.y.label.startswith("PC2 (")
    assert "principal components of x0..x9" in chart.title
    assert chart.legend is not None
    assert [text for _, text in chart.legend.entries] == ["0", "1"]


def test_histograms_count_values_and_nulls_and_categories_get_counted_bars():
    frame = pl.DataFrame(
        {
            "index": range(8),
            "income": [1.0, None, 3.0, 4.0, None, 6.0, float("nan"), 8.0],
            "region": ["north", "south", "north", None, "east", "north", "south", "north"],
            "visits": [0, 1, 1, 2, 2, 2, 3, None],
            "signup": [date(2020, 1, d + 1) for d in range(8)],
            "churn": [True, True, False, None, True, False, True, True],
        }
    )
    chart = table_chart(frame, Caption("churn", 1000))
    panels = {p.title.split("\n")[0]: p for p in chart.panels}
    # no panel for the index
    assert list(panels) == ["income", "region", "visits", "signup", "churn"]
    assert panels["income"].title.split("\n")[1] == "6 values, 2 null (25.0%), 1 NaN"
    assert sum(bar.height for bar in panels["income"].bars) == 5  # the finite values
    assert panels["signup"].title.split("\n")[1] == "8 values, no nulls"
    assert [label for _, label in panels["signup"].x.ticks][:2] == ["2020-01-01", "2020-01-03"]
    region = panels["region"]
    assert region.title.split("\n")[1] == "7 values, 1 null (12.5%)"
    # the most frequent category first, each bar labelled with its count
    assert [label for _, label in region.x.ticks] == ["north", "south", "east"]
    assert [bar.label for bar in region.bars] == ["4", "2", "1"]
    visits = panels["visits"]  # few distinct integers: a bar per value, in order
    assert [label for _, label in visits.x.ticks] == ["0", "1", "2", "3"]
    assert [bar.label for bar in visits.bars] == ["1", "2", "3", "1"]
    assert [label for _, label in panels["churn"].x.ticks] == ["false", "true"]
    assert [bar.label for bar in panels["churn"].bars] == ["2", "5"]
    # counts are whole numbers, the first panel of each row says so
    assert all(float(v).is_integer() for v, _ in region.y.ticks)
    assert panels["income"].y.label == "count" and panels["churn"].y.label == "count"
    assert chart.title == "churn: first 8 of 1,000 rows"
    assert pixels(chart).shape[:2] == (chart.size()[1], chart.size()[0])


def test_a_wide_table_shows_its_first_columns_and_says_so():
    frame = pl.DataFrame({f"f{k}": np.arange(50, dtype=np.float64) * k for k in range(30)})
    chart = table_chart(frame, Caption("wide"))
    assert len(chart.panels) == 24
    assert chart.title == "wide: first 50 rows (24 of 30 columns)"
    with Image.open(io.BytesIO(table_preview_png(frame, Caption("wide")))) as image:
        assert image.size == (4 * 320, 6 * 250 + 50)


def test_names_and_values_are_text_and_odd_columns_still_draw():
    frame = pl.DataFrame(
        {
            "$\\frac{1}{$": [1.0, 2.0],
            "far future": [date(9999, 12, 31), date(1, 1, 1)],
            "huge": [-1e308, 1e308],
            "empty": pl.Series([None, None], dtype=pl.Float64),
            "nested": [[1], [2]],
            "label": ["$x^{$", "_{"],
        }
    )
    chart = table_chart(frame, Caption("$bad{name"))
    notes = {p.title.split("\n")[0]: p.note for p in chart.panels}
    assert notes["huge"] == "values from -1e+308 to 1e+308"
    assert notes["empty"] == "no finite values" and notes["nested"] == "List(Int64): not drawn"
    assert chart.panels[1].x.label == "days since 1970-01-01"
    assert table_preview_png(frame, Caption("$bad{name")).startswith(b"\x89PNG")
    points = pl.DataFrame({"x0": [0.0, 1.0, float("inf")], "x1": [0.0, None, 1.0]})
    assert points_preview_png(points).startswith(b"\x89PNG")
    extreme = pl.DataFrame({"x0": [-1e308, 1e308], "x1": [0.0, 1e-300]})
    assert points_preview_png(extreme).startswith(b"\x89PNG")


def test_ticks_are_round_numbers_and_dates_inside_the_range():
    assert number_ticks(0.0, 1.0) == [(v, f"{v:.1f}") for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    assert [label for _, label in number_ticks(-3.3, 17.2)] == ["0", "5", "10", "15"]
    # one notation for all the labels of an axis
    assert [label for _, label in number_ticks(0.0, 2.5e7)][1:3] == ["5e6", "1e7"]
    assert number_ticks(-1e308, 1e308) == [(-1e308, "-1e308"), (1e308, "1e308")]
    months = date_ticks(18262.0, 18262.0 + 400)  # 2020-01-01 and 400 days on
    assert [label for _, label in months][:3] == ["2020-01", "2020-03", "2020-05"]
    hours = date_ticks(18262.25, 18262.9)
    assert hours[0] == (18262.25, "01-01 06:00") and len(hours) <= 8
    assert [label for _, label in date_ticks(0.0, 20_000.0)] == ["1980", "2000", "2020"]


def test_previews_are_the_same_bytes_every_time_and_carry_no_metadata(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=300, generator=BLOBS))
    png = api.preview(spec, samples=300)
    assert png == api.preview(spec, samples=300)
    assert b"tEXt" not in png and b"iTXt" not in png and b"tIME" not in png
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (620, 450)  # one 400-pixel panel and room for the legend
    # another process, with another home and working directory, draws the same bytes
    home = tmp_path / "home"
    home.mkdir()
    script = (
        "import sys; from synthc import api; "
        f"sys.stdout.buffer.write(api.preview({str(spec)!r}, samples=300))"
    )
    result = fresh_python(script, home=home)
    assert result.returncode == 0, result.stderr
    assert result.stdout == png


def test_pillow_is_imported_only_when_a_preview_is_drawn_and_matplotlib_never(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=300, shard_size=100, generator=BLOBS))
    script = textwrap.dedent(
        f"""
        import sys
        import synthc, synthc.api, synthc.cli
        from synthc.shard import run_task
        assert synthc.cli.main(["validate", {str(spec)!r}]) == 0
        assert synthc.cli.main(["plan", {str(spec)!r}]) == 0
        for task in synthc.api.plan({str(spec)!r}).tasks:
            run_task(task.to_json(), {str(tmp_path / "out")!r})
        assert "PIL" not in sys.modules, "imported before any preview"
        synthc.api.preview({str(spec)!r}, samples=10)
        assert "PIL" in sys.modules and "matplotlib" not in sys.modules
        print("ok")
        """
    )
    result = fresh_python(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(b"ok\n")


def test_a_build_previews_its_first_rows_across_small_shards(write_spec, tmp_path):
    # shards of 100 rows: the preview reads on into the next shards for its 4,000 rows
    spec = write_spec(spec_text(name="blobs", samples=600, shard_size=100, generator=BLOBS))
    out = api.build(spec, tmp_path / "out", workers=1).out
    assert (out / "preview.png").read_bytes() == api.preview(spec, samples=4000)
    # without samples, api.preview draws what the build does (docs/previews.md): 4,000 rows
    # of a table or points spec, not 16
    assert api.preview(spec) == (out / "preview.png").read_bytes()


def test_an_image_grid_has_a_title_strip_cut_to_its_width():
    tiles = [Image.new("L", (40, 40), 255) for _ in range(4)]
    for title, width in (("fractal: first 4 of 1,000 samples", 82), ("", 82)):
        with Image.open(io.BytesIO(grid_png(tiles, title=title))) as sheet:
            strip = np.asarray(sheet.convert("L"))
        assert sheet.size == (width, (20 if title else 0) + 2 * 40 + 2)
        assert (strip[:20] < 128).any() == bool(title)  # the title's ink, in the strip only


@pytest.mark.parametrize(("kind", "loaded"), [("points", ["PIL", "polars"]), ("images", ["PIL"])])
def test_what_a_preview_needs_can_be_loaded_ahead_of_the_drawing(kind, loaded):
    # a build whose shards are made in other processes loads these while they run
    script = (
        "import sys; from synthc.outputs.preview import load_drawing; "
        f"load_drawing({kind!r}); print(sorted({{'PIL', 'polars'}} & set(sys.modules)))"
    )
    result = fresh_python(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip() == str(loaded)
