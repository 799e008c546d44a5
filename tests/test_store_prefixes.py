"""What an output prefix on an object store may be, against moto's S3 server on loopback: the
same as a directory -o names (never a file: an object), and a dataset under another's prefix
is left to its own build, as a folder in a dataset's directory is."""

from __future__ import annotations

import pytest
import s3fs
from conftest import spec_text
from store_servers import s3_objects

import synthc
from synthc.errors import OutputError


def test_an_output_url_naming_an_object_is_refused_as_a_file_path_is(bucket, cli, tmp_path):
    # -o s3://b/x/manifest.json built a second dataset under the first one's manifest key
    # (and verify of s3://b/x then reported its shards); -o x/manifest.json, a file, is refused
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    url = f"s3://{bucket}/x"
    code, _, err = cli("build", spec, "-o", url)
    assert code == 0, err
    before = s3_objects(url)
    cases = [
        ("manifest.json", "manifest.json"),
        ("train/train-00000.parquet", "train/train-00000.parquet"),
        ("manifest.json/deeper/x", "manifest.json"),
    ]
    for inside, blocker in cases:
        for command in (("build",), ("build", "--dry-run"), ("plan",)):
            code, _, err = cli(*command, spec, "-o", f"{url}/{inside}")
            assert code == 2, err
            shown = "is an object" if inside == blocker else f"{url}/{blocker} is an object"
            assert f"{url}/{inside}: {shown}, not a prefix" in err and "Traceback" not in err
    assert s3_objects(url) == before  # nothing written, not even a lock
    # nor is such a URL read as a dataset's (verify said: 'no manifest')
    for inside, blocker in cases[1:]:
        code, _, err = cli("verify", f"{url}/{inside}")
        shown = "is an object" if inside == blocker else f"{url}/{blocker} is an object"
        assert code == 1 and f"{url}/{inside}: {shown}, not a prefix" in err, err
    # as a local directory: a file given as -o is refused
    local = tmp_path / "out"
    assert cli("build", spec, "-o", local)[0] == 0
    code, _, err = cli("build", spec, "-o", local / "manifest.json")
    assert code == 2 and "exists and is not a directory" in err


def test_a_dataset_under_another_ones_prefix_is_not_its_unlisted_shards(bucket, cli, tmp_path):
    # verify of s3://b/x reported each shard of s3://b/x/train/sub as "a shard file the
    # manifest does not list"; the same datasets in directories verify
    import s3fs

    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    for where in (f"s3://{bucket}/x", str(tmp_path / "x")):
        for inner in ("", "/train/sub", "/y"):
            code, _, err = cli("build", spec, "-o", f"{where}{inner}")
            assert code == 0, err
        for inner in ("", "/train/sub", "/y"):
            code, stdout, err = cli("verify", f"{where}{inner}")
            assert code == 0 and "ok (3 shards" in stdout, err
    # a shard object directly in a split folder is still reported, however it is spelt
    fs = s3fs.S3FileSystem()
    for stray in ("train/stray.parquet", "train//odd.parquet", "train/./dot.parquet"):
        fs.pipe_file(f"{bucket}/x/{stray}", b"x")
    code, _, err = cli("verify", f"s3://{bucket}/x")
    assert code == 1 and "3 problem(s)" in err, err
    assert "train/stray.parquet: a shard file the manifest does not list" in err
    assert "sub/" not in err


def test_a_lost_state_is_rebuilt_beside_a_nested_dataset_as_in_a_directory(bucket, cli, tmp_path):
    # with s3://b/p/y built, a lost state of s3://b/p was refused ("not empty (17 object(s))
    # and holds no synthc build state"), where the directory's was rebuilt from its manifest
    import shutil

    import s3fs

    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    url, local = f"s3://{bucket}/p", tmp_path / "p"
    for where in (url, str(local)):
        for inner in ("", "/y"):
            assert cli("build", spec, "-o", f"{where}{inner}")[0] == 0
    shutil.rmtree(local / ".synthc")
    s3fs.S3FileSystem().rm_file(f"{bucket}/p/.synthc/state.json")
    before = s3_objects(f"{url}/y")
    for where in (url, str(local)):
        code, stdout, err = cli("build", spec, "-o", where)
        assert code == 0, err
        assert "no build state; rebuilt it from manifest.json" in err
        assert "up to date" in stdout
    assert s3_objects(f"{url}/y") == before
    # an object the build would write over, which the manifest does not list, still needs
    # --force, as a file in a directory does
    s3fs.S3FileSystem().rm_file(f"{bucket}/p/.synthc/state.json")
    spec.write_text(spec_text(samples=300, shard_size=100))
    s3fs.S3FileSystem().pipe_file(f"{bucket}/p/train/train-00002.parquet", b"other")
    code, _, err = cli("build", spec, "-o", url)
    assert code == 2 and "holds no synthc build state" in err, err


def test_a_parent_key_this_user_may_not_ask_about_does_not_fail_the_build(
    bucket, cli, tmp_path, monkeypatch
):
    # a policy granting only s3://b/a/data/* answers 403 for the key 'a': not an object there
    import s3fs

    asked = []
    info = s3fs.S3FileSystem.info

    def refusing(self, path, **kwargs):
        if path == f"{bucket}/a":
            asked.append(path)
            raise PermissionError("Access Denied")
        return info(self, path, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "info", refusing)
    s3fs.S3FileSystem.clear_instance_cache()  # a cached one has its own info
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    code, _, err = cli("build", spec, "-o", f"s3://{bucket}/a/data")
    s3fs.S3FileSystem.clear_instance_cache()
    assert code == 0 and asked, err


def test_a_folder_marker_in_a_shards_place_is_a_missing_shard_to_every_reader(
    bucket, cli, tmp_path
):
    # a zero-byte "train/x.parquet/" key (what consoles write for a folder) where the shard
    # was: verify said "missing", synthc.open and reproduce "0 bytes, the manifest says N"
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, shard_size=100))
    url = f"s3://{bucket}/x"
    assert cli("build", spec, "-o", url, "--workers", "1")[0] == 0
    fs = s3fs.S3FileSystem()
    fs.rm_file(f"{bucket}/x/train/train-00000.parquet")
    fs.pipe_file(f"{bucket}/x/train/train-00000.parquet/", b"")
    code, _, err = cli("verify", url)
    assert code == 1 and "train/train-00000.parquet: missing" in err, err
    with pytest.raises(OutputError, match="train-00000.parquet: missing from the store"):
        synthc.open(url)["train"].lazy().collect()
    code, _, err = cli("reproduce", url)
    assert code == 1 and "its object in the store is missing" in err, err
