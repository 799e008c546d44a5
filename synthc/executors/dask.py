"""Run tasks on a Dask cluster: the same plain-data tasks the local executor runs.

On an existing cluster (an address), or on a ``LocalCluster`` of worker processes started for
one build and closed after it (no address). Every worker needs the same synthc, Python and
byte-shaping library versions as the client (task keys name them): they are compared before
anything is submitted (a difference is a UsageError naming the worker), and again on the worker
before each task: a worker that joined later with other versions hands its tasks back, and the
other workers run them (:mod:`synthc.executors.dask_steer`; a UsageError naming the mismatch
once no other worker is left). Workers must see the output directory at the
same path. Tasks are submitted with ``pure=False``, a run of consecutive ones per Dask task
when there are many more than the cluster has threads (:func:`batch_size`: Dask spends a few
milliseconds of scheduler, worker and client time on each of its tasks, a lot beside a shard of
tens of milliseconds); results come back as their Dask task finishes. A worker lost mid-task is
not a failure: the scheduler runs its tasks again elsewhere (``distributed.scheduler.allowed-
failures``) and the rerun rewrites the shard's temporary from the start (a shard of its run that
was already renamed into place is written again, to the same bytes). A cluster with no worker
(none joined yet, or all left) is waited for at most ``worker_wait`` seconds (:class:`_Presence`)
before the run stops with an error naming the scheduler. On the first task failure
the remaining tasks are cancelled and TaskFailed is raised for the task that failed, as locally.

Progress counts travel as Dask events: a task's sink logs ``[run, index, done]`` under the one
topic TOPIC (``Worker.log_event``; one topic, so the scheduler's bounded log of it is all the
memory they take), and this client, subscribed to it, keeps its own run's. The scheduler passes
events and task results to the client in the order the worker sent them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import hashlib
import importlib.util
import ipaddress
import logging
import math
import os
import platform
import queue
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import synthc
from synthc import cancellation, deadline
from synthc.deadline import interrupted
from synthc.dist_versions import version
from synthc.errors import BuildError, UsageError, one_line
from synthc.executors.base import POLL_SECONDS, Report, TaskFailed, traceback_text
from synthc.executors.dask_steer import Steering
from synthc.executors.polars_threads import polars_threads_per_worker
from synthc.executors.reporting import Counts
from synthc.own_process import terminated

#: the transports distributed knows (distributed.comm.registry), without importing it here
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
#: a port of ASCII digits: ``\d`` took fullwidth ones, which int() reads, and the client dialled
#: the address for the whole connection timeout
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([0-9]+))?$")


#: what a Dask run is told where distributed (the ``dask`` extra) is not installed
DASK_MISSING = (
    "the Dask executor (--executor dask, --scheduler) needs distributed, which is not "
    "installed: pip install 'synthc[dask]'"
)


def check_dask_installed() -> None:
    """UsageError naming the extra to install unless distributed is found (without importing
    it): checked before a Dask run compiles, plans or writes anything."""
    if importlib.util.find_spec("distributed") is None:
        raise UsageError(DASK_MISSING)


def check_address(address: str) -> None:
    """UsageError unless ``address`` is SCHEME://HOST:PORT (or HOST:PORT) a client can dial.

    Checked before connecting: a malformed address would otherwise be retried until the
    connection timeout.
    """
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    shown = repr(address)
    if scheme not in _SCHEMES:
        raise UsageError(
            f"--scheduler {shown}: unknown scheme {scheme!r}; expected one of "
            f"{', '.join(_SCHEMES)} (e.g. tcp://HOST:8786)"
        )
    if scheme == "inproc":
        if not rest:
            raise UsageError(f"--scheduler {shown}: no address after inproc://")
        return
    match = _HOST.match(rest)
    if not match or match[2] is None:  # a client cannot dial a host without a port
        raise UsageError(
            f"--scheduler {shown}: expected {scheme}://HOST:PORT (usually 8786)"
            f"{_bracket_hint(scheme, rest)}"
        )
    host, port = match[1], match[2]
    if host.startswith("[") and _ipv6(host[1:-1]) is None:  # dialled until the timeout
        raise UsageError(
            f"--scheduler {shown}: {host!r} is no IPv6 address (brackets hold an IPv6 "
            "address; a host name or IPv4 address goes without them)"
        )
    problem = None if host.startswith("[") else _host_problem(host)
    if problem is not None:  # dialled until the timeout too
        raise UsageError(f"--scheduler {shown}: {host!r} is no host name: {problem}")
    if not 0 < int(port) < 65536:
        raise UsageError(f"--scheduler {shown}: port {port} is not in 1..65535")


#: characters of a host name, and of one of its dot-separated labels (RFC 1123)
_MAX_HOST = 253
_MAX_LABEL = 63


def _host_problem(host: str) -> str | None:
    """What makes ``host`` (letters, digits, ``.``, ``-`` and ``_`` already) no host name or
    IPv4 address, or None. An underscore inside a label is kept: Docker Compose's DNS and
    /etc/hosts resolve names such as ``dask_scheduler``."""
    name = host[:-1] if host.endswith(".") else host  # a fully qualified name's root dot
    if len(name) > _MAX_HOST:
        return f"longer than {_MAX_HOST} characters"
    labels = name.split(".")
    if any(not label for label in labels):
        return "an empty label (two dots in a row, or a dot at its start)"
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return "digits and dots, but no IPv4 address (four numbers 0 to 255)"
        return None
    for label in labels:
        if len(label) > _MAX_LABEL:
            return f"a label longer than {_MAX_LABEL} characters"
        edges = [char for char in (label[0], label[-1]) if char in "-_"]
        if edges:
            return f"the label {label!r} starts or ends with {edges[0]!r}"
    return None


def _ipv6(text: str) -> ipaddress.IPv6Address | None:
    """``text`` as an IPv6 address, or None if it is none."""
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def _bracket_hint(scheme: str, rest: str) -> str:
    """What to write instead of an IPv6 address and port without brackets, or ``""``."""
    host, _, port = rest.rpartition(":")
    if not (port.isascii() and port.isdigit()) or _ipv6(host) is None:
        return ""
    return f"; an IPv6 address goes in brackets: {scheme}://[{host}]:{port}"


#: seconds a Dask build waits while its cluster has no worker, unless told otherwise: a batch
#: system can hold the workers' jobs in its queue for minutes, but a cluster that gets none
#: (workers that cannot reach the scheduler, a job that failed) must not hold a build for ever
WORKER_WAIT = 600.0
#: seconds between two looks at whether a cluster that has workers still has one
LOOK_SECONDS = 1.0


def check_worker_wait(seconds: float) -> None:
    """UsageError unless ``seconds`` is a number of seconds >= 0 (``inf``: no limit)."""
    if not seconds >= 0:  # NaN too
        raise UsageError(
            f"--worker-wait must be a number of seconds >= 0 (inf: no limit), not {seconds}"
        )


class DaskExecutor:
    """Tasks on the Dask scheduler at ``address`` (for example ``tcp://10.0.0.5:8786``), or,
    without one, on a LocalCluster of ``workers`` processes (default: the CPU count) started
    for the run. ``libraries``: names of the libraries whose versions must match between this
    client and the workers, besides synthc and Python. ``worker_wait``: seconds to wait while
    the cluster has no worker, before the run stops with an error (``math.inf``: no limit).
    ``throwaway``: the shards are reproduce's rebuild, discarded after the comparison, not a
    build's to keep (the messages of a run that stops say what is left and what to rerun)."""

    name = "dask"

    def __init__(
        self,
        address: str | None = None,
        timeout: float = 10.0,
        *,
        workers: int | None = None,
        libraries: Iterable[str] = (),
        worker_wait: float = WORKER_WAIT,
        throwaway: bool = False,
    ) -> None:
        check_dask_installed()
        check_worker_wait(worker_wait)
        if address is not None:
            check_address(address)
            if workers is not None:
                raise UsageError(
                    "--workers sizes a cluster started for this build; the Dask cluster at "
                    f"{address} has its own workers"
                )
        elif workers is not None and workers < 1:
            raise UsageError("--workers must be >= 1")
        self.address = address
        self.timeout = timeout  # seconds to wait for the scheduler
        self.worker_wait = worker_wait  # seconds to wait while the cluster has no worker
        self.throwaway = throwaway
        self.local_workers = max(1, workers or os.cpu_count() or 1)
        self.libraries = tuple(sorted(set(libraries)))
        self.workers = 0  # known once connected
        #: what the run waits for before a task can start, while it waits (the Executor
        #: protocol's ``waiting``): workers to join a scheduler that has none
        self.waiting: str | None = None
        #: after a stop: the line saying what the run waits for before it returns (the
        #: protocol's ``stopping``), None once it has stopped
        self.stopping: str | None = None
        #: after a run that stopped early: ``(index, result)`` of the tasks that finished but
        #: were never handed on (the first tasks of a batch the cancel cut short; the
        #: protocol's ``stranded``)
        self.stranded: list[tuple[int, Any]] = []
        self._reached = False  # the scheduler answered reach()

    def compare_versions(self, libraries: Iterable[str]) -> None:
        """Compare the versions of ``libraries`` too (the Executor protocol's optional
        ``compare_versions``): those of a spec compiled after this executor was made, such as
        an installed kind's package, which every task key names."""
        self.libraries = tuple(sorted({*self.libraries, *libraries}))

    def reach(self) -> None:
        """Check that the scheduler at ``address`` answers (:func:`probe_scheduler`), before a
        build says it starts; nothing for a LocalCluster, which is started when it runs."""
        if self.address is not None and not self._reached:
            probe_scheduler(self.address, self.timeout)
            self._reached = True

    def run(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        *args: Any,
        gil_free: bool = False,
        report: Report | None = None,
    ) -> Iterator[tuple[int, Any]]:
        try:
            from distributed import as_completed
        except ImportError as error:  # pragma: no cover - depends on the installation
            raise UsageError(DASK_MISSING) from error
        expected = local_versions(self.libraries)
        with self._client(len(items)) as client:
            workers = client.scheduler_info().get("workers", {})
            self.workers = len(workers)
            where = (
                f"the Dask scheduler at {self.address}"
                if self.address
                else f"this {'reproduction' if self.throwaway else 'build'}'s LocalCluster"
            )
            # none: a cluster scaling up (dask-jobqueue's jobs still queued), or whose workers died
            presence = _Presence(
                client, where, self.worker_wait, bool(workers), throwaway=self.throwaway
            )
            self.waiting = presence.awaited()
            _check_workers(client, expected)
            counts, running = Counts(), _Running()
            steering = running.steering
            run = uuid.uuid4().hex
            # before any task is submitted, so no event is missed
            client.subscribe_topic(TOPIC, functools.partial(_collect, counts, running, run))
            threads = sum(int(worker.get("nthreads", 1)) for worker in workers.values())
            size = batch_size(len(items), threads)
            futures = {}  # each Dask task's future: the index of its first task
            yielded: set[int] = set()  # the tasks whose results were handed on
            self.stranded = []
            for first in range(0, len(items), size):
                batch = list(items[first : first + size])
                future = client.submit(
                    _run_batch, expected, fn, first, batch, args, run, report is not None,
                    pure=False,
                )  # fmt: skip
                futures[future] = first
            # Results are fetched on the client's event loop as tasks finish and handed over
            # through a queue: one wait per task (waiting on all pending futures again after
            # each completion cost the event loop O(tasks^2) and held up the workers' CPU).
            finished: queue.Queue[tuple[Any, Any]] = queue.Queue()
            completed = as_completed(
                list(futures), loop=client.loop, with_results=True, raise_errors=False
            )
            threading.Thread(
                target=_hand_over, args=(completed, finished), name="synthc-dask-results",
                daemon=True,
            ).start()  # fmt: skip
            try:
                for _ in range(len(futures)):
                    while True:
                        try:  # a timeout with --quiet too: the wait for workers is bounded
                            future, result = finished.get(timeout=POLL_SECONDS)
                            break
                        except queue.Empty:
                            self.waiting = presence.look()  # raises once waited too long
                        finally:
                            steering.steer(client, futures, LOOK_SECONDS)
                            if report is not None:
                                report(counts.take())
                    self.waiting = presence.look(finishing=True)
                    if future is None:
                        raise result
                    first = futures[future]
                    if future.status == "cancelled":  # not by us: the scheduler went away
                        raise BuildError(cancelled_message(self.address, self.throwaway))
                    if future.status != "finished":
                        failure = future.exception()
                        if isinstance(failure, VersionMismatch):
                            raise UsageError(str(failure)) from None
                        if isinstance(failure, _Failed):
                            where = f"Dask worker {failure.address}"
                            raise TaskFailed(failure.index, failure.error, failure.text, where)
                        raise TaskFailed(first, failure)  # e.g. its workers kept dying
                    for offset, one in enumerate(result):
                        yielded.add(first + offset)
                        yield first + offset, one
            finally:
                self.waiting = None
                unfinished = any(not future.done() for future in futures)
                client.cancel(list(futures))
                if unfinished:
                    self._wait_stopped(client, running, report)
                    self.stranded = running.stranded(yielded)
                client.unsubscribe_topic(TOPIC)
                # workers that joined after the start (a cluster scaling up) count too
                self.workers = max(self.workers, running.workers())

    def _wait_stopped(self, client: Any, running: _Running, report: Report | None) -> None:
        """After a cancel: until the tasks of the run that started on a worker that is still
        in the cluster have ended (a cancelled task stops at its next progress report and puts
        nothing in place, synthc.cancellation), at most STOP_SECONDS, or, stopped by Ctrl-C or
        SIGTERM, half of synthc.deadline's (the build's last writes get the rest); a second
        Ctrl-C leaves them. So nothing of this build is put in place after it returns and
        lets go of its output's lock, unless a task is still writing then (an output that does
        not answer): the stop's notes say so."""
        stop = interrupted()
        budget = deadline.time_left(keep=deadline.STOP_SECONDS / 2)
        end = time.monotonic() + (STOP_SECONDS if budget is None else budget)
        left, why = 0, "a write the output did not answer"
        try:
            while True:
                # asked with a bound: Client.scheduler_info waits for ever on a scheduler that
                # accepts and never answers (a stopped or overloaded one)
                workers = _workers_now(client, max(0.1, min(LOOK_SECONDS, end - time.monotonic())))
                left = running.left(workers)
                if workers is None:
                    why = "the Dask scheduler did not answer"
                    break
                if not left or time.monotonic() >= end:
                    break
                # after a failed shard, no signal came yet: one Ctrl-C leaves them
                again = (
                    "a second SIGTERM"
                    if terminated()
                    else "a second Ctrl-C"
                    if stop is not None
                    else "Ctrl-C"
                )
                self.stopping = (
                    f"waiting for {left} running Dask task(s) of this build to stop; they put "
                    f"nothing more in place ({again} leaves them)"
                )
                if report is not None:
                    report({})
                time.sleep(0.1)
        except Exception:  # noqa: BLE001 - the scheduler is gone: nothing to ask or wait for
            return
        finally:
            self.stopping = None
        if left and stop is not None:
            stop.add_note(still_running_message(left, why))

    @contextlib.contextmanager
    def _client(self, tasks: int) -> Iterator[Any]:
        """A client of the cluster at ``address``, or of a LocalCluster started (and closed)
        here, of no more worker processes than ``tasks``."""
        from distributed import Client

        workers = max(1, min(self.local_workers, tasks))

        if self.address is not None:
            self.reach()
            try:
                client = Client(self.address, set_as_default=False, timeout=f"{self.timeout}s")
            except Exception as error:  # noqa: BLE001 - e.g. a worker's address answered
                raise UsageError(
                    f"cannot use the Dask scheduler at {self.address} (is it a scheduler's "
                    f"address?): {type(error).__name__}: {one_line(str(error))[:300]}"
                ) from None
            with client:
                yield client
            return
        shared = _SHARED.get()
        if shared is None:
            with (
                _local_cluster(workers) as cluster,
                Client(cluster, set_as_default=False) as client,
            ):
                yield client
            return
        cluster = shared.clusters.get(workers)
        if cluster is None:  # the first build of this command that runs shards starts it
            cluster = shared.stack.enter_context(_local_cluster(workers))
            shared.clusters[workers] = cluster
        with Client(cluster, set_as_default=False) as client:
            yield client


@dataclass
class _Shared:
    """LocalClusters kept for the rest of a :func:`shared_local_clusters` block, by size, and
    what each scheduler address that did not answer was told."""

    stack: contextlib.ExitStack
    clusters: dict[int, Any]
    unreachable: dict[str, str] = field(default_factory=dict)


_SHARED: contextvars.ContextVar[_Shared | None] = contextvars.ContextVar(
    "synthc_shared_clusters", default=None
)


@contextlib.contextmanager
def shared_local_clusters() -> Iterator[None]:
    """Within this block, builds on a LocalCluster (``--executor dask`` without an address)
    share one, started by the first build that runs shards and closed when the block ends:
    several specs in one command start it once, and a command whose specs are all up to date
    starts none. A scheduler address that did not answer is not waited for again in the block:
    the next build gets the same error at once."""
    with contextlib.ExitStack() as stack:
        token = _SHARED.set(_Shared(stack, {}))
        try:
            yield
        finally:
            _SHARED.reset(token)


@contextlib.contextmanager
def _local_cluster(workers: int) -> Iterator[Any]:
    """A LocalCluster of ``workers`` single-threaded worker processes on loopback, with no
    dashboard; polars in each worker gets its share of the cores, as in the local pool."""
    from distributed import LocalCluster

    before = dict(os.environ)
    started: set[str] | None = None  # what starting the cluster changed in os.environ
    try:
        # inherited by the worker processes it spawns: polars' share of the cores, and SIGINT
        # blocked (a Ctrl-C reaches the whole process group: each worker printed a traceback;
        # this process decides what it means and closes the cluster)
        with polars_threads_per_worker(workers), _sigint_blocked():
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # no dashboard, but the scheduler's HTTP server (health, metrics) still starts:
                # on a free port, not on 8787, which another cluster may hold
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                # its workers' and nannies' logs: a Ctrl-C made them print heartbeat
                # tracebacks and "still alive, killing" lines; a worker that dies fails its
                # tasks, which the build reports itself
                silence_logs=logging.CRITICAL,
            )
        started = _changed_since(before)  # not what this program's own threads change later
        with _own_cluster_quiet(), cluster:
            try:
                yield cluster
            except BaseException:
                if interrupted() is not None:
                    _end_workers(cluster)
                raise
    finally:
        _put_back(before, _changed_since(before) if started is None else started)


@contextlib.contextmanager
def _own_cluster_quiet() -> Iterator[None]:
    """No records of distributed's loggers in this process, but the client's, while a
    LocalCluster of synthc's own runs and closes: its scheduler and nannies live here, and
    silence_logs quiets only distributed's own handlers, not the records that reach the
    command's (a loaded machine printed "Worker process still alive after 4.0 seconds,
    killing" after a build that succeeded). A worker that dies fails its tasks, which the
    build reports; the client's logger has its own level and still speaks."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _end_workers(cluster: Any) -> None:
    """SIGKILL a LocalCluster's worker processes, for a build stopped by Ctrl-C or SIGTERM:
    closing the cluster waited for tasks hung in a write the output did not answer (each
    nanny's seconds before its kill, after the build's own stop deadline). A worker writes a
    shard to a temporary (or puts it whole to a store): nothing in place is cut."""
    for nanny in list(getattr(cluster, "workers", {}).values()):
        process = getattr(getattr(nanny, "process", None), "process", None)
        pid = getattr(process, "pid", None)
        if isinstance(pid, int) and pid > 0:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread, and so in the threads and processes started meanwhile
    (the cluster's event loop, which spawns its worker processes, and they)."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    from multiprocessing import resource_tracker

    # started first: starting it later (the cluster's first process does) unblocks SIGINT in
    # the thread that starts it
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def probe_scheduler(address: str, timeout: float) -> None:
    """UsageError unless something at ``address`` answers Dask's handshake within ``timeout``
    seconds. distributed's own connect bounds the connection, not the handshake after it: a
    server that accepts and never answers (an HTTP port, a scheduler's dashboard) held a
    client forever, and one that answers in another protocol failed in odd ways. Within
    :func:`shared_local_clusters`, an address that did not answer fails again at once."""
    shared = _SHARED.get()
    if shared is not None and address in shared.unreachable:
        raise UsageError(shared.unreachable[address])
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            asyncio.run(_handshake(address, timeout))
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - said below, in the caller's thread
            outcome.append(error)

    # a thread of its own: the caller may be running an event loop (a notebook)
    thread = threading.Thread(target=attempt, name="synthc-dask-probe", daemon=True)
    thread.start()
    thread.join(timeout + 4)
    if outcome and outcome[0] is None:
        return
    error = outcome[0] if outcome else None
    if error is None or isinstance(error, asyncio.TimeoutError | TimeoutError):
        detail = (
            f"nothing answered as a Dask scheduler within {timeout:g} s (a scheduler listens "
            "on port 8786 by default; 8787 is its dashboard)"
        )
    elif isinstance(error, MemoryError):  # another protocol's bytes read as a frame length
        detail = "something answered, but not in Dask's protocol"
    elif address.startswith("tls://") and "ssl_context" in str(error):
        detail = (
            "a tls:// scheduler needs Dask's TLS settings on this machine: "
            "distributed.comm.tls.ca-file, .client.cert and .client.key in Dask's configuration "
            "(or DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ..._CLIENT__CERT, ..._CLIENT__KEY)"
        )
    else:
        detail = f"{type(error).__name__}: {one_line(str(error))[:300]}"
    message = f"cannot reach the Dask scheduler at {address}: {detail}"
    if shared is not None:
        shared.unreachable[address] = message
    raise UsageError(message)


async def _handshake(address: str, timeout: float) -> None:
    from distributed.comm import connect
    from distributed.security import Security

    # as a Client connects: with the TLS settings of Dask's configuration (a tls:// scheduler
    # needs them; without them, every tls:// address was "unreachable")
    security = Security().get_connection_args("client")
    # connect's own timeout says an unreachable address; this one, a handshake never answered
    comm = await asyncio.wait_for(connect(address, timeout=timeout, **security), timeout + 2)
    await comm.close()


def _changed_since(before: dict[str, str]) -> set[str]:
    """The names of the environment variables set, changed or removed since ``before``."""
    now = os.environ
    return {name for name in set(before) | set(now) if before.get(name) != now.get(name)}


def _put_back(before: dict[str, str], names: set[str]) -> None:
    """Give the variables ``names`` their values of ``before`` again (unset where it had none).

    Starting a LocalCluster changes this process's environment for good: each Dask nanny sets
    its ``distributed.nanny.pre-spawn-environ`` (``MALLOC_TRIM_THRESHOLD_``, ``OMP_NUM_THREADS=1``,
    ...), and its processes set ``PYTHONHASHSEED`` and ``__DASK_PARENT_PID``. A program that
    built on a LocalCluster would pass them to everything it starts after."""
    for name in names:
        value = before.get(name)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


class VersionMismatch(UsageError):
    """A worker's synthc, Python or byte-shaping library versions differ from the client's."""


#: what local_versions names besides the libraries asked for
OWN = ("synthc", "synthc sources", "python")


def local_versions(libraries: Sequence[str]) -> dict[str, str]:
    """This process's synthc version and a digest of its sources (a checkout edited since, or
    another one at the same version, writes other bytes), its Python version, and those of
    ``libraries`` ("missing" for one that is not installed)."""
    from importlib.metadata import PackageNotFoundError

    found = {
        "synthc": synthc.__version__,
        "synthc sources": sources_digest(),
        "python": platform.python_version(),
    }
    for name in libraries:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found


def mismatch(worker: str, expected: dict[str, str], found: dict[str, str]) -> str | None:
    """The message naming what differs between the client's and ``worker``'s versions, or
    None when nothing does."""
    differing = [
        f"{name} {found.get(name, 'missing')} (client: {wanted})"
        for name, wanted in expected.items()
        if found.get(name) != wanted
    ]
    if not differing:
        return None
    return (
        f"Dask worker {worker} has {', '.join(differing)}; every worker needs the client's "
        "synthc, Python and library versions (they shape the shards' bytes)"
    )


@functools.cache
def sources_digest() -> str:
    """The first 12 hex digits of the sha256 of synthc's Python files, names and contents."""
    root = Path(synthc.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def cancelled_message(address: str | None, throwaway: bool = False) -> str:
    """The error of a run whose tasks the scheduler (at ``address``, None: a LocalCluster)
    cancelled; ``throwaway``: reproduce's rebuild (DaskExecutor)."""
    at = f" at {address}" if address else ""
    if throwaway:
        return (
            f"the Dask scheduler{at} cancelled the rebuild's tasks (it stopped or lost this "
            "client); nothing was compared and the partial rebuild is discarded: run "
            "reproduce again"
        )
    return (
        f"the Dask scheduler{at} cancelled the build's tasks (it stopped or lost this client); "
        "the shards finished so far are kept: rerun to build the rest"
    )


def still_running_message(left: int, why: str) -> str:
    """What a stopped build says of its ``left`` Dask tasks that had not stopped when it
    returned, and ``why`` it could not wait for them."""
    return (
        f"{left} Dask task(s) of this build were still running when it stopped ({why}); a "
        "shard one of them puts in place later is not recorded: the next build removes it or "
        "writes it again"
    )


def silent_message(where: str, limit: float, throwaway: bool = False) -> str:
    """The error of a run whose scheduler (of ``where``) did not answer for ``limit``
    seconds; ``throwaway``: reproduce's rebuild (DaskExecutor)."""
    kept = (
        "nothing was compared and the partial rebuild is discarded: run reproduce again"
        if throwaway
        else "the shards finished so far are kept: rerun once it answers"
    )
    return (
        f"{where} did not answer for {limit:g} s (a scheduler stopped or overloaded); {kept} "
        "(--worker-wait SECONDS sets how long a build waits)"
    )


def workers_left_message(where: str, limit: float, throwaway: bool = False) -> str:
    """The error of a run whose workers all left ``where`` and none joined in ``limit``
    seconds; ``throwaway``: reproduce's rebuild (DaskExecutor)."""
    if throwaway:
        return (
            f"every worker left {where} and none joined in {limit:g} s; nothing was compared "
            "and the partial rebuild is discarded: run reproduce again (--worker-wait "
            "SECONDS sets how long it waits for workers)"
        )
    return (
        f"every worker left {where} and none joined in {limit:g} s; the shards finished so "
        "far are kept: start workers and rerun to build the rest (--worker-wait SECONDS sets "
        "how long a build waits for them)"
    )


class _Presence:
    """Whether the client's cluster (``where``, for messages) has a worker, and since when it
    has had none: asked of the scheduler at each look while it has none (a worker that joins
    is seen at once), at most every LOOK_SECONDS while it has one. No worker for ``limit``
    seconds stops the run; ``present``: it had one at the start."""

    def __init__(
        self,
        client: Any,
        where: str,
        limit: float,
        present: bool,
        clock: Callable[[], float] = time.monotonic,
        throwaway: bool = False,
    ) -> None:
        self.client, self.where, self.limit, self.clock = client, where, limit, clock
        self.throwaway = throwaway
        self.looked = clock()
        self.joined = present  # a worker was in the cluster at some point of the run
        self.since = None if present else self.looked  # since when it has had none
        self.silent: float | None = None  # since when the scheduler has not answered

    def awaited(self) -> str | None:
        """What the run waits for (the executor's ``waiting``): None while there is a worker."""
        if self.since is None:
            return None
        bound = "" if math.isinf(self.limit) else f" for up to {self.limit:g} s"
        return f"workers to join {self.where}{' again' if self.joined else ''}{bound}"

    def look(self, finishing: bool = False) -> str | None:
        """:meth:`awaited`, after asking the scheduler if it is time to. ``finishing``: a task
        has just finished (a worker ran it), so the run does not stop now. UsageError when no
        worker joined within ``limit`` seconds; BuildError when every worker left and none
        joined within ``limit`` seconds."""
        now = self.clock()
        if self.since is not None or now - self.looked >= LOOK_SECONDS:
            self.looked = now
            present = _has_workers(self.client)
            if present is None:
                self.silent = now if self.silent is None else self.silent
            else:
                self.silent = None
            if present:
                self.joined, self.since = True, None
            elif present is not None and self.since is None:
                self.since = now
        if not finishing and self.silent is not None and now - self.silent >= self.limit:
            # a scheduler stopped or hung: its connection stays open, and nothing came back
            raise BuildError(silent_message(self.where, self.limit, self.throwaway))
        if finishing or self.since is None or now - self.since < self.limit:
            return self.awaited()
        if not self.joined:
            raise UsageError(
                f"no worker joined {self.where} in {self.limit:g} s; start workers for it "
                "(a batch system may still hold their jobs in its queue, or they cannot reach "
                "that address), or wait longer with --worker-wait SECONDS"
            )
        raise BuildError(workers_left_message(self.where, self.limit, self.throwaway))


def _workers_now(client: Any, seconds: float) -> set[str] | None:
    """The addresses of the workers in the client's cluster, asked of the scheduler; None if
    it did not answer within ``seconds``."""
    try:
        info = client.sync(client.scheduler.identity, n_workers=-1, callback_timeout=seconds)
    except Exception:  # noqa: BLE001 - no answer: the caller waits no more
        return None
    return set(info.get("workers", {}))


def _has_workers(client: Any) -> bool | None:
    """True if a worker is in the client's scheduler's cluster, asked of the scheduler (the
    client's own copy of its workers is refreshed every few seconds only); None if the
    scheduler did not answer within LOOK_SECONDS (it may be gone: that is said elsewhere)."""
    try:
        info = client.sync(client.scheduler.identity, n_workers=1, callback_timeout=LOOK_SECONDS)
    except Exception:  # noqa: BLE001 - no answer is no news
        return None
    return bool(info.get("workers"))


def _worker_versions(libraries: list[str]) -> dict[str, str]:
    return local_versions(tuple(libraries))


def _check_workers(client: Any, expected: dict[str, str]) -> None:
    """UsageError naming the first worker whose versions differ from ``expected`` (or that
    cannot run synthc's code at all), before anything is submitted."""
    libraries = [name for name in expected if name not in OWN]
    try:
        found = client.run(_worker_versions, libraries)
    except Exception as error:  # an exception the worker raised, unpickled here
        raise UsageError(
            f"the Dask workers cannot run synthc ({type(error).__name__}: {error}); every "
            "worker needs synthc installed, at the client's version"
        ) from None
    for worker in sorted(found):
        message = mismatch(worker, expected, found[worker])
        if message is not None:
            raise UsageError(message)


def _hand_over(completed: Iterable[tuple[Any, Any]], finished: queue.Queue[Any]) -> None:
    """Put each ``(future, result)`` of ``completed`` (a distributed ``as_completed``) on
    ``finished`` as it arrives; ends when every future has finished or been cancelled. If
    waiting itself fails, ``(None, the error)`` is put last, for the consumer to raise."""
    try:
        for pair in completed:
            finished.put(pair)
    except Exception as error:  # noqa: BLE001 - handed to the consumer, which raises it
        finished.put((None, error))


#: Dask tasks per worker thread that a plan with many tasks is cut into, at least: enough for
#: the last ones to even out between workers (and for work stealing to balance them)
TASKS_PER_THREAD = 16
#: the most tasks one Dask task runs (a cluster that grows after the submit spreads them too)
MAX_BATCH = 8


def batch_size(tasks: int, threads: int) -> int:
    """How many consecutive tasks one Dask task runs: 1 unless there are more than
    TASKS_PER_THREAD per worker thread of the cluster, then as many as keep that many Dask
    tasks per thread, up to MAX_BATCH. A cluster with no worker yet (one that is scaling up,
    as dask-jobqueue's do while their jobs queue) gets one task each: its size is unknown."""
    if threads < 1:
        return 1
    return max(1, min(MAX_BATCH, tasks // (TASKS_PER_THREAD * threads)))


class _Failed(Exception):
    """Task ``index`` of a Dask task raised ``error`` (sent back to the client whole), with
    ``text``, its traceback on the worker (which pickling drops), on the worker at
    ``address``."""

    def __init__(self, index: int, error: BaseException, text: str, address: str) -> None:
        super().__init__(index, error, text, address)
        self.index, self.error, self.text, self.address = index, error, text, address


def _run_batch(
    expected: dict[str, str],
    fn: Callable[..., Any],
    first: int,
    items: list[Any],
    args: tuple[Any, ...],
    run: str,
    sinks: bool,
) -> list[Any]:
    """On a worker: ``fn(item, *args)`` for each of ``items``, tasks ``first``, ``first`` + 1,
    ... of ``run`` (with a progress sink if ``sinks``); their results in order. Its start,
    each task's result and its end are logged as events of the run, and once the client has
    cancelled it, it stops (synthc.cancellation): at the next progress report or before a
    shard is put in place.

    On a worker whose versions differ from the client's ``expected`` (one that joined after
    the check) the mismatch is logged and the Dask task handed back to the scheduler
    (``Reschedule``), for the client to steer it elsewhere; called elsewhere, VersionMismatch.
    A task that raises ends the batch with _Failed naming it."""
    libraries = tuple(name for name in expected if name not in OWN)
    address = _this_worker()
    worker = _current_worker()
    message = mismatch(address, expected, _cached_versions(libraries))
    if message is not None:
        if worker is None:
            raise VersionMismatch(message)
        from distributed import Reschedule

        _log(worker, [run, "mismatch", first, address, message])
        raise Reschedule()
    _log(worker, [run, "started", first, address])
    try:
        with cancellation.checked_by(_cancelled_check(worker)):
            results = []
            for index, item in enumerate(items, first):
                sink = {"report": _EventSink(run, index)} if sinks else {}
                try:
                    cancellation.check()
                    results.append(fn(item, *args, **sink))
                    _log(worker, [run, "shard", index, results[-1]])
                except Exception as error:
                    failed = _Failed(index, _sendable(error), traceback_text(error), address)
                    break
            else:
                return results
    finally:
        _log(worker, [run, "ended", first])
    # raised outside the except: Dask pickles an exception with its __context__, which would
    # carry the error a second time (and fail the trip if it cannot be pickled)
    raise failed


def _sendable(error: Exception) -> Exception:
    """``error`` if it survives the trip to the client, else an Exception naming its type and
    message (Dask would replace the whole _Failed, and its task index, by one)."""
    import cloudpickle  # distributed's own dependency: here on a worker

    try:
        cloudpickle.loads(cloudpickle.dumps(error))
    except Exception:  # noqa: BLE001 - any failure to pickle or unpickle it
        return Exception(f"{type(error).__name__}: {error}")
    return error


@functools.lru_cache(maxsize=8)
def _cached_versions(libraries: tuple[str, ...]) -> dict[str, str]:
    return local_versions(libraries)


def _this_worker() -> str:
    worker = _current_worker()
    return "(not a worker)" if worker is None else str(worker.address)


def _current_worker() -> Any:
    """The Dask worker running this task, or None (called directly, not on a worker)."""
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:
        return None


def _log(worker: Any, event: list[Any]) -> None:
    """Log ``event`` under TOPIC, for the client (nobody listens off a worker)."""
    if worker is not None:
        worker.log_event(TOPIC, event)


def _cancelled_check(worker: Any) -> Callable[[], bool]:
    """Whether the Dask task this thread runs has been cancelled (its client cancelled it or
    went away, or the scheduler gave it to another worker): the worker's own record of the
    task, read without asking anyone."""
    if worker is None:
        return lambda: False
    key = worker.get_current_task()

    def cancelled() -> bool:
        task = worker.state.tasks.get(key)
        return task is None or task.state in ("cancelled", "released", "forgotten")

    return cancelled


#: the Dask event topic of progress counts and of tasks' starts and ends
TOPIC = "synthc-progress"
#: seconds a cancelled build waits for its running Dask tasks to stop
STOP_SECONDS = 30.0


@dataclass(frozen=True)
class _EventSink:
    """A task's progress sink on a Dask worker: logs ``[run, "done", index, done]`` under
    TOPIC; raises Cancelled once the task is cancelled (so it stops generating)."""

    run: str
    index: int

    def __call__(self, done: int) -> None:
        cancellation.check()
        _log(_current_worker(), [self.run, "done", self.index, done])


class _Running:
    """The Dask tasks of one run that started and have not ended, by their first task's
    index, with the worker each runs on (from their events; filled on the client's loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[int, str] = {}
        self._ended: set[int] = set()
        self._results: dict[int, Any] = {}
        #: the workers that refused the run's tasks for their versions
        self.steering = Steering()

    def finished(self, index: int, result: Any) -> None:
        with self._lock:
            self._results[index] = result

    def stranded(self, handed_on: set[int]) -> list[tuple[int, Any]]:
        """``(index, result)`` of the tasks that finished and are not in ``handed_on``."""
        with self._lock:
            found = [(i, r) for i, r in self._results.items() if i not in handed_on]
        return sorted(found, key=lambda pair: pair[0])

    def started(self, first: int, worker: str) -> None:
        with self._lock:
            self._started[first] = worker

    def ended(self, first: int) -> None:
        with self._lock:
            self._ended.add(first)

    def workers(self) -> int:
        """How many workers ran a task of the run."""
        with self._lock:
            return len(set(self._started.values()))

    def left(self, workers: set[str] | None) -> int:
        """How many have started on one of ``workers`` and not ended (a worker that left the
        cluster runs nothing more; None: workers not known, any may still run them)."""
        with self._lock:
            return sum(
                1 for first, worker in self._started.items()
                if first not in self._ended and (workers is None or worker in workers)
            )  # fmt: skip


def _collect(counts: Counts, running: _Running, run: str, event: tuple[float, Any]) -> None:
    try:
        ours, kind, first, *rest = event[1]
        if ours != run:  # another build on the same scheduler logs under the topic too
            return
        if kind == "done":
            counts.put(int(first), int(rest[0]))
        elif kind == "started":
            running.started(int(first), str(rest[0]))
        elif kind == "ended":
            running.ended(int(first))
        elif kind == "shard":
            running.finished(int(first), rest[0])
        elif kind == "mismatch":
            running.steering.mismatched(str(rest[0]), str(rest[1]))
    except (TypeError, ValueError, IndexError):  # not an event of this synthc's making
        return
