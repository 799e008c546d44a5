"""What a build makes durable, and when: the build state is saved as shards finish, at most
about SAVE_SHARE of the time, and always once after the last shard (a plan of thousands of
shards does not pay a durable write of an ever larger state per shard, and a killed or failed
build still keeps what it recorded); a shard's data is fsynced before a saved state names it
(not by the worker that wrote it); each shard directory is fsynced once, before the manifest."""

from __future__ import annotations

import errno
import hashlib
import json

import pytest
from conftest import spec_text

from synthc import api, atomic, checkpoint, dir_target
from synthc.outputs.state import BuildState


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(checkpoint.time, "monotonic", fake)
    return fake


def test_saves_at_once_then_as_often_as_its_cost_allows(clock):
    saves = []

    def save():
        saves.append(clock.now)
        clock.now += 0.02  # each save takes 20 ms: the next may come 200 ms after it ends

    point = checkpoint.Checkpoint(save)
    point.changed()
    assert saves == [100.0]
    clock.now += 0.1
    point.changed()  # 100 ms after a 20 ms save: too soon
    assert len(saves) == 1
    clock.now += 0.1
    point.changed()
    assert len(saves) == 2
    point.close()  # nothing changed since: nothing to save
    assert len(saves) == 2
    point.changed()
    point.close()  # the change the interval held back
    assert len(saves) == 3


def test_a_share_of_one_saves_every_change(clock):
    saves = []
    point = checkpoint.Checkpoint(lambda: saves.append(1), share=1.0)
    for _ in range(5):
        point.changed()
    assert len(saves) == 5


def test_a_failing_final_save_does_not_hide_the_error_that_ended_the_build(clock):
    def full():
        raise OSError(errno.ENOSPC, "No space left on device")

    point = checkpoint.Checkpoint(full)
    point._unsaved = True  # a change the interval held back
    with pytest.raises(KeyError):
        try:
            raise KeyError("the task's own error")
        finally:
            point.close()
    with pytest.raises(OSError, match="No space"):
        point.close()  # nothing else going wrong: the save's own error is the one to tell


def test_a_build_whose_saves_are_slow_saves_twice_and_records_every_shard(
    write_spec, tmp_path, monkeypatch, clock
):
    """Each save takes a (fake) second, no shard any time: after the first shard's save the
    next is never due, and the one after the last shard records them all."""
    saves = []
    real = BuildState.save

    def slow(self, out):
        saves.append(len(self.shards))
        clock.now += 1.0
        real(self, out)

    monkeypatch.setattr(BuildState, "save", slow)
    spec = write_spec(spec_text(samples=2000, shard_size=100))
    result = api.build(spec, tmp_path / "out", workers=1)
    assert result.built == 20
    # the new directory marked as ours, the shards handed to the workers (BuildState.building),
    # the first shard, then all 20 (the finish saves after)
    assert saves[: saves.index(20) + 1] == [0, 0, 1, 20], saves
    state = json.loads((tmp_path / "out" / ".synthc" / "state.json").read_text())
    assert len(state["shards"]) == 20


def test_each_shard_directory_is_fsynced_once_before_the_manifest(
    write_spec, tmp_path, monkeypatch
):
    """Shard renames are made durable per directory, not per shard, and before the manifest
    that names the shards is written."""
    out = tmp_path / "out"
    synced = []
    real = atomic.fsync_dir

    def watched(directory):
        synced.append((directory, (out / "manifest.json").exists()))
        real(directory)

    monkeypatch.setattr(atomic, "fsync_dir", watched)
    spec = write_spec(spec_text(samples=2000, shard_size=100, splits="{train: 0.5, test: 0.5}"))
    assert api.build(spec, out, workers=1).built == 20
    shard_dirs = [out / "train", out / "test"]
    for directory in shard_dirs:
        assert [seen for d, seen in synced if d == directory] == [False], synced


def test_a_saved_state_names_only_shards_whose_data_was_fsynced(write_spec, tmp_path, monkeypatch):
    """Workers write and rename without waiting on the disk; the driver fsyncs the shards it
    recorded, in batches, before each save of the state that names them."""
    out = tmp_path / "out"
    synced: list[str] = []
    saved: list[set[str]] = []
    real_sync, real_save = dir_target.fsync_files, BuildState.save

    def sync(paths):
        paths = list(paths)
        synced.extend(str(p.relative_to(out)) for p in paths)
        real_sync(paths)

    def save(self, where):
        saved.append(set(self.shards))
        real_save(self, where)

    monkeypatch.setattr(dir_target, "fsync_files", sync)
    monkeypatch.setattr(BuildState, "save", save)
    spec = write_spec(spec_text(samples=2000, shard_size=100))
    assert api.build(spec, out, workers=2).built == 20
    assert len(synced) == len(set(synced)) == 20  # each shard once
    for names in saved:
        assert names <= set(synced), names - set(synced)
    assert saved[-1] == set(synced)


def test_the_shard_writer_itself_does_not_fsync(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: calls.append(fd))
    size, digest = atomic.write_atomic_by(tmp_path / "s.bin", lambda tmp: tmp.write_bytes(b"x"))
    assert (size, digest, calls) == (1, hashlib.sha256(b"x").hexdigest(), [])
    assert (tmp_path / "s.bin").read_bytes() == b"x"
