"""Planning: every sample in exactly one shard, splits as documented, keys that track content."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
