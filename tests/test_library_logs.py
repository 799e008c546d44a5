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


SECRETS = textwrap.dedent(
    """
    import logging, sys
    from synthc import api, cli

    real = api.validate

    def validate(*args, **kwargs):
        log = logging.getLogger("somestore")
        log.warning("retrying https://user:hunter2@store.example/b/k?X-Amz-Signature=sig1")
        log.warning("Max retries exceeded with url: /tokeninfo?access_token=tok2 (refused)")
        log.warning("endpoint http://emulator:9000/?token=tok3 did not answer")
        try:
            raise ConnectionError("cannot reach s3://key:sec4@bucket/x")
        except ConnectionError:
            log.exception("giving up on gs://b/o?access_token=tok5")
        return real(*args, **kwargs)

    api.validate = validate
    sys.argv = ["synthc", *sys.argv[1:]]
    sys.exit(cli.main())
    """
)


def test_a_library_log_never_prints_the_secret_parts_of_urls(write_spec):
    """Store clients log the URLs of their requests: user info, passwords, queries (signed
    URLs, gcsfs's /tokeninfo?access_token=...) and the environment's endpoint's secret parts
    are masked in what the command prints, the --debug traceback included."""
    spec = str(write_spec(spec_text()))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AWS_ENDPOINT_URL": "http://emulator:9000/?token=tok3",
    }
    for debug in ([], ["--debug"]):
        done = subprocess.run(
            [sys.executable, "-c", SECRETS, *debug, "validate", spec],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        for secret in ("hunter2", "sig1", "tok2", "tok3", "sec4", "tok5"):
            assert secret not in done.stderr, (debug, done.stderr)
        assert "synthc: somestore: retrying https://***@store.example/b/k?***" in done.stderr
        assert "/tokeninfo?***" in done.stderr
