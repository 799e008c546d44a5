"""Outputs on Azure Blob Storage: builds to ``az://container/prefix`` against Azurite, Microsoft's
Blob service emulator, on loopback (started and stopped here; `.ci/run` installs it with npm),
through adlfs, the fsspec implementation users install for ``az://``. The same guarantees as on
S3 (tests/test_object_store.py): the bytes of a local build, no-op rebuilds, verify, open, a
resume after kill -9, and no secret in anything synthc writes or prints."""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Iterator

import adlfs
import polars as pl
import pytest
import store_servers
from small_datasets import write_spec as write_small_spec
from store_servers import (
    environment,
    free_port,
    fresh_bucket,
    in_child,
    killed_build_resumes,
    objects_under,
    server_on,
    store_build_equals_local_build,
    tampered_shard_is_caught_and_rebuilt,
)

import synthc
from synthc import api
from synthc.outputs.dataset import Dataset
from synthc.outputs.store import url_problem

ACCOUNT = "synthcaccount"
#: the account key the tests give Azurite and the client: no output may ever hold it
SECRET = base64.b64encode(uuid.uuid4().bytes * 4).decode()


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's Blob service on loopback for this module, with AZURE_STORAGE_CONNECTION_STRING
    (which adlfs reads) pointing at it."""
    exe = shutil.which("azurite-blob")
    assert exe, "these tests need Azurite: npm install -g azurite (.ci/run installs it)"
    port = free_port()
    log = tmp_path_factory.mktemp("azurite") / "azurite.log"
    command = [exe, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence"]
    command += ["--disableTelemetry", "--skipApiVersionCheck", "--loose"]
    env = {**os.environ, "AZURITE_ACCOUNTS": f"{ACCOUNT}:{SECRET}"}
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={SECRET};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )
    try:
        with environment({"AZURE_STORAGE_CONNECTION_STRING": connection}):
            adlfs.AzureBlobFileSystem.clear_instance_cache()
            with server_on(command, port, log, env):
                yield connection
    finally:
        adlfs.AzureBlobFileSystem.clear_instance_cache()


def _fs() -> adlfs.AzureBlobFileSystem:
    fs = adlfs.AzureBlobFileSystem()
    fs.invalidate_cache()
    return fs


@pytest.fixture
def container(azurite: str) -> str:
    """A fresh container; returns its name."""
    return fresh_bucket(_fs())


def objects(url: str) -> dict[str, dict]:
    return objects_under(adlfs.AzureBlobFileSystem(), url)


def assert_no_secret(*texts: str | bytes) -> None:
    store_servers.assert_no_secret(SECRET, *texts)


@pytest.mark.parametrize("kind", ["tabular", "fractal"])
def test_an_azure_build_equals_a_local_build(container, cli, tmp_path, kind):
    store_build_equals_local_build(
        cli, tmp_path, f"az://{container}/data/{kind}", kind, objects, SECRET
    )


def test_open_reads_rows_from_azure(container, tmp_path):
    spec = write_small_spec(tmp_path, "tabular")
    api.build(spec, f"az://{container}/table", workers=1)
    local = api.build(spec, tmp_path / "table", workers=1).out
    dataset = synthc.open(f"az://{container}/table", verify=True)
    for split in ("train", "val"):
        got = dataset[split].lazy().collect()
        want = pl.read_parquet([p for p in synthc.open(local)[split].paths])
        assert got.equals(want) and got.height == len(dataset[split])


def _rows(table: Dataset) -> list[bytes]:
    return [path.read_bytes() for path in table["train"].paths]


def test_an_opened_azure_dataset_is_read_in_a_forked_worker(container, tmp_path):
    # adlfs's instance is bound to its maker's event loop: a forked DataLoader worker failed
    spec = write_small_spec(tmp_path, "tabular")
    api.build(spec, f"az://{container}/forked", workers=1)
    table = synthc.open(f"az://{container}/forked", verify=True)  # read its manifest
    rows = in_child("fork", _rows, table)  # the child fetches the shards
    assert rows == _rows(table) and len(rows) == len(table["train"].shards) > 1


def test_verify_catches_a_tampered_blob(container, cli, tmp_path):
    tampered_shard_is_caught_and_rebuilt(cli, tmp_path, f"az://{container}/tampered", _fs())


def test_a_killed_build_resumes_from_azure(container, tmp_path):
    def read(key: str) -> bytes:
        return bytes(_fs().cat_file(f"{container}/killed/{key}"))

    stdout, stderr = killed_build_resumes(tmp_path, f"az://{container}/killed", read, objects)
    assert_no_secret(stdout, stderr)


def test_a_missing_container_is_one_short_line(azurite, cli, tmp_path):
    """Azure's SDK appends a request id, a time and its XML reply to each error: the user gets
    one line naming the container."""
    spec = write_small_spec(tmp_path, "tabular")
    missing = f"synthc-missing-{uuid.uuid4().hex[:8]}"
    url = f"az://{missing}/data"
    # a dry run and plan say it as the build does (they said "would build")
    for extra in ((), ("--dry-run",)):
        code, stdout, stderr = cli("build", spec, "-o", url, *extra)
        assert code == 1
        assert stderr == f"synthc: error: {url}: the container {missing!r} does not exist\n"
        assert_no_secret(stdout, stderr)
    code, stdout, stderr = cli("plan", spec, "-o", url)
    assert code == 1 and stderr.endswith(f"the container {missing!r} does not exist\n")


@pytest.mark.parametrize(
    ("prefix", "words"),
    [("br[ac]k", "'[' or ']'"), ("a:b", "':'"), ("a]b", "']'"), ("a\\b", "'\\'")],
)
def test_prefixes_adlfs_cannot_parse_are_refused_up_front(container, cli, tmp_path, prefix, words):
    # az://cont/br[ac]k failed with "cannot write: 'ac' does not appear to be an IPv4 or IPv6
    # address" (a:b: "Port could not be cast to integer") and left .synthc/lock behind; a
    # backslash wrote keys under a/b/ while synthc printed a\b
    spec = write_small_spec(tmp_path, "manifold")
    for url in (f"az://{container}/{prefix}", f"abfs://{container}/data/{prefix}"):
        for command in (("build", spec, "-o", url), ("plan", spec, "-o", url), ("verify", url)):
            code, _, stderr = cli(*command)
            assert code == 2, stderr
            assert stderr == (
                f"synthc: error: {url}: an {url.split(':')[0]}:// prefix may not hold {words}: "
                "adlfs parses every key as a URL (a '[' or ':' breaks it) and the Blob service "
                "(Azurite, at least) stores '\\' as '/'; S3 and GCS take such prefixes\n"
            )
    assert objects(f"az://{container}") == {}
    # S3 and GCS keep such keys as written
    for url in (f"s3://b/{prefix}", f"gs://b/{prefix}"):
        assert url_problem(url) is None
