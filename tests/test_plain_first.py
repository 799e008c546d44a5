"""A tiny table build makes its rows with the kernels as plain Python (no Numba start) when that
is quick, with the same bytes as compiled kernels; past the deadline it builds compiled."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

from synthc import api, plain_first
from synthc.executors.local import LocalExecutor
from synthc.generators import jit
from synthc.generators.jit import PlainTooSlow

SPECS = ROOT / "specs"

#: build a spec in a fresh process; print whether Numba was loaded and each shard's sha256
BUILD = textwrap.dedent(
    """
    import json, sys
    import synthc.plain_first as plain_first
    if sys.argv[4] != "default":
        plain_first.PLAIN_BUILD_SECONDS = float(sys.argv[4])
    if sys.argv[5] != "default":
        plain_first.PLAIN_COLD_BUILD_SECONDS = float(sys.argv[5])
    from synthc import api
    result = api.build(sys.argv[1], sys.argv[2], variables={"samples": int(sys.argv[3])},
                       workers=2)
    manifest = json.loads((result.out / "manifest.json").read_text())
    shards = {s["path"]: s["sha256"] for split in manifest["splits"].values()
              for s in split["shards"]}
    print(json.dumps(["numba" in sys.modules, shards, manifest["build"]["workers"]]))
    """
)


#: a plain-Python deadline (seconds) that a slow or busy machine meets too: the default, 0.35 s,
#: was missed by 1,000 plain-Python rows on a slow 2-core machine, which then built compiled
AMPLE = "60"


def fresh_build(spec, out, samples: int, seconds: str = "default", cold: str = "default", env=None):
    """Build in a fresh process with the plain deadline ``seconds`` (``cold``: when the kernels
    are not cached); whether it loaded Numba, its shards' sha256 by path, its workers."""
    result = subprocess.run(
        [sys.executable, "-c", BUILD, str(spec), str(out), str(samples), seconds, cold],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", ["swiss_roll", "churn"])
def test_a_tiny_table_build_starts_no_numba_and_writes_the_compiled_bytes(
    name, tmp_path, monkeypatch
):
    # a deadline no machine misses: what is checked is the path taken, not this machine's speed
    numba, shards, workers = fresh_build(
        SPECS / f"{name}.yaml", tmp_path / "plain", 1000, seconds=AMPLE
    )
    assert not numba and workers == 1  # run in the driver's thread, as plain Python
    # the same spec built by two workers with compiled kernels (no plain attempt)
    monkeypatch.setattr(plain_first, "PLAIN_BUILD_SAMPLES", 0)
    compiled = api.build(
        SPECS / f"{name}.yaml", tmp_path / "compiled", variables={"samples": 1000}, workers=2
    ).out
    manifest = json.loads((compiled / "manifest.json").read_text())
    assert manifest["build"]["workers"] == 2
    splits = manifest["splits"].values()
    assert shards == {s["path"]: s["sha256"] for split in splits for s in split["shards"]}
    assert len(shards) >= 2


def test_past_the_deadline_the_shards_are_built_compiled_with_the_same_bytes(tmp_path):
    spec = SPECS / "moons.yaml"
    late = fresh_build(spec, tmp_path / "late", 1000, seconds="0")
    quick = fresh_build(spec, tmp_path / "quick", 1000, seconds=AMPLE)
    assert late[0] and not quick[0]  # Numba started only when the deadline passed
    assert late[1] == quick[1]


def test_kernels_not_yet_compiled_give_plain_python_the_longer_deadline(tmp_path):
    """With an empty Numba cache the cold deadline applies (here ample), with a filled one the
    warm deadline (here 0: compiled at once); the bytes are the same."""
    spec = SPECS / "churn.yaml"
    cold = fresh_build(
        spec, tmp_path / "cold", 1000, seconds="0", cold=AMPLE,
        env={"NUMBA_CACHE_DIR": str(tmp_path / "empty-cache")},
    )  # fmt: skip
    assert not cold[0]  # plain Python: nothing compiled, the empty cache stays empty
    assert not any((tmp_path / "empty-cache").rglob("*.nbi"))
    fill = fresh_build(spec, tmp_path / "fill", plain_first.PLAIN_BUILD_SAMPLES + 1)
    assert fill[0]  # too big for plain kernels: the default cache now holds churn's kernels
    warm = fresh_build(spec, tmp_path / "warm", 1000, seconds="0", cold=AMPLE)
    assert warm[0] and warm[1] == cold[1]


def test_the_deadline_is_longer_only_when_the_kernels_would_compile():
    """(The warm deadline's own behaviour: tests/test_numba_start.py.)"""
    low, high = plain_first.PLAIN_BUILD_BOUNDS
    assert low <= plain_first.plain_seconds(cold=False) <= high
    assert plain_first.plain_seconds(cold=True) == plain_first.PLAIN_COLD_BUILD_SECONDS > high


def test_a_build_too_big_for_plain_kernels_runs_on_the_workers_it_was_given(tmp_path):
    numba, shards, workers = fresh_build(
        SPECS / "swiss_roll.yaml", tmp_path / "big", plain_first.PLAIN_BUILD_SAMPLES + 1
    )
    assert numba and workers == 2 and len(shards) >= 2


def test_a_shard_cut_short_runs_again_compiled_and_so_do_the_rest():
    seen: list[bool] = []
    told: list[str] = []

    def run(item: int) -> int:
        seen.append(getattr(jit._PLAIN, "on", False))
        if len(seen) == 1:
            raise PlainTooSlow("kernel")
        return item * 2

    runner = plain_first.PlainFirst(run, seconds=10.0, on_compiled=lambda: told.append("x"))
    assert [runner(1), runner(2)] == [2, 4]
    assert seen == [True, False, False] and told == ["x"]
    # within the deadline every call runs plain
    quick: list[bool] = []
    plain = plain_first.PlainFirst(lambda: quick.append(jit._PLAIN.on), seconds=10.0)
    plain(), plain()
    assert quick == [True, True]


def test_only_few_table_rows_on_the_local_executor_are_worth_plain_kernels():
    from synthc import generators

    plan = api.plan(SPECS / "swiss_roll.yaml", variables={"samples": 1000})
    table = generators.get("manifold")
    assert plain_first.worth_plain(table, LocalExecutor(2), plan.tasks)
    assert not plain_first.worth_plain(table, object(), plan.tasks)  # Dask, say
    assert not plain_first.worth_plain(generators.get("fractal"), LocalExecutor(1), plan.tasks)
    big = api.plan(SPECS / "swiss_roll.yaml", variables={"samples": 5000})
    assert not plain_first.worth_plain(table, LocalExecutor(1), big.tasks)
