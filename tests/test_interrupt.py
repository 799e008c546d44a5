"""A closed pipe ends any command quietly; Ctrl-C stops a build with 130 and the next resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_synthc, spec_text
from test_resume import OCR_SPEC, descendants, finished_shards, survivors

from synthc.own_process import Terminated

ROOT = Path(__file__).resolve().parents[1]
SYNTHC = Path(sys.executable).with_name("synthc")


@pytest.mark.parametrize(
    "args",
    [
        ["schema"],
        ["plan", "specs/churn.yaml"],
        ["validate", "specs/churn.yaml", "specs/moons.yaml"],
        ["--help"],
    ],
    ids=["schema", "plan", "validate", "help"],
)
def test_a_closed_pipe_ends_a_command_quietly(args):
    process = subprocess.Popen(
        [SYNTHC, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # the reader is gone before synthc writes (`synthc ... | head -0`)
    _, err = process.communicate(timeout=60)
    code = process.returncode
    assert err == b"", "no BrokenPipeError traceback, no message"
    # 141 (128 + SIGPIPE) as a shell reports a tool SIGPIPE killed; --help prints too little
    # for the pipe to fill, argparse exits 0 before it could notice
    assert code == (0 if args == ["--help"] else 141)


def test_schema_piped_into_head_prints_one_line_and_nothing_else():
    result = subprocess.run(
        ["bash", "-c", f"'{SYNTHC}' schema | head -1; echo \"status ${{PIPESTATUS[0]}}\""],
        capture_output=True,
        text=True,
    )
    assert result.stderr == ""
    first, status = result.stdout.splitlines()
    assert first == "{" and status in ("status 0", "status 141")


BIG = spec_text(name="interrupted", samples=3_000_000, shard_size=20_000)


@pytest.mark.parametrize(
    ("spec_text_", "workers", "shards"),
    [(BIG, "2", 150), (OCR_SPEC.replace("400", "200"), "2", 20)],
    ids=["threads", "processes"],
)
def test_ctrl_c_stops_a_build_and_the_next_build_resumes(
    write_spec, tmp_path, spec_text_, workers, shards
):
    spec = write_spec(spec_text_)
    out = tmp_path / "out"
    # Its own process group, signalled as a whole: what a terminal does on Ctrl-C.
    process = subprocess.Popen(
        [SYNTHC, "build", spec, "-o", out, "--workers", workers],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    started = set()
    deadline = time.monotonic() + 60
    while finished_shards(out) < 1 and process.poll() is None and time.monotonic() < deadline:
        started |= descendants(process.pid)
        time.sleep(0.01)
    started |= descendants(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == (
        "synthc: interrupted; finished shards are kept, run the build again to resume"
    )
    assert stdout == ""
    done = finished_shards(out)
    assert 1 <= done < shards, "the build must stop part-way"
    assert not (out / "manifest.json").exists()
    assert not survivors(started), "workers outlived the interrupted build"

    resumed = run_synthc("build", spec, "-o", out, "--workers", workers)
    assert resumed.returncode == 0, resumed.stderr
    kept = int(resumed.stdout.split("kept ")[1].split(",")[0])
    assert kept >= done
    verified = run_synthc("verify", out)
    assert verified.returncode == 0 and f"ok ({shards} shards" in verified.stdout


def test_a_broken_pipe_that_is_not_the_output_is_an_internal_error(cli, monkeypatch):
    """Only the reader of stdout going away is quiet; a worker's broken pipe is reported."""
    from synthc import api

    def broken() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(api, "schema", broken)
    code, out, err = cli("schema")
    assert code == 1 and out == ""
    assert err.startswith("synthc: internal error: BrokenPipeError: [Errno 32] Broken pipe")


def _stopped_part_way(command: list, out: Path, env: dict | None = None) -> tuple[int, str, str]:
    """``synthc command`` sent SIGTERM (to its own pid, as `kill` and `timeout` do) once the
    first shard of ``out`` is finished: its exit code, stdout and stderr."""
    process = subprocess.Popen(
        [SYNTHC, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 60
    while finished_shards(out) < 1 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


def test_sigterm_stops_a_build_as_ctrl_c_does_and_the_next_build_resumes(write_spec, tmp_path):
    spec, out = write_spec(BIG), tmp_path / "out"
    code, stdout, stderr = _stopped_part_way(["build", spec, "-o", out, "--workers", "2"], out)
    assert code == 143, stderr  # 128 + SIGTERM, after its own clean-up
    assert "Traceback" not in stderr and stdout == ""
    assert stderr.splitlines()[-1] == (
        "synthc: terminated; finished shards are kept, run the build again to resume"
    )
    done = finished_shards(out)
    assert 1 <= done < 150 and not (out / "manifest.json").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".partial")]  # its temporaries gone
    resumed = run_synthc("build", spec, "-o", out, "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert int(resumed.stdout.split("kept ")[1].split(",")[0]) >= done


def test_sigterm_during_reproduce_leaves_no_scratch_copy(write_spec, tmp_path):
    """reproduce rebuilds a whole dataset in the temporary directory: the signal's default
    action left it there."""
    spec, out = (
        write_spec(spec_text(name="again", samples=2_000_000, shard_size=20_000)),
        (tmp_path / "out"),
    )
    built = run_synthc("build", spec, "-o", out, "--workers", "2")
    assert built.returncode == 0, built.stderr
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    process = subprocess.Popen(
        [SYNTHC, "reproduce", out, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if any(scratch.rglob("*.parquet")):  # the rebuild has written a shard
            break
        time.sleep(0.01)
    assert process.poll() is None, "reproduce ended before it could be stopped"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("stop, code", [(KeyboardInterrupt, 130), (Terminated, 143)])
def test_a_stop_while_the_command_line_is_imported_exits_quietly(stop, code, monkeypatch, capsys):
    """Ctrl-C or SIGTERM in the second the command's modules take to import: the exit code of
    a stopped command and no traceback."""
    from synthc import command

    class Importing:
        def __getattr__(self, name: str) -> None:
            raise stop

    monkeypatch.setattr(command, "_cli", Importing())
    monkeypatch.setattr(command, "prepare_environment", lambda: None)
    monkeypatch.setattr(command, "stop_on_terminate", lambda: None)
    try:
        assert command.main() == code
    except KeyboardInterrupt:
        pytest.fail("the stop escaped as a traceback")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("stop, code", [(KeyboardInterrupt, 130), (Terminated, 143)])
def test_a_stopped_command_that_is_not_a_build_says_no_build_resumes(
    stop, code, cli, built, monkeypatch
):
    """Ctrl-C in verify or reproduce: one line that says what was left, not that a build's
    finished shards are kept (verify has none; reproduce removes its rebuild)."""
    from synthc import api

    _, out = built

    def stopped(*args: object, **kwargs: object) -> None:
        raise stop

    monkeypatch.setattr(api, "verify", stopped)
    monkeypatch.setattr(api, "reproduce", stopped)
    word = "terminated" if stop is Terminated else "interrupted"
    assert cli("verify", out) == (code, "", f"synthc: {word}\n")
    returned, stdout, stderr = cli("reproduce", out)
    assert (returned, stdout) == (code, "")
    assert stderr == (
        f"synthc: {word}; its rebuild in the temporary directory was removed, the dataset is "
        "untouched\n"
    )


_IGNORED_CHILD = """
import os, signal, threading, time, types
from synthc import command

def run():  # the command's work: a shard's write in a worker thread, a Ctrl-C meanwhile
    import numpy as np
    import polars as pl  # installs its own SIGINT handler over the ignored one
    frame = pl.DataFrame({f"c{i}": np.arange(100_000, dtype=float) for i in range(4)})
    failed, stop = [], threading.Event()
    def write():
        try:
            while not stop.is_set():
                frame.write_parquet(os.environ["TARGET"])
        except BaseException as error:
            failed.append(type(error).__name__)
    thread = threading.Thread(target=write)
    thread.start()
    start = time.monotonic()
    while time.monotonic() - start < 0.3 and not failed:
        os.kill(os.getpid(), signal.SIGINT)  # meant for the script that started us
        time.sleep(0.005)
    stop.set()
    thread.join()
    print(failed)
    return 0

command._cli = types.SimpleNamespace(main=run)
raise SystemExit(command.main())
"""


def test_a_command_started_with_ctrl_c_ignored_is_not_stopped_by_one(tmp_path):
    """`synthc build ... &` in a script ignores SIGINT (the shell sets it aside): polars'
    handler, installed over it, made a Ctrl-C fail the build in a shard's write (exit 1)."""
    result = subprocess.run(
        [sys.executable, "-c", _IGNORED_CHILD],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TARGET": str(tmp_path / "shard.parquet")},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


_CALLBACK_CHILD = """
import ctypes, os, signal, sys, time
from synthc.own_process import stop_on_terminate
stop_on_terminate()  # as synthc.command does
# a stand-in for llvmlite's object-cache callback, which C calls while Numba compiles
source = "def notify():\\n    os.kill(os.getpid(), SIGNAL)\\n    time.sleep(0.2)\\n"
code = compile(source, os.path.join("site-packages", "llvmlite", "binding", "engine.py"), "exec")
space = {"os": os, "time": time, "SIGNAL": getattr(signal, sys.argv[1])}
exec(code, space)
callback = ctypes.CFUNCTYPE(None)(space["notify"])
try:
    callback()  # called from C: an exception raised in it is printed and dropped
    time.sleep(2)
    print("went on")
except KeyboardInterrupt as stop:
    print("stopped:", type(stop).__name__)
"""


@pytest.mark.parametrize(
    "signame, stop", [("SIGINT", "KeyboardInterrupt"), ("SIGTERM", "Terminated")]
)
def test_a_stop_while_numba_compiles_is_not_dropped(signame, stop):
    """Ctrl-C (or SIGTERM) while llvmlite's C code called back into Python: the exception was
    raised in the callback, where ctypes printed and dropped it; the build went on to exit 0."""
    result = subprocess.run(
        [sys.executable, "-c", _CALLBACK_CHILD, signame], capture_output=True, text=True, timeout=60
    )
    assert result.stdout == f"stopped: {stop}\n", result.stderr
    assert "Exception ignored" not in result.stderr


@pytest.mark.parametrize("closed", [1, 2], ids=["stdout", "stderr"])
def test_a_command_started_with_a_closed_stream_runs_as_with_the_null_device(closed, tmp_path):
    """`synthc validate SPEC >&-` ended in an AttributeError traceback (Python makes a closed
    stream None), and `synthc validate MISSING 2>&-` printed its error, as an internal error,
    to stdout."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=10))
    result = subprocess.run(
        [sys.executable, "-P", "-m", "synthc", "validate", spec if closed == 1 else "missing.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=lambda: os.close(closed),
    )
    if closed == 1:
        assert (result.returncode, result.stderr) == (0, "")
    else:  # the error is said on stderr, never on stdout
        assert (result.returncode, result.stdout) == (2, "")
