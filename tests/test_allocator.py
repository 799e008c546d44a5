"""synthc's own processes (the `synthc` command, the local executor's spawned workers) reuse
freed shard buffers instead of faulting fresh pages in for every shard (synthc.allocator); a
program that imports synthc keeps its allocator as it was, and so does a user's own setting."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Twenty shards of seven 2 MB columns (250,000 float64 values, a shard of the scale benchmark),
# made in a worker thread as the local executor makes them, after three to warm up: the page
# faults they cost. Each new page costs one: 20 x 7 x 489 = 68,460 when none is reused.
PROBE = textwrap.dedent(
    """
    import resource, sys, threading
    import numpy as np
    sys.argv = ["synthc", *sys.argv[1:]]
    {call}

    def shard():
        columns = [np.ones(250_000) for _ in range(7)]
        return sum(float(c[-1]) for c in columns)

    def shards():
        for _ in range(3):
            shard()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):
            shard()
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)

    faults = []
    worker = threading.Thread(target=shards)
    worker.start()
    worker.join()
    print("faults", faults[0])
    """
)
FRESH_PAGES = 20 * 7 * (250_000 * 8 // 4096)


def _faults(call: str, *args: str, env: dict[str, str] | None = None) -> int:
    # without glibc settings of its own, but ``env``'s (a Dask nanny started in this test
    # process, by an earlier test, leaves MALLOC_TRIM_THRESHOLD_ in os.environ)
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(call=call), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**inherited, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split("faults")[-1])


def _spec(tmp_path: Path) -> str:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "synthc: 1\nname: a\nseed: 1\nsamples: 10\ngenerator: {kind: manifold, shape: moons}\n"
    )
    return str(spec)


def test_without_it_every_shard_faults_its_pages_in():
    # what the setting is for: glibc maps each 2 MB column afresh and unmaps it when freed
    assert _faults("") >= FRESH_PAGES * 0.9


def test_freed_columns_are_reused_after_reuse_freed_memory():
    call = "from synthc.allocator import reuse_freed_memory; assert reuse_freed_memory()"
    assert _faults(call) < FRESH_PAGES * 0.02


def test_the_command_takes_it(tmp_path):
    call = "from synthc.cli import main; main()"
    assert _faults(call, "validate", _spec(tmp_path)) < FRESH_PAGES * 0.02


def test_spawned_workers_take_it():
    call = "from synthc.executors import local; local._worker_init()"
    assert _faults(call) < FRESH_PAGES * 0.02


def test_a_program_importing_synthc_keeps_its_allocator(tmp_path):
    call = f"from synthc.cli import main; main(['validate', {_spec(tmp_path)!r}])"
    assert _faults(call) >= FRESH_PAGES * 0.9


def test_the_users_own_malloc_setting_wins():
    call = "from synthc.allocator import reuse_freed_memory; assert not reuse_freed_memory()"
    # glibc reads this at start; synthc leaves both thresholds to the user then
    faults = _faults(call, env={"MALLOC_TRIM_THRESHOLD_": "131072"})
    assert faults >= FRESH_PAGES * 0.9


def test_the_users_glibc_tunables_win():
    call = "from synthc.allocator import reuse_freed_memory; assert not reuse_freed_memory()"
    tunables = {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"}
    assert _faults(call, env=tunables) >= FRESH_PAGES * 0.9
