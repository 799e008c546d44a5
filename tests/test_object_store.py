"""Outputs on object storage: builds to ``s3://bucket/prefix`` against a real S3 API server on
loopback (moto's server mode, started and stopped here), read back with s3fs and synthc."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import tomllib
import uuid
from pathlib import Path

import polars as pl
import pytest
import s3fs
import store_servers
from conftest import ROOT, loopback_cluster, spec_text
from small_datasets import write_spec as write_small_spec
from store_servers import (
    free_port,
    killed_build_resumes,
    shard_files,
    store_build_equals_local_build,
)

import synthc
from synthc import api
from synthc.errors import BuildError, OutputError, UsageError
from synthc.outputs.manifest import content_sha256, iter_shards
from synthc.outputs.state import BuildState

#: a value no output may ever hold: the secret key the tests give the S3 client
SECRET = store_servers.S3_SECRET


objects = store_servers.s3_objects


def assert_no_secret(*texts: str | bytes) -> None:
    store_servers.assert_no_secret(SECRET, *texts)


@pytest.mark.parametrize("kind", ["tabular", "fractal"])
def test_a_store_build_equals_a_local_build(bucket, cli, tmp_path, kind):
    store_build_equals_local_build(
        cli, tmp_path, f"s3://{bucket}/data/{kind}", kind, objects, SECRET
    )


def test_open_reads_rows_and_samples_from_the_store(bucket, tmp_path):
    table_spec = write_small_spec(tmp_path, "tabular")
    api.build(table_spec, f"s3://{bucket}/table", workers=1)
    local = api.build(table_spec, tmp_path / "table", workers=1).out
    dataset = synthc.open(f"s3://{bucket}/table", verify=True)
    assert repr(dataset).startswith(f"Dataset('s3://{bucket}/table'")
    for split in ("train", "val"):
        got = dataset[split].lazy().collect()
        want = pl.read_parquet([p for p in synthc.open(local)[split].paths])
        assert got.equals(want) and got.height == len(dataset[split])

    image_spec = write_small_spec(tmp_path, "fractal")
    api.build(image_spec, f"s3://{bucket}/images", workers=1)
    local = api.build(image_spec, tmp_path / "images", workers=1).out
    opened = synthc.open(f"s3://{bucket}/images", verify=True)  # hashed as they stream
    streamed = list(opened["train"].samples(decode=False))
    assert streamed == list(synthc.open(local)["train"].samples(decode=False))
    assert len(streamed) == 45


def test_verify_catches_a_tampered_object(bucket, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the manifest names the spec relative to here
    spec = write_small_spec(tmp_path, "tabular")
    url = f"s3://{bucket}/tampered"
    api.build(spec, url, workers=1)
    manifest = api.load_manifest(url)
    shard = manifest["splits"]["train"]["shards"][0]["path"]
    fs = s3fs.S3FileSystem()
    data = bytearray(fs.cat_file(f"{bucket}/tampered/{shard}"))
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    fs.pipe_file(f"{bucket}/tampered/{shard}", bytes(data))
    fs.pipe_file(f"{bucket}/tampered/train/stray-00009.parquet", b"not ours")
    fs.pipe_file(f"{bucket}/tampered/train//doubled.parquet", b"not ours either")
    code, _, stderr = cli("verify", url)
    assert code == 1
    assert f"{shard}: sha256" in stderr and "does not match the manifest" in stderr
    assert "train/stray-00009.parquet: a shard file the manifest does not list" in stderr
    assert "train//doubled.parquet: a shard file the manifest does not list" in stderr
    # the hint is the store's own manifest's (it read a local ./s3:/... path)
    assert f"to repair: run `synthc build {spec.name} -o {url}`" in stderr
    fs.pipe_file(f"{bucket}/tampered/spec.yaml", b"synthc: 1\n")  # the spec copy, edited
    code, _, stderr = cli("verify", url)
    assert "spec.yaml: does not match the manifest's spec.sha256" in stderr
    with pytest.raises(OutputError, match="does not match the manifest"):
        synthc.open(url, verify=True)["train"].lazy()
    # the rebuild notices the changed object (its ETag) and rewrites just that shard
    code, stdout, stderr = cli("plan", spec, "-o", url)
    assert code == 0 and f"{url}: keep 3, build 1, remove 0" in stdout, stderr
    result = api.build(spec, url, workers=1)
    assert result.built == 1 and not result.up_to_date


def test_a_killed_build_resumes_from_the_store(bucket, tmp_path):
    fs = s3fs.S3FileSystem()

    def read(key: str) -> bytes:
        fs.invalidate_cache()
        return bytes(fs.cat_file(f"{bucket}/killed/{key}"))

    stdout, stderr = killed_build_resumes(tmp_path, f"s3://{bucket}/killed", read, objects)
    assert_no_secret(stdout, stderr)


def test_a_dask_build_with_two_worker_processes_writes_the_store(bucket, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(name="dask", samples=20_000, shard_size=2_000))
    url = f"s3://{bucket}/dask"
    with loopback_cluster(2) as address:  # workers started with the AWS variables set
        result = api.build(spec, url, scheduler=address)
    assert result.built == 10
    manifest = api.load_manifest(url)
    assert manifest["build"]["executor"] == "dask" and manifest["build"]["workers"] == 2
    clean = api.build(spec, tmp_path / "clean", workers=1).out
    stored = {k: v["bytes"] for k, v in objects(url).items() if k.endswith(".parquet")}
    assert stored == shard_files(clean)
    assert api.verify(url) == 10


def test_a_dask_worker_without_the_store_s_credentials_is_named(bucket, cli, tmp_path, monkeypatch):
    # "failed: ...: cannot upload: Unable to locate credentials", as if the driver lacked them
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(name="dask", samples=200, shard_size=100))
    saved = {name: os.environ[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    for name in saved:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with loopback_cluster(1) as address:  # its worker started without the AWS credentials
        for name, value in saved.items():
            monkeypatch.setenv(name, value)
        code, _, err = cli("build", spec, "-o", f"s3://{bucket}/creds", "--scheduler", address)
    assert code == 1, err
    line = err.strip().splitlines()[-1]
    assert "failed on Dask worker tcp://127.0.0.1:" in line, err
    assert "Unable to locate credentials (this process found no credentials" in line
    assert "a Dask worker too, needs them in its own environment" in line
    assert_no_secret(err)


def test_reproduce_reads_the_store(bucket, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/again"
    api.build(spec.name, url, workers=1)
    code, stdout, stderr = cli("reproduce", url)
    assert code == 0, stderr
    assert f"{url}: reproduced: 4 shard(s)" in stdout


def test_a_swapped_in_object_of_another_size_is_never_fetched(bucket, cli, tmp_path, monkeypatch):
    # only verify checked the listing's size first: open() downloaded the whole object (then
    # polars failed on it), reproduce streamed and hashed it
    from synthc.outputs.store import Store

    monkeypatch.chdir(tmp_path)
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/giant"
    api.build(spec.name, url, workers=1)
    shard = api.load_manifest(url)["splits"]["train"]["shards"][0]
    giant = 3 * shard["bytes"] + 12345
    s3fs.S3FileSystem().pipe_file(f"{bucket}/giant/{shard['path']}", b"\0" * giant)
    fetched: list[str] = []
    for name in ("download", "open"):
        original = getattr(Store, name)

        def spy(self, key, *args, _original=original):
            fetched.append(key)
            return _original(self, key, *args)

        monkeypatch.setattr(Store, name, spy)
    said = f"{giant} bytes, the manifest says {shard['bytes']}"
    for verify in (False, True):
        with pytest.raises(OutputError, match=said):
            synthc.open(url, verify=verify)["train"].lazy()
    code, _, stderr = cli("reproduce", url)
    assert code == 1 and f"its object in the store has {said}" in stderr, stderr
    assert shard["path"] not in fetched
    # a prefix with no dataset is named by its URL, not by a fetched copy's folder
    code, _, stderr = cli("reproduce", f"s3://{bucket}/nothing")
    assert code == 1 and stderr.startswith(f"synthc: error: s3://{bucket}/nothing/manifest.json")
    assert "synthc-reproduce-copy" not in stderr


def test_an_object_swapped_in_after_the_listing_is_not_downloaded(
    bucket, cli, tmp_path, monkeypatch
):
    # verify compared the listing's size with the manifest's, then downloaded whatever the
    # key held by then: a giant swapped in meanwhile was fetched whole to the scratch folder
    from synthc.outputs import store as store_module

    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/swap"
    api.build(spec, url, workers=1)
    shard = api.load_manifest(url)["splits"]["train"]["shards"][0]
    giant = 3 * shard["bytes"] + 12345
    listing = store_module.Store.listing

    def then_swapped(self):
        found = listing(self)
        s3fs.S3FileSystem().pipe_file(f"{bucket}/swap/{shard['path']}", b"\0" * giant)
        return found

    monkeypatch.setattr(store_module.Store, "listing", then_swapped)
    kept: list[int] = []
    replace = os.replace

    def spy(source, target):
        kept.append(os.path.getsize(source))
        return replace(source, target)

    monkeypatch.setattr(store_module.os, "replace", spy)
    code, _, err = cli("verify", url)
    said = f"replaced since it was listed (now {giant} bytes, not {shard['bytes']} bytes)"
    assert code == 1 and f"{shard['path']}: {url}/{shard['path']}: {said}" in err, err
    assert giant not in kept


def test_reproduce_does_not_stream_an_object_swapped_in_after_its_size_was_checked(
    bucket, cli, tmp_path, monkeypatch
):
    # reproduce compared the object's size with the manifest's, then opened and hashed
    # whatever the key held by then: a giant swapped in meanwhile was streamed whole
    from synthc.outputs import store as store_module

    monkeypatch.chdir(tmp_path)
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/swap"
    api.build(spec.name, url, workers=1)
    shard = api.load_manifest(url)["splits"]["train"]["shards"][0]
    giant = 3 * shard["bytes"] + 12345
    info = store_module.Store.info

    def then_swapped(self, name):
        found = info(self, name)
        if name == shard["path"]:
            s3fs.S3FileSystem().pipe_file(f"{bucket}/swap/{name}", b"\0" * giant)
        return found

    monkeypatch.setattr(store_module.Store, "info", then_swapped)
    code, _, err = cli("reproduce", url)
    said = f"replaced since it was listed (now {giant} bytes, not {shard['bytes']} bytes)"
    assert code == 1 and said in err, err


def test_a_lost_state_is_rebuilt_from_a_verifying_manifest(bucket, cli, tmp_path):
    # as in a directory: before, a prefix without its state was refused as foreign
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/lost"
    fs = s3fs.S3FileSystem()
    api.build(spec, url, workers=1)
    state = json.loads(fs.cat_file(f"{bucket}/lost/.synthc/state.json"))
    fs.rm_file(f"{bucket}/lost/.synthc/state.json")
    before = objects(url)
    code, stdout, stderr = cli("build", spec, "-o", url)
    assert code == 0, stderr
    assert "no build state; rebuilt it from manifest.json, which verifies" in stderr
    assert f"{url}: up to date (4 shards" in stdout
    after = objects(url)
    assert {k: v for k, v in after.items() if k != ".synthc/state.json"} == before  # no rewrite
    recovered = json.loads(fs.cat_file(f"{bucket}/lost/.synthc/state.json"))
    assert recovered["shards"] == state["shards"] and recovered["files"] == state["files"]
    # an object beside it that the build does not write is left alone, as a file in a
    # directory is (it was refused); a manifest that does not verify is refused as before
    fs.rm_file(f"{bucket}/lost/.synthc/state.json")
    fs.pipe_file(f"{bucket}/lost/notes.txt", b"mine")
    code, stdout, stderr = cli("build", spec, "-o", url)
    assert code == 0 and "rebuilt it from manifest.json" in stderr, stderr
    assert fs.cat_file(f"{bucket}/lost/notes.txt") == b"mine"
    fs.rm_file(f"{bucket}/lost/notes.txt")
    fs.rm_file(f"{bucket}/lost/.synthc/state.json")
    shard = api.load_manifest(url)["splits"]["train"]["shards"][0]["path"]
    data = bytearray(fs.cat_file(f"{bucket}/lost/{shard}"))
    data[-20] ^= 0xFF
    fs.pipe_file(f"{bucket}/lost/{shard}", bytes(data))
    code, _, stderr = cli("build", spec, "-o", url)
    assert code == 2 and "holds no synthc build state" in stderr, stderr
    assert not fs.exists(f"{bucket}/lost/.synthc/state.json")


def test_a_state_entry_stamped_for_other_bytes_is_rebuilt_before_a_new_manifest(bucket, tmp_path):
    # the state is untrusted: an entry with the size and ETag of other bytes kept them, and
    # the new manifest listed the entry's sha256
    from synthc.outputs.store import open_store

    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/stamped"
    fs = s3fs.S3FileSystem()
    api.build(spec, url, workers=1)
    shard = api.load_manifest(url)["splits"]["val"]["shards"][0]["path"]
    good = fs.cat_file(f"{bucket}/stamped/{shard}")
    fs.pipe_file(f"{bucket}/stamped/{shard}", good[:200] + bytes([good[200] ^ 0xFF]) + good[201:])
    state = json.loads(fs.cat_file(f"{bucket}/stamped/.synthc/state.json"))
    info = open_store(url).info(shard)
    assert info is not None
    state["shards"][shard]["stamp"] = info["stamp"]
    fs.pipe_file(f"{bucket}/stamped/.synthc/state.json", json.dumps(state).encode())
    fs.rm_file(f"{bucket}/stamped/manifest.json")
    notes: list[str] = []
    result = api.build(spec, url, workers=1, log=notes.append)
    assert result.built == 1 and f"rebuilding them: {shard}" in notes[0]
    assert fs.cat_file(f"{bucket}/stamped/{shard}") == good
    assert api.verify(url) == 4


def test_a_file_url_is_a_local_directory(cli, tmp_path):
    spec = write_small_spec(tmp_path, "manifold")
    url = f"file://{tmp_path}/out"
    code, stdout, stderr = cli("build", spec, "-o", url)
    assert code == 0, stderr
    local = api.build(spec, tmp_path / "plain", workers=1).out
    assert shard_files(tmp_path / "out") == shard_files(local)
    code, stdout, _ = cli("verify", url)
    assert code == 0 and "ok (4 shards" in stdout
    assert len(synthc.open(url)["train"].lazy().collect()) == 225


def test_store_urls_are_checked(bucket, cli, tmp_path):
    spec = write_small_spec(tmp_path, "manifold")
    # not a dataset of synthc's: refused, nothing deleted
    s3fs.S3FileSystem().pipe_file(f"{bucket}/taken/notes.txt", b"mine")
    code, _, stderr = cli("build", spec, "-o", f"s3://{bucket}/taken")
    assert code == 2 and "holds no synthc build state" in stderr
    assert objects(f"s3://{bucket}/taken").keys() == {"notes.txt"}
    # the manifest's keys are confined to the prefix
    url = f"s3://{bucket}/hostile"
    api.build(spec, url, workers=1)
    manifest = api.load_manifest(url)
    manifest["splits"]["train"]["shards"][0]["path"] = "train/.."  # in its split's folder
    manifest["content_sha256"] = content_sha256(iter_shards(manifest))
    s3fs.S3FileSystem().pipe_file(f"{bucket}/hostile/manifest.json", json.dumps(manifest).encode())
    with pytest.raises(OutputError, match="'..' part"):
        synthc.open(url)
    with pytest.raises(OutputError, match="is refused"):
        api.verify(url)
    # so are the build state's: a hostile state is refused, nothing deleted
    state = json.loads(s3fs.S3FileSystem().cat_file(f"{bucket}/hostile/.synthc/state.json"))
    state["shards"]["/etc/passwd"] = {**state["shards"].popitem()[1], "path": "/etc/passwd"}
    s3fs.S3FileSystem().pipe_file(
        f"{bucket}/hostile/.synthc/state.json", json.dumps(state).encode()
    )
    before = objects(url).keys()
    code, _, stderr = cli("build", spec, "-o", url)
    assert code == 1 and "'/etc/passwd' is refused: an absolute path" in stderr
    assert objects(url).keys() == before
    # a dry run says what a build would do and writes nothing
    code, stdout, stderr = cli("build", spec, "-o", f"s3://{bucket}/dry", "--dry-run")
    assert code == 0 and "would build 4 shard(s)" in stdout, stderr
    assert objects(f"s3://{bucket}/dry") == {}
    # a URL without a bucket, and credentials in a URL never printed
    with pytest.raises(UsageError, match="names no bucket"):
        api.build(spec, "s3://", workers=1)
    code, stdout, stderr = cli("verify", f"s3://user:{SECRET}@{bucket}/nothing")
    assert code != 0
    assert_no_secret(stdout, stderr)


#: each store's fsspec package and the extra that installs it (pyproject.toml)
STORE_EXTRAS = [
    ("s3://bucket/prefix", "s3fs", "synthc[s3]"),
    ("s3a://bucket/prefix", "s3fs", "synthc[s3]"),
    ("gs://bucket/prefix", "gcsfs", "synthc[gcs]"),
    ("gcs://bucket/prefix", "gcsfs", "synthc[gcs]"),
    ("az://container/prefix", "adlfs", "synthc[azure]"),
    ("abfs://container/prefix", "adlfs", "synthc[azure]"),
    ("abfss://container@account.dfs.core.windows.net/prefix", "adlfs", "synthc[azure]"),
]


@pytest.mark.parametrize(("url", "package", "install"), STORE_EXTRAS)
def test_a_missing_fsspec_implementation_is_a_usage_error(
    cli, tmp_path, monkeypatch, url, package, install
):
    """Each store names the extra to install (gs:// and az:// named gcsfs and adlfs alone,
    which left out the versions synthc needs: adlfs's conditional create for the lock)."""
    monkeypatch.setitem(sys.modules, package, None)  # as if it were not installed
    spec = write_small_spec(tmp_path, "manifold")
    code, _, stderr = cli("build", spec, "-o", url)
    assert code == 2
    scheme = url.split(":")[0]
    assert stderr == (
        f"synthc: error: {url}: {scheme}:// outputs need {package}: pip install '{install}'\n"
    )
    for module in ("fsspec", "fsspec.core"):  # a lean install has neither
        monkeypatch.setitem(sys.modules, module, None)
    code, _, stderr = cli("verify", url)
    assert code == 2
    assert stderr == (
        f"synthc: error: {url}: outputs on object stores need fsspec: pip install '{install}'\n"
    )


@pytest.mark.parametrize(("url", "package", "install"), STORE_EXTRAS)
def test_each_store_extra_installs_fsspec_and_the_stores_package(url, package, install):
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    wanted = extras[install.removeprefix("synthc[").removesuffix("]")]
    assert {re.split(r"[<>=\[]", d)[0] for d in wanted} == {"fsspec", package}
    assert all(d in extras["test"] for d in wanted)  # the tests run against these versions


def test_schemes_synthc_does_not_list_are_refused_before_anything_is_written(
    bucket, s3_server, cli, tmp_path, monkeypatch
):
    # http:// wrote .synthc/lock and the state, then failed "cannot upload: 500", and every
    # rerun was locked out; local://rel/dir wrote to a doubled path; S3:// said "no fsspec file
    # system for s3:// (Protocol not known: S3)"; ftp:// with a password connected at once
    spec = write_small_spec(tmp_path, "manifold")
    monkeypatch.chdir(tmp_path)
    port = s3_server.rsplit(":", 1)[1]
    listed = "s3://, s3a://, gs://, gcs://, az://, abfs://, abfss://, file:// URLs only"
    refused = {
        f"http://127.0.0.1:{port}/{bucket}/x": f"synthc keeps datasets at {listed}, not http://",
        "local://rel/dir": f"synthc keeps datasets at {listed}, not local://",
        f"ftp://user:{SECRET}@127.0.0.1:{free_port()}/data": f"{listed}, not ftp://",
        f"S3://{bucket}/x": "write the scheme in lower case, s3:// (fsspec knows no S3://)",
        "FILE://rel/dir": "write the scheme in lower case, file://",
    }
    for url, words in refused.items():
        shown = url.replace(f"user:{SECRET}@", "")
        for command in (
            ("build", spec, "-o", url),
            ("build", spec, "-o", url, "--dry-run"),
            ("plan", spec, "-o", url),
            ("verify", url),
        ):
            code, stdout, stderr = cli(*command)
            assert code == 2, stderr
            assert stderr.startswith(f"synthc: error: {shown}: ") and stderr.count("\n") == 1
            assert words in stderr, stderr
            assert_no_secret(stdout, stderr)
        with pytest.raises(UsageError, match="scheme|keeps datasets at"):
            api.build(spec, url, workers=1)
        with pytest.raises(UsageError, match="scheme|keeps datasets at"):
            synthc.open(url)
    assert objects(f"s3://{bucket}") == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifold.yaml"]


def test_a_missing_bucket_is_said_alike_by_build_dry_run_and_plan(bucket, cli, tmp_path):
    # --dry-run and plan said "would build 5 shard(s)" for a bucket that does not exist, while
    # the build failed "The specified bucket does not exist"
    spec = write_small_spec(tmp_path, "manifold")
    missing = f"synthc-missing-{uuid.uuid4().hex[:8]}"
    url = f"s3://{missing}/data"
    for command in (
        ("build", spec, "-o", url),
        ("build", spec, "-o", url, "--dry-run"),
        ("plan", spec, "-o", url),
    ):
        code, stdout, stderr = cli(*command)
        assert code == 1, stderr
        assert stderr == f"synthc: error: {url}: the bucket {missing!r} does not exist\n"
        assert "would build" not in stdout
    assert not s3fs.S3FileSystem().exists(missing)
    # the commands that read a dataset said "no manifest (not a synthc dataset, or its build
    # did not finish)", as for a prefix with nothing in it
    for command in (("verify", url), ("reproduce", url), ("diff", url, url)):
        code, stdout, stderr = cli(*command)
        assert code in (1, 2), stderr
        assert stderr == f"synthc: error: {url}: the bucket {missing!r} does not exist\n"
    with pytest.raises(OutputError, match=f"the bucket '{missing}' does not exist"):
        synthc.open(url)
    code, _, stderr = cli("verify", f"s3://{bucket}/empty")
    assert "manifest.json: no manifest (not a synthc dataset" in stderr
    # an empty prefix of a bucket that exists is no missing bucket
    code, stdout, stderr = cli("build", spec, "-o", f"s3://{bucket}/empty", "--dry-run")
    assert code == 0 and "would build" in stdout, stderr
    code, stdout, stderr = cli("plan", spec, "-o", f"s3://{bucket}/empty")
    assert code == 0 and "build 4" in stdout, stderr
    assert objects(f"s3://{bucket}") == {}


def test_outputs_that_cannot_hold_a_dataset_are_refused(cli, tmp_path, monkeypatch):
    # memory:// is one process's memory: a build there "succeeded" into nothing, and shards
    # made by worker processes were lost ("uploaded, yet the store has no object"); a chained
    # fsspec URL was taken as a path and made a directory named "simplecache::s3:"
    import fsspec

    spec = write_small_spec(tmp_path, "manifold")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, stderr = cli("build", spec, "-o", "memory://bucket/data")
    assert code == 2 and "memory:// is one process's memory" in stderr, stderr
    assert not fsspec.filesystem("memory").exists("/bucket")
    for url in ("simplecache::s3://bucket/data", "dir::file:///data", "./a://b"):
        code, _, stderr = cli("build", spec, "-o", url)
        assert code == 2 and "neither a directory nor a URL synthc can use" in stderr, stderr
        code, _, stderr = cli("verify", url)
        assert code == 2 and "neither a directory nor a URL synthc can use" in stderr, stderr
        with pytest.raises(UsageError, match="neither a directory nor a URL"):
            api.build(spec, url, workers=1)
        with pytest.raises(UsageError, match="neither a directory nor a URL"):
            synthc.open(url)
    with pytest.raises(UsageError, match="one process's memory"):
        api.build(spec, "memory://bucket/data", workers=1)
    with pytest.raises(UsageError, match="one process's memory"):
        synthc.open("memory://bucket/data")
    assert list(work.iterdir()) == []


def test_secret_parts_of_a_url_never_become_keys_or_output(bucket, cli, tmp_path, monkeypatch):
    # a query or fragment was part of every object's key (and printed by verify); a chained
    # URL's password was printed; sample and preview made a local folder "s3:"
    spec = write_small_spec(tmp_path, "manifold")
    monkeypatch.chdir(tmp_path)
    for url in (
        f"s3://{bucket}/q?token={SECRET}",
        f"s3://{bucket}/q#{SECRET}",
        f"file://rel?x={SECRET}",
        f"simplecache::s3://user:{SECRET}@{bucket}/q",
        f"s3://user:{SECRET}@{bucket}/q",  # s3fs took it as the bucket's name
        # a password holding '/' (AWS secret keys often do) seemed to end the host there: the
        # URL was used and printed whole, "s3://AKIA:<secret>/<secret>@bucket/q/.synthc/lock:
        # cannot write: Parameter validation failed:"
        f"s3://AKIA:{SECRET}/{SECRET}@{bucket}/q",
        f"gs://user:{SECRET}/{SECRET}@{bucket}/q",
        f"az://account:{SECRET}/{SECRET}@{bucket}/q",
    ):
        for command in (("build", spec, "-o", url), ("build", spec, spec, "-o", url)):
            code, stdout, stderr = cli(*command)
            assert code == 2 and stderr.count("\n") == 1, stderr
            assert_no_secret(stdout, stderr)
        for command in ("verify", "reproduce"):
            code, stdout, stderr = cli(command, url)
            assert code == 2, stderr
            assert_no_secret(stdout, stderr)
    assert objects(f"s3://{bucket}") == {}
    for command in (("sample", spec, "--index", "0"), ("preview", spec)):
        code, stdout, stderr = cli(*command, "-o", f"s3://user:{SECRET}@{bucket}/x")
        assert code == 2 and "writes local files" in stderr, stderr
        assert_no_secret(stdout, stderr)
    assert not (tmp_path / "s3:").exists() and not (tmp_path / "rel").exists()


def test_the_lock_object_is_read_as_untrusted(bucket, cli, tmp_path):
    import socket

    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/locked"
    lock = f"{bucket}/locked/.synthc/lock"
    here = socket.gethostname()
    for body, words in (
        ({"host": "elsewhere", "pid": 1}, "'host': 'elsewhere'"),
        ({"host": here, "pid": 2**40}, str(2**40)),  # was an internal error (OverflowError)
        ({"host": here, "pid": 2**70}, str(2**70)),
        ("x\nsynthc: forged line", "x\\nsynthc: forged line"),  # one line, however made
    ):
        text = body if isinstance(body, str) else json.dumps(body)
        s3fs.S3FileSystem().pipe_file(lock, text.encode())
        code, _, stderr = cli("build", spec, "-o", url)
        assert code == 2 and stderr.count("\n") == 1, stderr
        assert "another synthc build is writing this prefix" in stderr
        assert words in stderr.replace('"', "'"), stderr
        assert f"delete {url}/.synthc/lock" in stderr
        assert objects(url).keys() == {".synthc/lock"}


def test_of_two_builds_taking_over_a_stale_lock_only_the_last_writer_proceeds(
    bucket, tmp_path, monkeypatch
):
    import socket
    import subprocess

    from synthc.outputs.store import Store, lock_body

    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/race"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id of this host and namespace that is no more: a killed build's
    lock = {**json.loads(lock_body("killed")), "pid": gone.pid, "started": "then"}
    assert lock["host"] == socket.gethostname()
    fs = s3fs.S3FileSystem()
    fs.pipe_file(f"{bucket}/race/.synthc/lock", json.dumps(lock).encode())
    other = json.dumps({**lock, "pid": 1, "started": "just now"}).encode()
    write = Store.write

    def racing(self, name, data):  # another rerun writes its lock right after this one
        write(self, name, data)
        if name == ".synthc/lock":
            write(self, name, other)

    monkeypatch.setattr(Store, "write", racing)
    with pytest.raises(UsageError, match="another synthc build is writing this prefix"):
        api.build(spec, url, workers=1)
    assert fs.cat_file(f"{bucket}/race/.synthc/lock") == other  # its lock is left to it
    assert objects(url).keys() == {".synthc/lock"}


def test_a_state_naming_the_lock_is_refused_and_the_lock_kept(bucket, cli, tmp_path):
    # it was deleted as a shard no longer in the plan, and a second build ran beside the first
    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/own"
    api.build(spec, url, workers=1)
    fs = s3fs.S3FileSystem()
    state = json.loads(fs.cat_file(f"{bucket}/own/.synthc/state.json"))
    record = next(iter(state["shards"].values()))
    state["shards"][".synthc/lock"] = {**record, "path": ".synthc/lock"}
    fs.pipe_file(f"{bucket}/own/.synthc/state.json", json.dumps(state).encode())
    before = objects(url)
    code, _, stderr = cli("build", spec, "-o", url)
    assert code == 1 and "'.synthc/lock' is refused" in stderr, stderr
    assert objects(url).keys() == before.keys()


def test_a_failed_build_says_its_own_error_when_the_lock_cannot_be_released(
    bucket, tmp_path, monkeypatch
):
    # a store gone mid-build fails the lock's delete too: that error used to replace the one
    # that stopped the build
    from synthc.errors import BuildError
    from synthc.outputs.store import Store

    spec = write_small_spec(tmp_path, "manifold")

    def upload(self, local, key):
        raise BuildError(f"{self.where(key)}: cannot put: the store went away")

    def delete(self, key):
        raise BuildError(f"{self.where(key)}: cannot delete: the store went away")

    monkeypatch.setattr(Store, "upload", upload)
    monkeypatch.setattr(Store, "delete", delete)
    with pytest.raises(BuildError, match="cannot put"):
        api.build(spec, f"s3://{bucket}/gone", workers=1)


FACTS_SPEC = """\
synthc: 1
name: facts
seed: 1
samples: 400
generator: {kind: manifold, shape: blobs, centers: 100, dim: 50}
output: {shard_size: 200}
"""


def test_a_tampered_fact_file_is_caught_and_force_restores_it(bucket, cli, tmp_path):
    spec = tmp_path / "facts.yaml"
    spec.write_text(FACTS_SPEC)
    url = f"s3://{bucket}/facts"
    api.build(spec, url, workers=1)
    fs = s3fs.S3FileSystem()
    key = f"{bucket}/facts/facts/centers.npy"  # 5000 numbers: a fact file
    original = fs.cat_file(key)
    fs.pipe_file(key, original[:-1] + bytes([original[-1] ^ 1]))
    code, _, stderr = cli("verify", url)
    assert code == 1 and "facts/centers.npy: sha256 does not match the manifest" in stderr
    code, _, stderr = cli("build", spec, "-o", url, "--force")
    assert code == 0, stderr
    assert fs.cat_file(key) == original
    assert api.verify(url) == 2


def test_related_tables_build_verify_and_open_from_the_store(bucket, cli, tmp_path):
    spec = tmp_path / "shop.yaml"
    spec.write_text((Path(__file__).parents[1] / "specs/customers_orders.yaml").read_text())
    url = f"s3://{bucket}/shop"
    code, _, stderr = cli("build", str(spec), "-o", url, "--var", "samples=600", "--workers", "2")
    assert code == 0, stderr
    local = api.build(spec, tmp_path / "local", variables={"samples": 600}, workers=1).out
    stored = objects(url)
    shards = {k: v["bytes"] for k, v in stored.items() if k.endswith(".parquet")}
    assert shards == shard_files(local) and any(k.startswith("orders/") for k in shards)
    assert stored["orders.graph.csv"]["bytes"] == (local / "orders.graph.csv").read_bytes()
    code, stdout, stderr = cli("verify", url)
    assert code == 0 and f"{url}: ok" in stdout, stderr
    orders = synthc.open(url, table="orders")["train"].lazy().collect()
    want = synthc.open(local, table="orders")["train"].lazy().collect()
    assert orders.equals(want) and orders.height > 600 * 0.7
    # a shard object the manifest does not list in a table's folder: said "ok", while the
    # same file in a directory is reported (the store looked in split folders only)
    s3fs.S3FileSystem().pipe_file(f"{bucket}/shop/orders/train/train-00099.parquet", b"stray")
    code, _, stderr = cli("verify", url)
    assert code == 1
    assert "orders/train/train-00099.parquet: a shard file the manifest does not list" in stderr


def test_a_store_build_draws_its_preview_from_the_shards_it_put(bucket, tmp_path, monkeypatch):
    # the preview reads the first two train shards of 2,500 rows, downloaded to a scratch
    # directory that is removed afterwards
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=10_000, shard_size=2500))
    url = f"s3://{bucket}/drawn"
    api.build(spec, url, workers=1)
    local = api.build(spec, tmp_path / "local", workers=1).out
    assert objects(url)["preview.png"]["bytes"] == (local / "preview.png").read_bytes()
    assert list(scratch.iterdir()) == []


def test_diff_reads_a_store_dataset_as_a_directory(bucket, cli, tmp_path):
    spec = write_small_spec(tmp_path, "tabular")
    url = f"s3://{bucket}/diffed"
    api.build(spec, url, workers=1)
    local = api.build(spec, tmp_path / "local", workers=1).out
    code, stdout, stderr = cli("diff", local, url)
    assert code == 0, stdout + stderr
    code, stdout, stderr = cli("diff", f"file://{local}", url)
    assert code == 0, stdout + stderr
    code, _, stderr = cli("diff", local, f"s3://{bucket}/nothing-here")
    assert code == 2 and "no manifest" in stderr


def test_verify_names_an_object_copied_over_another_by_its_index(bucket, cli, tmp_path):
    """An object copied over another shard's key, the manifest's sha256 and bytes recomputed,
    passed verify and open(verify=True) on the store: readers got rows 0..99 twice."""
    url = f"s3://{bucket}/copied"
    out = api.build(write_small_spec(tmp_path, "manifold"), tmp_path / "out", workers=1).out
    fs = s3fs.S3FileSystem()
    fs.put(f"{out}/", f"{bucket}/copied", recursive=True)  # a dataset shared on a store
    manifest = api.load_manifest(url)
    shards = manifest["splits"]["train"]["shards"]
    data = fs.cat_file(f"{bucket}/copied/{shards[0]['path']}")
    fs.pipe_file(f"{bucket}/copied/{shards[1]['path']}", data)
    shards[1].update(bytes=shards[0]["bytes"], sha256=shards[0]["sha256"])
    manifest["splits"]["train"]["bytes"] = sum(s["bytes"] for s in shards)
    manifest["bytes"] = sum(s["bytes"] for s in iter_shards(manifest))
    manifest["content_sha256"] = content_sha256(iter_shards(manifest))
    fs.pipe_file(f"{bucket}/copied/manifest.json", json.dumps(manifest).encode())
    words = f"{shards[1]['path']}: its index runs 0..99, the manifest records 100..199"
    code, _, stderr = cli("verify", url)
    assert code == 1 and words in stderr.splitlines(), stderr
    with pytest.raises(OutputError, match="its index runs 0..99, the manifest records 100..199"):
        synthc.open(url, verify=True)["train"].lazy()


class OtherStore:
    """An executor whose workers put each shard in another store than the driver's, as Dask
    workers with other credentials or another endpoint do (here: under another prefix)."""

    name = "dask"
    workers = 1

    def __init__(self, url: str) -> None:
        self.url = url

    def run(self, fn, items, where, read_roots, gil_free=False, report=None):
        for index, item in enumerate(items):
            yield index, fn(item, self.url, read_roots)


def test_shards_the_workers_put_in_another_store_are_not_recorded(bucket, tmp_path):
    # it said "uploaded, yet the store has no object"; over an older build's objects of the
    # same size it recorded them as the new shards, said built and wrote a manifest that
    # verify refused (and every rebuild said up to date)
    from synthc.outputs.store import UPLOADED, open_store
    from synthc.outputs.store_state import record_shard

    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    url = f"s3://{bucket}/seen"
    elsewhere = OtherStore(f"s3://{bucket}/elsewhere")
    said = "a worker uploaded this shard, but the store this machine reads has no object there"
    with pytest.raises(BuildError, match=said) as failure:
        api.build(spec, url, executor=elsewhere)
    assert "the same endpoint and credentials" in str(failure.value)
    api.build(spec, url, workers=1)
    before, entry = objects(url), api.load_manifest(url)["splits"]["train"]["shards"][0]
    spec.write_text(spec_text(samples=200, shard_size=100, seed=8))
    with pytest.raises(BuildError, match="a worker uploaded this shard, but the object this"):
        api.build(spec, url, executor=elsewhere)
    assert "manifest.json" not in objects(url)
    assert {k: v for k, v in objects(url).items() if k.endswith(".parquet")} == {
        k: v for k, v in before.items() if k.endswith(".parquet")
    }
    # a store whose stamp changes at every write of the same bytes (Azure's ETag) is no reason
    store, state = open_store(url), BuildState()
    record = {**entry, "task_key": "k", UPLOADED: "etag:another-write"}
    record_shard(store, state, record)
    assert UPLOADED not in state.shards[entry["path"]]


def test_a_killed_worker_s_shard_scratch_is_removed_by_the_next_store_shard(
    bucket, tmp_path, monkeypatch
):
    # a store shard is written to a local temporary folder first: a process killed while it
    # wrote one (kill -9, the OOM killer, a preempted Dask worker) left it, a shard's bytes in
    # the temporary directory for good, one more at every kill
    import subprocess
    import tempfile

    from synthc.outputs import shard_scratch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    namespace = shard_scratch._namespace()
    assert namespace is not None
    left = tmp_path / "tmp" / f"synthc-shard-{namespace}-{gone.pid}-abc"
    running = tmp_path / "tmp" / f"synthc-shard-{namespace}-{os.getpid()}-abc"
    elsewhere = tmp_path / "tmp" / f"synthc-shard-1{namespace}-{gone.pid}-abc"
    for folder in (left, running, elsewhere):
        folder.mkdir()
        (folder / "shard").write_bytes(b"x" * 1000)
    spec = write_small_spec(tmp_path, "manifold")
    api.build(spec, f"s3://{bucket}/scratch", workers=1)
    assert not left.exists()
    assert (running / "shard").exists() and (elsewhere / "shard").exists()
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == sorted(
        [running.name, elsewhere.name]
    )


@pytest.mark.parametrize("command", ["verify", "build", "open"])
def test_scratch_folders_a_killed_verify_or_preview_left_are_removed(
    bucket, tmp_path, monkeypatch, cli, command
):
    # verify downloads each shard of a store, and a store build's preview the shards it
    # draws, to a temporary folder: kill -9 meanwhile left it (a shard's bytes) for good
    import subprocess
    import tempfile

    from synthc.outputs import shard_scratch

    spec = write_small_spec(tmp_path, "manifold")
    url = f"s3://{bucket}/swept"
    api.build(spec, url, workers=1)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    namespace = shard_scratch._namespace()
    names = [f"synthc-{kind}-{namespace}-{gone.pid}-abc" for kind in shard_scratch.KINDS]
    kept = [f"synthc-verify-{namespace}-{os.getpid()}-abc", f"synthc-verify-{gone.pid}abc"]
    for name in names + kept:
        (tmp_path / "tmp" / name).mkdir()
        (tmp_path / "tmp" / name / "0.parquet").write_bytes(b"x" * 1000)
    if command == "open":  # synthc.open of a store fetches Parquet shards to one too
        assert len(synthc.open(url)["train"].lazy().collect()) > 0
        left = sorted(p.name for p in (tmp_path / "tmp").iterdir() if p.name not in kept)
        assert [name.rsplit("-", 1)[0] for name in left] == [
            f"synthc-open-{namespace}-{os.getpid()}"
        ]
        return
    args = ("verify", url) if command == "verify" else ("build", spec, "-o", url, "--force")
    if command == "build":  # a changed spec: the preview is drawn again
        spec.write_text(spec.read_text().replace("seed: ", "seed: 1"))
    code, _, err = cli(*args)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == sorted(kept)


def test_a_killed_build_s_unfinished_shard_uploads_are_aborted_by_the_next_build(bucket, tmp_path):
    # a shard of 100 MB or more goes up in parts: a build killed meanwhile left its parts,
    # which S3 keeps (and bills) until aborted, and no listing, verify or rebuild ever saw them
    fs = s3fs.S3FileSystem()

    def start(key: str) -> None:
        upload = fs.call_s3("create_multipart_upload", Bucket=bucket, Key=key)
        fs.call_s3(
            "upload_part", Bucket=bucket, Key=key, UploadId=upload["UploadId"],
            PartNumber=1, Body=b"x" * 1024,
        )  # fmt: skip

    def unfinished() -> list[str]:
        page = fs.call_s3("list_multipart_uploads", Bucket=bucket)
        return sorted(upload["Key"] for upload in page.get("Uploads") or [])

    start("parts/train/train-00000.parquet")
    start("parts/images/train/train-00001.tar")
    start("partsandmore/train/train-00000.parquet")  # another prefix's
    start("parts/notes.bin")  # not a shard
    notes: list[str] = []
    spec = write_small_spec(tmp_path, "manifold")
    api.build(spec, f"s3://{bucket}/parts", workers=1, log=notes.append)
    assert unfinished() == ["parts/notes.bin", "partsandmore/train/train-00000.parquet"]
    assert f"s3://{bucket}/parts: aborted 2 unfinished shard upload(s)" in notes[0]
    api.build(spec, f"s3://{bucket}/parts", workers=1, log=notes.append)
    assert len(notes) == 1  # none left: nothing said


def test_the_unfinished_uploads_of_a_dataset_built_under_the_prefix_are_left_to_it(
    bucket, tmp_path
):
    # a build of s3://b/outer aborted the multipart uploads of s3://b/outer/sub, another
    # dataset being built under it (its own lock and state), failing that build's big shards
    fs = s3fs.S3FileSystem()

    def start(key: str) -> None:
        fs.call_s3("create_multipart_upload", Bucket=bucket, Key=key)

    def unfinished() -> list[str]:
        page = fs.call_s3("list_multipart_uploads", Bucket=bucket)
        return sorted(upload["Key"] for upload in page.get("Uploads") or [])

    spec = write_small_spec(tmp_path, "manifold")
    api.build(spec, f"s3://{bucket}/outer", workers=1)
    fs.pipe_file(f"{bucket}/outer/sub/.synthc/lock", b"{}")  # a build of outer/sub runs
    start("outer/sub/train/train-00000.parquet")
    start("outer/train/train-00000.parquet")  # a killed build of outer's own
    notes: list[str] = []
    api.build(spec, f"s3://{bucket}/outer", workers=1, log=notes.append)
    assert unfinished() == ["outer/sub/train/train-00000.parquet"]
    assert f"s3://{bucket}/outer: aborted 1 unfinished shard upload(s)" in notes[0]


def test_shards_a_killed_build_left_unrecorded_are_removed_from_the_store(bucket, tmp_path):
    # what a Dask client killed mid-build leaves: objects its workers put that its state never
    # named; a smaller rebuild kept them, and verify failed on them for good
    url = f"s3://{bucket}/killed"
    fs = s3fs.S3FileSystem()
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=500, shard_size=100))
    api.build(spec, url, workers=1)
    state = json.loads(fs.cat_file(f"{bucket}/killed/.synthc/state.json"))
    lost = sorted(state["shards"])[3:]
    for path in lost:
        del state["shards"][path]
    state["building"] = lost
    fs.pipe_file(f"{bucket}/killed/.synthc/state.json", json.dumps(state).encode())
    spec.write_text(spec_text(samples=200, shard_size=100))
    notes: list[str] = []
    api.build(spec, url, workers=1, log=notes.append)
    assert "removed 2 shard(s) that a stopped build's workers left unrecorded" in notes
    api.verify(url)  # no object the manifest does not list
    saved = json.loads(fs.cat_file(f"{bucket}/killed/.synthc/state.json"))
    assert "building" not in saved


@pytest.mark.parametrize("kind", ["manifold", "fractal"])
def test_a_shard_object_replaced_since_open_is_refused(bucket, tmp_path, kind):
    """Only the object's size was checked: an object of the same size put over a shard since
    the dataset was opened was read (a rebuild's rows mixed with the opened ones)."""
    url = f"s3://{bucket}/replaced-{kind}"
    api.build(write_small_spec(tmp_path, kind), url, workers=1)
    dataset = synthc.open(url)
    shard = api.load_manifest(url)["splits"]["train"]["shards"][0]
    fs = s3fs.S3FileSystem()
    key = f"{bucket}/replaced-{kind}/{shard['path']}"
    data = fs.cat_file(key)
    fs.pipe_file(key, data[:-1] + bytes([data[-1] ^ 1]))  # same size, other bytes
    said = f"the dataset changed since it was opened \\({url}/{shard['path']} was replaced"

    def read() -> int:
        if kind == "manifold":
            return len(dataset["train"].lazy().collect())
        return len(list(dataset["train"].samples(decode=False)))

    with pytest.raises(OutputError, match=said):
        read()
    fs.pipe_file(key, data)  # the same bytes again: the object as opened (its ETag)
    assert read() == len(dataset["train"])


@pytest.mark.parametrize("command", ["build", "plan"])
def test_several_specs_without_the_stores_extra_are_told_once(cli, tmp_path, monkeypatch, command):
    """Several specs into a store without its package: one line naming the extra, before any
    spec is compiled (each spec said it, then a summary line per spec and in all)."""
    monkeypatch.setitem(sys.modules, "s3fs", None)
    one = write_small_spec(tmp_path, "manifold")
    two = write_small_spec(tmp_path, "tabular")
    code, stdout, stderr = cli(command, one, two, "-o", "s3://bucket/prefix")
    assert code == 2
    assert stdout == ""
    assert stderr == (
        "synthc: error: s3://bucket/prefix: s3:// outputs need s3fs: pip install 'synthc[s3]'\n"
    )
