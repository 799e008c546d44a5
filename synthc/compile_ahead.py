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

On Linux, a build that runs a single thread when it starts the helper forks it: the child has
synthc, pydantic and the spec's config loaded already, and starts compiling about half a second
sooner than a new interpreter would (the cold build's critical path). Elsewhere, or when other
threads run (a program that imports synthc), the helper is a new interpreter that gets the
generator's kind and config through a pipe and imports synthc from the usual places, then from
where its parent imported it, never from the working directory (``python -P``), which may be a
spec repository someone else wrote. Either way it writes nothing but Numba's cache and prints
nothing. :meth:`AheadCompile.stop` ends it when the build is done: SIGTERM raises an exception
inside the compile, so Numba removes its unfinished cache file.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from synthc import generators, numba_cache_lock, startup_gc

#: how long stop() waits for the helper to finish its current step before killing it
STOP_SECONDS = 5.0
#: the helper's niceness: it yields to the build's workers when they have work
NICENESS = 5
#: how often the helper looks whether its build is still there (_watch_parent)
WATCH_SECONDS = 0.1
_PR_SET_PDEATHSIG = 1


class AheadCompile:
    """A running helper process (:func:`start`): a fork of this process, or a new interpreter
    (``popen``)."""

    def __init__(self, pid: int, popen: subprocess.Popen[bytes] | None = None) -> None:
        self.pid = pid
        self.popen = popen
        self._returncode: int | None = None

    @property
    def forked(self) -> bool:
        """Whether the helper is a fork of this process (else a new interpreter)."""
        return self.popen is None

    @property
    def returncode(self) -> int | None:
        """The helper's exit code once it has ended (negative: the signal that ended it)."""
        return self.popen.returncode if self.popen is not None else self._returncode

    def poll(self) -> int | None:
        """The exit code if the helper has ended (it is then reaped), else None."""
        if self.popen is not None:
            return self.popen.poll()
        if self._returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: its code is lost
                self._returncode = -signal.SIGKILL
            else:
                if pid:
                    self._returncode = os.waitstatus_to_exitcode(status)
        return self._returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the helper to end and return its exit code (subprocess.TimeoutExpired
        after ``timeout`` seconds)."""
        if self.popen is not None:
            return self.popen.wait(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"compile helper {self.pid}", timeout or 0.0)
            time.sleep(0.01)
        return code

    def stop(self) -> None:
        """End the helper if it still runs (SIGTERM, then SIGKILL after STOP_SECONDS)."""
        if self.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        try:
            self.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.wait()


def start(kind: str, config: Any, *, fork: bool | None = None) -> AheadCompile | None:
    """Start compiling ``kind``'s late kernels for ``config`` in a helper process; None if
    the process cannot be started (the build then compiles everything itself).

    The helper is a fork of this process when ``fork`` is true, or, by default, when this is
    a Linux process running a single thread (nothing can hold a lock the child would inherit
    held): it imports nothing that this process has imported already. Otherwise it is a new
    interpreter, given ``config`` through a pipe."""
    if fork is None:
        startup_gc.resume()  # its timer's thread would make this process look unsafe to fork
        fork = _may_fork()
    return _fork(kind, config) if fork else _spawn(kind, config)


def _may_fork() -> bool:
    """Whether forking this process is safe: Linux, and one thread (Python's or any other)."""
    if not sys.platform.startswith("linux") or threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _fork(kind: str, config: Any) -> AheadCompile | None:
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        return None
    # forked before the build takes its output's lock (building.build): the child holds no
    # descriptor the build locks
    if pid == 0:  # the helper: it never returns into the build's code
        code = 1
        try:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # it prints nothing, and reads nothing of the build's
                os.dup2(null, fd)
            code = _compile(kind, config, parent)
        finally:
            os._exit(code)  # no exit hooks, no flush of the build's buffers
    return AheadCompile(pid)


def _spawn(kind: str, config: Any) -> AheadCompile | None:
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
            process.stdin.write(pickle.dumps((os.getpid(), kind, config)))
    except OSError:  # the helper is gone already
        pass
    return AheadCompile(process.pid, process)


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


def _watch_parent(parent: int) -> None:
    """End this helper soon after its build, even while LLVM compiles: the SIGTERM its build's
    death sends is handled only between Python bytecodes, and one LLVM call (made without the
    GIL) can run for seconds on a loaded machine. A thread looks at the parent every
    WATCH_SECONDS and, once it is gone, exits between cache saves (no half-written file)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        with numba_cache_lock.between_saves():
            os._exit(1)

    threading.Thread(target=watch, name="synthc-helper-watch", daemon=True).start()


def main() -> int:
    """The spawned helper: read ``(parent pid, kind, config)`` from stdin and compile."""
    parent, kind, config = pickle.loads(sys.stdin.buffer.read())
    return _compile(kind, config, parent)


def _compile(kind: str, config: Any, parent: int) -> int:
    """Run ``kind``'s ``compile_ahead`` for ``config`` as the helper of process ``parent``:
    ended by SIGTERM, deaf to Ctrl-C, niced, gone with its parent. Returns the exit code."""
    signal.signal(signal.SIGTERM, _stopped)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    if sys.platform.startswith("linux"):  # never outlive the build
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the build ended before the line above could tell
        return 1
    _watch_parent(parent)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    try:
        generators.get(kind).compile_ahead(config)
    except _Stopped:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
