"""Building into a directory that holds another dataset (another spec name) needs --force."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_synthc, spec_text

STATE = Path(".synthc") / "state.json"


@pytest.fixture
def torus_out(write_spec, tmp_path):
    """A built dataset named 'torus', and a spec named 'swiss-roll'."""
    torus = write_spec(spec_text(name="torus", samples=200, shard_size=100), "torus.yaml")
    swiss = write_spec(spec_text(name="swiss-roll", samples=200, shard_size=100), "swiss.yaml")
    out = tmp_path / "out"
    assert run_synthc("build", torus, "-o", out, "--workers", "1").returncode == 0
    return swiss, out


def files_of(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def assert_refused(swiss: Path, out: Path, *extra: str) -> None:
    before = files_of(out)
    result = run_synthc("build", swiss, "-o", out, *extra)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"synthc: error: {out}: holds the dataset 'torus', not 'swiss-roll' (the spec's name); "
        "rerun with --force to replace it, or choose another directory with -o"
    ]
    assert files_of(out) == before, "a refused build must not touch the directory"


def test_another_dataset_is_refused_and_left_alone(torus_out):
    swiss, out = torus_out
    assert json.loads((out / STATE).read_text())["dataset"] == "torus"
    assert_refused(swiss, out)
    assert_refused(swiss, out, "--dry-run")
    assert run_synthc("verify", out).returncode == 0


def test_the_dataset_is_known_from_an_older_state_an_unfinished_build_or_the_manifest(torus_out):
    swiss, out = torus_out
    # a state written before synthc recorded the name: the manifest's name decides
    state = json.loads((out / STATE).read_text())
    (out / STATE).write_text(json.dumps({k: v for k, v in state.items() if k != "dataset"}))
    assert_refused(swiss, out)
    # a verifying manifest without any state: the manifest's name decides
    shutil.move(out / ".synthc", out.parent / "saved-state")
    assert_refused(swiss, out)
    # a build that stopped half-way has no manifest; its state still names the dataset
    shutil.move(out.parent / "saved-state", out / ".synthc")
    (out / STATE).write_text(json.dumps(state))
    (out / "manifest.json").unlink()
    assert_refused(swiss, out)


def test_force_replaces_the_other_dataset(torus_out):
    swiss, out = torus_out
    result = run_synthc("build", swiss, "-o", out, "--force")
    assert result.returncode == 0, result.stderr
    assert "replacing the dataset 'torus' with 'swiss-roll' (--force)" in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dataset"]["name"] == "swiss-roll"
    assert run_synthc("verify", out).returncode == 0
    again = run_synthc("build", swiss, "-o", out)
    assert again.returncode == 0 and "up to date" in again.stdout
