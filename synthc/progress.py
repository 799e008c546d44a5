"""Build progress for the command line: a tqdm bar on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from synthc.building import Progress


class BarProgress(Progress):
    """Shards done, samples/s and ETA as a tqdm bar on stderr."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.bar: Any = None

    def start(self, shards: int, samples: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=samples,
            unit="sample",
            unit_scale=True,
            file=self.stream,
            desc=f"0/{shards} shards",
            dynamic_ncols=True,
            leave=True,
        )
        self.shards, self.done = shards, 0

    def advance(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.bar.set_description(f"{self.done}/{self.shards} shards", refresh=False)
        self.bar.update(record["samples"])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class LineProgress(Progress):
    """One line at most every ``interval`` seconds, for logs and CI (no carriage returns)."""

    def __init__(self, stream: TextIO = sys.stderr, interval: float = 10.0) -> None:
        self.stream, self.interval = stream, interval

    def start(self, shards: int, samples: int) -> None:
        self.shards, self.samples = shards, samples
        self.done = self.done_samples = 0
        self.t0 = self.last = time.monotonic()
        print(f"synthc: building {shards} shard(s), {samples} samples", file=self.stream)

    def advance(self, record: dict[str, Any]) -> None:
        self.done += 1
        self.done_samples += record["samples"]
        now = time.monotonic()
        if now - self.last >= self.interval and self.done < self.shards:
            self.last = now
            rate = self.done_samples / max(now - self.t0, 1e-9)
            eta = (self.samples - self.done_samples) / max(rate, 1e-9)
            print(
                f"synthc: {self.done}/{self.shards} shards, {rate:,.0f} samples/s, "
                f"about {eta:.0f} s left",
                file=self.stream,
                flush=True,
            )


def progress_for(stream: TextIO = sys.stderr) -> Progress:
    """A bar on a terminal, plain lines otherwise."""
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)
