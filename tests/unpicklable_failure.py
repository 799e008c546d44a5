"""A task that fails with an exception no pickler can send (it holds a lock), for the Dask tests
(which upload this file to the workers: they cannot import the tests' modules)."""

from __future__ import annotations

import threading


class Unpicklable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


def fails_at_five(x: int) -> int:
    if x == 5:
        raise Unpicklable("shard five broke")
    return x
