"""A full disk at any write of a build: one line, exit 1, and the manifest never lies."""

from __future__ import annotations

import errno
import os

import pytest
from conftest import spec_text

from synthc import atomic, checkpoint
from synthc.outputs import state


def fail_at(monkeypatch, index: int) -> list[str]:
    """Make the ``index``-th atomic write (state, extras, manifest) raise ENOSPC."""
    real = atomic.write_atomic
    written: list[str] = []

    def write(path, data):
        written.append(path.name)
        if len(written) - 1 == index:
            atomic.partial_path(path).write_bytes(b"half")  # what a full disk leaves behind
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(atomic.partial_path(path)))
        real(path, data)

    monkeypatch.setattr(atomic, "write_atomic", write)
    monkeypatch.setattr(state, "write_atomic", write)
    # the state saved after every shard (not only as often as its cost allows): the same
    # writes in every run, so each index below is one write
    monkeypatch.setattr(checkpoint, "SAVE_SHARE", 1.0)
    return written


def check_failure_then_recovery(cli, monkeypatch, spec, out, index: int) -> bool:
    """Fail at write ``index``; True if that write happened (else the build simply succeeded)."""
    written = fail_at(monkeypatch, index)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    monkeypatch.undo()
    if len(written) <= index:
        assert code == 0, err
        return False
    lines = err.strip().splitlines()
    assert code == 1 and "Traceback" not in err
    assert len([line for line in lines if "error" in line]) == 1, err
    assert "No space left on device" in lines[-1] and written[index] in lines[-1]
    if (out / "manifest.json").exists():
        assert cli("verify", out)[0] == 0, f"manifest survived a failure at {written[index]}"
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")  # the disk is back
    assert code == 0, err
    assert cli("verify", out)[0] == 0
    return True


@pytest.mark.parametrize("index", range(15))
def test_disk_full_at_each_write_of_a_fresh_build(cli, write_spec, tmp_path, monkeypatch, index):
    spec = write_spec(spec_text(samples=400, shard_size=200))
    out = tmp_path / "out"
    if not check_failure_then_recovery(cli, monkeypatch, spec, out, index):
        assert index == 14  # a fresh build makes 14 atomic writes, the manifest last: each covered


@pytest.mark.parametrize("index", range(15))
def test_disk_full_at_each_write_of_a_rebuild(cli, write_spec, tmp_path, monkeypatch, index):
    spec = write_spec(spec_text(samples=400, shard_size=200))
    out = tmp_path / "out"
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    spec.write_text(spec_text(samples=400, shard_size=200, seed=8))  # every shard changes
    if not check_failure_then_recovery(cli, monkeypatch, spec, out, index):
        assert index == 14


def test_disk_full_while_writing_a_shard_leaves_no_temporary(
    cli, write_spec, tmp_path, monkeypatch
):
    from synthc.outputs import parquet

    real = parquet.write_atomic_by

    def full(path, fill):
        def half(tmp):
            tmp.write_bytes(b"half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

        return real(path, half)

    monkeypatch.setattr(parquet, "write_atomic_by", full)
    spec = write_spec(spec_text(samples=400, shard_size=200))
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and "Traceback" not in err
    assert "train/train-00000.parquet" in err and "No space left on device" in err
    assert not list(out.rglob("*.partial")) and not (out / "manifest.json").exists()
