"""What an output prefix on an object store may be, against moto's S3 server on loopback: the
same as a directory -o names (never a file: an object), and a dataset under another's prefix
is left to its own build, as a folder in a dataset's directory is."""

from __future__ import annotations

from conftest import spec_text
from store_servers import s3_objects


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
    # as a local directory: a file given as -o is refused
    local = tmp_path / "out"
    assert cli("build", spec, "-o", local)[0] == 0
    code, _, err = cli("build", spec, "-o", local / "manifest.json")
    assert code == 2 and "exists and is not a directory" in err
