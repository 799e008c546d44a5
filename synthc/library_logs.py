"""What libraries log while a `synthc` command runs, one line each.

Store clients log their retries and fallbacks, gcsfs each failed request with its traceback; in
a process where nothing set up logging, Python prints such records to stderr whole, before
synthc's own one-line error. In the `synthc` command (set by ``cli.main`` once it knows
``--debug``) a warning or error a library logs is printed as ``synthc: <logger>: <its first
line>``, the whole message and its traceback only with ``--debug``; records below WARNING stay
unprinted, as before. The secret parts of the URLs they quote (user info, queries: signed URLs,
tokens) are masked (synthc.secret_text). A program that imports synthc keeps its logging as it
set it up, and so do the local executor's worker processes, which report failures through the
build.
"""

from __future__ import annotations

import logging
import sys

from synthc.errors import one_line
from synthc.secret_text import masked


class _OneLine(logging.Formatter):
    """A record as one ``synthc:`` line; with ``debug``, its whole message and traceback."""

    def __init__(self, debug: bool) -> None:
        super().__init__()
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().strip() or _exception(record) or record.levelname.lower()
        if not self.debug:
            return one_line(f"synthc: {record.name}: {masked(message.splitlines()[0])}")
        text = f"synthc: {record.name}: {message}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return masked(text)


def show_library_logs(debug: bool) -> None:
    """Print what libraries log at WARNING and above as one line each (see the module doc),
    unless this process's logging is set up already."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_OneLine(debug))
    root.addHandler(handler)


def _exception(record: logging.LogRecord) -> str:
    """The type and message of the exception a record carries without a message of its own
    (a library's ``logger.exception(error)`` of an error whose text is empty printed
    ``synthc: distributed.client: error``)."""
    if not record.exc_info or record.exc_info[1] is None:
        return ""
    error = record.exc_info[1]
    return f"{type(error).__name__}: {error}".removesuffix(": ")
