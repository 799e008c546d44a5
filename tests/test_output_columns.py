"""output.columns: a table dataset keeps only the columns a spec lists, in its shards (read with
polars), its manifest's schema and its card; changing the list rebuilds; bad names are spec
errors with positions."""

from __future__ import annotations

import polars as pl
import pytest

import synthc
from synthc import api

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
