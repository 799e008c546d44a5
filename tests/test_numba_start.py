"""This machine's Numba start (synthc.numba_start): recorded by the first kernel a process loads
from the cache, read back bounded, and used as the plain-Python deadline of tiny builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT
from test_cache_files import returns_unblocked

from synthc import numba_start, one_sample, plain_first


@pytest.fixture
def record_dir(tmp_path, monkeypatch):
    """The deadlines read their record in ``tmp_path`` instead of the kernel cache."""
    for module in (plain_first, one_sample):
        monkeypatch.setattr(module, "kernel_cache_dir", lambda: str(tmp_path))
    return tmp_path


def record(folder, seconds):
    numba_start.record(str(folder), seconds)


def typical(folder):
    return numba_start.typical(str(folder))


def test_the_median_of_the_last_few_starts_is_typical(record_dir):
    assert typical(record_dir) is None
    for seconds in (0.9, 0.5, 0.7):
        record(record_dir, seconds)
    assert typical(record_dir) == 0.7
    record(record_dir, 0.6)
    assert typical(record_dir) == pytest.approx(0.65)
    for seconds in (0.1, 0.1, 0.1, 0.1):  # only the last KEEP count
        record(record_dir, seconds)
    assert json.loads((record_dir / numba_start.FILE).read_text()) == [0.6, 0.1, 0.1, 0.1, 0.1]
    assert typical(record_dir) == 0.1
    assert not [p for p in record_dir.iterdir() if p.name != numba_start.FILE]  # no temporary


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"seconds": 0.5}',
        b"[" + b"0.5, " * 400 + b"0.5]",  # over MAX_BYTES
        b"[NaN, Infinity, -1, 0, 1e9]",
        b'[true, "0.5", null, [0.5], {"s": 0.5}]',
    ],
)
def test_a_damaged_or_planted_record_is_not_used(record_dir, content):
    (record_dir / numba_start.FILE).write_bytes(content)
    assert typical(record_dir) is None
    assert plain_first.plain_seconds(cold=False) == plain_first.PLAIN_BUILD_DEFAULT_SECONDS
    record(record_dir, 0.5)  # a new measure replaces what could not be read
    assert typical(record_dir) == 0.5


@pytest.mark.parametrize(
    "content",
    [
        b"[" * numba_start.MAX_BYTES,  # nested deeper than the parser recurses: no crash
        b"[0.5, 0.5, NaN]",
        b"[0.5, 0.5, 1e999]",
    ],
)
def test_a_record_that_is_not_strict_json_is_no_record(record_dir, content):
    (record_dir / numba_start.FILE).write_bytes(content)
    assert typical(record_dir) is None
    assert plain_first.plain_seconds(cold=False) == plain_first.PLAIN_BUILD_DEFAULT_SECONDS


def test_sane_entries_beside_nonsense_are_used(record_dir):
    (record_dir / numba_start.FILE).write_text('[0.4, "x", 1e300, 0.6, -3]')
    assert typical(record_dir) == 0.5


def test_nonsense_measures_are_not_recorded(record_dir):
    for seconds in (float("nan"), float("inf"), -1.0, 0.0, 1e6):
        record(record_dir, seconds)
    assert typical(record_dir) is None


def test_the_warm_deadline_is_this_machines_start_within_bounds(record_dir, monkeypatch):
    low, high = plain_first.PLAIN_BUILD_BOUNDS
    assert plain_first.plain_seconds(cold=False) == plain_first.PLAIN_BUILD_DEFAULT_SECONDS
    record(record_dir, 0.9)
    assert plain_first.plain_seconds(cold=False) == 0.9
    assert plain_first.PlainFirst(lambda: None).seconds == 0.9
    assert one_sample._row_seconds(cold=False) == 0.9
    for _ in range(numba_start.KEEP):
        record(record_dir, 30.0)  # a very slow or busy machine
    assert plain_first.plain_seconds(cold=False) == high
    for _ in range(numba_start.KEEP):
        record(record_dir, 0.02)
    assert plain_first.plain_seconds(cold=False) == low
    # cold kernels keep their own deadline; a fixed deadline overrides the measure
    assert plain_first.plain_seconds(cold=True) == plain_first.PLAIN_COLD_BUILD_SECONDS
    assert one_sample._row_seconds(cold=True) == one_sample.PLAIN_ROW_COLD_SECONDS
    monkeypatch.setattr(plain_first, "PLAIN_BUILD_SECONDS", 7.0)
    monkeypatch.setattr(one_sample, "PLAIN_ROW_SECONDS", 8.0)
    assert plain_first.plain_seconds(cold=False) == 7.0
    assert one_sample._row_seconds(cold=False) == 8.0


BUILD = """
import sys
if sys.argv[3] == "numba first":
    import numba  # a program that had loaded Numba before synthc's first kernel
from synthc import api
api.build(sys.argv[1], sys.argv[2], variables={"samples": 20000}, workers=1)
"""


def test_a_process_records_its_start_only_when_its_kernels_come_from_the_cache(tmp_path):
    cache = tmp_path / "cache"

    def build(out: str, how: str = "") -> list[float]:
        subprocess.run(
            [sys.executable, "-c", BUILD, str(ROOT / "specs" / "moons.yaml"), str(tmp_path / out)]
            + [how],
            check=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "NUMBA_CACHE_DIR": str(cache)},
        )
        found = list(cache.rglob(numba_start.FILE))
        assert len(found) <= 1
        return json.loads(found[0].read_text()) if found else []

    assert build("compiled") == []  # compiled, not loaded: not a start
    first = build("loaded")
    assert len(first) == 1 and 0.01 < first[0] < 60
    assert build("after numba", "numba first") == first  # Numba's import was not timed
    assert len(build("loaded again")) == 2


def test_a_fifo_at_the_record_is_no_record_and_never_blocks(record_dir):
    fifo = record_dir / numba_start.FILE
    os.mkfifo(fifo)
    assert returns_unblocked(fifo, lambda: typical(record_dir)) is None
    seconds = returns_unblocked(fifo, lambda: plain_first.plain_seconds(cold=False))
    assert seconds == plain_first.PLAIN_BUILD_DEFAULT_SECONDS
    returns_unblocked(fifo, lambda: record(record_dir, 0.5))  # replaced by a record
    assert fifo.is_file() and typical(record_dir) == 0.5


def test_a_record_over_the_bound_is_no_record_though_it_is_sane(record_dir):
    padded = b"[0.5]".ljust(numba_start.MAX_BYTES + 1)
    (record_dir / numba_start.FILE).write_bytes(padded)
    assert json.loads(padded) == [0.5] and typical(record_dir) is None
    record(record_dir, 0.7)
    assert typical(record_dir) == 0.7
