"""output.columns: a table dataset keeps only the columns a spec lists, in its shards (read with
polars), its manifest's schema and its card; changing the list rebuilds; bad names are spec
errors with positions."""

from __future__ import annotations

import polars as pl
import pytest

import synthc
from synthc import api
from synthc.compiler.compiling import compile_spec

SPEC = """\
synthc: 1
name: kept
seed: 11
samples: 900
splits: {{train: 0.8, test: 0.2}}
generator: {{kind: manifold, shape: swiss_roll, noise: 0.05}}
output:
  shard_size: 300
{columns}"""

KEPT = ["x0", "x1", "x2", "u0"]


def spec_with(columns: str = "") -> str:
    return SPEC.format(columns=columns)


def test_only_the_listed_columns_are_written(write_spec, tmp_path):
    full = api.build(write_spec(spec_with(), "full.yaml"), tmp_path / "full", workers=1)
    spec = write_spec(spec_with("  columns: [u0, x0, x1, x2]\n"))
    kept = api.build(spec, tmp_path / "kept", workers=1)
    for split in ("train", "test"):
        shards = pl.read_parquet(kept.out / split / "*.parquet")
        # in the generator's order, whatever the list's
        assert shards.columns == KEPT
        # the same values as the full dataset's columns: only the others are left out
        every = pl.read_parquet(full.out / split / "*.parquet")
        assert shards.equals(every.select(KEPT))
    manifest = api.load_manifest(kept.out)
    assert [c["name"] for c in manifest["schema"]["columns"]] == KEPT
    assert manifest["output"]["columns"] == ["u0", "x0", "x1", "x2"]
    card = (kept.out / "README.md").read_text()
    assert "| `u0` |" in card and "`clean_x0`" not in card
    api.verify(kept.out)
    # what a stream yields and what synthc sample gives hold the same columns
    block = next(iter(synthc.stream(spec, "train")))
    assert block.columns == KEPT
    assert api.sample(spec, 5).columns == KEPT


def test_index_is_kept_when_listed(write_spec, tmp_path):
    spec = write_spec(spec_with("  columns: [x0, index]\n"))
    result = api.build(spec, tmp_path / "out", workers=1)
    frame = pl.read_parquet(result.out / "train" / "*.parquet")
    assert frame.columns == ["index", "x0"] and frame["index"].to_list() == list(range(720))


def test_changing_the_columns_rebuilds_every_shard(cli, write_spec, tmp_path):
    out = tmp_path / "out"
    spec = write_spec(spec_with())
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    plain = api.plan(spec)
    assert all("columns" not in task.output for task in plain.tasks)  # keys as before the option
    spec = write_spec(spec_with("  columns: [x0, x1, x2, u0]\n"))
    kept = api.plan(spec)
    assert {t.key for t in kept.tasks}.isdisjoint(t.key for t in plain.tasks)
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "built 4 shard(s), kept 0" in stdout
    assert pl.read_parquet(out / "train" / "*.parquet").columns == KEPT
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert "up to date" in stdout


def test_unknown_and_repeated_columns_are_spec_errors_with_positions(cli, write_spec):
    spec = write_spec(spec_with("  columns: [x0, clen_x0, x0]\n"))
    code, _, stderr = cli("validate", spec)
    assert code == 2
    assert (
        f"{spec}:9:17: output.columns[1]: unknown column 'clen_x0'; did you mean 'clean_x0'? "
        "(the manifold generator's columns: index, x0, x1, x2, clean_x0, clean_x1, clean_x2, "
        "u0, u1)"
    ) in stderr
    assert f"{spec}:9:26: output.columns[2]: column 'x0' is listed twice" in stderr


@pytest.mark.parametrize("columns", ["[]", "x0"])
def test_columns_is_a_non_empty_list(cli, write_spec, columns):
    code, _, stderr = cli("validate", write_spec(spec_with(f"  columns: {columns}\n")))
    assert code == 2 and "output.columns" in stderr


def test_a_file_generator_has_no_columns_to_keep(cli, write_spec):
    spec = write_spec(
        "synthc: 1\nname: ocr\nseed: 1\nsamples: 4\n"
        "generator:\n  kind: ocr_text\n  text: {source: dict, language: en, words: [1, 2]}\n"
        "output:\n  columns: [png]\n"
    )
    code, _, stderr = cli("validate", spec)
    assert code == 2
    assert (
        f"{spec}:9:12: output.columns: the ocr_text generator writes files per sample, not "
        "table columns; output.columns keeps columns of table generators only"
    ) in stderr


def test_related_tables_are_written_whole(cli, write_spec):
    spec = write_spec(
        "synthc: 1\nname: shop\nseed: 1\nsamples: 40\n"
        "generator:\n  kind: tabular\n  tables:\n"
        "    customers: {columns: {age: {dist: normal, mean: 40, std: 9}}}\n"
        "    orders:\n      parent: customers\n      rows_per_parent: {dist: poisson, lam: 2}\n"
        "      columns: {amount: {dist: normal, mean: parent.age, std: 1}}\n"
        "output:\n  columns: [age]\n"
    )
    code, _, stderr = cli("validate", spec)
    assert code == 2
    assert f"{spec}:14:12: output.columns: output.columns keeps columns of a spec of one table" in (
        stderr
    )


def test_the_preview_command_draws_the_columns_a_build_keeps(write_spec, tmp_path):
    """`synthc preview` draws the rows a build's shards hold: without the columns a spec
    leaves out (swiss_roll colours by u0, which [x0, x1, x2] drops)."""
    spec = write_spec(spec_with("  columns: [x0, x1, x2]\n"))
    out = api.build(spec, tmp_path / "out", workers=1).out
    drawn = api.preview(spec, samples=4000)
    assert (out / "preview.png").read_bytes() == drawn
    assert drawn != api.preview(write_spec(spec_with(), "full.yaml"), samples=4000)


@pytest.mark.parametrize(
    ("kept", "axes"),
    [(["x1", "x2"], [("x1", "x2")]), (["u1", "u0", "x2", "x0"], [("x0", "x2")])],
)
def test_a_points_preview_draws_whichever_coordinates_are_kept(write_spec, kept, axes):
    from synthc.outputs.caption import Caption
    from synthc.outputs.points_plot import points_chart

    spec = write_spec(spec_with(f"  columns: [{', '.join(kept)}]\n"))
    frame = api.sample(spec, 50)
    chart = points_chart(frame, Caption())
    assert [(p.x.label, p.y.label) for p in chart.panels] == axes
    assert all(p.points is not None and not p.note for p in chart.panels)


MOONS_10D = """\
synthc: 1
name: wide
seed: 1
samples: 200000
generator: {{kind: manifold, shape: moons, ambient_dim: 10, noise: 0.1}}
{output}"""


def test_default_shards_are_sized_by_the_columns_kept(write_spec):
    """The default shard size counts the bytes of the columns written: a spec keeping 3 of
    its columns gets shards of about as many bytes as one keeping them all (8 MiB at least
    while a split has enough samples), not 8 MiB of rows it no longer writes."""
    from synthc.compiler.shard_sizing import MIN_SHARD_BYTES, sample_bytes, shard_sizes

    whole = api.plan(write_spec(MOONS_10D.format(output=""), "whole.yaml"))
    kept_spec = write_spec(MOONS_10D.format(output="output: {columns: [x0, x1, label]}"))
    kept = api.plan(kept_spec)
    assert len(kept.tasks) < len(whole.tasks)
    spec = compile_spec(kept_spec).spec
    assert sample_bytes(spec.generator, spec.output.columns) == 3 * 8  # 8 bytes a value
    (size,) = shard_sizes(spec).values()
    assert size * 3 * 8 >= MIN_SHARD_BYTES or len(kept.tasks) == 1


def test_the_order_columns_are_listed_in_keeps_the_same_shards(cli, write_spec, tmp_path):
    """The kept columns are written in the generator's order however they are listed: the
    same task keys, so a rebuild after reordering keeps every shard and diff finds no change."""
    first = write_spec(spec_with("  columns: [u0, x0, x2]\n"), "a.yaml")
    again = write_spec(spec_with("  columns: [x2, u0, x0]\n"), "b.yaml")
    assert [t.key for t in api.plan(first).tasks] == [t.key for t in api.plan(again).tasks]
    out = tmp_path / "out"
    assert cli("build", first, "-o", out, "--workers", "1")[0] == 0
    code, stdout, _ = cli("build", again, "-o", out, "--workers", "1")
    assert code == 0 and "built 0 shard(s), kept 4" in stdout  # a new spec file, same shards
    other = tmp_path / "other"
    assert cli("build", first, "-o", other, "--workers", "1")[0] == 0
    code, stdout, stderr = cli("diff", out, other)
    assert code == 0, stdout + stderr


def test_a_long_name_is_quoted_in_part(cli, write_spec):
    """An unknown name of 100,000 characters makes a line of hundreds, whose end (the list of
    the generator's columns) still shows."""
    spec = write_spec(spec_with(f"  columns: [{'y' * 100_000}]\n"))
    code, _, stderr = cli("validate", spec)
    (line,) = stderr.strip().splitlines()[:1]
    assert code == 2 and len(line) < 1000
    assert "characters left out" in line and line.endswith("u0, u1)")
