"""Progress a person can read: samples counted as workers write them (inline, threads,
processes, Dask), plain periodic lines off a terminal, --quiet, and the compile notice."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import loopback_cluster, run_synthc, spec_text

from synthc import api
from synthc.building import Progress
from synthc.executors.dask import DaskExecutor
from synthc.executors.local import LocalExecutor
from synthc.progress import BarProgress, LineProgress, duration, progress_for
from synthc.shard import run_task

OCR = """\
synthc: 1
name: ocr-progress
seed: 5
samples: {samples}
generator:
  kind: ocr_text
  text: {{source: dict, language: en, words: [1, 2]}}
  background: {{kinds: [plain]}}
output: {{shard_size: {shard_size}}}
"""


class Recorder(Progress):
    """Every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start(self, shards: int, samples: int) -> None:
        self.calls.append(("start", (shards, samples)))

    def note(self, message: str) -> None:
        self.calls.append(("note", message))

    def samples(self, done: int) -> None:
        self.calls.append(("samples", done))

    def advance(self, record: dict[str, Any]) -> None:
        self.calls.append(("advance", record["samples"]))

    def close(self) -> None:
        self.calls.append(("close", None))

    def counts(self) -> list[int]:
        return [value for name, value in self.calls if name == "samples"]

    def while_the_first_shard_ran(self) -> list[int]:
        """The counts before the first shard was done (less the count that says it is)."""
        first = next(i for i, (name, _) in enumerate(self.calls) if name == "advance")
        assert self.calls[first - 1][0] == "samples"
        return [value for name, value in self.calls[: first - 1] if name == "samples"]


def check_counts(recorder: Recorder, total: int) -> None:
    """Samples moved before the first shard was done; counts never go back; all are done."""
    early = recorder.while_the_first_shard_ran()
    assert any(count > 0 for count in early), recorder.calls
    counts = recorder.counts()
    assert counts == sorted(counts)
    assert counts[-1] == total
    assert recorder.calls[-1] == ("close", None)


@pytest.fixture(scope="module")
def scheduler():
    with loopback_cluster(1) as address:
        yield address


def test_a_one_shard_build_moves_before_it_ends(write_spec, tmp_path):
    spec = write_spec(OCR.format(samples=60, shard_size=60))
    recorder = Recorder()
    api.build(spec, tmp_path / "out", workers=1, progress=recorder)
    assert ("start", (1, 60)) in recorder.calls
    check_counts(recorder, 60)


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_pool_workers_report_samples_as_they_write(mode, write_spec, tmp_path):
    spec = write_spec(OCR.format(samples=60, shard_size=30))
    recorder = Recorder()
    executor = LocalExecutor(2, mode)
    api.build(spec, tmp_path / "out", executor=executor, progress=recorder)
    check_counts(recorder, 60)
    # the same bytes as a build without anyone listening
    plain = api.build(spec, tmp_path / "plain", workers=1)
    assert tars(tmp_path / "out") == tars(plain.out)


def test_dask_workers_report_samples_as_they_write(scheduler, write_spec, tmp_path):
    spec = write_spec(OCR.format(samples=60, shard_size=60))
    recorder = Recorder()
    api.build(spec, tmp_path / "out", executor=DaskExecutor(scheduler), progress=recorder)
    check_counts(recorder, 60)


def test_a_table_shard_counts_when_written(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=500, shard_size=200))
    recorder = Recorder()
    api.build(spec, tmp_path / "out", workers=2, progress=recorder)
    counts = recorder.counts()
    assert counts == sorted(counts) and counts[-1] == 500


def test_reporting_leaves_the_shard_and_its_record_alone(write_spec, tmp_path):
    spec = write_spec(OCR.format(samples=40, shard_size=40))
    task = api.plan(spec).tasks[0].to_json()
    reports: list[int] = []
    quiet = run_task(task, str(tmp_path / "a"))
    told = run_task(task, str(tmp_path / "b"), report=reports.append)
    assert quiet == told
    assert reports and reports == sorted(reports) and 0 < reports[0] < 40


def tars(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.tar"))}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_off_a_terminal_every_interval_and_a_summary():
    stream, clock = io.StringIO(), Clock()
    progress = LineProgress(stream, interval=10.0, clock=clock)
    progress.start(2, 1000)
    clock.now += 4
    progress.samples(0)  # compiling: nothing moved, too early for a line
    clock.now += 8
    progress.samples(0)  # 12 s without samples: a line says so
    clock.now += 1
    progress.samples(100)
    clock.now += 5
    progress.samples(300)  # 5 s later: no line yet
    clock.now += 5
    progress.samples(500)  # 400 samples in 10 s since they first moved: 40/s, 500 left
    progress.advance({"samples": 500})
    clock.now += 12
    progress.samples(1000)
    progress.advance({"samples": 500})
    progress.close()
    text = stream.getvalue()
    assert "\r" not in text
    assert text.splitlines() == [
        "synthc: building 2 shard(s), 1000 samples",
        "synthc: 0/1000 samples (0%), 0/2 shards, compiling or starting",
        "synthc: 500/1000 samples (50%), 0/2 shards, 40 samples/s, about 12 s left",
        "synthc: wrote 1000 samples in 2 shard(s) in 35.0 s (29 samples/s)",
    ]


def test_a_failed_build_ends_with_where_it_stopped():
    stream, clock = io.StringIO(), Clock()
    progress = LineProgress(stream, clock=clock)
    progress.start(3, 900)
    progress.samples(250)
    clock.now += 2
    progress.close()
    last = stream.getvalue().splitlines()[-1]
    assert last == "synthc: stopped after 250/900 samples (0/3 shards) in 2.0 s"


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in (3.4, 89, 130, 3600, 3900)] == [
        "3 s",
        "89 s",
        "2 min",
        "1 h 0 min",
        "1 h 5 min",
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_bar_counts_samples_and_notes_go_above_it():
    terminal = Terminal()
    bar = BarProgress(terminal)
    bar.note("compiling the fractal kernels")
    bar.start(2, 100)
    bar.samples(30)
    bar.samples(50)
    bar.advance({"samples": 50})
    bar.note("a note while the bar runs")
    bar.samples(100)
    bar.advance({"samples": 50})
    bar.close()
    text = terminal.getvalue()
    assert text.startswith("synthc: compiling the fractal kernels\n")
    assert "synthc: a note while the bar runs\n" in text
    assert "2/2 shards: 100%" in text and "sample/s" in text


def test_the_front_end_picks_a_bar_lines_or_silence():
    assert type(progress_for(Terminal())).__name__ == "BarProgress"
    assert type(progress_for(io.StringIO())).__name__ == "LineProgress"
    assert type(progress_for(Terminal(), quiet=True)) is Progress


def test_quiet_prints_nothing_on_success_and_the_error_on_failure(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=300, shard_size=100))
    out = tmp_path / "out"
    assert cli("build", spec, "-o", out, "--quiet") == (0, "", "")
    assert cli("build", spec, "-o", out, "-q") == (0, "", "")  # up to date: silent too
    assert cli("reproduce", out, "--root", tmp_path, "--quiet") == (0, "", "")
    code, stdout, stderr = cli("build", spec, "-o", out, "-q", "--var", "nokey")
    assert code == 2 and stdout == "" and stderr.startswith("synthc: error: --var 'nokey'")
    (out / "train" / "train-00000.parquet").write_bytes(b"not the shard")
    code, stdout, stderr = cli("reproduce", out, "--root", tmp_path, "-q")
    assert code == 1 and stdout == "" and "does not reproduce" in stderr


def test_quiet_several_specs_prints_only_the_failure(cli, write_spec, tmp_path):
    good = write_spec(spec_text(name="good", samples=100, shard_size=100), "good.yaml")
    bad = write_spec(spec_text(name="bad").replace("seed: 7", "seed: -1"), "bad.yaml")
    code, stdout, stderr = cli("build", good, bad, "-o", tmp_path / "outs", "-q")
    assert code == 2 and stdout == ""
    assert stderr and all("bad.yaml" in line for line in stderr.splitlines()[:1])
    assert "good" not in stderr


def test_the_console_off_a_terminal_prints_lines_without_carriage_returns(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=600, shard_size=200))
    result = run_synthc("build", spec, "-o", tmp_path / "out", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "synthc: building 4 shard(s), 600 samples"  # 480 train, 120 test
    assert lines[-1].startswith("synthc: wrote 600 samples in 4 shard(s) in ")


def build_with_cache(cache: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``synthc build ARGS`` in a fresh process whose Numba cache is ``cache``."""
    cache.mkdir(exist_ok=True)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "synthc", "build", *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True)


def test_the_first_build_says_it_compiles_kernels(write_spec, tmp_path):
    # a manifold too big for plain-Python kernels (synthc.plain_first)
    spec = write_spec(spec_text(samples=3000, shard_size=1000))
    first = build_with_cache(tmp_path / "numba", spec, "-o", tmp_path / "first")
    assert first.returncode == 0, first.stderr
    notice = "synthc: compiling the manifold kernels (first build on this machine, about"
    assert first.stderr.splitlines()[0].startswith(notice)
    again = build_with_cache(tmp_path / "numba", spec, "-o", tmp_path / "again")
    assert again.returncode == 0, again.stderr
    assert "compiling" not in again.stderr
    quiet = build_with_cache(tmp_path / "cold", spec, "-o", tmp_path / "quiet", "-q")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_a_tiny_build_with_plain_kernels_compiles_nothing_and_says_nothing_of_it(
    write_spec, tmp_path
):
    spec = write_spec(spec_text(samples=100, shard_size=100))
    tiny = build_with_cache(tmp_path / "numba", spec, "-o", tmp_path / "tiny")
    assert tiny.returncode == 0, tiny.stderr
    assert "compiling" not in tiny.stderr
    assert not list((tmp_path / "numba").rglob("*.nbi"))  # no kernel was compiled


def _counts_two(item: int, report: Any) -> int:
    report(1)
    report(2)
    return item


def test_a_failing_listener_is_not_a_failing_task():
    def listener(news: dict[int, int]) -> None:
        raise BrokenPipeError("stderr closed")

    runs = LocalExecutor(1).run(_counts_two, [5], report=listener)
    with pytest.raises(BrokenPipeError):
        list(runs)


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_pool_executors_hand_counts_over_before_the_result(mode):
    seen: list[dict[int, int]] = []
    results = []
    for index, result in LocalExecutor(2, mode).run(_counts_two, [7, 8], report=seen.append):
        results.append((index, result))
        merged = {k: v for news in seen for k, v in news.items()}
        assert merged.get(index) == 2  # the task's last count came before its result
    assert sorted(results) == [(0, 7), (1, 8)]


class CutShort:
    """An executor stopped by Ctrl-C once its first task came back, its second finished but
    never handed on (a Dask batch cut short: its ``stranded``)."""

    name = "dask"
    workers = 1

    def run(self, fn, items, where, read_roots, gil_free=False, report=None):
        self.stranded = []
        yield 0, fn(items[0], where, read_roots)
        self.stranded = [(1, fn(items[1], where, read_roots))]
        raise KeyboardInterrupt


@pytest.mark.parametrize("stop", ["stranded", "saving"])
def test_a_stopped_build_counts_every_shard_it_keeps(stop, write_spec, tmp_path, monkeypatch):
    # it said "stopped after 0/1000 samples (0/4 shards)" and the rerun kept 2: a batch's
    # stranded shards, and a shard recorded when Ctrl-C came during the state's save, were
    # recorded but never counted
    from synthc.checkpoint import Checkpoint

    spec = write_spec(spec_text(samples=600, shard_size=300, splits="{train: 1.0}"))
    if stop == "saving":
        write, calls = Checkpoint._write, []

        def interrupted(self):  # Ctrl-C while the first save runs; close saves again
            calls.append(1)
            if len(calls) == 1:
                raise KeyboardInterrupt
            write(self)

        monkeypatch.setattr(Checkpoint, "_write", interrupted)
        executor: Any = LocalExecutor(1)
    else:
        executor = CutShort()
    recorder = Recorder()
    with pytest.raises(KeyboardInterrupt):
        api.build(spec, tmp_path / "out", executor=executor, progress=recorder)
    monkeypatch.undo()
    counted = [value for name, value in recorder.calls if name == "advance"]
    kept = api.build(spec, tmp_path / "out", workers=1).kept
    assert kept == len(counted) > 0 and recorder.counts()[-1] == 300 * kept
