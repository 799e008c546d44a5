"""Helpers for benchmarks: run a command while sampling the RSS of its whole process tree;
write the bytecode of the code measured."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

_COMPILED: set[Path] = set()


def compile_bytecode(tree: Path, python: str = sys.executable) -> None:
    """Write the bytecode (.pyc) of the synthc package in ``tree``, as pip does when it installs
    a package. In a fresh checkout, in a tree edited since its last run, or wherever
    PYTHONDONTWRITEBYTECODE is set, each run would otherwise compile synthc's modules from
    source: 40-70 ms of every command that no user's install pays, and a bias between two trees
    compared in one run."""
    tree = tree.resolve()
    if tree not in _COMPILED:
        command = [python, "-m", "compileall", "-q", str(tree / "synthc")]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        _COMPILED.add(tree)


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += _rss_kib(current)
        stack += _children(current)
    return total


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run ``command``; return (wall seconds, peak RSS of its process tree in bytes)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kib(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
    return wall, peak * 1024


def synthc_build(
    spec: Path, out: Path, workers: int, *extra: str, env: dict[str, str] | None = None
) -> tuple[float, int]:
    """`synthc build SPEC -o OUT --workers N [extra...]` in a fresh process, into an empty
    ``out``, after flushing earlier runs' dirty pages: (wall seconds, peak RSS bytes)."""
    spec_of_synthc = importlib.util.find_spec("synthc")  # what `python -m synthc` runs
    if spec_of_synthc is not None and spec_of_synthc.origin is not None:
        compile_bytecode(Path(spec_of_synthc.origin).parents[1])
    shutil.rmtree(out, ignore_errors=True)
    os.sync()
    command = [sys.executable, "-m", "synthc", "build", str(spec), "-o", str(out)]
    return run_measured([*command, "--workers", str(workers), *extra], env)
