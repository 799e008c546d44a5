"""Compiling ahead (synthc.compile_ahead): a cold build's late kernels compiled in a helper
process, cached under the keys the build looks for; and Numba's cache shared between processes
(synthc.numba_cache_lock): saves that cannot cross, compiles that are not done twice."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from synthc import api, building, compile_ahead, numba_cache_lock
from synthc.generators.fractal.config import FractalConfig

#: generator configs, the kernels their compile_ahead must make, and those it must leave to the
#: build (which calls them first). Fractal: each path of the render (kernels.render), binary
#: grayscale points; density in colour on plasma; patch in grayscale; binary in colour.
#: Manifold: embedding with a rotation and noise; without either (3,000 samples: fewer would be
#: drawn as plain Python).
_FRACTAL = {"kind": "fractal", "classes": 2, "instances": 4}
CASES = {
    "binary": ({**_FRACTAL, "render": {"mode": "binary"}}, ["_render_points"], ["occupancy"]),
    "density-map-plasma": (
        {**_FRACTAL, "render": {"mode": "density", "color": "map", "background": "plasma"}},
        ["_render_general", "plasma"],
        ["occupancy"],
    ),
    "patch": ({**_FRACTAL, "render": {"mode": "patch"}}, ["_render_general"], ["plasma"]),
    "binary-random": (
        {**_FRACTAL, "render": {"mode": "binary", "color": "random", "background": "uniform"}},
        ["_render_general"],
        ["_render_points", "plasma"],
    ),
    "swiss-roll": (
        {"kind": "manifold", "shape": "swiss_roll", "noise": 0.1, "ambient_dim": 5},
        ["embed_and_noise"],
        ["swiss_roll"],
    ),
    "moons-plain": (
        {"kind": "manifold", "shape": "moons", "noise": 0.0, "rotate": False},
        ["embed_and_noise"],
        ["moons"],
    ),
}

_MADE = """
import json, sys, tempfile
from pathlib import Path
from pydantic import TypeAdapter
from synthc import api, generators
from synthc.generators.jit import Kernel

def made():
    found = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("synthc") and module is not None:
            for value in vars(module).values():
                if isinstance(value, Kernel) and value._made is not None:
                    found[value.py_func.__qualname__] = sorted(map(str, value._made.signatures))
    return found
"""


def _python(script: str, cache: str | None = None, args: list[str] | None = None) -> Any:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_MADE) + textwrap.dedent(script), *(args or [])],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("case", CASES)
def test_the_kernels_compiled_ahead_are_those_a_build_calls(case):
    """In a fresh process: every kernel compile_ahead makes has only the argument types a
    build of the same config then calls it with, so each entry it caches is one the build
    loads (a callee's types follow from its caller's)."""
    generator, late, first = CASES[case]
    if generator["kind"] == "fractal":
        generator = {**generator, "render": {"size": 32, "points": 2000, **generator["render"]}}
    samples = 8 if generator["kind"] == "fractal" else 3000
    spec = {"synthc": 1, "name": "ahead", "seed": 5, "samples": samples, "generator": generator}
    result = _python(
        f"""
        spec = {spec!r}
        kind = spec["generator"]["kind"]
        config = TypeAdapter(generators.get(kind).Config).validate_python(spec["generator"])
        generators.get(kind).compile_ahead(config)
        ahead = made()
        folder = Path(tempfile.mkdtemp())
        (folder / "spec.yaml").write_text(json.dumps(spec))
        api.build(folder / "spec.yaml", folder / "out", workers=1)
        print(json.dumps({{"ahead": ahead, "build": made()}}))
        """
    )
    ahead, build = result["ahead"], result["build"]
    for name in late:  # (their callees are made too when they compile, not when loaded)
        assert name in ahead, name
    for name in first:
        assert name not in ahead, name
    for name, signatures in ahead.items():
        assert set(signatures) <= set(build[name]), name


def test_a_build_loads_what_the_helper_compiled(tmp_path):
    """Compiled ahead in one process, loaded by the next: cached under the key a call looks
    for (a signature given as a string would be cached under the string)."""
    cache = str(tmp_path / "cache")
    script = """
        from synthc.generators.fractal import kernels
        kernels.compile_render(kernels.MODE_BINARY, 1)
        stats = kernels._render_points._made.stats
        print(json.dumps([sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]))
        """
    assert _python(script, cache) == [0, 1]  # compiled
    assert _python(script, cache) == [1, 0]  # loaded
    spec = ROOT / "specs" / "fractal_small.yaml"
    built = _python(
        f"""
        from synthc.generators.fractal import kernels
        api.build({str(spec)!r}, Path(tempfile.mkdtemp()) / "out", workers=1)
        stats = kernels._render_points._made.stats
        print(json.dumps([sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]))
        """,
        cache,
    )
    assert built == [1, 0]


@pytest.fixture
def started(monkeypatch):
    """Every helper a build starts, as the build starts it; builds treat the kernels as not
    cached."""
    helpers: list[tuple[str, compile_ahead.AheadCompile | None]] = []
    start = compile_ahead.start

    def recording(kind, config):
        helper = start(kind, config)
        helpers.append((kind, helper))
        return helper

    monkeypatch.setattr(compile_ahead, "start", recording)
    monkeypatch.setattr(building, "compile_notice", lambda kind: f"compiling the {kind} kernels")
    return helpers


def test_a_cold_build_with_two_workers_compiles_ahead_and_stops_the_helper(started, tmp_path):
    first = api.build(ROOT / "specs" / "fractal_small.yaml", tmp_path / "two", workers=2)
    assert [kind for kind, _ in started] == ["fractal"]
    helper = started[0][1]
    assert helper is not None and helper.poll() is not None  # not left running
    one = api.build(ROOT / "specs" / "fractal_small.yaml", tmp_path / "one", workers=1)
    assert len(started) == 1  # one worker: nothing waits for Numba, no helper
    for task in first.plan.tasks:
        assert (tmp_path / "two" / task.path).read_bytes() == (
            tmp_path / "one" / task.path
        ).read_bytes()
    assert one.built == first.built


def test_only_a_generator_with_late_kernels_starts_a_helper(started, tmp_path):
    churn = ROOT / "specs" / "churn.yaml"  # tables: no compile_ahead
    api.build(churn, tmp_path / "churn", variables={"samples": 5000}, workers=2)
    assert started == []
    api.build(ROOT / "specs" / "moons.yaml", tmp_path / "moons", workers=2)
    assert [kind for kind, _ in started] == ["manifold"]


_STOP = """
    import time
    from synthc import compile_ahead
    from synthc.generators.fractal.config import FractalConfig
    cache = Path(sys.argv[1])
    config = FractalConfig.model_validate({"kind": "fractal", "classes": 2, "instances": 2})
    helper = compile_ahead.start("fractal", config, fork=sys.argv[2] == "fork")
    deadline = time.monotonic() + 120
    while not list(cache.rglob("*.nbi")) and time.monotonic() < deadline:
        time.sleep(0.05)  # until it has saved its first kernel, and is compiling the next
    running = helper.poll() is None
    helper.stop()
    print(json.dumps({"forked": helper.forked, "running": running, "code": helper.returncode,
                      "reaped": helper.poll() is not None}))
"""


@pytest.mark.parametrize("how", ["fork", "spawn"])
def test_stopping_the_helper_mid_compile_leaves_no_partial_cache_file(tmp_path, how):
    """Forked or spawned, a helper stopped while it compiles ends (and is reaped) leaving
    no unfinished file in Numba's cache, and the entries it finished."""
    cache = tmp_path / "cache"
    result = _python(_STOP, str(cache), args=[str(cache), how])
    assert result["forked"] is (how == "fork")
    assert result["running"], "the helper ended before it could be stopped"
    assert result["code"] not in (None, 0) and result["reaped"]
    assert list(cache.rglob("*.nbi"))
    assert not [p for p in cache.rglob("*") if ".tmp." in p.name]


_FORKED_BUILD = """
    from synthc import cli, compile_ahead
    helpers = []
    start = compile_ahead.start
    def recording(kind, config, **options):
        helpers.append(start(kind, config, **options))
        return helpers[-1]
    compile_ahead.start = recording
    sys.argv = ["synthc", "build", sys.argv[1], "-o", sys.argv[2], "-q", "--workers", "2"]
    code = cli.main()  # as the `synthc` command runs it: the process is synthc's own
    print(json.dumps({"code": code, "helpers": [[h.forked, h.poll()] for h in helpers]}))
"""


def test_the_command_forks_its_helper_and_builds_the_same_bytes(tmp_path):
    """`synthc build` on a cold cache, with two workers, runs one thread when the helper
    starts: it forks it (no second interpreter), stops it, and writes the bytes a one-worker
    build writes."""
    spec = ROOT / "specs" / "fractal_small.yaml"
    result = _python(
        _FORKED_BUILD, str(tmp_path / "cache"), args=[str(spec), str(tmp_path / "two")]
    )
    assert result["code"] == 0
    assert len(result["helpers"]) == 1
    forked, code = result["helpers"][0]
    assert forked is True and code is not None  # forked, and ended by the build's end
    one = api.build(spec, tmp_path / "one", workers=1)
    for task in one.plan.tasks:
        assert (tmp_path / "two" / task.path).read_bytes() == (
            tmp_path / "one" / task.path
        ).read_bytes()


def test_a_process_running_threads_spawns_its_helper(tmp_path):
    """With another thread running, forking is not safe: the helper is a new interpreter."""
    result = _python(
        """
        import threading
        from synthc import compile_ahead
        from synthc.generators.fractal.config import FractalConfig
        stop = threading.Event()
        threading.Thread(target=stop.wait).start()
        may = compile_ahead._may_fork()
        config = FractalConfig.model_validate({"kind": "fractal", "classes": 2, "instances": 2})
        helper = compile_ahead.start("fractal", config)
        helper.stop()
        stop.set()
        print(json.dumps([may, helper.forked, helper.popen is not None]))
        """
    )
    assert result == [False, False, True]
    assert (
        _python("from synthc import compile_ahead\nprint(json.dumps(compile_ahead._may_fork()))")
        is True
    )


_SAVER = """
import os, sys, time
from synthc.generators.jit import _numba
_numba()  # imports Numba as synthc does, its cache saves locked
from numba.core.caching import IndexDataCacheFile
cache = IndexDataCacheFile(sys.argv[1], "kernel", ("source", 1))
who = sys.argv[2]
open(sys.argv[1] + "/ready-" + who, "w").close()
while not os.path.exists(sys.argv[1] + "/go"):  # both start saving at once
    time.sleep(0.001)
for i in range(int(sys.argv[3])):
    cache.save((who, i), (who, i, "x" * 20000))
"""


def test_processes_saving_one_kernel_at_once_keep_every_entry_its_own(tmp_path):
    """Two processes add different signatures of one kernel to Numba's cache at once: each
    key still loads its own data (unlocked, both could take data file 1)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    count = 200
    savers = [
        subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(tmp_path), who, str(count)],
            env=env,
            stderr=subprocess.PIPE,
        )
        for who in ("a", "b")
    ]
    while not all((tmp_path / f"ready-{who}").exists() for who in ("a", "b")):
        time.sleep(0.01)
    (tmp_path / "go").touch()
    for saver in savers:
        _, errors = saver.communicate(timeout=300)
        assert saver.returncode == 0, errors
    from synthc.generators.jit import _numba

    _numba()
    from numba.core.caching import IndexDataCacheFile

    cache = IndexDataCacheFile(str(tmp_path), "kernel", ("source", 1))
    for who in ("a", "b"):
        for i in range(count):
            assert cache.load((who, i)) == (who, i, "x" * 20000), (who, i)


_COMPILER = """
import json, os, sys, time
from synthc.generators.fractal import kernels
folder = sys.argv[1]
open(os.path.join(folder, "ready-" + sys.argv[2]), "w").close()
while not os.path.exists(os.path.join(folder, "go")):
    time.sleep(0.001)
kernels.compile_render(kernels.MODE_BINARY, 1)
stats = kernels._render_points._made.stats
print(json.dumps([sum(stats.cache_hits.values()), sum(stats.cache_misses.values())]))
"""


def test_two_processes_compiling_one_kernel_at_once_compile_it_once(tmp_path):
    """Started together on an empty cache, one process compiles the render kernels; the
    other waits for that compile (its ``.compiling`` lock) and loads them."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _COMPILER, str(tmp_path), who],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("a", "b")
    ]
    while not all((tmp_path / f"ready-{who}").exists() for who in ("a", "b")):
        time.sleep(0.01)
    (tmp_path / "go").touch()
    counts = []
    for process in processes:
        out, errors = process.communicate(timeout=600)
        assert process.returncode == 0, errors
        counts.append(json.loads(out))
    assert sorted(counts) == [[0, 1], [1, 0]]  # one compiled (a miss), one loaded (a hit)


def test_a_process_waits_for_a_compile_only_while_another_holds_it(tmp_path):
    index = str(tmp_path / "kernel.nbi")
    assert numba_cache_lock.wait_for_compile(index) is False  # never compiled here
    held = numba_cache_lock._mark(index)
    assert held is not None
    done: list[tuple[bool, bool]] = []
    released = threading.Event()

    def waiter():
        done.append((numba_cache_lock.wait_for_compile(index), released.is_set()))

    thread = threading.Thread(target=waiter)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the holder
    released.set()
    os.close(held)
    thread.join(30)
    assert done == [(True, True)]  # it waited, and returned once the compile was done
    assert numba_cache_lock.wait_for_compile(index) is False  # nobody holds it now
    assert numba_cache_lock.wait_for_compile(str(tmp_path / "other.nbi"), 0.0) is False


def test_the_helper_never_imports_from_the_working_directory(tmp_path, monkeypatch):
    """A spec repository holding a ``synthc`` package runs none of it."""
    marker = tmp_path / "ran"
    hostile = tmp_path / "repo" / "synthc"
    hostile.mkdir(parents=True)
    for name in ("__init__.py", "compile_ahead.py"):
        (hostile / name).write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path / "repo")
    config = FractalConfig.model_validate({"kind": "fractal", "classes": 2, "instances": 2})
    helper = compile_ahead.start("fractal", config, fork=False)  # a new interpreter
    assert helper is not None and not helper.forked
    assert helper.wait(300) == 0  # synthc's own helper ran, and compiled
    assert not marker.exists()


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by its new parent, does not)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _forks(pid: int) -> list[int]:
    """The children of ``pid`` running its own command line: forks, not `git` or workers."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        own = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        for task in (Path("/proc") / str(pid) / "task").glob("*"):
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    if (Path("/proc") / child / "cmdline").read_bytes() == own:
                        found.append(int(child))
    return found


def test_a_forked_helper_ends_with_its_killed_build(tmp_path):
    """SIGKILL of a cold build (nothing of it can clean up) ends its forked helper too, and
    the helper leaves no unfinished file in Numba's cache."""
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_CACHE_DIR": str(cache)}
    spec = ROOT / "specs" / "fractal_small.yaml"
    command = [sys.executable, "-m", "synthc", "build", str(spec), "-o", str(tmp_path / "o")]
    build = subprocess.Popen([*command, "-q", "--workers", "2"], env=env)
    try:
        deadline = time.monotonic() + 60
        helpers: list[int] = []
        while not helpers and time.monotonic() < deadline:
            seen = set(_forks(build.pid))
            time.sleep(0.3)  # a fork about to exec another program (`git`) is gone by then
            helpers = sorted(seen & set(_forks(build.pid)))
        assert helpers, "the build started no helper"
        time.sleep(0.3)  # compiling by now, and the build holds its output's lock
        assert all(_alive(pid) for pid in helpers)
        for pid in helpers:  # forked before the lock was taken: it holds nothing of the output
            held = [os.readlink(fd) for fd in (Path("/proc") / str(pid) / "fd").iterdir()]
            assert not [name for name in held if name.startswith(str(tmp_path / "o"))]
        os.kill(build.pid, signal.SIGKILL)
        build.wait(30)
        deadline = time.monotonic() + 3  # its compiles alone would take longer
        while any(_alive(pid) for pid in helpers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in helpers)
        assert not [p for p in cache.rglob("*") if ".tmp." in p.name]
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
