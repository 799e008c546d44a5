"""verify checks the manifest's own consistency and refuses what it cannot trust, one line each."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import synthc
from synthc import limits
from synthc.errors import OutputError


def edit_manifest(out: Path, edit) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    edit(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest))


def problems(cli, out: Path) -> list[str]:
    code, _, err = cli("verify", out)
    assert code == 1 and "Traceback" not in err
    # the last line says how to repair (tests/test_verify_repair.py): not a problem
    return [line for line in err.strip().splitlines()[1:] if not line.startswith("to repair:")]


def first_train(manifest) -> dict:
    return manifest["splits"]["train"]["shards"][0]


def drop_second_train_shard(m):
    del m["splits"]["train"]["shards"][1]


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda m: m.update(content_sha256="0" * 64), ["manifest.json: content_sha256"]),
        (
            drop_second_train_shard,
            [
                "content_sha256 does not match",
                "splits.train.samples is 800, its shards hold 500",
                "train/train-00002.parquet starts at 600, not 300",
                "train/train-00001.parquet: a shard file the manifest does not list",
            ],
        ),
        (
            lambda m: m["splits"]["train"].update(samples=900),
            ["splits.train.samples is 900, its range holds 800", "its shards hold 800"],
        ),
        (lambda m: first_train(m).update(samples=299), ["not 299"]),
        (lambda m: m.update(samples=1200), ["samples is 1200, the splits hold 1000"]),
        (lambda m: m["splits"]["test"].update(range=[700, 900]), ["range starts at 700"]),
        (lambda m: m.update(bytes=1), ["bytes is 1, the shards hold"]),
        (lambda m: m["splits"]["train"].update(bytes=1), ["splits.train.bytes is 1"]),
        # generator.stats is the shards' stats summed: a count that is not their sum verified
        (
            lambda m: m["generator"].update(stats={"redrawn": 5}),
            ['generator.stats is {"redrawn": 5}, the shards\' stats add up to {}'],
        ),
        (
            lambda m: first_train(m).update(stats={"redrawn": 2}),
            ['generator.stats is {}, the shards\' stats add up to {"redrawn": 2}'],
        ),
        (
            lambda m: first_train(m).update(path="test/train-00000.parquet"),
            ["is not in the split's folder train/"],
        ),
        (
            lambda m: first_train(m).update(path="../../etc/passwd"),
            ["'../../etc/passwd' is refused"],
        ),
        (lambda m: m["files"].append("/etc/hostname"), ["'/etc/hostname' is refused"]),
        (lambda m: m["files"].append("gone.txt"), ["gone.txt: missing"]),
        # a spec copy named outside the output was skipped: verify said ok
        (
            lambda m: m["spec"].update(file="/etc/hostname"),
            ["/etc/hostname: spec.file must name spec.yaml"],
        ),
    ],
)
def test_verify_names_each_manifest_inconsistency(built, cli, edit, expected):
    _, out = built
    assert cli("verify", out)[0] == 0
    edit_manifest(out, edit)
    found = problems(cli, out)
    for words in expected:
        assert any(words in line for line in found), (words, found)


def test_verify_reports_stray_shards_and_temporaries(built, cli):
    _, out = built
    (out / "train" / "train-00009.parquet").write_bytes(b"x")
    (out / "test" / "test-00000.parquet.partial").write_bytes(b"x")
    (out / "README.md.partial").write_bytes(b"x")
    (out / "train" / "notes.txt").write_text("a user's note is not a shard")
    found = problems(cli, out)
    assert len(found) == 3
    assert "train/train-00009.parquet: a shard file the manifest does not list" in found
    assert any(line.startswith("test/test-00000.parquet.partial: a temporary") for line in found)
    assert any(line.startswith("README.md.partial: a temporary") for line in found)


@pytest.mark.parametrize(
    "content, words",
    [
        ("[]", "a manifest is a JSON object, not list"),
        ('{"format": "synthc-manifest/1"}', "samples: must be an integer"),
        ("{", "not valid JSON"),
        # which one counts differs among JSON readers: verify must not pass one of two
        ('{"samples": 5, "x": [{"samples": 1}], "samples": 3000}', "'samples' appears twice"),
        ("[" * 100_000, "not valid JSON"),
        (
            '{"format": "synthc-manifest/1", "samples": 1, "bytes": 1, "content_sha256": "",'
            ' "generator": {"facts": {}},'
            ' "splits": {"a": {"samples": 1, "bytes": 1, "range": [0, 1], "shards": [{"path":'
            ' "a/x", "first_sample": 0, "samples": 1, "bytes": 1, "sha256": "", "task_key": "",'
            ' "stats": [1]}]}}}',
            "splits.a.shards[0].stats: must map names to counts from 0 below 2**63",
        ),
    ],
)
def test_malformed_manifest_is_one_line_for_verify(built, cli, content, words):
    _, out = built
    (out / "manifest.json").write_text(content)
    code, _, err = cli("verify", out)
    assert code == 1 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and words in err and "manifest.json" in err


def test_wrong_shape_manifest_lists_first_problem_and_count(built, cli):
    _, out = built
    edit_manifest(out, lambda m: m.update(splits={"train": {"shards": [1]}}))
    code, _, err = cli("verify", out)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "splits.train.samples: must be an integer" in err and "more)" in err


def test_build_replaces_a_broken_manifest_it_owns(built, cli):
    spec, out = built
    (out / "manifest.json").write_text("[]")
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "Traceback" not in err
    assert cli("verify", out)[0] == 0


def test_manifest_size_is_bounded_before_parsing(built, cli, monkeypatch):
    _, out = built
    monkeypatch.setattr(limits, "MAX_MANIFEST_BYTES", 100)
    code, _, err = cli("verify", out)
    assert code == 1 and "MAX_MANIFEST_BYTES" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["plain_file", "missing"])
def test_verify_of_a_file_or_a_missing_directory(cli, tmp_path, kind):
    target = tmp_path / "thing"
    if kind == "plain_file":
        target.write_text("hello")
    code, _, err = cli("verify", target)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert ("is not a directory" if kind == "plain_file" else "does not exist") in err


def test_a_fifo_manifest_is_refused_without_blocking(built, cli):
    _, out = built
    (out / "manifest.json").unlink()
    os.mkfifo(out / "manifest.json")
    code, _, err = cli("verify", out)
    assert code == 1 and "is not a regular file" in err and len(err.strip().splitlines()) == 1


def test_a_fact_file_far_larger_than_its_array_is_not_hashed(built, cli, monkeypatch):
    from synthc.outputs import verify

    sha256 = verify.handle_sha256

    def small_only(handle):
        assert os.fstat(handle.fileno()).st_size < 1 << 30, "a huge file was hashed"
        return sha256(handle)

    monkeypatch.setattr(verify, "handle_sha256", small_only)
    _, out = built
    entry = {"file": "facts/rotation.npy", "shape": [3, 3], "dtype": "<f8", "sha256": "0" * 64}
    edit_manifest(out, lambda m: m["generator"].setdefault("facts", {}).update(rotation=entry))
    (out / "facts").mkdir()
    (out / "facts" / "rotation.npy").touch()
    os.truncate(out / "facts" / "rotation.npy", 50 << 30)  # sparse: hashing it took minutes
    assert problems(cli, out) == [
        f"facts/rotation.npy: {50 << 30} bytes, more than a <f8 [3, 3] array takes (65618)"
    ]


def test_a_shard_that_is_a_fifo_is_not_a_regular_file_not_missing(built, cli):
    _, out = built
    shard = out / "train" / "train-00000.parquet"
    shard.unlink()
    os.mkfifo(shard)
    assert problems(cli, out) == ["train/train-00000.parquet: is not a regular file (a FIFO)"]


def test_a_shard_path_too_long_for_the_system_is_one_problem_line(built, cli):
    # Path.is_file() let ENAMETOOLONG through: 'internal error: OSError: [Errno 36]'
    _, out = built
    long = f"train/{'a' * 5000}.parquet"
    edit_manifest(out, lambda m: first_train(m).__setitem__("path", long))
    lines = problems(cli, out)
    assert any(
        line.startswith(f"{long}: manifest.json: entry 'train/aaaa")
        and line.endswith(
            "is refused: a path part longer than 255 bytes; synthc follows no such path"
        )
        for line in lines
    ), lines


@pytest.mark.parametrize(
    "edit, words",
    [
        (
            lambda m: m["schema"].update(format=[]),
            "schema.format: must be one of parquet, webdataset",
        ),
        (lambda m: m["schema"].update(format="csv"), "not 'csv'"),
        (lambda m: m.pop("schema"), "schema: must be an object with 'format' and 'columns'"),
        (lambda m: m["schema"].update(columns={}), "schema.columns: must be a list of columns"),
        (lambda m: m["schema"]["columns"].append({"name": 1}), "schema.columns: must be a list"),
        (lambda m: m["schema"].update(tables=[]), "schema.tables: must be an object"),
    ],
    ids=["format-list", "format-unknown", "no-schema", "columns-object", "column-name", "tables"],
)
def test_a_schema_readers_cannot_go_by_is_refused_by_verify_and_open(built, cli, edit, words):
    # open() met an unhashable schema.format as a TypeError; verify passed what open refused
    _, out = built
    edit_manifest(out, edit)
    code, _, err = cli("verify", out)
    assert code == 1 and len(err.strip().splitlines()) == 1 and words in err, err
    with pytest.raises(OutputError, match=re.escape(words)):
        synthc.open(out)


def test_a_shard_of_another_format_than_the_schemas_is_a_problem(built, cli):
    # verify read the Parquet shards of a "webdataset" dataset and said ok; open refused it
    _, out = built
    edit_manifest(out, lambda m: m["schema"].update(format="webdataset"))
    found = problems(cli, out)
    assert "manifest.json: shard train/train-00000.parquet is not a webdataset shard (.tar)" in (
        found
    )
    with pytest.raises(OutputError, match="is not a webdataset shard"):
        synthc.open(out)


class Counted(dict):
    """A shard entry that counts the reads of its table."""

    reads = 0

    def get(self, key, default=None):
        if key == "table":
            Counted.reads += 1
        return super().get(key, default)


def test_the_shards_of_many_tables_are_grouped_once_not_once_per_table(built):
    """A manifest's shards were scanned once per table of their split (twice): 50,000 tables
    and as many shards took minutes of verify, or of synthc.open, before any problem."""
    from synthc.outputs.verify import manifest_problems

    _, out = built
    manifest = json.loads((out / "manifest.json").read_text())
    split = manifest["splits"]["train"]
    first = split["shards"][0]
    count = 300
    split["shards"] = [
        Counted(first, path=f"t{i}/train/train-00000.parquet", table=f"t{i}") for i in range(count)
    ]
    split["tables"] = {f"t{i}": {"samples": 0, "range": [0, 0], "bytes": 0} for i in range(count)}
    Counted.reads = 0
    assert manifest_problems(manifest)
    assert Counted.reads <= 4 * count


def count_reads(monkeypatch) -> list[str]:
    """The names of the files verify reads (regular_state), in order, as it reads them."""
    from synthc.outputs import verify as verify_module

    read: list[str] = []
    original = verify_module.regular_state

    def counted(path, *args, **kwargs):
        read.append(Path(path).name)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(verify_module, "regular_state", counted)
    return read


def test_a_shard_listed_many_times_is_read_once(built, cli, monkeypatch):
    """Each entry was checked: a shard listed 20,000 times was hashed 20,000 times (a shard of
    256 MB: over an hour), while one line already said it is listed twice."""

    _, out = built
    edit_manifest(out, lambda m: m["splits"]["train"]["shards"].extend([first_train(m)] * 50))
    read = count_reads(monkeypatch)
    found = problems(cli, out)
    assert any("train/train-00000.parquet is listed twice" in line for line in found)
    assert read.count("train-00000.parquet") == 1


def test_a_fact_file_named_by_many_entries_is_hashed_once(built, cli, monkeypatch):
    import hashlib
    import io

    import numpy as np

    _, out = built
    buffer = io.BytesIO()
    np.save(buffer, np.arange(5000.0), allow_pickle=False)
    (out / "facts").mkdir()
    (out / "facts" / "x.npy").write_bytes(buffer.getvalue())
    entry = {"file": "facts/x.npy", "shape": [5000], "dtype": "<f8"}
    entry["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
    edit_manifest(out, lambda m: m["generator"]["facts"].update(many=[entry] * 40))
    read = count_reads(monkeypatch)
    code, _, err = cli("verify", out)
    assert code == 0, err
    assert read.count("x.npy") == 1


@pytest.mark.parametrize("count", [2**63, 10**30])
def test_a_count_past_int64_is_a_manifest_problem(built, cli, count):
    # consistent with itself, it opened, and len() of the split raised OverflowError ("cannot
    # fit 'int' into an index-sized integer"); verify said only that the shard held fewer rows
    _, out = built

    def grow(manifest: dict) -> None:
        split = manifest["splits"]["train"]
        extra = count - split["shards"][-1]["samples"]
        split["shards"][-1]["samples"] = count
        for holder in (split, manifest):
            holder["samples"] += extra
        split["range"][1] += extra
        for later in list(manifest["splits"].values())[1:]:
            later["range"] = [r + extra for r in later["range"]]
            for shard in later["shards"]:
                shard["first_sample"] += extra

    edit_manifest(out, grow)
    said = r"manifest.json: samples: must be an integer from 0 below 2\*\*63"
    with pytest.raises(OutputError, match=said):
        synthc.open(out)
    code, _, err = cli("verify", out)
    assert code == 1 and re.search(said, err)
