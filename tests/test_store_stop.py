"""A build to an object store stopped (SIGTERM, Ctrl-C) while the store does not answer stops
within synthc.deadline.STOP_SECONDS, says so, and the next build resumes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fsspec.config
import pytest
import s3fs
from conftest import spec_text

from synthc import api, checkpoint, deadline
from synthc.own_process import Terminated
from synthc.progress import Progress


def server_pid(endpoint: str) -> int:
    """The moto server process listening at ``endpoint`` (started by conftest.s3_server)."""
    port = endpoint.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(w.endswith(b"moto_server") for w in words) and port.encode() in words:
                return int(entry.name)
    raise AssertionError(f"no moto server at {endpoint}")


@contextmanager
def frozen(pid: int) -> Iterator[None]:
    """The process ``pid`` stopped (SIGSTOP) inside the block: a store that does not answer."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


class StopAfterTwoShards(Progress):
    """Freezes the store and raises ``stop`` in the build's thread once two shards are
    recorded (the second not saved yet), as the signal handler raises it."""

    def __init__(self, freeze: Any, stop: KeyboardInterrupt) -> None:
        self.freeze, self.stop = freeze, stop
        self.shards, self.frozen = 0, False

    def advance(self, record: dict[str, Any]) -> None:
        self.shards += 1
        if self.shards == 2:
            self.frozen = True
            self.freeze.__enter__()
            self.stopped_at = time.monotonic()
            raise self.stop


@pytest.mark.parametrize("stop", [Terminated(), KeyboardInterrupt()])
def test_a_stop_while_the_store_hangs_ends_in_bounded_time(
    s3_server, bucket, tmp_path, monkeypatch, stop
):
    # it waited out each hung request's timeouts and retries (the workers' shards, the state
    # save, the lock's release: 184 s), then failed with the state save's error (exit 1)
    monkeypatch.setattr(deadline, "STOP_SECONDS", 0.3)
    monkeypatch.setattr(checkpoint, "STOP_SECONDS", 0.3, raising=False)
    # without the bound, each hung request waits this out twice over two attempts
    monkeypatch.setitem(fsspec.config.conf, "s3", {"config_kwargs": {"read_timeout": 1}})
    monkeypatch.setattr(checkpoint, "SAVE_SHARE", 1e-9)  # saved at the first shard only
    s3fs.S3FileSystem.clear_instance_cache()
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=500, shard_size=100))
    url = f"s3://{bucket}/p"
    freeze = frozen(server_pid(s3_server))
    progress = StopAfterTwoShards(freeze, stop)
    try:
        with pytest.raises(type(stop)) as raised:
            api.build(spec, url, workers=2, progress=progress)
        elapsed = time.monotonic() - progress.stopped_at
    finally:
        if progress.frozen:
            freeze.__exit__(None, None, None)
    assert raised.value is stop and elapsed < 1.5, elapsed
    notes = getattr(stop, "__notes__", [])
    assert any("did not answer in 0.3 s: the build state was not saved" in n for n in notes)
    assert any("did not answer: its lock was not removed" in n for n in notes), notes
    s3fs.S3FileSystem.clear_instance_cache()
    # a later command takes the lock of a process that is gone over; this one is alive
    s3fs.S3FileSystem().rm_file(f"{bucket}/p/.synthc/lock")
    result = api.build(spec, url, workers=2)  # resumes: the shard saved before is kept
    assert result.kept >= 1 and result.built + result.kept == 5
