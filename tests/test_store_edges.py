"""Edges of outputs on object stores, against moto's S3 server on loopback: store URLs whose
path is no plain prefix."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import s3fs
from conftest import spec_text
from store_servers import environment, free_port, fresh_bucket, objects_under, server_on

import synthc
from synthc import api
from synthc.errors import UsageError
from synthc.outputs import store as store_module


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server on loopback for this module, with the AWS variables pointing at it."""
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    endpoint = f"http://127.0.0.1:{port}"
    settings = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "synthc-test-key",
        "AWS_SECRET_ACCESS_KEY": "synthc-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        with environment(settings):
            s3fs.S3FileSystem.clear_instance_cache()
            with server_on([str(exe), "-H", "127.0.0.1", "-p", str(port)], port, log):
                yield endpoint
    finally:
        s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def bucket(s3_server: str) -> str:
    return fresh_bucket(s3fs.S3FileSystem())


def objects(url: str) -> dict[str, dict]:
    return objects_under(s3fs.S3FileSystem(), url)


def only_line(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- 1. a store URL's path is plain names -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/dd2", "an empty part (//)"),  # s3://bkt//dd2 wrote keys '/dd2/...' and said ok
        ("zz/../dd1", "a '..' part"),  # wrote literal 'zz/../dd1/...' keys
        ("./x", "a '.' part"),
        ("a/.", "a '.' part"),
        ("a//b/", "an empty part (//)"),
    ],
)
def test_store_urls_with_empty_dot_or_dotdot_parts_are_refused(bucket, cli, tmp_path, path, words):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    other = tmp_path / "other.yaml"
    other.write_text(spec_text(name="other", samples=200, shard_size=100))
    url = f"s3://{bucket}/{path}"
    for command in (
        ("build", spec, "-o", url),
        ("build", spec, other, "-o", url),  # the parent of several
        ("plan", spec, "-o", url),
        ("verify", url),
        ("reproduce", url),
    ):
        code, stdout, stderr = cli(*command)
        line = only_line(stderr)
        assert code == 2, stderr
        assert line.startswith(f"synthc: error: s3://{bucket}/") and words in line, line
    with pytest.raises(UsageError, match="may not hold"):
        api.build(spec, url, workers=1)
    with pytest.raises(UsageError, match="may not hold"):
        synthc.open(url)
    with pytest.raises(UsageError, match="may not hold"):
        api.load_manifest(url)
    assert objects(f"s3://{bucket}") == {}


def test_other_stores_and_local_urls_follow_the_same_rule():
    for url in ("gs://b//p", "az://container/a/../p", "abfs://c@account/./p", "s3:///bucket/p"):
        assert "may not hold" in (store_module.url_problem(url) or ""), url
    for url in ("s3://b/p/", "s3://b/p//", "s3://b", "gs://b/a/b", "s3://"):
        assert store_module.url_problem(url) is None, url
    # a file:// URL is a local path, which the system resolves as it resolves -o ../out
    assert store_module.url_problem("file:///tmp/a/../b") is None


def test_a_trailing_slash_names_the_same_prefix(bucket, cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    code, stdout, stderr = cli("build", spec, "-o", f"s3://{bucket}/t/")
    assert code == 0, stderr
    assert all(not key.startswith("/") for key in objects(f"s3://{bucket}/t"))
    assert "manifest.json" in objects(f"s3://{bucket}/t")
    code, stdout, _ = cli("verify", f"s3://{bucket}/t")
    assert code == 0 and "ok (" in stdout
    code, stdout, _ = cli("build", spec, "-o", f"s3://{bucket}/t")
    assert code == 0 and "up to date" in stdout
