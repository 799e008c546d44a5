"""A Dask cluster of real processes on loopback, as users run one: a ``dask scheduler`` and
``dask worker`` processes started here with the ``dask`` command, stopped (and checked gone) at
the end."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: seconds to wait for the scheduler's file and for the workers to register
START_SECONDS = 90


#: an OCR spec whose shards take long enough to be caught while they are written
OCR = """\
synthc: 1
name: ocr-dask
seed: 5
samples: {samples}
generator:
  kind: ocr_text
  text: {{source: dict, language: en, words: [1, 2]}}
  background: {{kinds: [plain]}}
output: {{shard_size: {shard_size}}}
"""


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


@dataclass
class DaskProcesses:
    """The scheduler's address and the processes started for it."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)


def build_argv(spec: Path, out: Path | str, address: str, *options: str) -> list[str]:
    """The command line of `synthc build SPEC -o OUT --scheduler ADDRESS OPTIONS...`."""
    return [sys.executable, "-m", "synthc", "build", str(spec), "-o", str(out),
            "--scheduler", address, *options]  # fmt: skip


def _dask(*args: str, env: dict[str, str] | None, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args],
            env={**os.environ, **(env or {})},
            # not the repository: `python -m` puts the working directory first on sys.path, and
            # the synthc.egg-info an editable install leaves there would shadow the worker's
            # own installed metadata (as a worker on a cluster never runs from a checkout)
            cwd=log.parent,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # anything its group left behind


def _group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def dask_processes(
    root: Path, workers: int = 2, worker_env: dict[str, str] | None = None
) -> Iterator[DaskProcesses]:
    """A scheduler and ``workers`` single-threaded worker processes without nannies (the
    process that runs a task is the one started here; none is a cluster scaling up, which
    :func:`start_worker` joins later), their files and logs under ``root``;
    ``worker_env`` is added to the workers' environment."""
    root.mkdir(parents=True, exist_ok=True)
    scheduler_file = root / "scheduler.json"
    log = root / "dask.log"
    scheduler = _dask(
        "scheduler",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-dashboard",
        "--scheduler-file",
        str(scheduler_file),
        env=None,
        log=log,
    )
    cluster = DaskProcesses("", scheduler)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not (address := _written_address(scheduler_file)):
            if scheduler.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Dask scheduler did not start:\n{log.read_text()}")
            time.sleep(0.1)
        cluster.address = address
        for number in range(workers):
            cluster.workers.append(start_worker(cluster, root, f"w{number}", worker_env))
        if workers:
            wait_for_workers(cluster.address, workers, log)
        yield cluster
    finally:
        for process in [*cluster.workers, scheduler]:
            _stop(process)
        leftovers = [p.pid for p in [*cluster.workers, scheduler] if _group_alive(p.pid)]
        assert not leftovers, f"Dask processes left running: {leftovers}"


def _written_address(scheduler_file: Path) -> str | None:
    """The address in the scheduler's file once it is written whole (it is created empty and
    filled after: read too early, it was no JSON)."""
    try:
        address = json.loads(scheduler_file.read_text())["address"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return address if isinstance(address, str) else None


def start_worker(
    cluster: DaskProcesses, root: Path, name: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A ``dask worker`` process of one thread, no nanny, joining ``cluster``."""
    return _dask(
        "worker",
        cluster.address,
        "--name",
        name,
        "--nworkers",
        "1",
        "--nthreads",
        "1",
        "--no-nanny",
        "--no-dashboard",
        "--host",
        "127.0.0.1",
        "--death-timeout",
        "60",  # a worker whose scheduler is gone exits by itself
        "--local-directory",
        str(root / name),
        env=env,
        log=root / "dask.log",
    )


def wait_for_workers(address: str, workers: int, log: Path) -> None:
    """Until ``workers`` workers are registered with the scheduler at ``address``."""
    from distributed import Client

    with Client(address, set_as_default=False, timeout="30s") as client:
        try:
            client.wait_for_workers(workers, timeout=START_SECONDS)
        except TimeoutError:
            raise RuntimeError(f"the Dask workers did not start:\n{log.read_text()}") from None


def open_partials(pid: int, out: Path) -> list[Path]:
    """The shard temporaries (``*.partial``) under ``out`` that process ``pid`` has open."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            target = Path(os.readlink(fd))
        except OSError:
            continue
        if target.name.endswith(".partial") and target.is_relative_to(out):
            found.append(target)
    return found
