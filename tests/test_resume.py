"""A build killed with SIGKILL resumes, keeps its finished shards, and ends byte-identical."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import spec_text

from synthc import api

STATE = Path(".synthc") / "state.json"


def finished_shards(out: Path) -> int:
    try:
        return len(json.loads((out / STATE).read_text())["shards"])
    except (OSError, ValueError):
        return 0


def worker_servers() -> set[int]:
    """Pids of multiprocessing helper processes (workers, trackers) on this machine."""
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and b"from multiprocessing." in (proc / "cmdline").read_bytes():
                found.add(int(proc.name))
        except OSError:
            continue
    return found


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_build_resumes_to_identical_bytes(write_spec, tmp_path, workers):
    spec = write_spec(spec_text(samples=3_000_000, shard_size=20_000))
    out = tmp_path / "killed"
    servers_before = worker_servers()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "synthc",
            "build",
            str(spec),
            "-o",
            str(out),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while finished_shards(out) < 5 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = finished_shards(out)
    assert 5 <= done_before < 150, "the build must be killed part-way"
    assert not (out / "manifest.json").exists()
    # The worker server sees its client die and exits; workers die with it (PR_SET_PDEATHSIG).
    deadline = time.monotonic() + 10
    while worker_servers() - servers_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker_servers() - servers_before, "workers outlived the killed build"

    resumed = api.build(spec, out, workers=workers)
    assert resumed.kept >= done_before and resumed.built == 150 - resumed.kept
    assert not list(out.rglob("*.partial"))

    clean = api.build(spec, tmp_path / "clean", workers=1)
    assert clean.built == 150
    assert shard_bytes(out) == shard_bytes(tmp_path / "clean")
    killed_manifest, clean_manifest = api.load_manifest(out), api.load_manifest(clean.out)
    for key in ("splits", "content_sha256", "generator", "schema"):
        assert killed_manifest[key] == clean_manifest[key]
    api.verify(out)


OCR_SPEC = """\
synthc: 1
name: ocr-resume
seed: 9
samples: 400
generator:
  kind: ocr_text
  text: {source: dict, language: en, words: [1, 2]}
  background: {kinds: [plain, gaussian_noise]}
output: {shard_size: 10}
"""


def test_killed_process_pool_build_leaves_no_workers_and_resumes(write_spec, tmp_path):
    """The OCR generator holds the GIL, so its workers are spawned processes."""
    spec = write_spec(OCR_SPEC)
    out = tmp_path / "killed"
    servers_before = worker_servers()
    process = subprocess.Popen(
        [sys.executable, "-m", "synthc", "build", str(spec), "-o", str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while finished_shards(out) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert worker_servers() - servers_before, "an OCR build runs worker processes"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = finished_shards(out)
    assert 3 <= done_before < 40, "the build must be killed part-way"
    deadline = time.monotonic() + 10
    while worker_servers() - servers_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker_servers() - servers_before, "workers outlived the killed build"

    resumed = api.build(spec, out, workers=2)
    assert resumed.kept >= done_before and resumed.built == 40 - resumed.kept
    clean = api.build(spec, tmp_path / "clean", workers=1)
    tars = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.tar"))}
    assert tars == {
        str(p.relative_to(clean.out)): p.read_bytes() for p in sorted(clean.out.rglob("*.tar"))
    }
    api.verify(out)
