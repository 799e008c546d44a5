"""Leaving a process without the interpreter's last garbage collections.

When Python exits it tears its modules down and runs the cyclic garbage collector over
everything still alive. After Numba has loaded (hundreds of modules, its typing and lowering
registries) that pass takes about 0.3 s of one core, paid by every `synthc` command and, on
the critical path, by every spawned worker the build waits for. Nothing it would free matters
to a process that is about to end: files are closed and renamed explicitly, temporary
directories are removed by their own exit hooks. Freezing the live objects (``gc.freeze``)
as the process exits moves them out of the collector's sight; the exit hooks still run.
"""

from __future__ import annotations

import atexit
import gc


def exit_without_final_collection() -> None:
    """Make this process skip the garbage collection of its live objects when it exits
    (call it only in a process that ends when its work does: a command, a worker)."""
    atexit.register(gc.freeze)
