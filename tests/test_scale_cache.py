"""The pilot sample's scales kept on disk (synthc.generators.tabular.scale_cache): read back with
the same bits, keyed on the config and seed, and a file of any other shape is no cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydantic import TypeAdapter
from test_cache_files import returns_unblocked

from synthc import api
from synthc.generators.tabular import GENERATOR, scale_cache, scales
from synthc.generators.tabular.config import TabularConfig

COLUMNS = {
    "age": {"dist": "uniform", "low": 20, "high": 80},
    "risk": {"expr": "2 * age", "noise": {"dist": "normal", "std": 1}, "standardize": True},
    "debt": {"expr": "age * age", "standardize": True},
    "score": {"dist": "lognormal", "mu": 1, "sigma": 0.5, "standardize": True},  # closed form
}


def config_of(columns: dict) -> TabularConfig:
    config: TabularConfig = TypeAdapter(GENERATOR.Config).validate_python(
        {"kind": "tabular", "columns": columns}
    )
    return config


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own, and nothing remembered in this process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(scales, "_CACHE", {})
    return tmp_path / "cache" / "synthc" / scale_cache.FOLDER


class Pilots:
    """Counts the pilot samples drawn (scales.draw_columns with learn=True)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.drawn = 0
        real = scales.draw_columns

        def counted(*args, **kwargs):
            self.drawn += kwargs.get("learn", False)
            return real(*args, **kwargs)

        monkeypatch.setattr(scales, "draw_columns", counted)


def fresh(config: TabularConfig, seed: int) -> dict[str, scales.Scale]:
    """scales() as a new process finds them: nothing remembered in memory."""
    scales._CACHE.clear()
    return scales.scales(config, seed)


def test_pilot_scales_are_kept_on_disk_and_read_back_with_their_bits(own_cache, monkeypatch):
    pilots = Pilots(monkeypatch)
    config = config_of(COLUMNS)
    first = fresh(config, 7)
    assert pilots.drawn == 1
    assert [p.name for p in own_cache.iterdir()] == [
        f"{scale_cache._key(config.model_dump_json(), 7)}.json"
    ]
    again = fresh(config, 7)
    assert pilots.drawn == 1  # read, not drawn
    assert again == first
    assert {name: s.method for name, s in again.items()} == {
        "risk": "pilot",
        "debt": "pilot",
        "score": "closed form",
    }
    fresh(config, 8)  # another seed, another file
    fresh(config_of({**COLUMNS, "age": {"dist": "uniform", "low": 20, "high": 81}}), 7)
    assert pilots.drawn == 3 and len(list(own_cache.iterdir())) == 3


def test_a_build_with_kept_scales_writes_the_bytes_of_one_that_drew_them(write_spec, tmp_path):
    columns = "\n".join(f"    {name}: {json.dumps(column)}" for name, column in COLUMNS.items())
    spec = write_spec(
        "synthc: 1\nname: kept\nseed: 4\nsamples: 300\nsplits: {train: 0.8, test: 0.2}\n"
        f"generator:\n  kind: tabular\n  columns:\n{columns}\n"
    )
    built = []
    for name in ("drawn", "kept"):
        scales._CACHE.clear()
        built.append(api.build(spec, tmp_path / name, workers=1).out)
    manifests = [json.loads((out / "manifest.json").read_text()) for out in built]
    assert manifests[0]["content_sha256"] == manifests[1]["content_sha256"]
    assert manifests[0]["generator"] == manifests[1]["generator"]


def rewrite(path: Path, value: object) -> None:
    path.write_text(value if isinstance(value, str) else json.dumps(value))


@pytest.mark.parametrize(
    "damage",
    [
        lambda found: {**found, "key": "0" * 64},
        lambda found: {**found, "extra": 1},
        lambda found: {"key": found["key"], "scales": {"risk": found["scales"]["risk"]}},
        lambda found: {**found, "scales": {**found["scales"], "age": [1.0, 1.0]}},
        lambda found: {**found, "scales": {**found["scales"], "risk": [1.0, 0.0]}},
        lambda found: {**found, "scales": {**found["scales"], "risk": [1.0, -2.0]}},
        lambda found: {**found, "scales": {**found["scales"], "risk": [1, 2]}},
        lambda found: {**found, "scales": {**found["scales"], "risk": [1.0, 2.0, 3.0]}},
        lambda found: {**found, "scales": {**found["scales"], "risk": [1e308, 1e309]}},
        lambda found: {**found, "scales": [found["scales"]]},
        lambda found: [found],
        lambda found: json.dumps(found)[:-3],
        lambda found: json.dumps(found).replace("]", ", NaN]", 1),
    ],
    ids=[
        "other key",
        "extra field",
        "a column missing",
        "a column more",
        "std zero",
        "std negative",
        "integers",
        "three numbers",
        "infinite",
        "a list of scales",
        "a list",
        "cut short",
        "NaN",
    ],
)
def test_a_cache_file_of_another_shape_is_no_cache(own_cache, monkeypatch, damage):
    pilots = Pilots(monkeypatch)
    config = config_of(COLUMNS)
    expected = fresh(config, 7)
    (path,) = own_cache.iterdir()
    found = json.loads(path.read_text())
    rewrite(path, damage(found))
    assert fresh(config, 7) == expected
    assert pilots.drawn == 2  # drawn again ...
    assert json.loads(path.read_text()) == found  # ... and the file written whole again


def test_a_fifo_at_the_cache_path_is_not_waited_on(own_cache, monkeypatch):
    config = config_of(COLUMNS)
    expected = fresh(config, 7)
    (path,) = own_cache.iterdir()
    path.unlink()
    os.mkfifo(path)
    pilots = Pilots(monkeypatch)
    assert returns_unblocked(path, lambda: fresh(config, 7)) == expected
    assert pilots.drawn == 1


def test_a_full_cache_folder_takes_no_more_files(own_cache, monkeypatch):
    monkeypatch.setattr(scale_cache, "MAX_FILES", 2)
    config = config_of(COLUMNS)
    for seed in range(4):
        fresh(config, seed)
    assert len(list(own_cache.iterdir())) == 2
