"""What an executor is: something that runs one function over many plain-data tasks."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

#: receives ``{task index: units done so far}`` for the tasks that reported since the last call
Report = Callable[[dict[int, int]], None]

#: seconds between two looks at the workers' reports while tasks run
POLL_SECONDS = 0.25


class TaskFailed(Exception):
    """Task ``index`` raised ``error`` (the original exception, as the worker raised it).

    ``worker_traceback``: the traceback of the task where it raised, as text (a worker
    process's traceback does not travel with the exception it pickles); by default
    :func:`traceback_text` of ``error``. ``where``: the machine's worker it raised on, when
    not this one's (``Dask worker tcp://10.0.0.7:40123``)."""

    def __init__(
        self,
        index: int,
        error: BaseException,
        worker_traceback: str | None = None,
        where: str | None = None,
    ) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error
        self.where = where
        self.worker_traceback = (
            traceback_text(error) if worker_traceback is None else worker_traceback
        )


def traceback_text(error: BaseException) -> str:
    """``error``'s traceback as text: as a process pool's worker formatted it when it came
    from one (concurrent.futures chains that text to the exception as a _RemoteTraceback),
    else as it stands here (raised in this process, or only its message if it was unpickled)."""
    cause = error.__cause__
    remote = getattr(cause, "tb", None)
    if type(cause).__name__ == "_RemoteTraceback" and isinstance(remote, str):
        # quoted by concurrent.futures as '\n"""\nTEXT"""'
        return remote.removeprefix('\n"""\n').removesuffix('"""')
    return "".join(traceback.format_exception(error))


class Executor(Protocol):
    """Runs ``fn(item, *args)`` for every item; yields ``(index, result)`` as tasks finish.

    On the first failure it stops scheduling, lets running tasks end, and raises TaskFailed.
    Executors know nothing of what the tasks do: items and results are plain, picklable data.
    ``gil_free`` says ``fn`` spends its time outside Python's GIL, so threads may run it in
    parallel; an executor may use that or ignore it.

    ``report``: when given, ``fn`` is called with a keyword ``report=sink`` too, a picklable
    ``sink(done)`` the task calls with how many of its units (samples) it has finished so far;
    it should call it in batches (a few times a second at most), never per unit. The executor
    hands these counts to ``report`` in the thread that iterates ``run``: at least every
    POLL_SECONDS while pool tasks run (an empty dict when nothing moved), and before it yields
    a finished task's result. A count may arrive after its task's result (Dask); the caller
    counts a finished task as done whatever arrives later.

    An executor that runs elsewhere may also have ``reach()``: a build calls it before it says
    it starts, so an address that does not answer is one error line (DaskExecutor checks its
    scheduler). It may also have ``waiting``: while ``run`` runs, what its tasks wait for before
    any can run (``"workers to join the Dask scheduler at ADDRESS for up to 600 s"``: none has
    joined yet, or all left), else None; the build reads it whenever ``report`` is called and
    shows it. And ``compare_versions(libraries)``: the libraries whose versions the places that
    run the tasks must share with this process, added once a spec is compiled (reproduce makes
    its executor first); Dask compares them. And ``stranded``: after a ``run`` that
    stopped early, ``(index, result)`` of tasks that finished but were never yielded (a batch of
    tasks cut short); the build records them as it records yielded ones. And ``stopping``: after
    a stop (Ctrl-C, SIGTERM, a failed task), while ``run`` waits for its running tasks to end
    before it returns, the line that says so and what a second signal does (it names the
    signal received: "Ctrl-C stops the build" would be wrong then), else None; the build shows
    it as a note.
    """

    name: str
    workers: int

    def run(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        *args: Any,
        gil_free: bool = False,
        report: Report | None = None,
    ) -> Iterator[tuple[int, Any]]: ...
