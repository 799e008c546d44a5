"""Python's cyclic garbage collector paused while a synthc process starts.

Starting imports pydantic, Jinja2, NumPy, polars and Numba and builds the spec's models:
hundreds of thousands of long-lived objects and next to no garbage, yet the collector walks
them again and again as they are made (measured here: 20-30 ms of `synthc validate`, 60-90 ms
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
import threading

#: seconds after the pause that collection resumes
RESUME_AFTER = 1.0

_lock = threading.Lock()
_timer: threading.Timer | None = None


def pause() -> None:
    """Stop collecting cycles for :data:`RESUME_AFTER` seconds (from the first call: later
    calls change nothing; nothing either where collection is off already)."""
    global _timer
    with _lock:
        if _timer is not None or not gc.isenabled():
            return
        gc.disable()
        _timer = threading.Timer(RESUME_AFTER, resume)
        _timer.name = "synthc-resume-gc"
        _timer.daemon = True  # never holds up an exit
        _timer.start()


def resume() -> None:
    """Freeze what is alive and collect as usual again (nothing if not paused). Called early,
    it also waits for the timer's thread to end: a process about to fork (synthc.compile_ahead)
    runs one thread again."""
    global _timer
    with _lock:
        timer, _timer = _timer, None
        if timer is None:
            return
        timer.cancel()
        gc.freeze()
        gc.enable()
    if timer is not threading.current_thread():
        timer.join()
