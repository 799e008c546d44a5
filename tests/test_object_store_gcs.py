"""Outputs on Google Cloud Storage: builds to ``gs://bucket/prefix`` through gcsfs (the fsspec
implementation users install for ``gs://``) against gcp-storage-emulator, a GCS JSON API server
from PyPI, on loopback (started and stopped here). The same guarantees as on S3 and Azure: the
bytes of a local build, no-op rebuilds, verify, open, a resume after kill -9.

The emulator ignores preconditions (``ifGenerationMatch=0``, which gcsfs sends for synthc's
conditional lock write and GCS honours), so the lock's refusal is tested on S3 and Azure only."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec.config
import polars as pl
import pytest
from small_datasets import write_spec as write_small_spec
from store_servers import (
    environment,
    free_port,
    fresh_bucket,
    killed_build_resumes,
    objects_under,
    server_on,
    store_build_equals_local_build,
    tampered_shard_is_caught_and_rebuilt,
)

import synthc
from synthc import api

#: where gcsfs and its users' programs find an emulator; no credentials (an anonymous client)
SETTINGS = {
    # gcsfs asks GCS's gRPC control plane for each bucket's layout unless told not to; the
    # emulator has none, and each lookup would wait a minute before falling back
    "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    "FSSPEC_GS_TOKEN": "anon",  # fsspec's configuration, for the builds run as commands
}


@pytest.fixture(scope="module")
def gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """gcp-storage-emulator on loopback for this module, with STORAGE_EMULATOR_HOST (which gcsfs
    reads) pointing at it; yields gcsfs's file system class."""
    port = free_port()
    exe = Path(sys.executable).with_name("gcp-storage-emulator")
    log = tmp_path_factory.mktemp("gcs") / "gcs.log"
    settings = {**SETTINGS, "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}"}
    saved_conf = fsspec.config.conf.get("gs")
    fsspec.config.conf["gs"] = {"token": "anon"}  # the same, for builds in this process
    command = [str(exe), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    try:
        with environment(settings):
            import gcsfs  # after the settings: gcsfs reads the layout switch when imported

            assert gcsfs.GCSFileSystem is gcsfs.core.GCSFileSystem, "gcsfs was imported before"
            gcsfs.GCSFileSystem.clear_instance_cache()
            with server_on(command, port, log):
                yield gcsfs.GCSFileSystem
            gcsfs.GCSFileSystem.clear_instance_cache()
    finally:
        if saved_conf is None:
            fsspec.config.conf.pop("gs", None)
        else:
            fsspec.config.conf["gs"] = saved_conf


def _fs(gcs: Any) -> Any:
    fs = gcs()
    fs.invalidate_cache()
    return fs


@pytest.fixture
def bucket(gcs: Any) -> str:
    """A fresh bucket; returns its name."""
    return fresh_bucket(_fs(gcs))


@pytest.fixture
def objects(gcs: Any) -> Any:
    return lambda url: objects_under(gcs(), url)


@pytest.mark.parametrize("kind", ["tabular", "fractal"])
def test_a_gcs_build_equals_a_local_build(bucket, objects, cli, tmp_path, kind):
    store_build_equals_local_build(
        cli, tmp_path, f"gs://{bucket}/data/{kind}", kind, objects, secret=None
    )


def test_open_reads_rows_and_samples_from_gcs(bucket, tmp_path):
    for kind in ("tabular", "fractal"):
        (tmp_path / kind).mkdir()
        spec = write_small_spec(tmp_path / kind, kind)
        url = f"gs://{bucket}/{kind}"
        api.build(spec, url, workers=1)
        local = synthc.open(api.build(spec, tmp_path / kind / "out", workers=1).out)
        dataset = synthc.open(url, verify=True)
        for split in ("train", "val"):
            if kind == "tabular":
                got = dataset[split].lazy().collect()
                assert got.equals(pl.read_parquet(list(local[split].paths)))
                assert got.height == len(dataset[split])
            else:
                got_samples = list(dataset[split].samples())
                assert got_samples == list(local[split].samples())
                assert len(got_samples) == len(dataset[split]) > 0


def test_verify_catches_a_tampered_object_and_the_rebuild_replaces_it(gcs, bucket, cli, tmp_path):
    tampered_shard_is_caught_and_rebuilt(cli, tmp_path, f"gs://{bucket}/tampered", _fs(gcs))


def test_a_killed_build_resumes_from_gcs(gcs, bucket, objects, tmp_path):
    def read(key: str) -> bytes:
        return bytes(_fs(gcs).cat_file(f"{bucket}/killed/{key}"))

    url = f"gs://{bucket}/killed"
    killed_build_resumes(tmp_path, url, read, objects, conditional_writes=False)


def test_a_missing_bucket_is_one_short_line_saying_so(gcs, cli, tmp_path):
    # gcsfs's message is the request's URL alone ("cannot write: not found (...)"); a dry run
    # and plan said "would build"
    spec = write_small_spec(tmp_path, "tabular")
    missing = f"synthc-missing-{uuid.uuid4().hex[:8]}"
    url = f"gs://{missing}/data"
    for command in (("build",), ("build", "--dry-run"), ("plan",)):
        code, _, stderr = cli(command[0], spec, "-o", url, *command[1:])
        assert code == 1, stderr
        assert stderr == f"synthc: error: {url}: the bucket {missing!r} does not exist\n"
