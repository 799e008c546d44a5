"""What libraries log during a `synthc` command is printed one line each (synthc.library_logs):
a store client's retry with its traceback reads as one ``synthc: <logger>:`` line, the whole
message and the traceback shown only with --debug; a program that calls ``cli.main(argv)`` keeps
its logging."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import spec_text

from synthc import cli

ROOT = Path(__file__).resolve().parents[1]

# `synthc validate` in a fresh process, where a library logs while the command runs: a failed
# request with its traceback (as gcsfs does), a message of two lines, and chatter below WARNING
PROGRAM = textwrap.dedent(
    """
    import logging, sys
    from synthc import api, cli

    real = api.validate

    def validate(*args, **kwargs):
        try:
            raise ConnectionError("cannot connect to host store.invalid:443")
        except ConnectionError as error:
            logging.getLogger("somestore.retry").exception("out of retries: %s", error)
        try:
            raise TimeoutError()
        except TimeoutError as error:  # logged as itself, and its text is empty
            logging.getLogger("somestore.client").exception(error)
        logging.getLogger("somestore").warning("falling back\\nto the other API")
        logging.getLogger("somestore").info("chatter")
        return real(*args, **kwargs)

    api.validate = validate
    sys.argv = ["synthc", *sys.argv[1:]]
    sys.exit(cli.main())
    """
)


def _synthc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_library_log_is_one_line_and_its_traceback_needs_debug(write_spec):
    spec = str(write_spec(spec_text()))
    done = _synthc("validate", spec)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "synthc: somestore.retry: out of retries: cannot connect to host store.invalid:443",
        "synthc: somestore.client: TimeoutError",  # it said "error"
        "synthc: somestore: falling back",
    ]
    assert done.stdout == f"{spec}: ok\n"

    debug = _synthc("--debug", "validate", spec)
    assert debug.returncode == 0, debug.stderr
    lines = debug.stderr.splitlines()
    assert lines[0] == lines[0].strip() and lines[0].startswith("synthc: somestore.retry: out")
    assert lines[1] == "Traceback (most recent call last):"
    assert "ConnectionError: cannot connect to host store.invalid:443" in lines
    assert lines[-2:] == ["synthc: somestore: falling back", "to the other API"]
    assert "chatter" not in debug.stderr


def test_a_program_calling_main_keeps_its_logging(write_spec):
    root = logging.getLogger()
    before = list(root.handlers)
    assert cli.main(["validate", str(write_spec(spec_text()))]) == 0
    assert root.handlers == before
