"""Sample i depends only on (seed, config, i): not on workers, shard size or executor."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from conftest import spec_text

from synthc import api
from synthc.executors.local import LocalExecutor

GENERATOR = "kind: manifold\n  shape: moons\n  noise: 0.1\n  ambient_dim: 5\n  rotate: true"


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def test_one_and_two_workers_give_identical_bytes(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=4000, shard_size=500, generator=GENERATOR))
    one = api.build(spec, tmp_path / "one", workers=1)
    two = api.build(spec, tmp_path / "two", workers=2)
    assert one.built == two.built == 9
    assert shard_bytes(tmp_path / "one") == shard_bytes(tmp_path / "two")
    m1, m2 = api.load_manifest(tmp_path / "one"), api.load_manifest(tmp_path / "two")
    assert m1["content_sha256"] == m2["content_sha256"]
    assert {k: v for k, v in m1.items() if k != "build"} == {
        k: v for k, v in m2.items() if k != "build"
    }


def test_thread_and_process_workers_give_identical_bytes(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=3000, shard_size=500, generator=GENERATOR))
    for mode in ("threads", "processes"):
        result = api.build(spec, tmp_path / mode, executor=LocalExecutor(2, mode=mode))
        assert result.built == len(result.plan.tasks) > 2
    assert shard_bytes(tmp_path / "threads") == shard_bytes(tmp_path / "processes")


def read_all(out: Path) -> pl.DataFrame:
    return pl.concat([pl.read_parquet(p) for p in sorted(out.rglob("*.parquet"))]).sort("index")


def test_shard_size_changes_files_not_samples(write_spec, tmp_path):
    frames = {}
    for size in (4000, 333, 37):
        spec = write_spec(spec_text(samples=4000, shard_size=size, generator=GENERATOR))
        api.build(spec, tmp_path / f"s{size}", workers=1)
        frames[size] = read_all(tmp_path / f"s{size}")
    assert len(list((tmp_path / "s37").rglob("*.parquet"))) == 87 + 22
    assert frames[4000].equals(frames[333])
    assert frames[4000].equals(frames[37])


def test_sample_values_depend_only_on_the_index(write_spec, tmp_path):
    # 40 samples split differently from 4000, yet sample i is the same sample in both.
    small = write_spec(spec_text(samples=40, shard_size=1, generator=GENERATOR), "small.yaml")
    big = write_spec(spec_text(samples=4000, shard_size=900, generator=GENERATOR), "big.yaml")
    api.build(small, tmp_path / "small", workers=1)
    api.build(big, tmp_path / "big", workers=1)
    joined = read_all(tmp_path / "small").join(read_all(tmp_path / "big"), on="index", suffix="_b")
    assert joined.height == 40
    for column in ("x0", "clean_x4", "u0", "label"):
        assert (joined[column] == joined[f"{column}_b"]).all()


def test_another_seed_gives_other_samples(write_spec, tmp_path):
    a = api.build(write_spec(spec_text(seed=1, generator=GENERATOR)), tmp_path / "a", workers=1)
    b = api.build(write_spec(spec_text(seed=2, generator=GENERATOR)), tmp_path / "b", workers=1)
    assert shard_bytes(a.out) != shard_bytes(b.out)
