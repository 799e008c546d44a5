"""Point and table previews read as plots: axes with ticks, equal aspect for point clouds, a
legend or colour bar saying what colour means, counts and nulls, a title naming the dataset;
the same input gives the same PNG bytes; matplotlib loads only when a preview is drawn."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from datetime import date

import numpy as np
import polars as pl
import pytest
from conftest import ROOT, spec_text
from PIL import Image

from synthc import api, generators
from synthc.outputs.caption import Caption
from synthc.outputs.figure import preview_style
from synthc.outputs.image_grid import grid_png
from synthc.outputs.points_plot import points_figure, points_preview_png
from synthc.outputs.table_plot import table_figure, table_preview_png

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


def drawn(build):
    """The figure ``build()`` makes, laid out as it is rendered (in the preview style)."""
    with preview_style():
        figure = build()
        figure.draw_without_rendering()
    return figure


def pixels_per_unit(axes) -> tuple[float, float]:
    origin, right, up = axes.transData.transform([(0, 0), (1, 0), (0, 1)])
    return float(right[0] - origin[0]), float(up[1] - origin[1])


def test_blobs_are_drawn_with_equal_aspect_and_a_legend_of_their_classes(write_spec):
    frame, caption = generated(write_spec, BLOBS, name="wide-blobs")
    span = frame.select(pl.all().max() - pl.all().min())
    assert span["x0"][0] > 4 * span["x1"][0]  # the data is wide and flat
    figure = drawn(lambda: points_figure(frame, caption))
    (axes,) = figure.axes
    across, up = pixels_per_unit(axes)
    assert across == pytest.approx(up, rel=1e-9)  # one unit as long across as up
    low, high = axes.get_xlim()
    assert low <= frame["x0"].min() and high >= frame["x0"].max()  # nothing cut off
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("x0", "x1")
    assert len(axes.get_xticks()) >= 3 and len(axes.get_yticks()) >= 3
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == ["0", "1", "2"]
    assert legend.get_title().get_text().startswith("label: class")
    assert figure.get_suptitle() == "wide-blobs: all 300 points"


def test_a_manifold_is_coloured_by_its_intrinsic_coordinate_with_a_colour_bar(write_spec):
    frame, caption = generated(write_spec, "kind: manifold\n  shape: swiss_roll")
    figure = drawn(lambda: points_figure(frame, caption))
    panels = [a for a in figure.axes if a.get_xlabel().startswith("x")]
    assert [(a.get_xlabel(), a.get_ylabel()) for a in panels] == [
        ("x0", "x1"),
        ("x0", "x2"),
        ("x1", "x2"),
    ]
    for axes in panels:
        across, up = pixels_per_unit(axes)
        assert across == pytest.approx(up, rel=1e-9)
    (bar,) = [a for a in figure.axes if a not in panels]
    assert bar.get_ylabel().replace("\n", " ").startswith("u0: intrinsic coordinate 0: t,")
    assert not figure.legends


def test_many_dimensions_are_projected_on_principal_components(write_spec):
    frame, caption = generated(write_spec, MOONS_10D)
    figure = drawn(lambda: points_figure(frame, caption))
    (axes,) = figure.axes  # a flat shape in 10-D: the third component is noise, not drawn
    assert axes.get_xlabel().startswith("PC1 (") and axes.get_ylabel().startswith("PC2 (")
    assert "principal components of x0..x9" in figure.get_suptitle()
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["0", "1"]


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
    figure = drawn(lambda: table_figure(frame, Caption("churn", 1000)))
    titles = {a.get_title().split("\n")[0]: a for a in figure.axes}
    # no panel for the index
    assert list(titles) == ["income", "region", "visits", "signup", "churn"]
    assert titles["income"].get_title().split("\n")[1] == "6 values, 2 null (25.0%), 1 NaN"
    assert titles["signup"].get_title().split("\n")[1] == "8 values, no nulls"
    region = titles["region"]
    assert region.get_title().split("\n")[1] == "7 values, 1 null (12.5%)"
    # the most frequent category first, each bar labelled with its count
    assert [t.get_text() for t in region.get_xticklabels()] == ["north", "south", "east"]
    assert [t.get_text() for t in region.texts] == ["4", "2", "1"]
    visits = titles["visits"]  # few distinct integers: a bar per value, in order
    assert [t.get_text() for t in visits.get_xticklabels()] == ["0", "1", "2", "3"]
    assert [t.get_text() for t in visits.texts] == ["1", "2", "3", "1"]
    assert [t.get_text() for t in titles["churn"].get_xticklabels()] == ["false", "true"]
    assert [t.get_text() for t in titles["churn"].texts] == ["2", "5"]
    assert titles["income"].get_ylabel() == "count"
    assert figure.get_suptitle() == "churn: first 8 of 1,000 rows"


def test_a_wide_table_shows_its_first_columns_and_says_so():
    frame = pl.DataFrame({f"f{k}": np.arange(50, dtype=np.float64) * k for k in range(30)})
    figure = drawn(lambda: table_figure(frame, Caption("wide")))
    assert len(figure.axes) == 24
    assert figure.get_suptitle() == "wide: first 50 rows (24 of 30 columns)"
    with Image.open(io.BytesIO(table_preview_png(frame, Caption("wide")))) as image:
        assert image.size == (4 * 320, 6 * 250 + 50)


def test_names_and_values_are_text_not_markup_and_odd_columns_still_draw():
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
    png = table_preview_png(frame, Caption("$bad{name"))
    assert png.startswith(b"\x89PNG")
    points = pl.DataFrame({"x0": [0.0, 1.0, float("inf")], "x1": [0.0, None, 1.0]})
    assert points_preview_png(points).startswith(b"\x89PNG")


def test_previews_are_the_same_bytes_every_time_and_carry_no_version(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=300, generator=BLOBS))
    png = api.preview(spec, samples=300)
    assert png == api.preview(spec, samples=300)
    assert b"matplotlib" not in png.lower() and b"Software" not in png
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (620, 470)  # one 4-inch panel, room for the legend, at 100 dpi
    # a user's matplotlibrc changes nothing: the preview uses matplotlib's own defaults
    config = tmp_path / "mplconfig"
    config.mkdir()
    (config / "matplotlibrc").write_text("axes.facecolor: red\nfont.size: 20\nfigure.dpi: 50\n")
    script = (
        "import sys; from synthc import api; "
        f"sys.stdout.buffer.write(api.preview({str(spec)!r}, samples=300))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        env={
            "PYTHONPATH": str(ROOT),
            "MPLCONFIGDIR": str(config),
            "PATH": os.environ.get("PATH", ""),
        },
        check=True,
    )
    assert result.stdout == png


def test_matplotlib_is_imported_only_when_a_preview_is_drawn(write_spec, tmp_path):
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
        assert "matplotlib" not in sys.modules, "imported before any preview"
        synthc.api.preview({str(spec)!r}, samples=10)
        assert "matplotlib" in sys.modules
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("ok\n")


def test_a_build_previews_its_first_rows_across_small_shards(write_spec, tmp_path):
    # shards of 100 rows: the preview reads on into the next shards for its 4,000 rows
    spec = write_spec(spec_text(name="blobs", samples=600, shard_size=100, generator=BLOBS))
    out = api.build(spec, tmp_path / "out", workers=1).out
    assert (out / "preview.png").read_bytes() == api.preview(spec, samples=4000)


def test_an_image_grid_has_a_title_strip_cut_to_its_width():
    tiles = [Image.new("L", (40, 40), 255) for _ in range(4)]
    for title, width in (("fractal: first 4 of 1,000 samples", 82), ("", 82)):
        with Image.open(io.BytesIO(grid_png(tiles, title=title))) as sheet:
            strip = np.asarray(sheet.convert("L"))
        assert sheet.size == (width, (20 if title else 0) + 2 * 40 + 2)
        assert (strip[:20] < 128).any() == bool(title)  # the title's ink, in the strip only
