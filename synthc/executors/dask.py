"""Run tasks on an existing Dask cluster: the same plain-data tasks the local executor runs.

Every worker needs synthc installed (same version: task keys name the library versions) and
must see the output directory at the same path (a shared filesystem). Tasks are submitted as
they are, with ``pure=False``; results come back as they finish. On the first failure the
remaining tasks are cancelled and TaskFailed is raised, as locally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from synthc.errors import UsageError
from synthc.executors.base import TaskFailed


class DaskExecutor:
    """Tasks on the Dask scheduler at ``address`` (for example ``tcp://10.0.0.5:8786``)."""

    name = "dask"

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        self.address = address
        self.timeout = timeout  # seconds to wait for the scheduler
        self.workers = 0  # known once connected

    def run(
        self, fn: Callable[..., Any], items: Sequence[Any], *args: Any, gil_free: bool = False
    ) -> Iterator[tuple[int, Any]]:
        try:
            from distributed import Client, as_completed
        except ImportError as error:  # pragma: no cover - depends on the installation
            raise UsageError("the Dask executor needs `pip install distributed`") from error
        try:
            client = Client(self.address, set_as_default=False, timeout=f"{self.timeout}s")
        except OSError as error:
            raise UsageError(
                f"cannot reach the Dask scheduler at {self.address}: {error}"
            ) from None
        with client:
            self.workers = len(client.scheduler_info().get("workers", {}))
            futures = {
                client.submit(fn, item, *args, pure=False): index
                for index, item in enumerate(items)
            }
            try:
                for future in as_completed(futures, loop=client.loop):
                    index = futures[future]
                    if future.status != "finished":
                        raise TaskFailed(index, future.exception())
                    yield index, future.result()
            finally:
                client.cancel(list(futures))
