"""A Dask build stopped while its output does not answer stops within about
synthc.deadline.STOP_SECONDS, as a local build does, says what it left, and the next build
resumes to the bytes of a local build."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
import s3fs
from dask_processes import OCR, build_argv, dask_processes
from store_servers import s3_objects
from test_store_stop import frozen, server_pid

from synthc import api


@pytest.fixture(scope="module")
def store_cluster(s3_server, tmp_path_factory):
    """Dask processes that see the module's S3 server (its variables are in the environment
    they inherit)."""
    with dask_processes(tmp_path_factory.mktemp("dask"), workers=2) as processes:
        yield processes


@pytest.mark.parametrize("where", ["scheduler", "local-cluster"])
def test_a_dask_build_stopped_while_the_store_hangs_ends_in_bounded_time(
    store_cluster, s3_server, bucket, write_spec, tmp_path, where
):
    # it waited 30 s for the running tasks (hung in their PUTs), then for the store's answer
    # about the shards they had finished, then the state save and the lock's release: 97 s;
    # a LocalCluster's close then waited for its nannies to kill those workers (8-12 s in all)
    spec = write_spec(OCR.format(samples=200, shard_size=10))
    url = f"s3://{bucket}/p"
    argv = build_argv(spec, url, store_cluster.address)
    if where == "local-cluster":
        argv = [*argv[: argv.index("--scheduler")], "--executor", "dask", "--workers", "2"]
    build = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    deadline = time.monotonic() + 120
    while not fs.glob(f"{bucket}/p/**/*.tar"):
        assert build.poll() is None and time.monotonic() < deadline, build.stderr
        time.sleep(0.05)
    with frozen(server_pid(s3_server)):
        time.sleep(0.5)  # the workers' next PUTs wait for it
        start = time.monotonic()
        build.send_signal(signal.SIGTERM)
        _, stderr = build.communicate(timeout=150)
        elapsed = time.monotonic() - start
    assert build.returncode == 143, stderr
    assert elapsed < 7.5, (elapsed, stderr)
    assert "Dask task(s) of this build were still running when it stopped" in stderr, stderr
    assert stderr.rstrip().endswith("synthc: terminated; finished shards are kept, run the "
                                     "build again to resume"), stderr  # fmt: skip
    fs.rm_file(f"{bucket}/p/.synthc/lock")  # left by a process that is alive (this host)
    done = subprocess.run(
        build_argv(spec, url, store_cluster.address, "--quiet"), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    local = api.build(spec, tmp_path / "local", workers=1)
    shards = {k: v["bytes"] for k, v in s3_objects(url).items() if k.endswith(".tar")}
    assert shards == {str(p.relative_to(local.out)): p.read_bytes()
                      for p in local.out.rglob("*.tar")}  # fmt: skip
    api.verify(url)
