"""GCS and Azure requests are bounded in time and retries, as S3's are (test_store_edges.py),
and a store that does not answer is named by its endpoint, never with credentials."""

from __future__ import annotations

import base64
import time
import uuid

import adlfs
import fsspec.config
import pytest
from test_store_edges import Silent

from synthc.outputs import store_bounds

SECRET = base64.b64encode(uuid.uuid4().bytes * 2).decode()


@pytest.fixture
def silent() -> Silent:
    server = Silent()
    yield server
    server.close()


@pytest.mark.parametrize("command", ["verify", "build"])
def test_an_azure_store_that_never_answers_fails_bounded_naming_its_endpoint(
    silent, cli, monkeypatch, tmp_path, command
):
    # az:// waited for minutes without a word: the Azure SDK's 20 s connect and 60 s read
    # timeouts, 3 retries backing off from 15 s. Shortened here to count the attempts quickly.
    monkeypatch.setattr(store_bounds, "READ_TIMEOUT", 1)
    monkeypatch.setattr(store_bounds, "AZURE_BACKOFF", 0)
    connection = (
        f"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={SECRET};"
        f"BlobEndpoint=http://127.0.0.1:{silent.port}/acct;"
    )
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection)
    adlfs.AzureBlobFileSystem.clear_instance_cache()
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "synthc: 1\nname: t\nversion: '1'\ndescription: d\nseed: 1\nsamples: 10\n"
        "generator: {kind: manifold, shape: moons}\noutput: {format: parquet}\n"
    )
    args = (
        ("verify", "az://cont/x") if command == "verify" else ("build", spec, "-o", "az://cont/x")
    )
    started = time.monotonic()
    code, _, err = cli(*args)
    elapsed = time.monotonic() - started
    adlfs.AzureBlobFileSystem.clear_instance_cache()
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1 and SECRET not in err
    assert f"(endpoint http://127.0.0.1:{silent.port})" in err, err
    assert len(silent.accepted) == store_bounds.AZURE_RETRIES + 1
    assert elapsed < 20


def test_gcs_requests_are_bounded_unless_the_user_configures_them(monkeypatch):
    # gcsfs waited aiohttp's 5 minutes for each of its 6 attempts
    monkeypatch.setitem(fsspec.config.conf, "gs", {})
    timeout = store_bounds.gcs_options("gs")["requests_timeout"]
    assert (timeout.sock_connect, timeout.sock_read) == (5, 15)
    assert store_bounds.gcs_options("s3") == {}
    monkeypatch.setitem(fsspec.config.conf, "gs", {"requests_timeout": 60})
    assert store_bounds.gcs_options("gs") == {}
