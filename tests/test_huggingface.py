"""Hugging Face `datasets` loads a built output directory as it is, through its dataset card."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import spec_text

import synthc
from synthc import api

SPECS = Path(__file__).parents[1] / "specs"


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def load(out: Path):
    from datasets import load_dataset

    return load_dataset(str(out), cache_dir=str(out.parent / "hf-cache"))


def test_a_point_cloud_output_loads_with_every_split(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=1000, shard_size=300))
    out = api.build(spec, tmp_path / "out", workers=1).out
    ds = load(out)
    assert {name: len(split) for name, split in ds.items()} == {"train": 800, "test": 200}
    assert ds["train"].features["x0"].dtype == "float64"


def test_a_table_with_enums_and_dates_loads(tmp_path):
    out = api.build(SPECS / "churn.yaml", tmp_path / "out", variables={"samples": 2000}).out
    ds = load(out)
    row = ds["train"][0]
    assert row["region"] in {"north", "south", "east", "west"}
    assert ds["train"].features["signup"].dtype == "date32"
    assert len(ds["val"]) == 200


def test_image_outputs_load_with_their_labels(tmp_path):
    out = api.build(SPECS / "fractal_small.yaml", tmp_path / "out", workers=1).out
    ds = load(out)
    sample = ds["train"][0]
    assert sample["png"].size == (128, 128)
    assert sample["cls"] == sample["json"]["class"]
    assert len(ds["train"]) + len(ds["val"]) == 200


def test_the_card_names_the_real_splits_and_its_loading_code_loads_them(
    write_spec, tmp_path, monkeypatch
):
    import yaml

    spec = write_spec(spec_text(samples=600, shard_size=300, splits="{a: 0.5, b: 0.5}"))
    out = api.build(spec, tmp_path / "out", workers=1).out
    card = (out / "README.md").read_text()
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["configs"][0]["data_files"] == [
        {"split": "a", "path": ["a/a-00000.parquet"]},
        {"split": "b", "path": ["b/b-00000.parquet"]},
    ]
    assert "train" not in card
    code = card.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(out)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own generated card
    assert {k: v.height for k, v in namespace["frames"].items()} == {"a": 300, "b": 300}
    assert {k: len(v) for k, v in namespace["ds"].items()} == {"a": 300, "b": 300}


def test_a_webdataset_cards_loading_code_reads_every_split_even_one_no_identifier(
    tmp_path, monkeypatch
):
    spec = tmp_path / "fractal.yaml"
    text = (SPECS / "fractal_small.yaml").read_text()
    spec.write_text(text.replace("{train: 0.8, val: 0.2}", "{a: 0.5, b.1: 0.5}"))
    out = api.build(spec, tmp_path / "out", workers=1).out
    card = (out / "README.md").read_text()
    code = card.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(out)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own generated card
    assert {k: sum(1 for _ in v) for k, v in namespace["pipelines"].items()} == {
        "a": 100,
        "b.1": 100,
    }
    assert {k: len(v) for k, v in namespace["ds"].items()} == {"a": 100, "b.1": 100}


def test_a_stray_shard_named_file_in_a_split_folder_is_not_loaded(write_spec, tmp_path):
    import shutil

    spec = write_spec(spec_text(samples=1000, shard_size=300))
    out = api.build(spec, tmp_path / "out", workers=1).out
    shutil.copy(out / "train" / "train-00000.parquet", out / "train" / "train-99999.parquet")
    manifest = api.load_manifest(out)
    counts = {name: len(split) for name, split in load(out).items()}
    assert counts == {s: v["samples"] for s, v in manifest["splits"].items()}
    assert counts == {"train": 800, "test": 200}


def test_many_shards_are_named_by_patterns_that_match_no_stray_file(write_spec, tmp_path):
    import shutil

    import yaml

    spec = write_spec(spec_text(samples=1000, shard_size=10))
    out = api.build(spec, tmp_path / "out", workers=2).out
    front = yaml.safe_load((out / "README.md").read_text().split("---\n")[1])
    files = {f["split"]: f["path"] for f in front["configs"][0]["data_files"]}
    assert files["train"] == ["train/train-000[0-7][0-9].parquet"]  # 80 shards
    assert len(files["test"]) == 20  # few enough to list
    for stray in ("train-00080.parquet", "train-0008.parquet", "train-000800.parquet"):
        shutil.copy(out / "train" / "train-00000.parquet", out / "train" / stray)
    counts = {name: len(split) for name, split in load(out).items()}
    assert counts == {"train": 800, "test": 200}


def test_a_stray_shard_named_file_beside_a_table_is_not_loaded(tmp_path):
    import shutil

    spec = SPECS / "customers_orders.yaml"
    out = api.build(spec, tmp_path / "out", variables={"samples": 300}, workers=1).out
    for table in ("customers", "orders"):
        folder = out / table / "train"
        shutil.copy(folder / "train-00000.parquet", folder / "train-00001.parquet")
    from datasets import load_dataset

    cache = str(tmp_path / "hf-cache")
    manifest = api.load_manifest(out)
    for table in ("customers", "orders"):
        ds = load_dataset(str(out), table, cache_dir=cache)
        assert {s: len(v) for s, v in ds.items()} == {
            s: v["tables"][table]["samples"] for s, v in manifest["splits"].items()
        }


def test_related_tables_load_one_config_per_table(tmp_path):
    spec = SPECS / "customers_orders.yaml"
    out = api.build(spec, tmp_path / "out", variables={"samples": 300}, workers=1).out
    from datasets import load_dataset

    cache = str(tmp_path / "hf-cache")
    orders = load_dataset(str(out), "orders", cache_dir=cache)
    customers = load_dataset(str(out), cache_dir=cache)  # the root table is the default
    manifest = api.load_manifest(out)
    assert len(orders["test"]) == manifest["splits"]["test"]["tables"]["orders"]["samples"]
    assert len(customers["train"]) == 240
    assert set(orders["train"][0]) == {"index", "customers_id", "amount", "express", "placed"}


def test_an_empty_split_does_not_stop_the_directory_loading(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=40, shard_size=30, splits="{a: 1.0, none: 0.0}"))
    out = api.build(spec, tmp_path / "out", workers=1).out
    assert {name: len(split) for name, split in load(out).items()} == {"a": 40}


def test_an_empty_split_of_related_tables_does_not_stop_a_table_loading(tmp_path):
    spec = tmp_path / "related.yaml"
    text = (SPECS / "customers_orders.yaml").read_text()
    spec.write_text(text.replace("{train: 0.8, test: 0.2}", "{train: 1.0, none: 0.0}"))
    out = api.build(spec, tmp_path / "out", variables={"samples": 20}, workers=1).out
    assert list(load(out)) == ["train"]


def test_a_related_tables_cards_loading_code_loads_in_its_directory(tmp_path, monkeypatch):
    spec = SPECS / "customers_orders.yaml"
    out = api.build(spec, tmp_path / "out", variables={"samples": 20}, workers=1).out
    code = (out / "README.md").read_text().split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(out)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own generated card
    items = synthc.open(out, table="items")
    assert {k: len(v) for k, v in namespace["ds"].items()} == {
        name: len(split) for name, split in items.splits.items()
    }


def test_a_table_without_rows_has_no_config_and_the_cards_code_loads(tmp_path, monkeypatch):
    spec = tmp_path / "related.yaml"
    spec.write_text((SPECS / "customers_orders.yaml").read_text().replace("lam: 5", "lam: 0"))
    out = api.build(spec, tmp_path / "out", variables={"samples": 20}, workers=1).out
    from datasets import load_dataset

    with pytest.raises(ValueError, match="BuilderConfig 'orders' not found"):
        load_dataset(str(out), "orders", cache_dir=str(tmp_path / "hf-cache"))
    code = (out / "README.md").read_text().split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(out)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own generated card
    assert {k: len(v) for k, v in namespace["ds"].items()} == {"train": 16, "test": 4}


def test_shard_patterns_match_exactly_the_shards_numbers():
    import fnmatch

    from synthc.outputs.table_card import shard_paths

    names = [f"a/a-{i:05d}.tar" for i in range(12000)]
    for count in (65, 99, 100, 101, 1234, 9999, 10000, 10001, 12000):
        patterns = shard_paths([{"path": name} for name in names[:count]])
        assert len(patterns) <= 5
        matched = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        assert matched == names[:count], count
    listed = [{"path": f"a/a-{i:05d}.tar"} for i in (0, 1, *range(3, 70))]  # not numbered on
    assert shard_paths(listed) == [s["path"] for s in listed]
