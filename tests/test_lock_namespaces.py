"""A build's lock and PID namespaces: a process id means something only in its own PID
namespace, so a lock is taken over only when it was taken on this host, in this namespace and
since this boot, by a process that is gone; and a build commits its manifest only while it still
holds its lock. Object-store locks are tested against moto's S3 server on loopback, local
directories' flock directly. The reviewer's case runs a real build in a new PID namespace with
`unshare --user --pid` (util-linux): where that is not permitted the test fails, not skips."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import s3fs
from small_datasets import write_spec as write_small_spec
from store_servers import s3_objects

from synthc import api
from synthc.dir_target import DirectoryTarget
from synthc.outputs.store import lock_body, stale_lock
from synthc.store_target import StoreTarget

LOCK = ".synthc/lock"


objects = s3_objects


def dead_pid() -> int:
    """A process id of this namespace whose process is gone (a killed build's)."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def this_namespace() -> str:
    return os.readlink("/proc/self/ns/pid")


def this_boot() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def killed_lock(**changes: object) -> dict[str, object]:
    """The lock a build of this host, namespace and boot left when it was killed, changed by
    ``changes`` (a value None drops the field)."""
    lock = {
        "host": socket.gethostname(),
        "pid": dead_pid(),
        "started": "2026-01-01T00:00:00+00:00",
        "pid_namespace": this_namespace(),
        "boot_id": this_boot(),
        "token": "the-killed-builds-token",
    }
    lock.update(changes)
    return {key: value for key, value in lock.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"pid_namespace": "pid:[4026530000]"}, "another PID namespace"),
        ({"boot_id": "00000000-0000-0000-0000-000000000000"}, "another PID namespace"),
        ({"pid_namespace": None, "boot_id": None, "token": None}, "an older synthc's"),
        ({"pid_namespace": 7}, "another PID namespace"),
    ],
    ids=["other-namespace", "other-boot", "no-namespace-recorded", "namespace-not-a-string"],
)
def test_a_lock_of_a_gone_pid_is_refused_unless_taken_in_this_namespace(
    bucket, cli, tmp_path, changes, words
):
    # a build in another container (or `unshare --pid`) with this host name may be running
    # though its process id is free here: it was taken over, and both builds wrote the prefix
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/held"
    body = json.dumps(killed_lock(**changes)).encode()
    s3fs.S3FileSystem().pipe_file(f"{bucket}/held/{LOCK}", body)
    code, _, stderr = cli("build", spec, "-o", url)
    assert code == 2 and stderr.count("\n") == 1, stderr
    assert "another synthc build is writing this prefix" in stderr
    assert words in stderr and f"delete {url}/{LOCK} and rerun" in stderr, stderr
    assert {name: found["bytes"] for name, found in objects(url).items()} == {LOCK: body}
    assert not stale_lock(body)


def test_a_killed_builds_lock_of_this_namespace_is_taken_over_and_says_where_it_runs(
    bucket, cli, tmp_path, monkeypatch
):
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/killed"
    fs = s3fs.S3FileSystem()
    fs.pipe_file(f"{bucket}/killed/{LOCK}", json.dumps(killed_lock()).encode())
    held: list[dict] = []
    record = StoreTarget.record_shard

    def recording(self, state, shard):  # what the lock says while the build runs
        record(self, state, shard)
        fs.invalidate_cache()
        held.append(json.loads(fs.cat_file(f"{bucket}/killed/{LOCK}")))

    monkeypatch.setattr(StoreTarget, "record_shard", recording)
    code, _, stderr = cli("build", spec, "-o", url)
    assert code == 0, stderr
    assert "the build that held it is gone (killed); took it over" in stderr
    lock = held[0]
    assert lock["pid"] == os.getpid() and lock["host"] == socket.gethostname()
    assert lock["pid_namespace"] == this_namespace() and lock["boot_id"] == this_boot()
    assert isinstance(lock["token"], str) and len(lock["token"]) >= 32
    assert all(seen == lock for seen in held)
    assert LOCK not in objects(url) and api.verify(url) == 4


def test_a_lock_synthc_cannot_parse_is_held_not_an_internal_error(bucket, cli, tmp_path):
    # json.loads of deeply nested brackets raised RecursionError out of the stale-lock test
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/nested"
    for body in (b"[" * 4000, b'{"host": [[[' + b"[" * 3000, b"[1, 2]", b'"text"'):
        s3fs.S3FileSystem().pipe_file(f"{bucket}/nested/{LOCK}", body)
        code, _, stderr = cli("build", spec, "-o", url)
        assert code == 2 and stderr.count("\n") == 1, stderr
        assert "another synthc build is writing this prefix" in stderr
        assert objects(url).keys() == {LOCK}


#: run in a new PID namespace: fork until a child has the process id argv[1], and build there
#: (argv[2] spec, argv[3] URL), pausing after the first shard until the file argv[5] exists
#: (argv[4] says it paused)
INNER_BUILD = """
import os, sys, time
from pathlib import Path
target = int(sys.argv[1])
while True:
    pid = os.fork()
    if pid == 0:
        if os.getpid() != target:
            os._exit(0)
        break
    _, status = os.waitpid(pid, 0)
    if pid >= target:
        sys.exit(os.waitstatus_to_exitcode(status) if pid == target else 99)
from synthc import api
from synthc.store_target import StoreTarget
paused, go = Path(sys.argv[4]), Path(sys.argv[5])
record = StoreTarget.record_shard
def pausing(self, state, shard):
    record(self, state, shard)
    if not paused.exists():
        paused.write_text(str(os.getpid()))
        while not go.exists():
            time.sleep(0.02)
StoreTarget.record_shard = pausing
api.build(sys.argv[2], sys.argv[3], workers=1)
"""


def test_a_build_running_in_another_pid_namespace_keeps_its_lock(bucket, cli, tmp_path):
    # the reviewer's case: a live build whose process id, in its own namespace, is free here
    target = next(pid for pid in range(2, 1000) if not _runs(pid))
    spec = write_small_spec(tmp_path, "manifold")
    other = tmp_path / "other.yaml"  # the same dataset with other values
    other.write_text(spec.read_text().replace("seed: 11", "seed: 12"))
    url = f"s3://{bucket}/shared"
    paused, go = tmp_path / "paused", tmp_path / "go"
    inner = subprocess.Popen(
        [
            "unshare",
            "--user",
            "--map-root-user",
            "--pid",
            "--fork",
            "--mount-proc",
            sys.executable,
            "-c",
            INNER_BUILD,
            str(target),
            str(spec),
            url,
            str(paused),
            str(go),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not paused.exists():
            assert inner.poll() is None, inner.communicate()[1]
            assert time.monotonic() < deadline, "the inner build wrote no shard in two minutes"
            time.sleep(0.05)
        assert paused.read_text() == str(target)
        assert not _runs(target)  # its process id, here, is no process's
        code, _, stderr = cli("build", other, "-o", url)
        assert code == 2 and "another PID namespace" in stderr, stderr
    finally:
        go.touch()
        _, errors = inner.communicate(timeout=120)
    assert inner.returncode == 0, errors
    assert api.verify(url) == 4
    local = api.build(spec, tmp_path / "local", workers=1).out
    assert api.load_manifest(url)["content_sha256"] == api.load_manifest(local)["content_sha256"]


def the_error(stderr: str) -> str:
    """The one error line among a build's progress lines."""
    errors = [line for line in stderr.splitlines() if line.startswith("synthc: error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def _runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@pytest.mark.parametrize("how", ["replaced", "deleted"])
def test_a_store_build_whose_lock_is_taken_over_writes_no_manifest(
    bucket, cli, tmp_path, monkeypatch, how
):
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/taken"
    fs = s3fs.S3FileSystem()
    theirs = json.dumps(killed_lock(pid=1, token="the-other-builds-token")).encode()
    record = StoreTarget.record_shard

    def taken_over(self, state, shard):  # after this build's first shard, another takes over
        record(self, state, shard)
        if how == "deleted":
            fs.rm_file(f"{bucket}/taken/{LOCK}")
        else:
            fs.pipe_file(f"{bucket}/taken/{LOCK}", theirs)

    monkeypatch.setattr(StoreTarget, "record_shard", taken_over)
    code, _, stderr = cli("build", spec, "-o", url)
    error = the_error(stderr)
    assert code == 1 and "another build took over this build's lock while it ran" in error
    assert "no manifest was written" in error and f"{url}/{LOCK}" in error
    left = objects(url)
    assert "manifest.json" not in left
    if how == "replaced":  # the other build's lock is left to it
        assert left[LOCK]["bytes"] == theirs
    else:
        assert LOCK not in left


def test_a_directory_build_whose_lock_is_taken_over_writes_no_manifest(cli, tmp_path, monkeypatch):
    # the flock is on out/.synthc, not on its name: removed while a build runs, the next
    # build locks a new .synthc and both write the directory
    spec = write_small_spec(tmp_path, "manifold")
    out = tmp_path / "out"
    record = DirectoryTarget.record_shard
    others: list[int] = []

    def taken_over(self, state, shard):
        record(self, state, shard)
        if not others:
            shutil.rmtree(out / ".synthc")
            (out / ".synthc").mkdir()
            fd = os.open(out / ".synthc", os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the other build's lock
            others.append(fd)

    monkeypatch.setattr(DirectoryTarget, "record_shard", taken_over)
    try:
        code, _, stderr = cli("build", spec, "-o", out, "--workers", "1")
        error = the_error(stderr)
        assert code == 1 and "another build may have taken over this build's lock" in error
        assert "no manifest was written" in error
        assert not (out / "manifest.json").exists()
        assert (out / ".synthc").is_dir()  # the other build's lock directory is left to it
        assert os.fstat(others[0]).st_ino == os.stat(out / ".synthc").st_ino
    finally:
        for fd in others:
            os.close(fd)


def test_a_directory_build_that_keeps_its_lock_commits(cli, tmp_path, monkeypatch):
    # the check before the manifest passes for the build that holds the directory, and an
    # untouched rebuild (which writes no manifest) needs none
    spec = write_small_spec(tmp_path, "manifold")
    out = tmp_path / "out"
    confirmed: list[bool] = []
    confirm = DirectoryTarget.confirm_lock

    def counting(self):
        confirm(self)
        confirmed.append(True)

    monkeypatch.setattr(DirectoryTarget, "confirm_lock", counting)
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    assert confirmed == [True] and api.verify(out) == 4
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    assert confirmed == [True]


def test_lock_bodies_record_the_namespace_and_a_token():
    first, second = json.loads(lock_body("a")), json.loads(lock_body("b"))
    assert first["token"] == "a" and second["token"] == "b"
    if Path("/proc/self/ns/pid").exists():
        assert first["pid_namespace"] == this_namespace()
        assert first["boot_id"] == this_boot()


def test_a_lock_whose_build_runs_here_says_to_rerun_once_it_finished(bucket, cli, tmp_path):
    # it said "if none is (...), delete the lock and rerun" of a build this host still runs
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/running"
    body = json.dumps(killed_lock(pid=os.getpid())).encode()  # this test's process: running
    s3fs.S3FileSystem().pipe_file(f"{bucket}/running/{LOCK}", body)
    code, _, stderr = cli("build", spec, "-o", url)
    assert code == 2 and stderr.count("\n") == 1, stderr
    assert f"process {os.getpid()} runs on this host); rerun once it has finished" in stderr
    assert "delete" not in stderr
    assert {name: found["bytes"] for name, found in objects(url).items()} == {LOCK: body}
