"""Large facts go to .npy files beside the manifest, listed, hashed and verified; small stay."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import spec_text
from pydantic import TypeAdapter

from synthc import generators, limits
from synthc.generators.manifold.facts import random_rotation
from synthc.outputs.fact_files import split_facts

ROTATED = "kind: manifold\n  shape: swiss_roll\n  ambient_dim: 70\n  rotate: true"


def test_a_large_rotation_is_an_npy_file_the_manifest_lists_and_verify_checks(
    cli, write_spec, tmp_path
):
    assert limits.MAX_INLINE_FACT_NUMBERS < 70 * 70
    spec = write_spec(spec_text(samples=200, shard_size=100, generator=ROTATED))
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["generator"]["facts"]["rotation"]
    assert entry["file"] == "facts/rotation.npy" and entry["shape"] == [70, 70]
    assert entry["dtype"] == "<f8" and len(entry["sha256"]) == 64
    assert "facts/rotation.npy" in manifest["files"]
    assert "facts/rotation.npy" in json.loads((out / ".synthc" / "state.json").read_text())["files"]
    stored = np.load(out / "facts" / "rotation.npy", allow_pickle=False)
    assert np.array_equal(stored, random_rotation(7, 70))
    assert (out / "manifest.json").stat().st_size < 4900 * 15  # the matrix inline is larger
    assert cli("verify", out)[0] == 0

    stored[0, 0] += 1
    np.save(out / "facts" / "rotation.npy", stored)
    code, _, err = cli("verify", out)
    assert code == 1 and "facts/rotation.npy: sha256 does not match the manifest" in err
    (out / "facts" / "rotation.npy").unlink()
    code, _, err = cli("verify", out)
    assert code == 1 and "facts/rotation.npy: missing" in err
    # The build owns it: a rebuild writes it back, and a lost state is rebuilt with it.
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    assert cli("verify", out)[0] == 0
    shutil.rmtree(out / ".synthc")
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "up to date" in stdout


def test_small_facts_stay_inline_exactly():
    generator = generators.get("manifold")
    config = TypeAdapter(generator.Config).validate_python(
        {"kind": "manifold", "shape": "swiss_roll", "ambient_dim": 5, "rotate": True}
    )
    facts = generator.facts(config, 3)
    inline, files = split_facts(facts)
    assert files == {} and inline == {**facts, "rotation": facts["rotation"].tolist()}


@pytest.mark.parametrize(
    "value, moved",
    [
        (list(range(limits.MAX_INLINE_FACT_NUMBERS)), False),
        (list(range(limits.MAX_INLINE_FACT_NUMBERS + 1)), True),
        (["a"] * (limits.MAX_INLINE_FACT_NUMBERS + 1), False),
        ([[1.0, 2.0]] * limits.MAX_INLINE_FACT_NUMBERS, True),
    ],
)
def test_only_numeric_arrays_above_the_limit_move_to_files(value, moved):
    inline, files = split_facts({"group": {"values": value}})
    assert bool(files) == moved
    if moved:
        assert list(files) == ["facts/group.values.npy"]
        assert inline["group"]["values"]["file"] == "facts/group.values.npy"
    else:
        assert inline["group"]["values"] == value
