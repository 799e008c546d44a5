"""What an executor is: something that runs one function over many plain-data tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol


class TaskFailed(Exception):
    """Task ``index`` raised ``error`` (the original exception, as the worker raised it)."""

    def __init__(self, index: int, error: BaseException) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


class Executor(Protocol):
    """Runs ``fn(item, *args)`` for every item; yields ``(index, result)`` as tasks finish.

    On the first failure it stops scheduling, lets running tasks end, and raises TaskFailed.
    Executors know nothing of what the tasks do: items and results are plain, picklable data.
    ``gil_free`` says ``fn`` spends its time outside Python's GIL, so threads may run it in
    parallel; an executor may use that or ignore it.
    """

    name: str
    workers: int

    def run(
        self, fn: Callable[..., Any], items: Sequence[Any], *args: Any, gil_free: bool = False
    ) -> Iterator[tuple[int, Any]]: ...
