"""What the object-store tests share: an emulator process on a loopback port, the shards of a
local build to compare with, and a build killed mid-way and resumed."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import run_synthc, spec_text

from synthc import api

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


def shard_files(out: Path) -> dict[str, bytes]:
    """The shard files of a local output by relative path."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted([*out.rglob("*.parquet"), *out.rglob("*.tar")])
    }


def killed_build_resumes(
    tmp_path: Path, url: str, read: Callable[[str], bytes], objects: Objects
) -> tuple[str, str]:
    """Kill -9 a 100-shard build to ``url`` once its state records two shards, check what it
    left (whole shards, the state and its lock), resume it, and check the result equals a local
    build; ``read`` reads one object by its key under ``url``. Returns the resumed build's
    stdout and stderr."""
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
    assert "the build that held it is gone" in resumed.stderr  # the killed build's lock
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
