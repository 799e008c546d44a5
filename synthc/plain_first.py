"""Tiny table builds without Numba: the kernels run as plain Python while that is quick.

Loading Numba and its cached kernels takes about half a second (twice that on a slow machine),
more than generating a thousand rows of a manifold or a table as plain Python (the same bits:
jit.plain_python). A build of a table generator with at most :data:`PLAIN_BUILD_SAMPLES` samples
to make, on the local executor, runs its shards in the driver's thread with the kernels as plain
Python until a deadline after the first shard started: as long as starting Numba took on this
machine (synthc.numba_start, within :data:`PLAIN_BUILD_BOUNDS`; :data:`PLAIN_BUILD_DEFAULT_SECONDS`
before it was measured), or :data:`PLAIN_COLD_BUILD_SECONDS` when none of the generator's
kernels is in Numba's cache (compiling them takes far longer than loading them). Waiting as
long as the alternative would take means a build that misses the deadline costs at most twice
the quicker path. A shard cut short by that deadline
(a spec whose dataset-level facts need many draws, such as standardised columns) is made again
with compiled kernels, as is every shard after it: the bytes are the same either way, and the
most such a spec loses is the deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from synthc import numba_start
from synthc.compiler.planning import ShardTask
from synthc.executors.base import Executor
from synthc.executors.local import LocalExecutor
from synthc.generators.base import TableGenerator
from synthc.generators.jit import kernel_cache_dir, plain_if_quick

#: samples a build may have to make for its shards to be tried as plain Python
PLAIN_BUILD_SAMPLES = 2_000
#: seconds from the first shard by which the plain shards must be done, when the generator's
#: kernels are in Numba's cache: None for this machine's measured Numba start (numba_start)
PLAIN_BUILD_SECONDS: float | None = None
#: ... the measured start is used within these bounds ...
PLAIN_BUILD_BOUNDS = (0.2, 1.5)
#: ... and this is used before any start was measured (about 0.5 s on a 2-core machine)
PLAIN_BUILD_DEFAULT_SECONDS = 0.35
#: the same when none of them is (compile_notice): compiling them takes about 5 s, so plain
#: Python is worth a longer try; a build that misses even this pays it on top of the compile
PLAIN_COLD_BUILD_SECONDS = 2.0


def plain_seconds(cold: bool) -> float:
    """The plain shards' deadline: PLAIN_COLD_BUILD_SECONDS when the kernels would have to be
    compiled (``cold``), else PLAIN_BUILD_SECONDS or this machine's Numba start."""
    if cold:
        return PLAIN_COLD_BUILD_SECONDS
    if PLAIN_BUILD_SECONDS is not None:
        return PLAIN_BUILD_SECONDS
    return numba_start.deadline(kernel_cache_dir(), PLAIN_BUILD_DEFAULT_SECONDS, PLAIN_BUILD_BOUNDS)


def worth_plain(generator: Any, executor: Executor, tasks: Sequence[ShardTask]) -> bool:
    """Whether ``tasks`` are few table rows, built by the local executor."""
    samples = sum(task.samples for task in tasks)
    return (
        isinstance(generator, TableGenerator)
        and isinstance(executor, LocalExecutor)
        and 0 < samples <= PLAIN_BUILD_SAMPLES
    )


class PlainFirst:
    """``run`` (a shard task) with plain-Python kernels until ``seconds`` (default: the warm
    deadline, :func:`plain_seconds`) after its first call, then compiled; ``on_compiled`` is
    called once, when a call is cut short."""

    def __init__(
        self,
        run: Callable[..., Any],
        seconds: float | None = None,
        on_compiled: Callable[[], None] = lambda: None,
    ) -> None:
        self.run, self.on_compiled = run, on_compiled
        self.seconds = plain_seconds(cold=False) if seconds is None else seconds
        self.deadline: float | None = None
        self.compiled = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled:
            return self.run(*args, **kwargs)
        if self.deadline is None:
            self.deadline = time.monotonic() + self.seconds
        return plain_if_quick(
            lambda: self.run(*args, **kwargs), deadline=self.deadline, on_compiled=self._compiled
        )

    def _compiled(self) -> None:
        """From now on every call runs compiled."""
        self.compiled = True
        self.on_compiled()
