"""How many threads polars gets in each worker process an executor starts."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def polars_threads_per_worker(workers: int) -> Iterator[None]:
    """While worker processes are started in this block, each inherits POLARS_MAX_THREADS set
    to its share of the cores (``workers`` share them); the variable is restored after."""
    saved = os.environ.get("POLARS_MAX_THREADS")
    os.environ["POLARS_MAX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("POLARS_MAX_THREADS", None)
        else:
            os.environ["POLARS_MAX_THREADS"] = saved
