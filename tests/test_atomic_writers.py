"""Shard temporaries are per writer: two writers of one shard (a Dask worker cut off from its
scheduler while another reruns its task) each write and rename a complete file of their own."""

from __future__ import annotations

import hashlib
import threading

from synthc import atomic

DATA = bytes(range(256)) * 4096  # 1 MiB, the same bytes from either writer


def test_two_writers_of_one_shard_never_mix_their_temporaries(tmp_path):
    target = tmp_path / "train" / "train-00000.tar"
    half_written = threading.Event()
    other_done = threading.Event()
    seen: list = []

    def slow(tmp):  # writes half, waits for the other writer to finish, writes the rest
        seen.append(tmp)
        with open(tmp, "wb") as handle:
            handle.write(DATA[: len(DATA) // 2])
            handle.flush()
            half_written.set()
            assert other_done.wait(10)
            handle.write(DATA[len(DATA) // 2 :])

    def fast(tmp):
        seen.append(tmp)
        tmp.write_bytes(DATA)

    results = {}
    first = threading.Thread(
        target=lambda: results.update(slow=atomic.write_atomic_by(target, slow))
    )
    first.start()
    assert half_written.wait(10)
    results["fast"] = atomic.write_atomic_by(target, fast)  # renamed while the other writes
    assert target.read_bytes() == DATA
    other_done.set()
    first.join()

    expected = (len(DATA), hashlib.sha256(DATA).hexdigest())
    assert results == {"slow": expected, "fast": expected}
    assert target.read_bytes() == DATA
    assert seen[0] != seen[1] and all(t.name.endswith(".partial") for t in seen)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_temporaries_are_the_driver_and_writer_temporaries_only(tmp_path):
    shard = tmp_path / "train-00000.tar"
    own = [
        atomic.partial_path(shard),
        atomic.writer_partial_path(shard),
        tmp_path / "train-00000.tar.4242-0123abcd.partial",
    ]
    others = [
        tmp_path / "train-00000.tar.notes.partial",  # not a writer's tag
        tmp_path / "train-00000.tar.1-zz.partial",
        tmp_path / "train-00000.tar.1-0123abcd",  # not a temporary
        tmp_path / "train-00001.tar.1-0123abcd.partial",  # another shard's
        tmp_path / "train-00000.tar[x].1-0123abcd.partial",
    ]
    for path in own + others:
        path.write_bytes(b"x")
    assert atomic.temporaries([shard]) == sorted(own)
    assert atomic.temporaries([tmp_path / "missing" / "x.tar"]) == []
