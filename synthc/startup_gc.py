"""Python's cyclic garbage collector paused while a synthc process starts.

Starting imports pydantic, Jinja2, NumPy, polars and Numba and builds the spec's models:
hundreds of thousands of long-lived objects and next to no garbage, yet the collector walks
them again and again as they are made (measured here: 20-30 ms of `synthc validate`, 50-90 ms
of a warm 1,000-sample build, about a tenth of each). In synthc's own processes
(synthc.own_process) it is paused from the start. A process still running :data:`RESUME_AFTER`
seconds later freezes what is alive then (``gc.freeze``: later collections skip it) and collects
as usual from then on, so a long build's memory is bounded as before. The cycles the start left
unreachable are frozen with the rest, never freed: 2,000-3,500 objects in the example specs'
builds (a collection at that point found them, at 110-160 ms of one core, as much as it would
save). A short command ends first, and its exit skips the last collection anyway
(synthc.quick_exit).
"""

from __future__ import annotations

import gc
import os
import threading
import time

#: seconds after the pause that collection resumes
RESUME_AFTER = 1.0

_lock = threading.Lock()
#: the thread that resumes collection, once :func:`pause` started it (kept after it ran: a
#: :func:`resume` called meanwhile waits for it to end)
_timer: threading.Timer | None = None
#: whether collection is paused now
_paused = False


def pause() -> None:
    """Stop collecting cycles for :data:`RESUME_AFTER` seconds (once a process: later calls
    change nothing; nothing either where collection is off already)."""
    global _timer, _paused
    with _lock:
        if _timer is not None or not gc.isenabled():
            return
        gc.disable()
        _paused = True
        _timer = threading.Timer(RESUME_AFTER, resume)
        _timer.name = "synthc-resume-gc"
        _timer.daemon = True  # never holds up an exit
        _timer.start()


def resume() -> None:
    """Freeze what is alive and collect as usual again (nothing if not paused). Called from
    another thread than the timer's, it also waits for that thread to end, even when the timer
    resumed first: a process about to fork (synthc.compile_ahead) runs one thread again."""
    global _paused
    with _lock:
        if _paused:
            _paused = False
            assert _timer is not None
            _timer.cancel()
            gc.freeze()
            gc.enable()
        timer = _timer
    if timer is not None and timer is not threading.current_thread():
        timer.join()
        _gone(timer.native_id)


def _gone(native_id: int | None, seconds: float = 1.0) -> None:
    """Wait (at most ``seconds``) until the system thread ``native_id`` has ended: a joined
    Python thread's system thread ends a moment later, and a process counting its threads in
    /proc/self/task (synthc.compile_ahead, before it forks) would still see it."""
    if native_id is None or not os.path.isdir("/proc/self/task"):
        return
    deadline = time.monotonic() + seconds
    while os.path.exists(f"/proc/self/task/{native_id}") and time.monotonic() < deadline:
        time.sleep(0.001)
