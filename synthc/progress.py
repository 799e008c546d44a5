"""Build progress: the callbacks a build makes (:class:`Progress`, silent), and for the command
line a tqdm bar on a terminal, plain lines otherwise.

Both count samples as workers report them (synthc.shard), so a one-shard build moves too, and
both show samples/s and an estimate of the time left. Off a terminal (CI, make, a pipe) a line
goes out every ``interval`` seconds (10 by default) and a summary at the end, never a carriage
return. ``--quiet`` gets the silent :class:`Progress`. This module imports nothing of the
driver, so the command line loads no build machinery for a command that builds nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from synthc.errors import counted


class Progress:
    """Callbacks a front end can give a build, all called in the thread that runs the build;
    the default does nothing."""

    #: what ``samples`` counts: "samples", or "rows" for related tables (whose shards hold
    #: rows of several tables; set by ``counting`` before ``start``)
    unit: str = "samples"

    def counting(self, unit: str) -> None:
        """The counts that follow are ``unit`` ("samples" or "rows"), not samples."""
        self.unit = unit

    def start(self, shards: int, samples: int) -> None:
        """The build will write ``shards`` shards holding ``samples`` samples."""

    def note(self, message: str) -> None:
        """A line to show as the build goes (its kernels are compiled first); may come before
        ``start``."""

    def waiting(self, what: str | None) -> None:
        """The build's tasks wait for ``what`` before any can start (the executor's
        ``waiting``), or no longer wait (None); called when that changes."""

    def samples(self, done: int) -> None:
        """``done`` samples are written so far, in finished and running shards: called as
        workers report (a few times a second while shards run, even when nothing moved)."""

    def advance(self, record: dict[str, Any]) -> None:
        """A shard is finished (its samples are in the last ``samples`` count)."""

    def close(self) -> None:
        """The build ended, done or failed."""


class BarProgress(Progress):
    """Samples done, samples/s and ETA as a tqdm bar on stderr; shards done in its label."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.bar: Any = None

    def start(self, shards: int, samples: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=samples,
            unit=self.unit.removesuffix("s"),
            unit_scale=True,
            file=self.stream,
            desc=f"0/{shards} shards",
            dynamic_ncols=True,
            leave=True,
        )
        self.shards, self.done = shards, 0

    def note(self, message: str) -> None:
        if self.bar is None:
            print(f"synthc: {message}", file=self.stream, flush=True)
        else:
            self.bar.write(f"synthc: {message}", file=self.stream)

    def waiting(self, what: str | None) -> None:
        if what is not None:
            self.note(f"waiting for {what} (Ctrl-C stops the build)")

    def samples(self, done: int) -> None:
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def advance(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.bar.set_description(f"{self.done}/{self.shards} shards", refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class LineProgress(Progress):
    """A plain line at most every ``interval`` seconds and a summary at the end (for logs and
    CI: no carriage returns). ``clock`` is injectable for tests."""

    def __init__(
        self,
        stream: TextIO = sys.stderr,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.interval, self.clock = stream, interval, clock
        self.awaited: str | None = None  # what the tasks wait for (see waiting)

    def start(self, shards: int, samples: int) -> None:
        self.shards, self.total = shards, samples
        self.shards_done = self.done = 0
        self.t0 = self.last = self.clock()
        self.first: tuple[float, int] | None = None  # when samples first moved, and how many
        self._print(f"building {shards} shard(s), {self._counted(samples)}")

    def note(self, message: str) -> None:
        self._print(message)

    def waiting(self, what: str | None) -> None:
        self.awaited = what
        if what is not None:
            self._print(f"waiting for {what} (Ctrl-C stops the build)")

    def samples(self, done: int) -> None:
        now = self.clock()
        if done > self.done and self.first is None:
            self.first = (now, done)
        self.done = max(done, self.done)
        if now - self.last >= self.interval and self.done < self.total:
            self.last = now
            self._print(self._status(now))

    def advance(self, record: dict[str, Any]) -> None:
        self.shards_done += 1

    def close(self) -> None:
        if not hasattr(self, "t0"):
            return
        seconds = self.clock() - self.t0
        rate = self.done / seconds if seconds > 0 else 0.0
        if self.done >= self.total and self.shards_done >= self.shards:
            self._print(
                f"wrote {self._counted(self.done)} in {self.shards_done} shard(s) in "
                f"{seconds:.1f} s "
                f"({rate:,.0f} {self.unit}/s)"
            )
        else:
            self._print(
                f"stopped after {self.done}/{self.total} {self.unit} "
                f"({self.shards_done}/{self.shards} shards) in {seconds:.1f} s"
            )

    def _counted(self, count: int) -> str:
        """``count`` of the unit: "1 sample", "2 rows"."""
        return counted(count, self.unit.removesuffix("s"), self.unit)

    def _status(self, now: float) -> str:
        percent = 100 * self.done / self.total if self.total else 100.0
        line = (
            f"{self.done}/{self.total} {self.unit} ({percent:.0f}%), "
            f"{self.shards_done}/{self.shards} shards"
        )
        if self.awaited:  # nothing runs (a cluster whose workers all left): no rate, no ETA
            return line + f", waiting for {self.awaited}"
        rate = self._rate(now)
        if rate is None:
            return line if self.done > 0 else line + ", compiling or starting"
        left = (self.total - self.done) / rate
        return line + f", {rate:,.0f} {self.unit}/s, about {duration(left)} left"

    def _rate(self, now: float) -> float | None:
        """Samples/s since samples first moved (compiling kernels and starting workers are
        not part of the rate the rest of the build will go at)."""
        if self.first is None:
            return None
        since, at = self.first
        if now <= since or self.done <= at:
            return None
        return (self.done - at) / (now - since)

    def _print(self, text: str) -> None:
        print(f"synthc: {text}", file=self.stream, flush=True)


def duration(seconds: float) -> str:
    """``seconds`` as a person says it: ``42 s``, ``3 min``, ``1 h 5 min``."""
    if seconds < 90:
        return f"{max(0, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def progress_for(stream: TextIO = sys.stderr, quiet: bool = False) -> Progress:
    """A bar on a terminal, plain lines otherwise; nothing at all when ``quiet``."""
    if quiet:
        return Progress()
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)
