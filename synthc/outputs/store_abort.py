"""Ending a stopping build's pending object-store requests at once.

fsspec's asynchronous stores (s3fs, gcsfs, adlfs) run every request on an event loop thread
of theirs while the calling thread waits for it. When a build is stopped (Ctrl-C, SIGTERM)
and the store does not answer, its worker threads and its last state write would wait out the
client's timeouts and retries. Cancelling the loop's tasks ends each such wait at once with an
error; an object store never holds half an object, so nothing put before is lost. A store
whose file system has no loop (a synchronous fsspec implementation) is left to its own
timeouts: the build's bounded waits (synthc.deadline) no longer wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


def abort_requests(fs: Any) -> None:
    """Cancel every request pending on ``fs``'s event loop (nothing if it has none)."""
    loop = getattr(fs, "loop", None)
    if not isinstance(loop, asyncio.AbstractEventLoop) or loop.is_closed():
        return
    with contextlib.suppress(RuntimeError):  # closed meanwhile
        loop.call_soon_threadsafe(_cancel_all, loop)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()
