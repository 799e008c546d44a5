"""Calls that must end within a time: a stopping build's last writes to an output that may not
answer.

A build stopped by Ctrl-C or SIGTERM still saves its state (so the next build resumes) and
lets go of its output's lock. Against an object store that hangs, each would wait out the
store client's own timeouts and retries (a minute or more each): the command that was told to
stop took minutes. :func:`within_stop` gives them STOP_SECONDS in all; :func:`within` runs
such a call in a daemon thread (it can never hold the process's exit), waits at most
``seconds``, then calls ``abort`` (which ends the output's pending requests, where it can) and
raises :class:`NoAnswer`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

#: how long a stopping build waits for its last writes (the state, the lock) in all
STOP_SECONDS = 5.0


class NoAnswer(Exception):
    """The call did not end in time."""


def within(seconds: float, call: Callable[[], None], abort: Callable[[], None]) -> None:
    """Run ``call`` and return when it does (raising what it raised); after ``seconds``,
    call ``abort`` and raise NoAnswer, leaving ``call``'s daemon thread behind."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            failure.append(error)

    thread = threading.Thread(target=run, name="synthc-stopping", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        abort()
        raise NoAnswer(f"no answer in {seconds:.3g} s")
    if failure:
        raise failure[0]


def within_stop(call: Callable[[], None], abort: Callable[[], None]) -> None:
    """:func:`within` the time left of STOP_SECONDS from the first such call for the
    interrupt in flight (or a whole STOP_SECONDS outside one): however many writes a stopping
    build tries, it stops within that."""
    left = time_left()
    within(STOP_SECONDS if left is None else left, call, abort)


def time_left(keep: float = 0.0) -> float | None:
    """Seconds left of STOP_SECONDS (counted from the first call of this or
    :func:`within_stop` for the interrupt in flight), less ``keep`` seconds kept for the
    writes after; None outside an interrupt."""
    stop = interrupted()
    if stop is None:
        return None
    end = stop.__dict__.setdefault("synthc_stop_end", time.monotonic() + STOP_SECONDS)
    return max(0.0, end - keep - time.monotonic())


def interrupted() -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM (a KeyboardInterrupt) this thread is stopping for, if any: called
    in a ``finally`` or ``except`` block while it propagates, also in a generator its consumer
    closed because of it (the GeneratorExit raised there has the stop as its context)."""
    error = sys.exc_info()[1]
    if isinstance(error, GeneratorExit):
        error = error.__context__
    return error if isinstance(error, KeyboardInterrupt) else None
