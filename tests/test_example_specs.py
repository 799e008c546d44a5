"""Every example spec in specs/ builds and verifies (small where it takes --var samples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import webdataset as wds

from synthc import api

SPECS = sorted((Path(__file__).parents[1] / "specs").glob("*.yaml"))


def small(spec: Path) -> dict:
    """Variables that shrink a spec to a few seconds of building."""
    text = spec.read_text()
    if "var('classes'" in text:
        return {"classes": 4, "instances": 3}
    if "kind: ocr_text" in text:
        return {"samples": 200}
    return {"samples": 3000} if "var('samples'" in text else {}


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_example_spec_builds_and_verifies(spec, tmp_path):
    result = api.build(spec, tmp_path / "out", variables=small(spec), workers=1)
    api.verify(result.out)
    manifest = api.load_manifest(result.out)
    if manifest["output"]["format"] == "webdataset":
        tars = [str(p) for p in sorted(result.out.rglob("*.tar"))]
        keys = [s["__key__"] for s in wds.WebDataset(tars, shardshuffle=False)]
        assert sorted(int(k) for k in keys) == list(range(manifest["samples"]))
        return
    tables = manifest["schema"].get("tables")  # related tables: the root table's rows
    root = f"{next(iter(tables))}/" if tables else ""
    frame = pl.read_parquet(result.out / f"{root}*" / "*.parquet")
    assert frame.height == manifest["samples"] == result.plan.samples
    assert sorted(frame["index"].to_list()) == list(range(frame.height))


@pytest.mark.parametrize(
    "shape", ["swiss_roll", "s_curve", "sphere", "torus", "helix", "moons", "circles", "blobs"]
)
def test_zoo_builds_every_shape(shape, tmp_path):
    spec = Path(__file__).parents[1] / "specs" / "manifold_zoo.yaml"
    result = api.build(
        spec, tmp_path / shape, variables={"shape": shape, "samples": 500}, workers=1
    )
    manifest = api.load_manifest(result.out)
    assert manifest["generator"]["config"]["shape"] == shape
    facts = manifest["generator"]["facts"]
    frame = pl.read_parquet(result.out / "*" / "*.parquet")
    assert frame.height == manifest["samples"] == 500
    schema = manifest["schema"]["columns"]
    assert frame.columns == [column["name"] for column in schema]
    assert [str(frame[c["name"]].dtype).lower() for c in schema] == [c["dtype"] for c in schema]
    names = set(frame.columns)
    ambient = facts["ambient_dim"]
    assert {f"x{d}" for d in range(ambient)} | {f"clean_x{d}" for d in range(ambient)} <= names
    assert f"x{ambient}" not in names
    assert {f"u{k}" for k in range(facts["intrinsic_dim"])} <= names
    assert f"u{facts['intrinsic_dim']}" not in names
    floats = frame.select(pl.col(pl.Float64))
    assert floats.width >= 2 * ambient
    assert all(floats[c].is_finite().all() for c in floats.columns)
    # The noise is the spec's 0.02 standard deviation around the clean point.
    residual = np.concatenate(
        [(frame[f"x{d}"] - frame[f"clean_x{d}"]).to_numpy() for d in range(ambient)]
    )
    assert 0.015 < residual.std() < 0.025
