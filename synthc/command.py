"""The `synthc` command (and ``python -m synthc``): its process is synthc's own from the start.

Settings of the whole process that must be made before the command line's modules are imported
are made here, then :func:`synthc.cli.main` runs (synthc.own_process says what such a process
sets for itself, and why a program importing synthc as a library keeps its own settings).
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

from synthc.lazy import lazy_module
from synthc.own_process import (
    Terminated,
    escape_unencodable_output,
    fill_closed_streams,
    keep_interrupts_ignored,
    prepare_environment,
    stop_on_terminate,
)

if TYPE_CHECKING:
    from synthc import cli as _cli
else:
    _cli = lazy_module("synthc.cli")  # imported once the environment is prepared


def main() -> int:
    """Run the `synthc` command on ``sys.argv``; return its exit code."""
    fill_closed_streams()  # before any file is opened, which would take a closed one's number
    escape_unencodable_output()  # a character the output's encoding lacks is no crash
    keep_interrupts_ignored()  # a Ctrl-C its starter set aside stays aside, in every thread
    prepare_environment()
    stop_on_terminate()  # as Ctrl-C: what it started is stopped and its temporary files removed
    try:
        run = _cli.main  # imports the command line's modules: most of a second
    except KeyboardInterrupt as stop:
        # stopped before anything started: quietly, with the exit code of a stopped command
        return 128 + (signal.SIGTERM if isinstance(stop, Terminated) else signal.SIGINT)
    return run()
