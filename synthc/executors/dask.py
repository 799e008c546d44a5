"""Run tasks on an existing Dask cluster: the same plain-data tasks the local executor runs.

Every worker needs synthc installed (same version: task keys name the library versions) and
must see the output directory at the same path (a shared filesystem). Tasks are submitted as
they are, with ``pure=False``; results come back as they finish. On the first failure the
remaining tasks are cancelled and TaskFailed is raised, as locally.

Progress counts travel as Dask events: a task's sink logs ``[run, index, done]`` under the one
topic TOPIC (``Worker.log_event``; one topic, so the scheduler's bounded log of it is all the
memory they take), and this client, subscribed to it, keeps its own run's. The scheduler passes
events and task results to the client in the order the worker sent them.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from synthc.errors import UsageError
from synthc.executors.base import POLL_SECONDS, Report, TaskFailed
from synthc.executors.reporting import Counts

#: the transports distributed knows (distributed.comm.registry), without importing it here
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d+))?$")


def check_address(address: str) -> None:
    """UsageError unless ``address`` is SCHEME://HOST[:PORT] (or HOST:PORT) a client can dial.

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
    if not match:
        raise UsageError(f"--scheduler {shown}: expected {scheme}://HOST:PORT")
    port = match[2]
    if port is not None and not 0 < int(port) < 65536:
        raise UsageError(f"--scheduler {shown}: port {port} is not in 1..65535")


class DaskExecutor:
    """Tasks on the Dask scheduler at ``address`` (for example ``tcp://10.0.0.5:8786``)."""

    name = "dask"

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        check_address(address)
        self.address = address
        self.timeout = timeout  # seconds to wait for the scheduler
        self.workers = 0  # known once connected

    def run(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        *args: Any,
        gil_free: bool = False,
        report: Report | None = None,
    ) -> Iterator[tuple[int, Any]]:
        try:
            from distributed import Client, wait
        except ImportError as error:  # pragma: no cover - depends on the installation
            raise UsageError("the Dask executor needs `pip install distributed`") from error
        try:
            client = Client(self.address, set_as_default=False, timeout=f"{self.timeout}s")
        except (OSError, ValueError) as error:  # TimeoutError is an OSError
            raise UsageError(
                f"cannot reach the Dask scheduler at {self.address}: {error}"
            ) from None
        with client:
            self.workers = len(client.scheduler_info().get("workers", {}))
            counts = Counts()
            run = uuid.uuid4().hex
            if report is not None:  # before any task is submitted, so no event is missed
                client.subscribe_topic(TOPIC, functools.partial(_collect, counts, run))
            futures = {}
            for index, item in enumerate(items):
                sink = {} if report is None else {"report": _EventSink(run, index)}
                futures[client.submit(fn, item, *args, pure=False, **sink)] = index
            pending = set(futures)
            try:
                while pending:
                    timeout = POLL_SECONDS if report is not None else None
                    try:
                        with client.as_current():  # wait() finds its client there
                            done, pending = wait(pending, timeout, return_when="FIRST_COMPLETED")
                    except TimeoutError:
                        done = set()
                    if report is not None:
                        report(counts.take())
                    for future in sorted(done, key=futures.__getitem__):
                        index = futures[future]
                        if future.status != "finished":
                            raise TaskFailed(index, future.exception())
                        yield index, future.result()
            finally:
                client.cancel(list(futures))
                if report is not None:
                    client.unsubscribe_topic(TOPIC)


#: the Dask event topic of progress counts
TOPIC = "synthc-progress"


@dataclass(frozen=True)
class _EventSink:
    """A task's progress sink on a Dask worker: logs ``[run, index, done]`` under TOPIC."""

    run: str
    index: int

    def __call__(self, done: int) -> None:
        from distributed import get_worker

        try:
            worker = get_worker()
        except ValueError:  # not on a worker (the task was called directly): nobody listens
            return
        worker.log_event(TOPIC, [self.run, self.index, done])


def _collect(counts: Counts, run: str, event: tuple[float, Any]) -> None:
    ours, index, done = event[1]
    if ours == run:  # another build on the same scheduler logs under the topic too
        counts.put(int(index), int(done))
