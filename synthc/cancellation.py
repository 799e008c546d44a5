"""Whether the run a task works for still wants what it writes.

A Dask task goes on running after its client cancelled it (Dask cannot stop a running task):
after a Ctrl-C, a killed client or a failed shard elsewhere, it would still put its shard in
place, after the build had said it stopped and let go of its output's lock, over the shards
of the next build. The executor that runs such tasks installs a check (:func:`checked_by`)
for each; the shard writers call :func:`check` before they put a shard in place, and the
task's progress sink while it generates, so a cancelled task stops within moments and puts
nothing in place. Outside such a task, :func:`check` does nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator


class Cancelled(Exception):
    """The run this task works for was cancelled: what it wrote is discarded."""


_CHECK: contextvars.ContextVar[Callable[[], bool] | None] = contextvars.ContextVar(
    "synthc_cancelled", default=None
)


@contextlib.contextmanager
def checked_by(cancelled: Callable[[], bool]) -> Iterator[None]:
    """Within this block (in this thread), :func:`check` raises once ``cancelled()`` is true."""
    token = _CHECK.set(cancelled)
    try:
        yield
    finally:
        _CHECK.reset(token)


def check() -> None:
    """Raise Cancelled if the run the current task works for was cancelled."""
    cancelled = _CHECK.get()
    if cancelled is not None and cancelled():
        raise Cancelled("the run this task works for was cancelled")
