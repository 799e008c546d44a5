"""What the object-store tests share: an emulator process on a loopback port, the shards of a
local build to compare with, and a build killed mid-way and resumed."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import run_synthc, spec_text
from small_datasets import write_spec as write_small_spec

from synthc import api
from synthc.outputs.store import stamp

#: every object under a store URL by relative key: ``{"bytes", "etag"}``
Objects = Callable[[str], dict[str, dict]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server_on(
    command: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[None]:
    """Start ``command`` (a server that listens on ``port`` of 127.0.0.1), wait until it takes
    connections, and stop it afterwards; its output goes to ``log``."""
    with open(log, "wb") as sink:
        server = subprocess.Popen(command, stdout=sink, stderr=sink, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"{command[0]} did not start in a minute"
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(30)


@contextmanager
def environment(settings: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``settings`` inside the block, as it was after it."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


#: the secret access key of the moto S3 server of the tests (conftest.s3_server): a test checks
#: it is never printed
S3_SECRET = "synthc-test-secret-" + uuid.uuid4().hex


@contextmanager
def moto_s3(log_dir: Path, secret: str = S3_SECRET) -> Iterator[str]:
    """A moto S3 server on loopback (moto's server mode), with the AWS variables pointing at it
    inside the block: its endpoint URL. ``secret`` is the secret access key."""
    import s3fs

    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    endpoint = f"http://127.0.0.1:{port}"
    settings = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "synthc-test-key",
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        with environment(settings):
            s3fs.S3FileSystem.clear_instance_cache()
            command = [str(exe), "-H", "127.0.0.1", "-p", str(port)]
            with server_on(command, port, log_dir / "moto.log"):
                yield endpoint
    finally:
        s3fs.S3FileSystem.clear_instance_cache()


def s3_objects(url: str) -> dict[str, dict]:
    """Every object under ``url`` on the tests' S3 server, by relative key."""
    import s3fs

    return objects_under(s3fs.S3FileSystem(), url)


def tampered_shard_is_caught_and_rebuilt(
    cli: Callable[..., tuple[int, str, str]], tmp_path: Path, url: str, fs: Any
) -> None:
    """Build a small table to ``url``, flip a byte of a shard's object through ``fs`` (same
    size), and check that verify names it, plan rebuilds just it, and the rebuild verifies."""
    spec = write_small_spec(tmp_path, "tabular")
    api.build(spec, url, workers=1)
    shard = api.load_manifest(url)["splits"]["train"]["shards"][0]["path"]
    key = f"{url.partition('://')[2]}/{shard}"
    data = bytearray(fs.cat_file(key))
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    fs.pipe_file(key, bytes(data))
    code, _, stderr = cli("verify", url)
    assert code == 1
    assert f"{shard}: sha256" in stderr and "does not match the manifest" in stderr
    # the rebuild notices the changed object (its ETag) and rewrites just that shard
    code, stdout, stderr = cli("plan", spec, "-o", url)
    assert code == 0 and f"{url}: keep 3, build 1, remove 0" in stdout, stderr
    result = api.build(spec, url, workers=1)
    assert result.built == 1 and not result.up_to_date
    assert api.verify(url) == api.verify(api.build(spec, tmp_path / "local", workers=1).out)


def shard_files(out: Path) -> dict[str, bytes]:
    """The shard files of a local output by relative path."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted([*out.rglob("*.parquet"), *out.rglob("*.tar")])
    }


def killed_build_resumes(
    tmp_path: Path,
    url: str,
    read: Callable[[str], bytes],
    objects: Objects,
    conditional_writes: bool = True,
) -> tuple[str, str]:
    """Kill -9 a 100-shard build to ``url`` once its state records two shards, check what it
    left (whole shards, the state and its lock), resume it, and check the result equals a local
    build; ``read`` reads one object by its key under ``url``. With ``conditional_writes`` the
    store refuses the rerun's lock (the killed build's is there), so the rerun must say it took
    a stale lock over. Returns the resumed build's stdout and stderr."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(name="killed", samples=200_000, shard_size=2_000))

    def recorded() -> int:
        try:
            return len(json.loads(read(".synthc/state.json"))["shards"])
        except (FileNotFoundError, ValueError):
            return 0

    command = [sys.executable, "-m", "synthc", "build", str(spec), "-o", url, "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while recorded() < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "the build recorded no shard in three minutes"
        time.sleep(0.05)
    assert process.poll() is None, "the build finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = recorded()
    assert 2 <= done_before < 100
    left = objects(url)
    kept_objects = {k: v for k, v in left.items() if k.endswith(".parquet")}
    # whole shards, the state and the killed build's lock: no temporary key, no manifest
    assert set(left) - set(kept_objects) == {".synthc/state.json", ".synthc/lock"}

    resumed = run_synthc("build", spec, "-o", url, "--workers", "1")
    assert resumed.returncode == 0, resumed.stderr
    if conditional_writes:  # the killed build's lock was found and taken over
        assert "the build that held it is gone" in resumed.stderr
    kept = int(resumed.stdout.split("kept ")[1].split(",")[0])
    assert kept >= done_before and f"built {100 - kept} shard(s)" in resumed.stdout
    after = objects(url)
    for key, value in kept_objects.items():  # a shard uploaded before the kill is whole
        assert after[key]["bytes"] == value["bytes"]

    clean = api.build(spec, tmp_path / "clean", workers=1).out
    stored = {k: v["bytes"] for k, v in after.items() if k.endswith(".parquet")}
    assert stored == shard_files(clean)
    assert api.verify(url) == 100  # shards verified
    return resumed.stdout, resumed.stderr


def fresh_bucket(fs: Any) -> str:
    """A new bucket (S3, GCS) or container (Azure) with a random name, made through ``fs``."""
    name = f"synthc-{uuid.uuid4().hex[:12]}"
    fs.mkdir(name)
    return name


def objects_under(fs: Any, url: str) -> dict[str, dict]:
    """Every object under ``url`` (on the fsspec file system ``fs``) by relative key:
    ``{"bytes", "etag"}``, the ETag as synthc's store reads it (S3 and Azure name it apart)."""
    fs.invalidate_cache()
    root = url.partition("://")[2]
    found = fs.find(root, detail=True)
    return {
        key[len(root) + 1 :]: {"etag": stamp(info), "bytes": fs.cat_file(key)}
        for key, info in found.items()
    }


def assert_no_secret(secret: str, *texts: str | bytes) -> None:
    for text in texts:
        data = text if isinstance(text, bytes) else text.encode()
        assert secret.encode() not in data


def store_build_equals_local_build(
    cli: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
    url: str,
    kind: str,
    objects: Objects,
    secret: str | None,
) -> None:
    """Build a small ``kind`` spec to ``url`` with two workers and check it against a local
    build: the same shards and files, no temporaries, the lock released; an unchanged rebuild
    rewrites nothing; verify passes; no ``secret`` (when the store has one) in anything printed
    or stored."""
    spec = write_small_spec(tmp_path, kind)
    code, stdout, stderr = cli("build", spec, "-o", url, "--workers", "2")
    assert code == 0, stderr
    assert f"{url}: built" in stdout
    local = api.build(spec, tmp_path / "local", workers=1).out
    stored = objects(url)
    shards = {k: v["bytes"] for k, v in stored.items() if k.endswith((".parquet", ".tar"))}
    assert shards == shard_files(local)
    # every file the local build wrote is there, byte for byte but the manifest's build facts
    for path in sorted(local.rglob("*")):
        name = str(path.relative_to(local))
        if path.is_file() and name not in ("manifest.json", ".synthc/state.json"):
            assert stored[name]["bytes"] == path.read_bytes(), name
    # no temporaries, nothing but the dataset and its state (the lock is released)
    assert set(stored) == {str(p.relative_to(local)) for p in local.rglob("*") if p.is_file()}
    manifest = json.loads(stored["manifest.json"]["bytes"])
    assert manifest["content_sha256"] == api.load_manifest(local)["content_sha256"]
    assert manifest["build"]["output"] == url
    assert api.load_manifest(url) == manifest

    # an unchanged spec rewrites nothing
    code, stdout, stderr = cli("build", spec, "-o", url)
    assert code == 0 and f"{url}: up to date" in stdout, stderr
    again = objects(url)
    assert {k: v["etag"] for k, v in again.items()} == {k: v["etag"] for k, v in stored.items()}
    assert again["manifest.json"]["bytes"] == stored["manifest.json"]["bytes"]

    code, stdout, stderr = cli("verify", url)
    assert code == 0 and f"{url}: ok" in stdout, stderr
    if secret is not None:
        assert_no_secret(secret, stdout, stderr, *(v["bytes"] for v in again.values()))


def _reply(read: Callable[[Any], Any], argument: Any, sink: Any) -> None:
    try:
        sink.send(("ok", read(argument)))
    except BaseException:  # noqa: BLE001 - said to the parent, which fails the test
        sink.send(("failed", traceback.format_exc()))


def in_child(method: str, read: Callable[[Any], Any], argument: Any) -> Any:
    """``read(argument)`` in a child process started by ``method`` ("fork", "spawn": as a
    DataLoader worker is; ``read`` a module's function); an error there fails the test."""
    context = multiprocessing.get_context(method)
    receive, sink = context.Pipe(duplex=False)
    child = context.Process(target=_reply, args=(read, argument, sink))
    child.start()
    status, found = receive.recv()
    child.join(60)
    assert status == "ok", found
    assert child.exitcode == 0
    return found
