"""The default shard size: shards that feed every worker, near a target in bytes, from the spec
alone; an explicit output.shard_size wins, and the samples never change with the layout."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import polars as pl
import pytest

from synthc import api
from synthc.compiler.shard_sizing import (
    MIN_SHARD_BYTES,
    TARGET_SHARD_BYTES,
    WORKERS,
    default_shard_size,
    sample_bytes,
)

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000


def fractal(classes: int, instances: int, *, size: int = 256, points: int = 20000) -> str:
    return (
        "synthc: 1\nname: fractals\nseed: 4\n"
        f"samples: {classes * instances}\n"
        "splits: {train: 0.8, val: 0.2}\n"
        "generator:\n  kind: fractal\n"
        f"  classes: {classes}\n  instances: {instances}\n"
        f"  render: {{size: {size}, points: {points}, mode: binary}}\n"
    )


def wide_table(rows: int, columns: int) -> str:
    body = "".join(f"    c{i}: {{dist: normal, mean: 0, std: 1}}\n" for i in range(columns))
    return (
        "synthc: 1\nname: wide\nseed: 5\n"
        f"samples: {rows}\n"
        "splits: {train: 0.9, test: 0.1}\n"
        "generator:\n  kind: tabular\n  columns:\n" + body
    )


def with_shard_size(text: str, size: int) -> str:
    return text + f"output: {{shard_size: {size}}}\n"


def shard_counts(plan) -> dict[str, list[int]]:
    sizes: dict[str, list[int]] = {}
    for task in plan.tasks:
        sizes.setdefault(task.split, []).append(task.samples)
    return sizes


def test_a_10000_image_fractal_spec_gets_several_shards_per_split(write_spec):
    plan = api.plan(write_spec(fractal(100, 100)))
    sizes = shard_counts(plan)
    assert len(sizes["train"]) == WORKERS  # 8,000 images: one shard for each of 8 workers
    assert len(sizes["val"]) >= 2  # 2,000 images: as many shards as hold 8 MiB each
    for split, samples in sizes.items():
        assert max(samples) - min(samples) <= 1, split  # evened out, no stub last shard
    assert sum(map(sum, sizes.values())) == 10_000


def test_a_tiny_split_stays_one_shard(write_spec):
    sizes = shard_counts(api.plan(write_spec(fractal(10, 20, size=128))))
    assert sizes == {"train": [160], "val": [40]}


def test_an_explicit_shard_size_wins(write_spec):
    text = fractal(100, 100)
    assert shard_counts(api.plan(write_spec(with_shard_size(text, 50_000)))) == {
        "train": [8000],
        "val": [2000],
    }
    sizes = shard_counts(api.plan(write_spec(with_shard_size(text, 3000))))
    assert sizes == {"train": [3000, 3000, 2000], "val": [2000]}


def test_a_wide_table_of_a_million_rows_gets_shards_in_the_target_byte_range(write_spec):
    spec = write_spec(wide_table(1_000_000, 127))
    row = sample_bytes(api.validate(spec).generator)
    assert row == 8 * 128  # 127 float columns and the index
    plan = api.plan(spec)
    train = [t for t in plan.tasks if t.split == "train"]
    assert len(train) >= WORKERS
    for task in train:
        assert 100 * MB <= task.samples * row <= 1000 * MB
    # The 100 MB test split is cut for 8 workers rather than kept in one target-sized shard.
    assert len(plan.tasks) - len(train) == WORKERS


def test_a_million_narrow_rows_get_shards_of_at_most_the_target(write_spec):
    spec = write_spec(wide_table(1_000_000, 3))
    row = sample_bytes(api.validate(spec).generator)
    plan = api.plan(spec)
    sizes = shard_counts(plan)
    # 900,000 rows of 32 bytes: 8 shards would hold 3.6 MB, under the 8 MiB floor (262,144
    # rows), so 4 shards, evened out; the 100,000 test rows (3.2 MB) stay one shard.
    assert sizes == {"train": [225_000] * 4, "test": [100_000]}
    assert all(task.samples * row <= TARGET_SHARD_BYTES for task in plan.tasks)


def test_the_rule_in_numbers():
    # At most the target in bytes however big the split, evened out over the shards it takes.
    by_bytes = TARGET_SHARD_BYTES // 1000
    shards = -(-(10**9) // by_bytes)
    assert default_shard_size(10**9, 1000) == -(-(10**9) // shards) <= by_bytes
    # Eight shards while each still holds the floor of 8 MiB; else shards of the floor.
    assert default_shard_size(80_000, 1000) == 10_000
    floor = -(-MIN_SHARD_BYTES // 1000)
    assert default_shard_size(4 * floor, 1000) == floor
    # A split smaller than the floor is one shard; a sample bigger than the target is alone.
    assert default_shard_size(100, 1000) == 100
    assert default_shard_size(5, 2 * TARGET_SHARD_BYTES) == 1
    assert default_shard_size(0, 1000) == 1


def test_plans_are_identical_across_calls_and_cpu_counts(write_spec):
    spec = write_spec(fractal(100, 100))
    first = api.plan(spec).to_json()
    assert api.plan(spec).to_json() == first
    # Another process that may use one CPU only plans the same shards.
    script = (
        "import json, os, sys\n"
        "os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
        "from synthc import api\n"
        "print(json.dumps(api.plan(sys.argv[1]).to_json()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(spec)], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == first


def tar_members(out: Path) -> dict[str, bytes]:
    members = {}
    for path in sorted(out.rglob("*.tar")):
        with tarfile.open(path) as tar:
            for info in tar.getmembers():
                data = tar.extractfile(info)
                assert data is not None
                members[info.name] = data.read()
    return members


def test_the_default_layout_holds_the_same_tar_samples_as_one_big_shard(write_spec, tmp_path):
    # 1024 px images are big enough that 400 of them make several shards by default.
    text = fractal(4, 100, size=1024, points=3000)
    new = api.build(write_spec(text, "new.yaml"), tmp_path / "new", workers=2)
    old = api.build(write_spec(with_shard_size(text, 50_000), "old.yaml"), tmp_path / "old")
    assert len(new.plan.tasks) > len(old.plan.tasks) == 2
    assert tar_members(new.out) == tar_members(old.out)
    assert len(tar_members(new.out)) == 3 * 400  # png, json and cls per image


def test_the_default_layout_holds_the_same_parquet_rows_as_one_big_shard(write_spec, tmp_path):
    # 300 columns: 2.4 KB a row, so 30,000 rows make several shards by default.
    text = wide_table(30_000, 300)
    new = api.build(write_spec(text, "new.yaml"), tmp_path / "new", workers=2)
    old = api.build(write_spec(with_shard_size(text, 50_000), "old.yaml"), tmp_path / "old")
    assert len(new.plan.tasks) > len(old.plan.tasks) == 2

    def rows(out: Path) -> pl.DataFrame:
        return pl.concat([pl.read_parquet(p) for p in sorted(out.rglob("*.parquet"))])

    assert rows(new.out).sort("index").equals(rows(old.out).sort("index"))


@pytest.mark.parametrize(
    ("spec", "variables"),
    [
        ("fractal_small.yaml", {}),
        ("ocr_lines.yaml", {"samples": 60}),
        ("moons.yaml", {"samples": 3000}),
        ("churn.yaml", {"samples": 3000}),
    ],
)
def test_the_estimate_is_within_a_factor_of_two_of_the_built_bytes(spec, variables, tmp_path):
    result = api.build(ROOT / "specs" / spec, tmp_path / "out", variables=variables, workers=1)
    manifest = api.load_manifest(result.out)
    built = manifest["bytes"] / manifest["samples"]
    estimate = sample_bytes(api.validate(ROOT / "specs" / spec, variables).generator)
    assert 0.5 <= estimate / built <= 2, (estimate, built)
