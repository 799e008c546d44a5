"""Ctrl-C and SIGTERM that reach the command while Numba compiles: raised where they cannot be
lost.

Python runs a signal's handler in the main thread, in whatever Python code runs there. While
Numba compiles, that can be a function llvmlite's C code calls back (its object cache's
``_raw_object_cache_notify``): an exception raised there is printed by ctypes ("Exception ignored
on calling ctypes callback function", with a traceback) and dropped, so the command went on as
if never stopped and exited 0. The handlers here raise only outside llvmlite's code; inside it
they send the signal again a moment later, until the main thread has left it.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

#: how long a stop waits to be raised again when it came in llvmlite's code
RETRY_SECONDS = 0.05


def raising(stop: type[BaseException]) -> Callable[[int, FrameType | None], None]:
    """A signal handler that raises ``stop``, or sends its signal again in RETRY_SECONDS when
    the main thread runs llvmlite's code, where ctypes would drop the exception."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if _in_llvmlite(frame):
            timer = threading.Timer(RETRY_SECONDS, os.kill, (os.getpid(), signum))
            timer.daemon = True
            timer.start()
            return
        raise stop

    return handler


def _in_llvmlite(frame: FrameType | None) -> bool:
    """Whether ``frame`` or a frame it was called from is llvmlite's."""
    while frame is not None:
        if "llvmlite" in Path(frame.f_code.co_filename).parts:
            return True
        frame = frame.f_back
    return False


def install(signum: signal.Signals, stop: type[BaseException]) -> None:
    """Make ``signum`` raise ``stop`` in the main thread as :func:`raising` does."""
    signal.signal(signum, raising(stop))
