"""Garbage collection paused while a synthc process starts (synthc.startup_gc): in the `synthc`
command and spawned workers only, resumed after RESUME_AFTER seconds with the start frozen, and
never touched in a program that imports synthc.

Each case runs in a fresh interpreter: the collector's state belongs to the whole process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SPEC = "synthc: 1\nname: q\nseed: 1\nsamples: 10\ngenerator: {kind: manifold, shape: moons}\n"


def _run(code: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_command_pauses_collection_while_it_starts(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    found = _run(
        """
        import gc, json, sys
        from synthc import startup_gc
        from synthc.command import main
        sys.argv = ["synthc", "validate", sys.argv[1]]
        code = main()
        # still paused, or (on a slow machine) resumed with the start frozen
        paused = startup_gc._paused and not gc.isenabled()
        resumed = not startup_gc._paused and gc.isenabled() and gc.get_freeze_count() > 0
        print(json.dumps({"code": code, "paused_or_resumed": paused or resumed}))
        """,
        str(spec),
    )
    assert found == {"code": 0, "paused_or_resumed": True}


def test_a_program_importing_synthc_keeps_its_collector(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    found = _run(
        """
        import gc, json, sys
        from synthc import startup_gc
        from synthc.cli import main
        code = main(["validate", sys.argv[1]])
        print(json.dumps([code, gc.isenabled(), gc.get_freeze_count(), startup_gc._paused]))
        """,
        str(spec),
    )
    assert found == [0, True, 0, False]


def test_collection_resumes_with_the_start_frozen():
    found = _run(
        """
        import gc, json, time, weakref
        from synthc import startup_gc
        startup_gc.RESUME_AFTER = 0.2
        startup_gc.pause()
        paused = not gc.isenabled()

        class Node:
            pass

        def cycle():
            a, b = Node(), Node()
            a.other, b.other = b, a
            return weakref.ref(a)

        during = cycle()  # unreachable while paused: frozen with the start, never freed
        deadline = time.monotonic() + 60
        while not gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.01)
        after = cycle()  # unreachable once collection is back: freed by the next collection
        gc.collect()
        print(json.dumps({
            "paused": paused,
            "enabled": gc.isenabled(),
            "frozen": gc.get_freeze_count() > 0,
            "during_freed": during() is None,
            "after_freed": after() is None,
        }))
        """
    )
    assert found == {
        "paused": True,
        "enabled": True,
        "frozen": True,
        "during_freed": False,
        "after_freed": True,
    }


def test_pause_is_once_and_leaves_a_disabled_collector_alone():
    found = _run(
        """
        import gc, json, os, threading
        from synthc import startup_gc
        startup_gc.pause()
        first = startup_gc._timer
        startup_gc.pause()  # a second call (setup after prepare_environment) changes nothing
        again = startup_gc._timer is first
        threads = threading.active_count()  # this one and the timer's
        startup_gc.resume()  # early: at once, and the timer's thread is gone (a fork may follow)
        resumed = (
            gc.isenabled() and not startup_gc._paused and threading.active_count() == 1
            and len(os.listdir("/proc/self/task")) == 1  # the system thread is gone too
        )
        startup_gc.resume()  # not paused: nothing
        gc.disable()  # a process that turned collection off itself keeps it off
        startup_gc.pause()
        startup_gc.resume()
        print(json.dumps([threads, again, resumed, gc.isenabled(), startup_gc._paused]))
        """
    )
    assert found == [2, True, True, False, False]


def test_a_resume_while_the_timer_resumes_waits_for_its_thread():
    """The timer may resume at the moment a build starts its compile helper: the helper's
    resume waits for the timer's thread too, so the process forks with one thread."""
    found = _run(
        """
        import gc as real, json, os, threading, time, types
        from synthc import startup_gc

        def slow_freeze():
            time.sleep(0.3)
            real.freeze()

        startup_gc.gc = types.SimpleNamespace(
            disable=real.disable, enable=real.enable, isenabled=real.isenabled,
            freeze=slow_freeze,
        )
        startup_gc.RESUME_AFTER = 0.05
        startup_gc.pause()
        time.sleep(0.15)  # the timer's thread is in its freeze now
        startup_gc.resume()
        print(json.dumps([
            threading.active_count(), len(os.listdir("/proc/self/task")), real.isenabled()
        ]))
        """
    )
    assert found == [1, 1, True]
