"""synthc's own processes get one BLAS thread (synthc.blas_threads): NumPy's import starts no
OpenBLAS threads there, so a cold build can fork its compile helper; a program that imports
synthc, and a user's own OPENBLAS_NUM_THREADS, keep theirs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# the threads of the process once NumPy is imported, after ``call`` (the start-up GC timer's
# thread ended first, as synthc.compile_ahead ends it before it counts threads to fork)
PROBE = textwrap.dedent(
    """
    import os, sys
    sys.argv = ["synthc", *sys.argv[1:]]
    {call}
    from synthc import startup_gc
    startup_gc.resume()
    import numpy
    print("threads", len(os.listdir("/proc/self/task")), os.environ.get("OPENBLAS_NUM_THREADS"))
    """
)


def _threads(call: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    inherited = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(call=call), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**inherited, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    threads, setting = done.stdout.split("threads")[-1].split()
    return int(threads), setting


SPEC = "synthc: 1\nname: a\nseed: 1\nsamples: 10\ngenerator: {kind: manifold, shape: moons}\n"


def test_numpy_starts_blas_threads_on_its_own():
    # what the setting is for (this machine has two CPUs, the CI machine too)
    assert os.cpu_count() and os.cpu_count() >= 2
    assert _threads("")[0] >= 2


def test_the_command_runs_one_thread(write_spec):
    call = "from synthc.cli import main; main()"
    assert _threads(call, "validate", str(write_spec(SPEC))) == (1, "1")


def test_a_program_importing_synthc_keeps_its_blas_threads(write_spec):
    call = f"from synthc.cli import main; main(['validate', {str(write_spec(SPEC))!r}])"
    threads, setting = _threads(call)
    assert threads >= 2 and setting == "None"


def test_the_users_own_setting_wins(write_spec):
    call = "from synthc.cli import main; main()"
    env = {"OPENBLAS_NUM_THREADS": "2"}
    assert _threads(call, "validate", str(write_spec(SPEC)), env=env) == (2, "2")
