"""Planning: every sample in exactly one shard, splits as documented, keys that track content."""

from __future__ import annotations

import pytest
from conftest import spec_text
from hypothesis import given, settings
from hypothesis import strategies as st

from synthc import api
from synthc.compiler import splits as splitting
from synthc.compiler.planning import plan
from synthc.compiler.splits import split_counts, split_ranges
from synthc.compiler.validation import validate_data

LIBS = {"numpy": "1", "numba": "1", "polars": "1"}


def make_spec(samples: int, shard_size: int, splits: dict, **generator):
    data = {
        "synthc": 1,
        "name": "p",
        "seed": 5,
        "samples": samples,
        "splits": splits,
        "generator": {"kind": "manifold", "shape": "swiss_roll", **generator},
        "output": {"shard_size": shard_size},
    }
    return validate_data(data, lambda path, prefer_key, offset: None)


fractions = st.lists(st.integers(1, 100), min_size=1, max_size=4).map(
    lambda ws: {f"s{i}": w / sum(ws) for i, w in enumerate(ws)}
)


@settings(max_examples=150, deadline=None)
@given(samples=st.integers(1, 5000), shard_size=st.integers(1, 2000), splits=fractions)
def test_plan_covers_every_sample_exactly_once(samples, shard_size, splits):
    if abs(sum(splits.values()) - 1) > 1e-9:  # float rounding of generated fractions
        return
    tasks = plan(make_spec(samples, shard_size, splits), LIBS).tasks
    covered = sorted((t.start, t.stop) for t in tasks)
    position = 0
    for start, stop in covered:
        assert start == position and start < stop <= start + shard_size
        position = stop
    assert position == samples
    assert len({t.path for t in tasks}) == len(tasks)
    assert len({t.key for t in tasks}) == len(tasks)


@given(samples=st.integers(0, 10**9), weights=st.lists(st.integers(1, 50), min_size=1, max_size=6))
def test_fraction_counts_sum_to_samples_and_round_closely(samples, weights):
    splits = {f"s{i}": w / sum(weights) for i, w in enumerate(weights)}
    counts = split_counts(splits, samples)
    assert sum(counts.values()) == samples
    for name, count in counts.items():
        assert abs(count - splits[name] * samples) < 1 + 1e-6 * samples


def test_empty_splits_name_the_sample_count_from_which_each_gets_one():
    empty_splits = splitting.empty_splits
    splits = {"train": 0.9, "val": 0.05, "test": 0.05}
    # 3 samples: train 3; from 7 the leftover sample goes to val, from 14 one to test as well
    assert empty_splits(splits, 3) == {"val": 7, "test": 14}
    assert empty_splits(splits, 10) == {"test": 14}
    assert empty_splits(splits, 14) == {}
    # a split given 0 is empty on purpose
    assert empty_splits({"train": 3, "val": 0}, 3) == {}
    assert empty_splits({"train": 1.0, "val": 0.0}, 3) == {}


@given(samples=st.integers(1, 300), weights=st.lists(st.integers(1, 400), min_size=2, max_size=5))
@settings(max_examples=200)
def test_an_empty_split_has_a_sample_at_every_count_from_the_one_named(samples, weights):
    splits = {f"s{i}": w / sum(weights) for i, w in enumerate(weights)}
    counts = split_counts(splits, samples)
    empty = splitting.empty_splits(splits, samples)
    assert set(empty) == {name for name, count in counts.items() if count == 0}
    for name, first in empty.items():
        assert first > samples
        assert all(split_counts(splits, n)[name] >= 1 for n in range(first, first + 500))
        assert first - 1 == samples or split_counts(splits, first - 1)[name] == 0


def test_validate_plan_and_build_warn_once_about_empty_splits(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=3, splits="{train: 0.9, val: 0.05, test: 0.05}"))
    warning = (
        f"synthc: warning: {spec}: splits: 3 samples leave val and test empty (a sample each "
        "from samples: 7 on for val, 14 on for test)"
    )
    out = tmp_path / "out"
    for command in (["validate", spec], ["plan", spec], ["build", spec, "-o", out]):
        code, _, err = cli(*command)
        assert code == 0, err
        assert [line for line in err.splitlines() if "warning" in line] == [warning]
    manifest = api.load_manifest(out)  # empty splits are built as before, and open
    assert {name: split["samples"] for name, split in manifest["splits"].items()} == {
        "train": 3,
        "val": 0,
        "test": 0,
    }
    assert api.open_dataset(out)["val"].lazy().collect().height == 0
    assert "warning" not in cli("build", spec, "-o", out, "-q")[2]
    for samples in (14, 1000):
        text = spec_text(samples=samples, splits="{train: 0.9, val: 0.05, test: 0.05}")
        assert "warning" not in cli("validate", write_spec(text))[2]


def test_splits_are_consecutive_ranges_in_spec_order():
    assert split_ranges({"train": 0.8, "val": 0.1, "test": 0.1}, 1000) == {
        "train": (0, 800),
        "val": (800, 900),
        "test": (900, 1000),
    }
    assert split_ranges({"b": 3, "a": 7}, 10) == {"b": (0, 3), "a": (3, 10)}


def test_shard_paths_and_ranges():
    tasks = plan(make_spec(1000, 300, {"train": 0.8, "test": 0.2}), LIBS).tasks
    assert [(t.path, t.start, t.stop) for t in tasks] == [
        ("train/train-00000.parquet", 0, 300),
        ("train/train-00001.parquet", 300, 600),
        ("train/train-00002.parquet", 600, 800),
        ("test/test-00000.parquet", 800, 1000),
    ]


def test_plan_is_pure_and_keys_track_what_shapes_bytes():
    base = plan(make_spec(1000, 500, {"train": 1.0}), LIBS)
    assert base == plan(make_spec(1000, 500, {"train": 1.0}), LIBS)
    assert base.to_json() == plan(make_spec(1000, 500, {"train": 1.0}), LIBS).to_json()
    # More samples: the first shards hold the same samples, so their keys stay.
    grown = plan(make_spec(1500, 500, {"train": 1.0}), LIBS)
    assert [t.key for t in grown.tasks[:2]] == [t.key for t in base.tasks]
    # A generator change, a library upgrade or a codec change changes every key.
    noisier = plan(make_spec(1000, 500, {"train": 1.0}, noise=0.5), LIBS)
    upgraded = plan(make_spec(1000, 500, {"train": 1.0}), {**LIBS, "polars": "2"})
    for other in (noisier, upgraded):
        assert not {t.key for t in other.tasks} & {t.key for t in base.tasks}


@pytest.mark.parametrize(
    ("splits", "message"),
    [
        ({"train": 0.5, "test": 0.4}, "sum to 0.9"),
        ({"train": 600, "test": 300}, "sum to 900"),
        ({"train": 0.5, "test": 500}, "not both"),
        ({}, "at least one split"),
        ({"bad name": 1.0}, "must match"),
    ],
)
def test_bad_splits_are_spec_errors(splits, message):
    from synthc.errors import SpecError

    with pytest.raises(SpecError, match=message):
        make_spec(1000, 100, splits)
