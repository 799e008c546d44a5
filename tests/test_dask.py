"""The Dask executor on real processes: a ``dask scheduler`` and ``dask worker`` processes on
loopback, started and stopped by the tests, give the same bytes as a local build; a worker killed
mid-shard does not fail the build; ``--executor dask`` starts a LocalCluster; version
mismatches and unreachable schedulers are usage errors."""

from __future__ import annotations

import contextlib
import ipaddress
import math
import operator
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import spec_text
from dask_processes import OCR, build_argv, dask_processes, open_partials, tree
from distributed import Client

from synthc import __version__, api
from synthc.building import Progress
from synthc.errors import UsageError
from synthc.executors.dask import DaskExecutor, mismatch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with dask_processes(tmp_path_factory.mktemp("dask"), workers=2) as processes:
        yield processes


@pytest.fixture(scope="module")
def scheduler(cluster):
    return cluster.address


def test_a_dask_build_equals_a_local_build(scheduler, cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=20_000, shard_size=2_000))
    code, stdout, stderr = cli("build", spec, "-o", tmp_path / "dask", "--scheduler", scheduler)
    assert code == 0, stderr
    assert "built 10 shard(s)" in stdout
    local = api.build(spec, tmp_path / "local", workers=1)
    assert tree(tmp_path / "dask") == tree(local.out)
    build = api.load_manifest(tmp_path / "dask")["build"]
    assert build["executor"] == "dask" and build["workers"] == 2
    api.verify(tmp_path / "dask")
    # an unchanged spec is up to date whichever executor built it
    code, stdout, _ = cli("build", spec, "-o", tmp_path / "dask", "--scheduler", scheduler)
    assert code == 0 and "up to date" in stdout


def test_an_unreachable_scheduler_is_a_usage_error(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=100, shard_size=50))
    executor = DaskExecutor("tcp://127.0.0.1:9", timeout=1)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        api.build(spec, tmp_path / "out", executor=executor)


@contextlib.contextmanager
def listener(answer: bytes | None, held: list[socket.socket] | None = None):
    """A TCP server on loopback that accepts and sends ``answer`` (None: says nothing and keeps
    the connection open); yields its address. ``held`` gets every connection it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    held = [] if held is None else held

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)
            if answer is not None:
                connection.recv(100)
                connection.sendall(answer)
                connection.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for connection in held:
            connection.close()


def test_an_address_that_is_no_scheduler_is_a_usage_error(cluster, cli, write_spec, tmp_path):
    # a server that accepted and never answered (an HTTP port, the dashboard's) held the build
    # forever; one answering in another protocol, or a worker's address, was an internal error
    spec = write_spec(spec_text(samples=100, shard_size=50))
    with listener(None) as silent:
        started = time.monotonic()
        with pytest.raises(UsageError, match="nothing answered as a Dask scheduler within 1 s"):
            api.build(spec, tmp_path / "a", executor=DaskExecutor(silent, timeout=1))
        assert time.monotonic() - started < 30
    with listener(b"HTTP/1.1 400 Bad Request\r\n\r\n") as http:
        code, _, stderr = cli("build", spec, "-o", tmp_path / "b", "--scheduler", http)
        assert code == 2 and stderr.count("\n") == 1, stderr  # checked before "building"
        assert f"cannot reach the Dask scheduler at {http}: " in stderr
    with Client(cluster.address, set_as_default=False) as client:
        worker = next(iter(client.scheduler_info()["workers"]))
    code, _, stderr = cli("build", spec, "-o", tmp_path / "c", "--scheduler", worker)
    assert code == 2 and "(is it a scheduler's address?)" in stderr, stderr
    code, _, stderr = cli("build", spec, "-o", tmp_path / "t", "--scheduler", "tls://127.0.0.1:9")
    assert code == 2 and "TLS" in stderr and "internal error" not in stderr, stderr
    for address in ("garbage", "tcp://127.0.0.1", ""):
        code, _, stderr = cli("build", spec, "-o", tmp_path / "d", "--scheduler", address, "-q")
        assert code == 2 and stderr.startswith("synthc: error: ") and "\n" not in stderr[:-1]
    assert not (tmp_path / "d").exists()  # a malformed address is refused before any work


def test_a_scheduler_that_did_not_answer_is_not_waited_for_again(cli, write_spec, tmp_path):
    """Several specs in one command: the first waits for the scheduler; the others get its
    error at once (each waited its own 10 s)."""
    specs = [
        write_spec(spec_text(name=f"s{n}", samples=100, shard_size=50), name=f"s{n}.yaml")
        for n in range(3)
    ]
    accepted: list[socket.socket] = []
    with listener(None, accepted) as silent, api.shared_local_clusters():
        for number, spec in enumerate(specs):
            executor = DaskExecutor(silent, timeout=1)
            with pytest.raises(UsageError, match="nothing answered as a Dask scheduler"):
                api.build(spec, tmp_path / f"out{number}", executor=executor)
        assert len(accepted) == 1
    code, _, stderr = cli("build", *specs, "-o", tmp_path / "cli", "--scheduler", "127.0.0.1:9")
    assert code == 2
    assert stderr.count("cannot reach the Dask scheduler at 127.0.0.1:9") == 3, stderr


def test_a_scheduler_that_goes_away_mid_build_is_said_so(write_spec, tmp_path):
    # its futures came back cancelled, and the build blamed a shard: "failed: NoneType: None"
    spec = write_spec(OCR.format(samples=240, shard_size=5))
    with dask_processes(tmp_path / "cluster", workers=1) as cluster:
        build = subprocess.Popen(
            build_argv(spec, tmp_path / "out", cluster.address, "--quiet"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not list((tmp_path / "out").rglob("*.tar")):
            assert build.poll() is None and time.monotonic() < deadline, build.stderr
            time.sleep(0.05)
        cluster.scheduler.kill()
        _, stderr = build.communicate(timeout=120)
    assert build.returncode == 1, stderr
    assert f"the Dask scheduler at {cluster.address} cancelled the build's tasks" in stderr
    assert "NoneType" not in stderr and "Traceback" not in stderr


def test_ctrl_c_of_a_local_cluster_build_is_one_line(write_spec, tmp_path):
    # a Ctrl-C reaches the whole process group: each LocalCluster worker printed a traceback
    spec = write_spec(OCR.format(samples=2000, shard_size=20))
    build = subprocess.Popen(
        [sys.executable, "-m", "synthc", "build", str(spec), "-o", str(tmp_path / "out")]
        + ["--executor", "dask", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not list((tmp_path / "out").rglob("*.tar")):
        assert build.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(build.pid, signal.SIGINT)
    _, stderr = build.communicate(timeout=120)
    assert build.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.rstrip().endswith(
        "synthc: interrupted; finished shards are kept, run the build again to resume"
    )


def test_a_local_cluster_has_no_more_workers_than_tasks():
    executor = DaskExecutor(workers=10**20)  # it built a dict of that many before
    assert dict(executor.run(math.sqrt, [4.0, 9.0])) == {0: 2.0, 1: 3.0}
    assert executor.workers == 2


def test_a_local_cluster_s_own_logs_are_not_printed_by_the_command(capsys):
    """The cluster --executor dask starts is synthc's: its scheduler's and nannies' records
    (a loaded machine's "Worker process still alive after 4.0 seconds, killing" as the build
    closed it) are not the user's business; those of the client and of other code are."""
    import logging

    from synthc.executors.dask import _local_cluster
    from synthc.library_logs import show_library_logs

    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        show_library_logs(debug=False)
        with _local_cluster(1):
            logging.getLogger("distributed.nanny").warning("Worker process still alive")
            logging.getLogger("distributed.core").warning("Event loop was unresponsive")
            logging.getLogger("distributed.client").warning("client says")
            logging.getLogger("fsspec").warning("a store says")
        logging.getLogger("distributed.nanny").warning("outside a cluster of ours")
    finally:
        root.handlers[:] = saved
    err = capsys.readouterr().err
    assert "still alive" not in err and "unresponsive" not in err
    assert "synthc: distributed.client: client says" in err
    assert "synthc: fsspec: a store says" in err
    assert "synthc: distributed.nanny: outside a cluster of ours" in err


def test_workers_and_scheduler_do_not_mix(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=100, shard_size=50))
    code, _, stderr = cli("build", spec, "--workers", "2", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and "a Dask cluster has its own workers" in stderr


def test_workers_find_the_files_a_spec_names_beside_it(scheduler, cli, tmp_path):
    # The cluster's worker processes started before this spec was compiled: the spec's read
    # roots travel with its tasks, as the output directory does.
    import shutil

    from synthc.generators.ocr.resources import trdg_root

    specs = tmp_path / "specs"
    specs.mkdir()
    font = sorted((trdg_root() / "fonts" / "latin").glob("*.ttf"))[0]
    shutil.copy(font, specs / "mine.ttf")
    (specs / "words.txt").write_text("alpha\nbeta\ngamma\n")
    spec = specs / "spec.yaml"
    spec.write_text(
        "synthc: 1\nname: beside\nseed: 3\nsamples: 6\n"
        "generator:\n  kind: ocr_text\n"
        "  text: {source: file, path: words.txt}\n"
        "  fonts: {paths: [mine.ttf]}\n"
        "  background: {kinds: [plain]}\n"
        "output: {shard_size: 2}\n"
    )
    code, _, stderr = cli("build", spec, "-o", tmp_path / "dask", "--scheduler", scheduler)
    assert code == 0, stderr
    local = api.build(spec, tmp_path / "local", workers=1)
    tars = {
        p.relative_to(tmp_path / "dask"): p.read_bytes() for p in (tmp_path / "dask").rglob("*.tar")
    }
    assert tars and tars == {
        p.relative_to(local.out): p.read_bytes() for p in local.out.rglob("*.tar")
    }


def tars(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.tar"))}


def executed(address: str) -> dict[str, int]:
    """Tasks each worker of the cluster at ``address`` has run so far, by worker name."""

    def count(dask_worker: Any) -> tuple[str, int]:
        return str(dask_worker.name), int(dask_worker.state.executed_count)

    with Client(address, set_as_default=False) as client:
        return dict(client.run(count).values())


class Counted(Progress):
    def __init__(self) -> None:
        self.counts: list[int] = []
        self.shards = 0

    def samples(self, done: int) -> None:
        self.counts.append(done)

    def advance(self, record: dict[str, Any]) -> None:
        self.shards += 1


def test_progress_counts_samples_across_worker_processes(cluster, write_spec, tmp_path):
    spec = write_spec(OCR.format(samples=120, shard_size=20))
    before = executed(cluster.address)
    progress = Counted()
    api.build(spec, tmp_path / "out", scheduler=cluster.address, progress=progress)
    after = executed(cluster.address)
    ran = {name: after[name] - before.get(name, 0) for name in after}
    # both worker processes wrote shards, and every sample of both is counted once
    assert sorted(ran) == ["w0", "w1"] and all(n > 0 for n in ran.values()), ran
    assert sum(ran.values()) >= 6  # the version check runs no task
    assert progress.shards == 6
    assert progress.counts == sorted(progress.counts) and progress.counts[-1] == 120


def test_many_tasks_run_in_batches_of_consecutive_ones(cluster):
    """200 tasks on two one-thread workers run as 34 Dask tasks of up to 6; every task's
    result comes back once, under its own index."""
    from synthc.executors.dask import batch_size

    assert batch_size(200, 2) == 6
    before = executed(cluster.address)
    results = dict(DaskExecutor(cluster.address).run(math.sqrt, [i * i for i in range(200)]))
    after = executed(cluster.address)
    assert results == {i: float(i) for i in range(200)}
    assert sum(after.values()) - sum(before.values()) == 34  # ceil(200 / 6)


def test_a_failing_task_in_a_batch_is_named_by_its_own_index(cluster):
    from synthc.executors.base import TaskFailed

    items = [float(i) for i in range(200)]
    items[77] = -1.0  # math.sqrt: ValueError, math domain error
    with pytest.raises(TaskFailed) as failed:
        list(DaskExecutor(cluster.address).run(math.sqrt, items))
    assert failed.value.index == 77
    assert isinstance(failed.value.error, ValueError) and "domain" in str(failed.value.error)


def test_a_failure_that_cannot_be_pickled_still_names_its_task(cluster):
    """Dask replaces an exception it cannot pickle, with whatever holds it, by a bare one:
    the failing task is still named, with the error's type and message."""
    import unpicklable_failure

    from synthc.executors.base import TaskFailed

    with Client(cluster.address, set_as_default=False) as client:
        client.upload_file(unpicklable_failure.__file__)  # the workers import it from there
    with pytest.raises(TaskFailed) as failed:
        tasks = list(range(200))
        list(DaskExecutor(cluster.address).run(unpicklable_failure.fails_at_five, tasks))
    assert failed.value.index == 5
    assert str(failed.value.error) == "Unpicklable: shard five broke"


def test_batches_keep_tasks_per_thread_and_stay_small():
    from synthc.executors.dask import MAX_BATCH, TASKS_PER_THREAD, batch_size

    assert batch_size(8, 2) == 1  # few tasks: one each, as before
    assert batch_size(TASKS_PER_THREAD * 2 * 2, 2) == 2
    assert batch_size(10_000, 2) == MAX_BATCH  # a cluster that grows later can spread them
    assert batch_size(200, 100) == 1
    assert batch_size(200, 0) == 1  # no worker yet (a cluster scaling up): its size is unknown


@pytest.mark.parametrize(
    ("samples", "shard_size", "batch"), [(240, 30, 1), (480, 5, 3)], ids=["one", "batches"]
)
def test_a_worker_killed_mid_shard_does_not_fail_the_build(
    samples, shard_size, batch, write_spec, tmp_path
):
    """SIGKILL the worker process that has a shard's temporary open: the scheduler reruns
    its task (with 96 shards, a batch of three whose others may be written already) on the
    other worker, and the dataset is the local build's, byte for byte."""
    from synthc.executors.dask import batch_size

    shards = samples // shard_size
    assert batch_size(shards, 2) == batch
    spec = write_spec(OCR.format(samples=samples, shard_size=shard_size))
    out = (tmp_path / "dask").resolve()
    with dask_processes(tmp_path / "cluster", workers=2) as cluster:
        build = subprocess.Popen(
            build_argv(spec, out, cluster.address, "--quiet"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        victim, partial = None, None
        deadline = time.monotonic() + 120
        while victim is None:
            assert build.poll() is None, "the build ended before a shard was caught mid-write"
            assert time.monotonic() < deadline, "no worker was seen writing a shard"
            for worker in cluster.workers:
                writing = open_partials(worker.pid, out)
                if writing:
                    victim, partial = worker, writing[0]
                    os.kill(worker.pid, signal.SIGKILL)
                    break
            else:
                time.sleep(0.005)
        assert victim.wait(timeout=30) == -signal.SIGKILL
        stdout, stderr = build.communicate(timeout=300)
    assert build.returncode == 0, stderr
    assert partial is not None and partial.name.endswith(".partial") and ".tar." in partial.name
    assert not list(out.rglob("*.partial"))  # the rerun wrote it again and renamed it
    local = api.build(spec, tmp_path / "local", workers=1)
    assert tars(out) == tars(local.out) and len(tars(out)) == shards
    manifest = api.load_manifest(out)
    assert manifest["content_sha256"] == api.load_manifest(local.out)["content_sha256"]
    api.verify(out)


def test_executor_dask_starts_a_local_cluster_for_the_build(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=6_000, shard_size=1_000))
    import polars  # noqa: F401  (its import sets _RJEM_MALLOC_CONF: before the snapshot)

    environment = dict(os.environ)
    code, stdout, stderr = cli(
        "build", spec, "-o", tmp_path / "dask", "--executor", "dask", "--workers", "2"
    )
    assert code == 0, stderr
    # the cluster's nannies set their variables (OMP_NUM_THREADS=1, ...) in this process: undone
    assert dict(os.environ) == environment
    assert "built 7 shard(s)" in stdout
    build = api.load_manifest(tmp_path / "dask")["build"]
    assert build["executor"] == "dask" and build["workers"] == 2
    local = api.build(spec, tmp_path / "local", workers=1)
    assert tree(tmp_path / "dask") == tree(local.out)
    # and reproduce takes the same option
    code, stdout, stderr = cli(
        "reproduce", tmp_path / "dask", "--root", tmp_path, "--executor", "dask", "--workers", "1"
    )
    assert code == 0, stderr


def test_executor_local_and_a_scheduler_do_not_mix(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=100, shard_size=50))
    code, _, stderr = cli("build", spec, "--executor", "local", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and "drop --executor local" in stderr


def test_an_inproc_scheduler_on_the_command_line_is_a_usage_error(cli, write_spec, tmp_path):
    # it said "cannot reach ...: ValueError: not enough values to unpack"
    spec = write_spec(spec_text(samples=100, shard_size=50))
    code, _, stderr = cli("build", spec, "-o", tmp_path / "out", "--scheduler", "inproc://x")
    assert code == 2 and stderr == (
        "synthc: error: --scheduler 'inproc://x': an inproc:// scheduler lives inside one "
        "Python process, never one this command could reach; give its tcp:// (or tls://) "
        "address\n"
    )
    assert not (tmp_path / "out").exists()


def test_worker_wait_is_a_dask_build_s_and_a_number_of_seconds(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=100, shard_size=50))
    code, _, stderr = cli("build", spec, "-o", tmp_path / "out", "--worker-wait", "5")
    assert code == 2 and "give it with --scheduler or --executor dask" in stderr
    for wrong in ("-1", "nan"):
        code, _, stderr = cli(
            "build", spec, "--scheduler", "tcp://127.0.0.1:9", "--worker-wait", wrong
        )
        assert code == 2 and "--worker-wait must be a number of seconds >= 0" in stderr, stderr
    assert not (tmp_path / "out").exists()


def test_reproduce_takes_worker_wait_for_its_dask_rebuild(cli, tmp_path, monkeypatch):
    """reproduce --executor dask has build's --worker-wait: the LocalCluster it rebuilds on is
    waited for that long; without Dask, or not a number of seconds, it is refused at once."""
    out = tmp_path / "out"  # never read: the option is checked first
    code, _, stderr = cli("reproduce", out, "--worker-wait", "5")
    assert code == 2 and "--worker-wait bounds a Dask build's wait for workers" in stderr
    assert "give it with --executor dask" in stderr, stderr
    for wrong in ("-1", "nan"):
        code, _, stderr = cli("reproduce", out, "--executor", "dask", "--worker-wait", wrong)
        assert code == 2 and "--worker-wait must be a number of seconds >= 0" in stderr, stderr
    given: list[Any] = []

    def rebuild(out: Path, *, executor: Any, **kwargs: Any) -> Any:
        given.append(executor)
        raise UsageError("stop here")

    monkeypatch.setattr("synthc.reproducing.reproduce", rebuild)
    for wait in ("7.5", "inf"):
        assert cli("reproduce", out, "--executor", "dask", "--worker-wait", wait)[0] == 2
    cli("reproduce", out, "--executor", "dask")
    assert all(isinstance(executor, DaskExecutor) for executor in given)
    assert [executor.worker_wait for executor in given] == [7.5, math.inf, 600]


def test_a_worker_with_another_synthc_version_is_a_usage_error(write_spec, tmp_path):
    """The worker process sees another installed synthc: a distribution's metadata that comes
    first on its path (as an older install in a worker's environment would), so what it reports
    is what importlib.metadata finds there, not something patched in the client."""
    fake = tmp_path / "older-install"
    info = fake / "synthc-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: synthc\nVersion: 0.0.1\n")
    path = os.pathsep.join([str(fake), *filter(None, [os.environ.get("PYTHONPATH")])])
    spec = write_spec(spec_text(samples=100, shard_size=50))
    out = tmp_path / "out"
    with dask_processes(
        tmp_path / "cluster", workers=1, worker_env={"PYTHONPATH": path}
    ) as cluster:
        result = subprocess.run(
            build_argv(spec, out, cluster.address, "--quiet"),
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("synthc: error: Dask worker tcp://127.0.0.1:")
    assert f"synthc 0.0.1 (client: {__version__})" in lines[0]
    assert not list(out.rglob("*.parquet"))  # refused before any task ran


def test_a_worker_running_other_synthc_code_at_the_same_version_is_refused(write_spec, tmp_path):
    """A worker that imports a copy of synthc edited since (a checkout changed while the
    cluster runs) reports the same version: its sources differ, and it is refused."""
    from synthc.executors.dask import sources_digest

    copy = tmp_path / "edited" / "synthc"
    shutil.copytree(ROOT / "synthc", copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "shard.py", "a") as edited:
        edited.write("\n# a change that reaches no version number\n")
    spec = write_spec(spec_text(samples=100, shard_size=50))
    out = tmp_path / "out"
    with dask_processes(
        tmp_path / "cluster", workers=1, worker_env={"PYTHONPATH": str(copy.parent)}
    ) as cluster:
        result = subprocess.run(
            build_argv(spec, out, cluster.address, "--quiet"),
            capture_output=True,
            text=True,
            timeout=300,
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"(client: {sources_digest()})" in result.stderr
    assert f"synthc {__version__}" not in result.stderr  # the versions agree
    assert not list(out.rglob("*.parquet"))


def older_synthc_env(root: Path) -> dict[str, str]:
    """A worker environment whose installed synthc metadata says 0.0.1 (as in the test above)."""
    info = root / "older-install" / "synthc-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: synthc\nVersion: 0.0.1\n")
    paths = [str(info.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def joins_after_the_check(monkeypatch, cluster, root: Path, then=None) -> None:
    """Start a worker with another synthc version right after the executor checked the
    workers, before it submits (a worker joining mid-build); then ``then()``."""
    from dask_processes import start_worker, wait_for_workers

    from synthc.executors import dask

    checked = dask._check_workers

    def check(client, expected):
        checked(client, expected)
        worker = start_worker(cluster, root, "older", older_synthc_env(root))
        cluster.workers.append(worker)
        wait_for_workers(cluster.address, len(cluster.workers), root / "dask.log")
        if then is not None:
            then()

    monkeypatch.setattr(dask, "_check_workers", check)


def test_a_worker_with_another_version_joining_mid_run_hands_its_tasks_on(tmp_path, monkeypatch):
    """The first task that landed on such a worker failed the whole run, though the worker
    that was checked could run every task."""
    from synthc.executors.dask import TOPIC

    with dask_processes(tmp_path / "cluster", workers=1) as cluster:
        joins_after_the_check(monkeypatch, cluster, tmp_path / "cluster")
        executor = DaskExecutor(cluster.address)
        results = dict(executor.run(math.sqrt, [i * i for i in range(200)]))
        assert results == {i: float(i) for i in range(200)}
        with Client(cluster.address, set_as_default=False) as client:
            kinds = [event[1][1] for event in client.get_events(TOPIC)]
        assert "mismatch" in kinds  # the new worker was given tasks, and handed them on


def test_a_run_left_with_only_mismatched_workers_names_the_mismatch(tmp_path, monkeypatch):
    with dask_processes(tmp_path / "cluster", workers=1) as cluster:
        good = cluster.workers[0]

        def stop_the_good_worker() -> None:
            good.terminate()
            good.wait(timeout=30)

        joins_after_the_check(monkeypatch, cluster, tmp_path / "cluster", stop_the_good_worker)
        executor = DaskExecutor(cluster.address)
        said = (
            rf"Dask worker tcp://127\.0\.0\.1:\d+ has synthc 0\.0\.1 \(client: {__version__}\)"
            ".*; no worker with the client's versions is left"
        )
        with pytest.raises(UsageError, match=said):
            dict(executor.run(math.sqrt, [i * i for i in range(200)]))


def test_a_mismatch_names_every_differing_version():
    expected = {"synthc": "0.2.0", "python": "3.12.1", "polars": "1.0.0", "numpy": "2.0.0"}
    found = {"synthc": "0.2.0", "python": "3.12.1", "polars": "0.9.0"}
    message = mismatch("tcp://10.0.0.5:4000", expected, found)
    assert message is not None
    assert message.startswith(
        "Dask worker tcp://10.0.0.5:4000 has polars 0.9.0 (client: 1.0.0), numpy missing "
        "(client: 2.0.0); "
    )
    assert mismatch("w", expected, dict(expected)) is None


def test_a_task_checks_the_versions_of_the_worker_it_runs_on():
    """A worker that joins after the check before submitting refuses each task itself."""
    from synthc.executors.dask import VersionMismatch, _run_batch, local_versions

    same = local_versions(("numpy",))
    assert _run_batch(same, operator.add, 3, [1, 2], (10,), "run", False) == [11, 12]
    with pytest.raises(VersionMismatch, match=r"has synthc .* \(client: 0\.0\.1\)"):
        _run_batch({**same, "synthc": "0.0.1"}, operator.add, 0, [1], (10,), "run", False)


def test_several_specs_with_executor_dask_share_one_local_cluster(
    cli, write_spec, tmp_path, monkeypatch
):
    """One LocalCluster for the command, started by the first spec that runs shards; none when
    every spec is up to date."""
    import distributed

    started = []
    real = distributed.LocalCluster

    def counted(*args, **kwargs):
        started.append(kwargs.get("n_workers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(distributed, "LocalCluster", counted)
    specs = [
        write_spec(spec_text(name=name, samples=2_000, shard_size=500), name=f"{name}.yaml")
        for name in ("first", "second", "third")
    ]
    out = tmp_path / "outs"
    assert api.build(specs[0], out / "first", workers=1).built == 5  # already built: kept
    command = ["build", *specs, "-o", out, "--executor", "dask", "--workers", "2"]
    code, stdout, stderr = cli(*command)
    assert code == 0, stderr
    assert started == [2]
    for name in ("second", "third"):
        assert api.load_manifest(out / name)["build"]["executor"] == "dask"
        local = api.build(specs[1 if name == "second" else 2], tmp_path / name, workers=1)
        assert tree(out / name) == tree(local.out)
    code, _, stderr = cli(*command)  # all up to date: no cluster at all
    assert code == 0, stderr
    assert started == [2]


class _NoWorkers:
    """A client whose scheduler says its cluster has no worker."""

    scheduler = type("Scheduler", (), {"identity": None})

    def sync(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"workers": {}}


def test_reproduce_says_its_dask_rebuild_is_discarded_when_every_worker_left(tmp_path, monkeypatch):
    # reproduce --executor dask whose workers all left said "the shards finished so far are
    # kept: start workers and rerun to build the rest": its rebuild is thrown away.
    from synthc import reproducing
    from synthc.errors import BuildError
    from synthc.executors import dask as dask_executor

    given: list[Any] = []
    monkeypatch.setattr(reproducing, "reproduce", lambda out, **kw: given.append(kw["executor"]))
    api.reproduce(tmp_path, executor="dask", worker_wait=2)
    (executor,) = given
    assert isinstance(executor, DaskExecutor) and executor.throwaway
    now = [0.0]
    for throwaway, said in ((False, "shards finished so far are kept"), (True, "discarded")):
        presence = dask_executor._Presence(
            _NoWorkers(), "the cluster", 2, True, clock=lambda: now[0], throwaway=throwaway
        )
        now[0] += dask_executor.LOOK_SECONDS
        assert presence.look() == "workers to join the cluster again for up to 2 s"
        now[0] += 2
        with pytest.raises(BuildError) as error:
            presence.look()
        assert said in str(error.value)
    assert str(error.value) == dask_executor.workers_left_message("the cluster", 2, True)
    assert "kept" not in str(error.value) and "run reproduce again" in str(error.value)
    cancelled = dask_executor.cancelled_message(None, throwaway=True)
    assert "kept" not in cancelled and "run reproduce again" in cancelled


def _self_signed(folder: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that is its own CA, and its key: (cert file, key file)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(folder / "cert.pem"), str(folder / "key.pem")


def test_a_tls_scheduler_is_reached_with_dask_s_tls_settings(tmp_path):
    # the probe before a build connected without them, so every tls:// scheduler was "cannot
    # reach ...: TypeError: TLS expects a `ssl_context` argument", though a Client reached it
    import asyncio

    import dask
    from distributed.comm import listen
    from distributed.security import Security

    from synthc.executors.dask import probe_scheduler

    cert, key = _self_signed(tmp_path)
    security = Security(
        tls_ca_file=cert, tls_scheduler_cert=cert, tls_scheduler_key=key, require_encryption=True
    )
    started: queue.Queue[str] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        async def handle(comm):
            await comm.close()

        listener = listen("tls://127.0.0.1:0", handle, **security.get_listen_args("scheduler"))
        await listener.start()
        started.put(listener.contact_address)
        while not stop.is_set():
            await asyncio.sleep(0.02)
        listener.stop()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    try:
        address = started.get(timeout=10)
        with pytest.raises(UsageError, match="needs Dask's TLS settings on this machine"):
            probe_scheduler(address, 5)
        tls = "distributed.comm.tls"
        settings = {f"{tls}.ca-file": cert, f"{tls}.client.cert": cert, f"{tls}.client.key": key}
        with dask.config.set(settings):
            probe_scheduler(address, 5)
    finally:
        stop.set()
        thread.join(10)


def test_shards_a_killed_build_s_workers_put_in_place_are_not_left_behind(
    cluster, write_spec, tmp_path
):
    """SIGKILL the client mid-build: the shards its workers had put in place since its last
    state save (a batch's, whose results come back together) were never recorded. A smaller
    rebuild kept them, and `verify` failed on them for good ("a shard file the manifest does
    not list", which --force does not remove either)."""
    spec = write_spec(OCR.format(samples=1200, shard_size=10))
    out = (tmp_path / "out").resolve()
    build = subprocess.Popen(
        build_argv(spec, out, cluster.address, "--quiet"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(list(out.rglob("*.tar"))) < 12:
        assert build.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    build.kill()
    build.wait()
    while list(out.rglob("*.partial")):  # its tasks stop once the scheduler drops it
        assert time.monotonic() < deadline
        time.sleep(0.05)
    smaller = write_spec(OCR.format(samples=20, shard_size=10), name="smaller.yaml")
    done = subprocess.run(
        build_argv(smaller, out, cluster.address, "--quiet"), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    api.verify(out)
    local = api.build(smaller, tmp_path / "local", workers=1)
    assert tars(out) == tars(local.out)


def test_a_build_stopped_while_its_scheduler_does_not_answer_stops_in_bounded_time(
    cluster, write_spec, tmp_path
):
    """Ctrl-C while the scheduler accepts and never answers (a stopped or overloaded one):
    the wait for the build's running tasks asked it (Client.scheduler_info) without a bound,
    and the build hung until the scheduler answered again (minutes, or for ever)."""
    out = tmp_path / "out"
    build = _building_first_shard(write_spec, out, cluster.address)
    os.kill(cluster.scheduler.pid, signal.SIGSTOP)
    try:
        start = time.monotonic()
        build.send_signal(signal.SIGINT)
        try:
            _, stderr = build.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            build.kill()
            raise
        elapsed = time.monotonic() - start
    finally:
        os.kill(cluster.scheduler.pid, signal.SIGCONT)
    assert build.returncode == 130 and elapsed < 9, (elapsed, stderr)
    assert "the Dask scheduler did not answer" in stderr, stderr
    assert stderr.rstrip().endswith("run the build again to resume"), stderr


def test_a_scheduler_that_stops_answering_mid_build_is_given_up_on_after_worker_wait(
    cluster, write_spec, tmp_path
):
    """A scheduler stopped mid-build (SIGSTOP: its connections stay open) held the build for
    ever: no result came, and no answer to "has it a worker?" counted as no news."""
    out = tmp_path / "out"
    build = _building_first_shard(write_spec, out, cluster.address, "--worker-wait", "2")
    os.kill(cluster.scheduler.pid, signal.SIGSTOP)
    try:
        try:
            _, stderr = build.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            build.kill()
            raise
    finally:
        os.kill(cluster.scheduler.pid, signal.SIGCONT)
    assert build.returncode == 1, stderr
    assert f"the Dask scheduler at {cluster.address} did not answer for 2 s" in stderr, stderr


def _building_first_shard(
    write_spec: Any, out: Path, address: str, *options: str
) -> subprocess.Popen[str]:
    """A 20-shard OCR build on the cluster at ``address``, once its first shard is in place."""
    spec = write_spec(OCR.format(samples=1200, shard_size=60))
    build = subprocess.Popen(
        build_argv(spec, out, address, *options), stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not list(out.rglob("*.tar")):
        assert build.poll() is None and time.monotonic() < deadline, build.stderr
        time.sleep(0.01)
    return build
