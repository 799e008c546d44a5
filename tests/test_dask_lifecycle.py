"""A Dask build's life around its tasks, on real scheduler and worker processes: it waits
for workers a cluster has not started yet (or whose workers all left) and says so, for at most
--worker-wait seconds; once stopped (Ctrl-C, a killed client)
nothing of it is put in place and what it put in place is recorded; workers that cannot see
the output directory are said so."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import spec_text
from dask_processes import OCR, build_argv, dask_processes, open_partials, start_worker, tree

from synthc import api
from synthc.errors import BuildError
from synthc.progress import LineProgress


def test_a_scheduler_without_workers_is_waited_for_and_said_so(write_spec, tmp_path):
    """A cluster that is scaling up (dask-jobqueue's jobs still queued) has no workers yet:
    the build says at once what it waits for, its progress lines say it instead of
    "compiling or starting", and it runs when a worker joins."""
    spec = write_spec(spec_text(samples=2_000, shard_size=500))
    out = tmp_path / "out"
    log = tmp_path / "stderr.txt"
    with dask_processes(tmp_path / "cluster", workers=0) as cluster, open(log, "w") as err:
        build = subprocess.Popen(
            build_argv(spec, out, cluster.address),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        said = (
            f"waiting for workers to join the Dask scheduler at {cluster.address} for up to 600 s"
        )
        deadline = time.monotonic() + 60
        while said not in log.read_text():
            assert build.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(1)
        assert build.poll() is None and not out.joinpath("manifest.json").exists()
        cluster.workers.append(start_worker(cluster, tmp_path / "cluster", "late"))
        stdout, _ = build.communicate(timeout=120)
    stderr = log.read_text()
    assert build.returncode == 0, stderr
    assert f"synthc: {said} (Ctrl-C stops the build)" in stderr.splitlines()
    assert "built 5 shard(s)" in stdout
    assert api.load_manifest(out)["build"]["workers"] == 1  # it said 0: none at the start
    assert tree(out) == tree(api.build(spec, tmp_path / "local", workers=1).out)
    api.verify(out)


@contextlib.contextmanager
def killed_at_end(builds: dict[Any, subprocess.Popen[str]]) -> Iterator[None]:
    """Kill the ``builds`` (as they are at the end of the block) still running then: a build
    that hangs fails its test on a timeout and is not left behind."""
    try:
        yield
    finally:
        for build in builds.values():
            if build.poll() is None:
                build.kill()
                build.communicate()


def test_a_scheduler_no_worker_joins_is_given_up_on_after_worker_wait(write_spec, tmp_path):
    """A scheduler whose workers never come (their jobs stuck in the queue, or unable to reach
    it) held the build for ever, and with --quiet without a word: after --worker-wait seconds
    without a worker it is a usage error naming the scheduler and the option."""
    spec = write_spec(spec_text(samples=2_000, shard_size=500))
    builds: dict[bool, subprocess.Popen[str]] = {}
    with dask_processes(tmp_path / "cluster", workers=0) as cluster, killed_at_end(builds):
        for quiet in (False, True):
            builds[quiet] = subprocess.Popen(
                build_argv(spec, tmp_path / f"out-{quiet}", cluster.address, "--worker-wait", "2",
                           *(["--quiet"] if quiet else [])),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        # it waited for ever: a timeout fails the test
        stderr = {quiet: build.communicate(timeout=120)[1] for quiet, build in builds.items()}
    error = (
        f"synthc: error: no worker joined the Dask scheduler at {cluster.address} in 2 s; start "
        "workers for it"
    )
    said = f"waiting for workers to join the Dask scheduler at {cluster.address} for up to 2 s"
    for quiet, build in builds.items():
        assert build.returncode == 2, stderr[quiet]
        assert error in stderr[quiet] and "wait longer with --worker-wait SECONDS" in stderr[quiet]
        assert (said in stderr[quiet]) != quiet, stderr[quiet]
        assert "Traceback" not in stderr[quiet]
        assert not (tmp_path / f"out-{quiet}" / "manifest.json").exists()
    assert stderr[True].count("\n") == 1, stderr[True]


def test_workers_that_all_leave_mid_build_are_waited_for_then_given_up_on(write_spec, tmp_path):
    """Its only worker killed, the build's remaining tasks waited for ever for another: it says
    it waits, and after --worker-wait seconds stops (exit 1) keeping what was built; a rerun
    with a worker builds the rest."""
    spec = write_spec(OCR.format(samples=240, shard_size=5))
    out = (tmp_path / "out").resolve()
    builds: dict[str, subprocess.Popen[str]] = {}
    with dask_processes(tmp_path / "cluster", workers=1) as cluster, killed_at_end(builds):
        build = builds["build"] = subprocess.Popen(
            build_argv(spec, out, cluster.address, "--worker-wait", "2"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not list(out.rglob("*.tar")):
            assert build.poll() is None and time.monotonic() < deadline, "no shard was written"
            time.sleep(0.05)
        cluster.workers[0].kill()
        _, stderr = build.communicate(timeout=120)  # it waited for ever: a timeout fails it
        assert build.returncode == 1, stderr
        where = f"the Dask scheduler at {cluster.address}"
        assert f"synthc: waiting for workers to join {where} again for up to 2 s" in stderr
        assert f"every worker left {where} and none joined in 2 s" in stderr
        assert "the shards finished so far are kept" in stderr and "Traceback" not in stderr
        cluster.workers.append(start_worker(cluster, tmp_path / "cluster", "late"))
        rerun = subprocess.run(
            build_argv(spec, out, cluster.address, "--quiet"), capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert rerun.returncode == 0, rerun.stderr
    api.verify(out)


def test_a_line_progress_says_what_the_build_waits_for():
    clock = iter(range(0, 100, 20))
    progress = LineProgress(io.StringIO(), interval=10, clock=lambda: float(next(clock)))
    progress.start(2, 100)
    progress.waiting("workers to join the Dask scheduler at tcp://h:8786")
    progress.samples(0)
    progress.waiting(None)
    progress.samples(0)
    lines = progress.stream.getvalue().splitlines()
    assert lines == [
        "synthc: building 2 shard(s), 100 samples",
        "synthc: waiting for workers to join the Dask scheduler at tcp://h:8786 "
        "(Ctrl-C stops the build)",
        "synthc: 0/100 samples (0%), 0/2 shards, waiting for workers to join the Dask "
        "scheduler at tcp://h:8786",
        "synthc: 0/100 samples (0%), 0/2 shards, compiling or starting",
    ]


def test_a_line_progress_waiting_mid_build_shows_no_rate():
    # after samples had moved, its lines went on with the rate and time left of before
    clock = iter(range(0, 100, 20))
    progress = LineProgress(io.StringIO(), interval=10, clock=lambda: float(next(clock)))
    progress.start(2, 100)
    progress.samples(10)
    progress.samples(20)
    progress.waiting("workers to join the Dask scheduler at tcp://h:8786 again for up to 600 s")
    progress.samples(20)
    lines = progress.stream.getvalue().splitlines()
    assert lines[-1] == (
        "synthc: 20/100 samples (20%), 0/2 shards, waiting for workers to join the Dask "
        "scheduler at tcp://h:8786 again for up to 600 s"
    )


def files(out: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(out)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(out.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL])
def test_a_stopped_build_s_tasks_put_nothing_in_place_after_it_stops(stop, write_spec, tmp_path):
    """Dask cannot stop a running task: after a Ctrl-C the workers went on writing shards
    after the build had said "interrupted" and let go of its lock, over the next build's. Its
    tasks now stop at their next progress report (before the rename without one: --quiet, in
    the next test), and the build waits for them before it returns; a killed build's tasks
    stop when the scheduler drops its client."""
    spec = write_spec(OCR.format(samples=1200, shard_size=60))
    out = (tmp_path / "out").resolve()
    with dask_processes(tmp_path / "cluster", workers=2) as cluster:
        build = subprocess.Popen(
            build_argv(spec, out, cluster.address),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        writing: list[Path] = []
        while not writing:
            assert build.poll() is None and time.monotonic() < deadline, build.stderr
            writing = [p for w in cluster.workers for p in open_partials(w.pid, out)]
            time.sleep(0.005)
        build.send_signal(stop)
        # the shards being written when it stopped (a shard takes far longer than the cancel
        # takes to reach its worker)
        cut = [p.with_name(p.name.split(".")[0] + ".tar") for p in writing]
        _, stderr = build.communicate(timeout=120)
        if stop == signal.SIGINT:
            assert build.returncode == 130 and "interrupted" in stderr, stderr
        else:  # nobody waits: the tasks see the cancel a moment later
            assert build.returncode == -signal.SIGKILL
            deadline = time.monotonic() + 30
            while any(name.endswith(".partial") for name in files(out)):
                assert time.monotonic() < deadline, files(out)
                time.sleep(0.1)
        after = files(out)
        assert not [name for name in after if name.endswith(".partial")], after
        time.sleep(3)  # a task still running would put its shard in place meanwhile
        assert files(out) == after
        assert not [path for path in cut if path.exists()], cut
        assert all(worker.poll() is None for worker in cluster.workers)  # they keep serving
        code = subprocess.run(
            build_argv(spec, out, cluster.address, "--quiet"),
            capture_output=True,
            text=True,
        )  # fmt: skip
        assert code.returncode == 0, code.stderr
    api.verify(out)


def test_shards_of_a_batch_cut_short_are_recorded_and_removed_later(write_spec, tmp_path):
    """120 shards on two workers run three to a Dask task: a Ctrl-C cancels a batch whose first
    shards are in place, and their results never come back. They were never recorded: a
    smaller rebuild kept them, and `verify` failed on them for good (even after --force)."""
    spec = write_spec(OCR.format(samples=1200, shard_size=10))
    out = (tmp_path / "out").resolve()
    with dask_processes(tmp_path / "cluster", workers=2) as cluster:
        build = subprocess.Popen(
            build_argv(spec, out, cluster.address, "--quiet"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while len(list(out.rglob("*.tar"))) < 5:
            assert build.poll() is None and time.monotonic() < deadline, build.stderr
            time.sleep(0.01)
        build.send_signal(signal.SIGINT)
        _, stderr = build.communicate(timeout=120)
        assert build.returncode == 130, stderr
        after = files(out)
        time.sleep(3)  # without progress reports (--quiet) too, nothing lands after the stop
        assert files(out) == after
        assert not [name for name in after if name.endswith(".partial")], after
        on_disk = {str(p.relative_to(out)) for p in out.rglob("*.tar")}
        recorded = set(json.loads((out / ".synthc" / "state.json").read_text())["shards"])
        assert on_disk == recorded
        smaller = write_spec(OCR.format(samples=20, shard_size=10), name="smaller.yaml")
        done = subprocess.run(
            build_argv(smaller, out, cluster.address, "--quiet"),
            capture_output=True,
            text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    api.verify(out)  # no shard file the manifest does not list


class OwnDisks:
    """An executor whose workers write to disks of their own, as Dask workers on machines
    that do not share the output's file system do."""

    name = "dask"
    workers = 2

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, fn, items, where, read_roots, gil_free=False, report=None):
        for index, item in enumerate(items):
            yield index, fn(item, str(self.root / f"worker{index % 2}"), read_roots)


def test_workers_without_the_output_s_file_system_are_said_so(write_spec, tmp_path):
    # it said "out/train/train-00000.parquet: No such file or directory"
    spec = write_spec(spec_text(samples=100, shard_size=50))
    with pytest.raises(BuildError, match="a worker wrote this shard, but it is not there") as e:
        api.build(spec, tmp_path / "out", executor=OwnDisks(tmp_path / "disks"))
    assert "a shared file system" in str(e.value) and "-o s3://" in str(e.value)
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.parametrize(
    ("terminated", "interrupted", "again"),
    [(False, True, "a second Ctrl-C"), (True, True, "a second SIGTERM"), (False, False, "Ctrl-C")],
)
def test_the_stop_wait_names_the_signal_received(monkeypatch, terminated, interrupted, again):
    """While a stopped build waits for its running tasks, its line said "(Ctrl-C stops the
    build)" after a SIGTERM too; it now says what a second signal of the kind received does,
    and after a failed shard (no signal yet) it said "a second Ctrl-C" too."""
    from synthc import own_process
    from synthc.executors.dask import DaskExecutor, _Running

    monkeypatch.setattr(own_process, "_SIGTERM_RECEIVED", terminated, raising=False)
    running = _Running()
    running.started(0, "tcp://w:1")

    class Scheduler:
        def identity(self, n_workers: int) -> dict[str, Any]:
            return {"workers": {"tcp://w:1": {}}}

    class Client:
        scheduler = Scheduler()

        def sync(self, call: Any, *args: Any, callback_timeout: float, **kw: Any) -> Any:
            return call(*args, **kw)

    executor = DaskExecutor("tcp://127.0.0.1:8786")
    seen: list[str | None] = []

    def report(counts: dict[int, int]) -> None:
        seen.append(executor.stopping)
        running.ended(0)  # the task saw the cancel

    if interrupted:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            executor._wait_stopped(Client(), running, report)
    else:
        executor._wait_stopped(Client(), running, report)
    assert seen == [
        "waiting for 1 running Dask task(s) of this build to stop; they put nothing more in "
        f"place ({again} leaves them)"
    ]
    assert executor.stopping is None and executor.waiting is None
