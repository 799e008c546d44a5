"""Edges of outputs on object stores, against moto's S3 server on loopback: store URLs whose
path is no plain prefix, planted values in the build state (a directory's and a store's),
endpoint URLs that carry secrets, and a server that accepts connections but never answers."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import s3fs
from conftest import run_synthc, spec_text
from store_servers import (
    environment,
    free_port,
    s3_objects,
)

import synthc
from synthc import api
from synthc.compiler.models import NAME_PATTERN
from synthc.errors import OutputError, UsageError
from synthc.outputs import manifest as manifest_module
from synthc.outputs import store as store_module
from synthc.outputs.manifest import content_sha256, iter_shards
from synthc.outputs.state import STATE_DIR, STATE_FILE

SECRET = "synthc-edge-secret-" + uuid.uuid4().hex
STATE = f"{STATE_DIR}/{STATE_FILE}"


objects = s3_objects


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
    assert store_module.url_problem("file:///data/a/../b") is None


@pytest.mark.parametrize(
    ("char", "shown"),
    [("\t", "\\t"), ("\n", "\\n"), ("\x00", "\\x00"), ("\x7f", "\\x7f"), ("\x85", "\\x85")],
)
def test_store_urls_with_a_control_character_are_refused(bucket, cli, tmp_path, char, shown):
    # s3://bkt/tab<TAB>x wrote keys 'tab\tx/...' but printed and recorded s3://bkt/tabx
    # (urlsplit drops tabs and newlines); a newline failed with 'cannot write: Not Found'
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    other = tmp_path / "other.yaml"
    other.write_text(spec_text(name="other", samples=200, shard_size=100))
    url = f"s3://{bucket}/tab{char}x"
    for command in (
        ("build", spec, "-o", url),
        ("build", spec, other, "-o", url),
        ("build", spec, "-o", url, "--dry-run"),
        ("plan", spec, "-o", url),
        ("verify", url),
    ):
        code, _, stderr = cli(*command)
        line = only_line(stderr)
        assert code == 2, stderr
        assert line.startswith(f"synthc: error: s3://{bucket}/tab{shown}x: "), line
        assert f"control character '{shown}'" in line, line
    with pytest.raises(UsageError, match="control character"):
        api.build(spec, url, workers=1)
    with pytest.raises(UsageError, match="control character"):
        synthc.open(url)
    assert objects(f"s3://{bucket}") == {}
    # a file:// URL is a local path, which may hold any character a file name may
    assert store_module.url_problem(f"file:///data/tab{char}x") is None


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


def test_a_lock_write_that_failed_after_storing_leaves_no_lock(bucket, cli, tmp_path, monkeypatch):
    # adlfs stored .synthc/lock, then failed parsing the key: the lock stayed behind, and
    # every rerun was refused as locked
    real = store_module.Store.create

    def stored_then_failed(self: store_module.Store, name: str, data: bytes) -> bool:
        real(self, name, data)
        raise store_module.StoreError(f"{self.where(name)}: cannot write: the reply was lost")

    monkeypatch.setattr(store_module.Store, "create", stored_then_failed)
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    url = f"s3://{bucket}/lost"
    code, _, stderr = cli("build", spec, "-o", url)
    assert code == 1 and only_line(stderr).endswith("cannot write: the reply was lost"), stderr
    assert objects(url) == {}
    monkeypatch.undo()
    code, _, stderr = cli("build", spec, "-o", url)
    assert code == 0, stderr


# --- 2. the build state's values are checked, not trusted ---------------------------------


class Output:
    """One built output, a directory or a store prefix, whose state a test edits."""

    def __init__(self, where: str, tmp_path: Path, bucket: str | None) -> None:
        self.spec = tmp_path / "spec.yaml"
        self.spec.write_text(spec_text(samples=600, shard_size=300))
        if where == "store":
            self.out: Path | str = f"s3://{bucket}/state"
        else:
            self.out = tmp_path / "out"
        result = api.build(self.spec, self.out, workers=1)
        assert result.built == 3

    def read_state(self) -> dict[str, Any]:
        if isinstance(self.out, Path):
            return json.loads((self.out / STATE).read_text())
        return json.loads(s3fs.S3FileSystem().cat_file(f"{self.out[5:]}/{STATE}"))

    def write_state(self, state: dict[str, Any]) -> None:
        data = json.dumps(state)
        if isinstance(self.out, Path):
            (self.out / STATE).write_text(data)
        else:
            s3fs.S3FileSystem().pipe_file(f"{self.out[5:]}/{STATE}", data.encode())

    def edit_first_shard(self, edit: Callable[[dict[str, Any]], None]) -> str:
        state = self.read_state()
        name = sorted(state["shards"])[0]
        edit(state["shards"][name])
        self.write_state(state)
        return name

    def contents(self) -> dict[str, Any]:
        if isinstance(self.out, Path):
            return {
                str(p.relative_to(self.out)): (p.stat().st_mtime_ns, p.read_bytes())
                for p in sorted(self.out.rglob("*"))
                if p.is_file()
            }
        return objects(self.out)


@pytest.fixture(params=["directory", "store"])
def output(request, tmp_path) -> Output:
    bucket = request.getfixturevalue("bucket") if request.param == "store" else None
    return Output(request.param, tmp_path, bucket)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("sha256", "zz", "sha256: must be 64 lower-case hex digits"),
        ("sha256", "A" * 64, "sha256: must be 64 lower-case hex digits"),
        ("sha256", "0" * 63 + "g", "sha256: must be 64 lower-case hex digits"),
        ("samples", -5, "samples: must be at least 0"),
        ("samples", 10**30, "samples: must be at least 0 and below 2**63"),
        ("bytes", -1, "bytes: must be at least 0"),
        ("first_sample", -300, "first_sample: must be at least 0"),
        ("shard", 2**63, "shard: must be at least 0 and below 2**63"),
    ],
)
def test_a_planted_state_value_is_refused_and_nothing_written(output, cli, key, value, words):
    # "sha256": "zz" was kept, went into a manifest verify refuses, and the next build said
    # "up to date"; a negative or huge count likewise
    name = output.edit_first_shard(lambda entry: entry.update({key: value}))
    before = output.contents()
    code, _, stderr = cli("build", output.spec, "-o", output.out, "--workers", "1")
    line = only_line(stderr)
    assert code == 1, stderr
    assert f"shards.{name}.{words}" in line and "state.json" in line and "--force" in line
    assert output.contents() == before
    # --force sets the state aside: rebuilt from the manifest, which verifies
    code, stdout, stderr = cli("build", output.spec, "-o", output.out, "--force")
    assert code == 0, stderr
    assert cli("verify", output.out)[0] == 0


@pytest.mark.parametrize(
    "edit",
    [
        {"samples": 299},  # the plan's task holds 300
        {"samples": 0},
        {"first_sample": 1},
        {"split": "validation"},
        {"shard": 7},
        {"table": "people"},  # no related tables here
        {"bytes": "+1"},  # not the file's size
    ],
    ids=lambda edit: "-".join(f"{k}={v}" for k, v in edit.items()),
)
def test_a_state_entry_at_odds_with_the_plan_rebuilds_its_shard(output, cli, edit):
    def apply(entry: dict[str, Any]) -> None:
        for key, value in edit.items():
            entry[key] = entry[key] + 1 if value == "+1" else value

    output.edit_first_shard(apply)
    code, stdout, stderr = cli("build", output.spec, "-o", output.out, "--workers", "1")
    assert code == 0, stderr
    assert "built 1 shard(s), kept 2" in stdout, stdout
    code, stdout, stderr = cli("verify", output.out)
    assert code == 0, stderr
    code, stdout, _ = cli("build", output.spec, "-o", output.out)
    assert code == 0 and "up to date" in stdout


def test_a_dataset_copied_between_a_directory_and_a_store_continues(bucket, cli, tmp_path):
    # a local build copied to a store failed "state.json: shards.<shard>.stamp: must be str;
    # synthc deleted nothing" (exit 1) though verify said ok; the reverse "mtime_ns: must be
    # int": the other kind of output's state is set aside as a lost one
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=600, shard_size=300))
    fs = s3fs.S3FileSystem()
    local = api.build(spec, tmp_path / "local", workers=1).out
    fs.put(f"{local}/", f"{bucket}/synced/", recursive=True)
    api.build(spec, f"s3://{bucket}/built", workers=1)
    fs.get(f"{bucket}/built/", f"{tmp_path / 'copied'}/", recursive=True)
    copies = {
        f"s3://{bucket}/synced": "a local directory's",
        tmp_path / "copied": "an object store's",
    }
    for out, kind in copies.items():
        code, stdout, stderr = cli("build", spec, "-o", out, "--workers", "1")
        assert code == 0, stderr
        assert "up to date" in stdout, stdout
        assert f"{kind} build state (the dataset was copied); set aside" in stderr, stderr
        assert "rebuilt it from manifest.json, which verifies" in stderr, stderr
        code, stdout, stderr = cli("build", spec, "-o", out)
        assert code == 0 and "up to date" in stdout and stderr == "", stderr
        assert cli("verify", out)[0] == 0


def test_a_state_mixing_both_kinds_of_entry_is_still_refused(output, cli):
    # one entry in the other kind's format, the rest in this one's: no copy, a corrupt state
    def swap(shard: dict[str, Any]) -> None:
        if isinstance(output.out, Path):
            shard["stamp"] = f"time:{shard.pop('mtime_ns')}:{shard['bytes']}"
        else:
            shard["mtime_ns"] = len(shard.pop("stamp"))

    output.edit_first_shard(swap)
    before = output.contents()
    code, _, stderr = cli("build", output.spec, "-o", output.out, "--workers", "1")
    assert code == 1 and "must be" in only_line(stderr) and "--force" in stderr, stderr
    assert output.contents() == before


@pytest.mark.parametrize("table", [False, True])
def test_a_manifest_naming_a_split_or_table_folder_under_a_shard_is_refused(
    bucket, cli, tmp_path, table
):
    # A store holds both keys x.parquet and x.parquet/y.parquet, a directory cannot: a split
    # named "train/train-00000.parquet" verified, and synthc.open raised FileExistsError as it
    # fetched that split's shard into the folder where the train split's shard was a file
    fs = s3fs.S3FileSystem()
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    url = f"s3://{bucket}/d"
    assert cli("build", spec, "-o", url, "--workers", "1")[0] == 0
    manifest = json.loads(fs.cat_file(f"{bucket}/d/manifest.json"))
    nested = manifest["splits"]["train"]["shards"][0]["path"]
    if table:  # the same nesting through a table's folder: <table>/<split>/<shard>
        manifest["schema"]["tables"] = {"t/x": manifest["schema"]["columns"]}
    else:
        moved = manifest["splits"].pop("test")
        old = moved["shards"][0]["path"]
        moved["shards"][0]["path"] = f"{nested}/{old.rpartition('/')[2]}"
        fs.pipe_file(f"{bucket}/d/{moved['shards'][0]['path']}", fs.cat_file(f"{bucket}/d/{old}"))
        manifest["splits"][nested] = moved
        manifest["content_sha256"] = content_sha256(iter_shards(manifest))
    fs.pipe_file(f"{bucket}/d/manifest.json", json.dumps(manifest).encode())
    code, _, stderr = cli("verify", url)
    words = "schema.tables.t/x" if table else f"splits.{nested}"
    assert code == 1 and words in only_line(stderr) and "a plain folder name" in stderr, stderr
    with pytest.raises(OutputError, match="a plain folder name"):
        synthc.open(url)[nested].lazy().collect()
    assert cli("diff", url, url)[0] == 2  # refused wherever the manifest is read


@pytest.mark.parametrize("name", ["train", "a.b-c_d", "0", "_orders", "Orders_2", "_"])
def test_the_manifests_folder_names_take_every_split_and_table_name(name):
    """Split names (the spec's NAME_PATTERN) and table names (identifiers: `_orders` too,
    whose dataset built and then failed verify) are folder names a manifest may hold."""
    import re

    assert re.fullmatch(NAME_PATTERN.strip("^$"), name) or name.isidentifier()
    assert manifest_module.FOLDER_NAME.fullmatch(name)


def test_a_dataset_of_tables_named_with_a_leading_underscore_verifies(write_spec, cli, tmp_path):
    spec = write_spec(
        "synthc: 1\nname: under\nseed: 1\nsamples: 50\nsplits: {train: 1.0}\n"
        "generator:\n  kind: tabular\n  tables:\n"
        "    _cust: {columns: {age: {dist: normal, mean: 40, std: 12}}}\n"
        "    _ord:\n      parent: _cust\n      rows_per_parent: {dist: poisson, lam: 2}\n"
        "      columns: {amount: {dist: normal, mean: 3, std: 1}}\n"
        "output: {format: parquet}\n"
    )
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0, err
    code, stdout, err = cli("verify", out)
    assert code == 0 and ": ok" in stdout, err


def test_a_manifest_listing_a_file_in_synthcs_own_folder_does_not_verify(output, cli):
    # with the state lost, a manifest listing ".synthc/extra" (or, on a store, the build's own
    # ".synthc/lock") verified during the build: the state rebuilt from it named that file,
    # and every later build refused it as corrupt (".synthc/ holds synthc's own state")
    extra = f"{STATE_DIR}/extra"
    if isinstance(output.out, Path):
        manifest = json.loads((output.out / "manifest.json").read_text())
        manifest["files"].append(extra)
        (output.out / "manifest.json").write_text(json.dumps(manifest))
        (output.out / extra).write_text("x")
        (output.out / STATE).unlink()
    else:
        fs = s3fs.S3FileSystem()
        key = output.out[5:]
        manifest = json.loads(fs.cat_file(f"{key}/manifest.json"))
        manifest["files"].append(extra)
        fs.pipe_file(f"{key}/manifest.json", json.dumps(manifest).encode())
        fs.pipe_file(f"{key}/{extra}", b"x")
        fs.rm_file(f"{key}/{STATE}")
    code, _, stderr = cli("verify", output.out)
    assert code == 1 and f"'{extra}' is a file in {STATE_DIR}/" in stderr, stderr
    code, _, stderr = cli("build", output.spec, "-o", output.out, "--workers", "1")
    assert code == 2 and "build state" in stderr and "--force" in stderr, stderr
    code, _, stderr = cli("build", output.spec, "-o", output.out, "--workers", "1", "--force")
    assert code == 0, stderr
    assert cli("build", output.spec, "-o", output.out, "--workers", "1")[0] == 0
    assert cli("verify", output.out)[0] == 0


# --- 3. an endpoint URL's secrets are never printed ---------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:{port}/?token={secret}",
        "http://user:{secret}@127.0.0.1:{port}/",
        "http://127.0.0.1:{port}/#{secret}",
    ],
)
def test_store_errors_never_print_the_endpoints_secrets(cli, tmp_path, monkeypatch, endpoint):
    # AWS_ENDPOINT_URL=http://127.0.0.1:1/?token=hunter2 printed the token in the error
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.format(port=free_port(), secret=SECRET))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "synthc-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "synthc-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # a refused port: no need to retry
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        for command in (("verify", "s3://bucket/x"), ("build", spec, "-o", "s3://bucket/x")):
            code, stdout, stderr = cli(*command)
            assert code == 1, stderr
            assert only_line(stderr).startswith("synthc: error: s3://bucket/x")
            assert SECRET not in stdout + stderr
    finally:
        s3fs.S3FileSystem.clear_instance_cache()


def test_urls_in_a_store_librarys_message_are_masked(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://h:9/?sig={SECRET}")
    assert store_module.masked(
        f"Custom endpoint `http://127.0.0.1:1/?token={SECRET}` was not valid"
    ) == ("Custom endpoint `http://127.0.0.1:1/?***` was not valid")
    assert store_module.masked(f'Could not connect: "https://u:{SECRET}@h:1/b/k?x=1#{SECRET}"') == (
        'Could not connect: "https://***@h:1/b/k?***#***"'
    )
    assert SECRET not in store_module.masked(
        f"the query sig={SECRET} alone"
    )  # the endpoint's, anywhere
    # an Azure container@account is no secret; a plain URL is left as it is
    assert (
        store_module.masked("az://container@account/p and s3://b/k")
        == "az://container@account/p and s3://b/k"
    )


@pytest.mark.parametrize("command", ["verify", "build"])
def test_a_gcs_token_in_a_failed_requests_url_is_never_printed(tmp_path, command):
    # gcsfs checks a raw token (FSSPEC_GS_TOKEN) at oauth2.googleapis.com/tokeninfo with the
    # token in the query; behind a proxy that refused (or offline) the error printed
    # "Max retries exceeded with url: /tokeninfo?access_token=<the token>"
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    settings = {"FSSPEC_GS_TOKEN": SECRET, "HTTPS_PROXY": f"http://127.0.0.1:{free_port()}"}
    args = ("verify", "gs://bucket/x") if command == "verify" else ("build", spec, "-o", "gs://b/x")
    with environment(settings):
        result = run_synthc(*args, timeout=60)
    assert result.returncode == 1, result.stderr
    line = only_line(result.stderr)
    assert "/tokeninfo?***" in line and SECRET not in result.stdout + result.stderr, line


# --- 4. bounded requests --------------------------------------------------------------------


class Silent:
    """A server on loopback that accepts connections and never answers; counts them."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    yield server
    server.close()


@pytest.mark.parametrize("command", ["verify", "build"])
def test_a_server_that_never_answers_fails_after_a_bounded_number_of_attempts(
    silent, tmp_path, command
):
    # synthc verify printed nothing for minutes: botocore's 5 attempts inside s3fs's 5
    # retries, 15 s each; a build's first PUT (the lock) waited for ever for a "100 Continue"
    # (aiohttp starts the read timeout once the body is sent). The read timeout is shortened
    # here through fsspec's configuration (which synthc keeps) to count attempts quickly: 2 x 2.
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    args = (
        ("verify", "s3://bucket/x")
        if command == "verify"
        else ("build", spec, "-o", "s3://bucket/x")
    )
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{silent.port}",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
        "FSSPEC_S3": json.dumps({"config_kwargs": {"read_timeout": 1}}),
    }
    started = time.monotonic()
    with environment(env):
        result = run_synthc(*args, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    line = only_line(result.stderr)
    what = "cannot stat" if command == "verify" else "lock: cannot write"
    assert what in line and "read timeout" in line.lower(), line
    attempts = store_module.S3FS_RETRIES * store_module.S3_REQUESTS["retries"]["total_max_attempts"]
    assert len(silent.accepted) == attempts == 4
    assert elapsed < 30


def test_s3_requests_are_bounded_unless_the_user_configures_them(monkeypatch, tmp_path):
    import fsspec.config

    for name in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setitem(fsspec.config.conf, "s3", {})
    s3fs.S3FileSystem.clear_instance_cache()
    fs = store_module.open_store("s3://bucket/a").fs
    assert fs.retries == 2
    # the HTTP session sends a PUT's body without waiting for "100 Continue"
    from synthc.outputs import s3_session

    assert fs.config_kwargs["http_session_cls"] is s3_session.NoContinueSession
    assert {k: v for k, v in fs.config_kwargs.items() if k != "http_session_cls"} == {
        "connect_timeout": 5,
        "read_timeout": 15,
        "retries": {"total_max_attempts": 2, "mode": "standard"},
    }
    # fsspec's configuration wins key by key
    monkeypatch.setitem(fsspec.config.conf, "s3", {"config_kwargs": {"read_timeout": 60}})
    fs = store_module.open_store("s3://bucket/b").fs
    assert fs.config_kwargs["read_timeout"] == 60 and fs.config_kwargs["connect_timeout"] == 5
    # botocore's retry settings are the user's: in the AWS config file, or the environment
    config = tmp_path / "aws-config"
    config.write_text("[default]\nmax_attempts = 7\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    fs = store_module.open_store("s3://bucket/c").fs
    assert "retries" not in fs.config_kwargs and fs.config_kwargs["read_timeout"] == 60
    monkeypatch.setitem(fsspec.config.conf, "s3", {})
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "9")
    fs = store_module.open_store("s3://bucket/d").fs
    assert "retries" not in fs.config_kwargs and fs.config_kwargs["read_timeout"] == 15
    s3fs.S3FileSystem.clear_instance_cache()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("s3://localhost:9000/bucket/x", "'localhost:9000' is no bucket name"),
        ("gs://localhost:4443/bucket/x", "(STORAGE_EMULATOR_HOST)"),
        ("az://127.0.0.1:10000/account/x", "'127.0.0.1:10000' is no container name"),
    ],
)
def test_an_endpoint_in_place_of_the_bucket_is_refused_naming_where_it_goes(
    cli, tmp_path, url, words
):
    # MinIO's host:port where the bucket goes: "cannot write: Parameter validation failed:"
    # (botocore's reason, on the next line, was cut), gcsfs asked Google's servers for the
    # bucket 'localhost:4443', adlfs failed to parse a port
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    for command in (("build", spec, "-o", url), ("verify", url)):
        code, _, err = cli(*command)
        assert code == 2 and words in only_line(err), err
        assert "the endpoint comes from the environment" in err
    assert store_module.url_problem("s3://bucket/a:b/c") is None  # a key may hold ':'
    assert store_module.url_problem("file://host:1/x") is None  # a local path


def test_a_bucket_name_botocore_refuses_is_said_with_its_reason(bucket, cli, tmp_path):
    # "cannot write: Parameter validation failed:" and nothing more: botocore says which
    # parameter and why on the message's next line, which was cut
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    for command in (("build", spec, "-o", "s3://bad!name/x"), ("verify", "s3://bad!name/x")):
        code, _, err = cli(*command)
        assert code == 1
        assert 'Parameter validation failed: Invalid bucket name "bad!name"' in only_line(err)
