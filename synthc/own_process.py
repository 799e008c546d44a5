"""What a process that is synthc's own sets for itself, and a program that imports synthc never.

synthc's own processes are the `synthc` command (synthc.command; ``cli.main`` called without
``argv``) and the
local executor's spawned workers: nothing but synthc runs in them, and they end when their work
does. Each of these is a setting of the whole process, so a program that imports synthc as a
library (``cli.main(argv)``, ``synthc.api``) and a Dask worker, which runs other people's tasks
too, keep theirs as they are.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from types import FrameType

from synthc import deferred_stop, numba_blas, startup_gc
from synthc.allocator import reuse_freed_memory
from synthc.blas_threads import one_blas_thread
from synthc.quick_exit import exit_without_final_collection

#: pydantic's variable that turns its plugins off: ``__all__`` unless the user set it
PYDANTIC_PLUGINS = "PYDANTIC_DISABLE_PLUGINS"


class Terminated(KeyboardInterrupt):
    """SIGTERM in the `synthc` command, raised where Ctrl-C's KeyboardInterrupt is: the command
    stops as on Ctrl-C (finished shards kept, its workers and temporary files removed) and exits
    143 (128 + SIGTERM), where the signal's default action left a reproduce's scratch copy of a
    whole dataset in the temporary directory."""


#: whether this process received SIGTERM (see terminated)
_SIGTERM_RECEIVED = False


def _terminated(signum: int, frame: FrameType | None) -> None:
    global _SIGTERM_RECEIVED
    _SIGTERM_RECEIVED = True
    _RAISE_TERMINATED(signum, frame)


#: raises Terminated where Numba's compile cannot drop it (synthc.deferred_stop)
_RAISE_TERMINATED = deferred_stop.raising(Terminated)


def terminated() -> bool:
    """Whether SIGTERM stopped this process (through :func:`stop_on_terminate`'s handler): what
    a build that stops tells the user names that signal, not Ctrl-C."""
    return _SIGTERM_RECEIVED


def stop_on_terminate() -> None:
    """Make SIGTERM raise :class:`Terminated` in this process's main thread, unless its parent
    set SIGTERM aside (ignored or handled), and Ctrl-C raise KeyboardInterrupt as Python's own
    handler does, both where they cannot be lost while Numba compiles (synthc.deferred_stop):
    the command's own (synthc.command) only."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        deferred_stop.install(signal.SIGINT, KeyboardInterrupt)


def fill_closed_streams() -> None:
    """Open the null device on stdin, stdout and stderr where they are closed (``synthc build
    ... 2>&-``, a daemon's child): Python made the stream None, so the command failed on its
    first message (an internal error printed to stdout, or a traceback), and the first file
    it opened would take the free descriptor, where a child process (git, a worker) writes
    its output."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
            if opened != fd:  # not the free one after all: leave things as they are
                os.close(opened)
                continue
            setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115 - for the process


def escape_unencodable_output() -> None:
    """Write what stdout and stderr cannot encode as escapes (``\\xe9``): with an encoding
    that lacks a character (PYTHONIOENCODING=ascii, a locale's), a path or value holding it
    ended the command in an internal error instead of its output and exit code. Python's
    stderr escapes already, unless PYTHONIOENCODING names a stricter handler."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) not in ("strict", "surrogateescape"):
            continue
        # not a text file Python opened (replaced, closed): left as it is
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]


def keep_interrupts_ignored() -> None:
    """If this process was started with SIGINT ignored (a script's background job, ``synthc
    build ... &``, which a Ctrl-C meant for the script must not stop), keep it so: block it too.
    polars installs a SIGINT handler of its own when imported, over the ignored one, and turned
    such a Ctrl-C into a KeyboardInterrupt in the middle of a shard's write (the build failed,
    exit 1). A blocked signal reaches no thread, polars' or Python's; threads and processes
    started later inherit the mask (they inherit the ignored disposition anyway), so this is
    called before any thread starts (a thread started earlier, such as startup_gc's timer,
    would take the signal and run polars' handler)."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def prepare_environment() -> None:
    """Settings a process must have before it imports pydantic: pydantic's plugins off (unless
    PYDANTIC_DISABLE_PLUGINS is set, even to nothing). Before its first model, pydantic looks for
    plugins in the entry points of every installed distribution (3% of the instructions of
    `synthc validate` in a venv of 170 distributions), for plugins that would only observe
    synthc's own models (and those of installed generator kinds). The variable is inherited by
    the processes the command starts (its workers, a LocalCluster's). Garbage collection is
    paused while the process starts (synthc.startup_gc)."""
    os.environ.setdefault(PYDANTIC_PLUGINS, "__all__")
    startup_gc.pause()


def setup() -> None:
    """Make this process synthc's own: it exits without its last garbage collection
    (synthc.quick_exit), keeps freed shard buffers (synthc.allocator), and lets Numba check for
    SciPy's BLAS without importing scipy.linalg (synthc.numba_blas), gets one BLAS thread
    (synthc.blas_threads), and pauses garbage collection while it starts (synthc.startup_gc)."""
    startup_gc.pause()
    one_blas_thread()
    exit_without_final_collection()
    reuse_freed_memory()
    numba_blas.enable()
