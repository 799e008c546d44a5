"""The `synthc` command and spawned workers exit without the last garbage collection of their
live objects (synthc.quick_exit); Python callers of cli.main keep their collector."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from synthc import cli

# registered before synthc's own hook, so it runs after it (atexit is last in, first out)
PROBE = textwrap.dedent(
    """
    import atexit, gc, sys
    atexit.register(lambda: print("frozen", gc.get_freeze_count(), file=sys.stderr))
    sys.argv = ["synthc", *sys.argv[1:]]
    {call}
    """
)


def _frozen_at_exit(call: str, *args: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(call=call), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    line = [w for w in done.stderr.splitlines() if w.startswith("frozen ")][-1]
    return int(line.split()[1])


def _spec(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "synthc: 1\nname: q\nseed: 1\nsamples: 10\ngenerator: {kind: manifold, shape: moons}\n"
    )
    return str(spec)


def test_command_freezes_its_objects_at_exit(tmp_path):
    frozen = _frozen_at_exit("from synthc.cli import main; main()", "validate", _spec(tmp_path))
    assert frozen > 1000  # everything the command left alive


def test_main_with_argv_leaves_the_callers_collector_alone(tmp_path):
    call = f"from synthc.cli import main; main(['validate', {_spec(tmp_path)!r}])"
    assert _frozen_at_exit(call) == 0


def test_spawned_worker_init_freezes_at_exit():
    probe = "from synthc.executors import local; local._worker_init()"
    assert _frozen_at_exit(probe) > 0


def test_main_in_process_registers_nothing(monkeypatch, tmp_path):
    registered = []
    monkeypatch.setattr("atexit.register", registered.append)
    assert cli.main(["validate", _spec(tmp_path)]) == 0
    assert registered == []
