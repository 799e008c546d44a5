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


def descendants(pid: int) -> set[tuple[int, bytes]]:
    """(pid, start time) of every live descendant of ``pid``, read from its children lists.

    Only the build's own process tree is looked at, so other Python processes on the machine
    (another test session, an IDE) cannot be mistaken for its workers. The start time tells a
    worker from a later process that reuses its pid.
    """
    found: set[tuple[int, bytes]] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                pids = [int(child) for child in children.read_text().split()]
            except (OSError, ValueError):
                continue
            for child in pids:
                started = start_time(child)
                if started is not None:
                    found.add((child, started))
                    todo.append(child)
    return found


def start_time(pid: int) -> bytes | None:
    """The start time of a running ``pid`` (None once it has exited or is a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in (b"Z", b"X") else fields[19]


def survivors(processes: set[tuple[int, bytes]]) -> set[int]:
    """The pids of ``processes`` that are still running, after up to ten seconds of waiting."""
    deadline = time.monotonic() + 10
    while True:
        alive = {pid for pid, started in processes if start_time(pid) == started}
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def kill_after_first_shards(command: list[str], out: Path, shards: int) -> set:
    """Start a build, SIGKILL it once ``shards`` shards are recorded while it still runs, and
    return the processes it had started."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: set[tuple[int, bytes]] = set()
    deadline = time.monotonic() + 120
    while finished_shards(out) < shards and process.poll() is None:
        assert time.monotonic() < deadline, "the build recorded no shard in two minutes"
        seen |= descendants(process.pid)
        time.sleep(0.01)
    seen |= descendants(process.pid)
    assert process.poll() is None, "the build finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    return seen


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


@pytest.mark.parametrize("workers", [1, 2])
def test_killed_build_resumes_to_identical_bytes(write_spec, tmp_path, workers):
    spec = write_spec(spec_text(samples=400_000, shard_size=2_000))
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "synthc", "build", str(spec), "-o", str(out)]
    started = kill_after_first_shards(command + ["--workers", str(workers)], out, 1)
    done_before = finished_shards(out)
    assert 1 <= done_before < 200, "the build must be killed part-way"
    assert not (out / "manifest.json").exists()
    # Helper processes see their client die and exit; workers die with it (PR_SET_PDEATHSIG).
    assert not survivors(started), "workers outlived the killed build"

    resumed = api.build(spec, out, workers=workers)
    assert resumed.kept >= done_before and resumed.built == 200 - resumed.kept
    assert not list(out.rglob("*.partial"))

    clean = api.build(spec, tmp_path / "clean", workers=1)
    assert clean.built == 200
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
    command = [sys.executable, "-m", "synthc", "build", str(spec), "-o", str(out)]
    started = kill_after_first_shards(command + ["--workers", "2"], out, 3)
    assert len(started) >= 2, "an OCR build runs worker processes"
    done_before = finished_shards(out)
    assert 3 <= done_before < 40, "the build must be killed part-way"
    assert not survivors(started), "workers outlived the killed build"

    resumed = api.build(spec, out, workers=2)
    assert resumed.kept >= done_before and resumed.built == 40 - resumed.kept
    clean = api.build(spec, tmp_path / "clean", workers=1)
    tars = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.tar"))}
    assert tars == {
        str(p.relative_to(clean.out)): p.read_bytes() for p in sorted(clean.out.rglob("*.tar"))
    }
    api.verify(out)
