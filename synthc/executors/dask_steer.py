"""Keeping a Dask run's tasks off workers whose versions differ from the client's.

A worker that joins after the check before submitting and has other synthc, Python or library
versions does not run a task it is given: it logs the mismatch and raises distributed's
``Reschedule``. The client then restricts the run's unfinished tasks to the other workers (those
in the cluster not known to differ; a worker joining later may take them, and is checked by its
first task alike), and ends the run with a UsageError naming the mismatch only when no other
worker is left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from synthc.errors import UsageError

#: at most how often the client asks the scheduler which workers it has, once a mismatch is known
LOOK_EVERY = 0.5


class Steering:
    """The workers of one run found to differ (from the run's events) and the restrictions
    last given to its unfinished tasks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mismatched: dict[str, str] = {}
        self._restricted: set[str] | None = None
        self._looked = -float("inf")

    def mismatched(self, worker: str, message: str) -> None:
        """Note that ``worker`` refused a task of the run with ``message`` (on the client's
        event loop)."""
        with self._lock:
            self._mismatched.setdefault(worker, message)

    def steer(self, client: Any, futures: Iterable[Any], timeout: float) -> None:
        """Restrict the unfinished ``futures`` to the workers in the cluster not known to
        differ, when that set changed; UsageError naming a mismatch when none is left. Asks
        the scheduler at most every LOOK_EVERY seconds; does nothing before a mismatch, or when
        the scheduler does not answer within ``timeout`` (that is said elsewhere)."""
        with self._lock:
            bad = dict(self._mismatched)
        if not bad or time.monotonic() - self._looked < LOOK_EVERY:
            return
        self._looked = time.monotonic()
        try:
            info = client.sync(client.scheduler.identity, n_workers=-1, callback_timeout=timeout)
        except Exception:  # noqa: BLE001 - no answer: the presence check says so
            return
        good = set(info.get("workers", {})) - set(bad)
        if not good:
            raise UsageError(
                f"{bad[sorted(bad)[0]]}; no worker with the client's versions is left to run "
                "the build's tasks"
            )
        if good == self._restricted:
            return
        keys = {future.key: sorted(good) for future in futures if not future.done()}
        try:
            client.sync(client.scheduler.set_restrictions, worker=keys, callback_timeout=timeout)
        except Exception:  # noqa: BLE001 - tried again at the next look
            return
        self._restricted = good
