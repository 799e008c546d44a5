"""Compile a cold build's last kernels in a second process while the build compiles its first.

Numba compiles one function at a time per process (a global compiler lock), so a build that
finds no kernel in the cache compiles them all on one core, in the order it calls them, while
its other workers wait. A generator that has ``compile_ahead`` (synthc.generators.base)
compiles the kernels its builds call last, for the argument types they give them; run here, in
a second process at lower priority, that compiles them into Numba's cache on the idle core.
When the build reaches them, it loads them from the cache, or waits while the helper is still
compiling them; the helper likewise waits for a kernel the build is compiling
(synthc.numba_cache_lock). Either way each kernel is compiled once, by one of the two, for the
same types: no result depends on the helper, only the time.

The helper gets the generator's kind and config through a pipe from its parent, writes nothing
but Numba's cache, and prints nothing. It imports synthc from the usual places, then from where
its parent imported it, never from the working directory (``python -P``), which may be a spec
repository someone else wrote. :meth:`AheadCompile.stop` ends it when the build is done:
SIGTERM raises an exception inside the compile, so Numba removes its unfinished cache file.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import subprocess
import sys
from typing import Any

from synthc import generators

#: how long stop() waits for the helper to finish its current step before killing it
STOP_SECONDS = 5.0
#: the helper's niceness: it yields to the build's workers when they have work
NICENESS = 5
_PR_SET_PDEATHSIG = 1


class AheadCompile:
    """A running helper process (:func:`start`)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def stop(self) -> None:
        """End the helper if it still runs (SIGTERM, then SIGKILL after STOP_SECONDS)."""
        process = self.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start(kind: str, config: Any) -> AheadCompile | None:
    """Start compiling ``kind``'s late kernels for ``config`` in a helper process; None if
    the process cannot be started (the build then compiles everything itself)."""
    # -P: the working directory (a spec repository, a download) is not searched for modules;
    # the synthc this process runs is, after the usual places
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        process = subprocess.Popen(
            [sys.executable, "-P", "-c", _CHILD, root],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    assert process.stdin is not None
    try:
        with process.stdin:
            process.stdin.write(pickle.dumps((kind, config)))
    except OSError:  # the helper is gone already
        pass
    return AheadCompile(process)


#: the helper's program: ``main`` of this module, found where the parent found it
_CHILD = (
    "import sys\n"
    "sys.path.append(sys.argv[1]) if sys.argv[1] not in sys.path else None\n"
    "from synthc.compile_ahead import main\n"
    "sys.exit(main())\n"
)


class _Stopped(Exception):
    """Raised by SIGTERM in the helper: an Exception, so that Numba's cache writer removes the
    file it was writing."""


def _stopped(signum: int, frame: Any) -> None:
    raise _Stopped


def main() -> int:
    """The helper: read ``(kind, config)`` from stdin and run the kind's ``compile_ahead``."""
    signal.signal(signal.SIGTERM, _stopped)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    if sys.platform.startswith("linux"):  # never outlive the build
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    kind, config = pickle.loads(sys.stdin.buffer.read())
    try:
        generators.get(kind).compile_ahead(config)
    except _Stopped:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
