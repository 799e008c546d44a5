"""``synthc verify`` reads a shared dataset as untrusted: what its manifest records about itself
is checked, what it names outside the dataset is read only within a spec's size, and no
shard can make it decompress, hang or die on a reader's panic."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import tarfile
from pathlib import Path

import polars as pl
import pytest
from small_datasets import TAR_EDITS, build, make_manifest_match, rewrite_tar, write_spec

import synthc
from synthc import api
from synthc.errors import OutputError
from synthc.outputs import verify as verify_module
from synthc.outputs.manifest import content_sha256, iter_shards


def manifest_of(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def rewrite(out: Path, manifest: dict) -> None:
    """Save ``manifest``, consistent with its shards again, as a hostile sharer would."""
    manifest["content_sha256"] = content_sha256(iter_shards(manifest))
    (out / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def table(tmp_path: Path) -> tuple[Path, Path]:
    spec = write_spec(tmp_path, "manifold")
    return spec, api.build(spec, tmp_path / "out", workers=1).out


def verify_lines(cli, out: Path) -> tuple[int, list[str]]:
    code, _, stderr = cli("verify", out)
    return code, stderr.strip().splitlines()


def test_spec_copies_are_checked_against_the_sha256s_the_manifest_records(cli, table):
    spec, out = table
    (out / "spec.yaml").write_text(spec.read_text().replace("seed: 11", "seed: 12"))
    (out / "spec.rendered.yaml").write_text("synthc: 1\n")
    code, lines = verify_lines(cli, out)
    assert code == 1
    assert "spec.yaml: does not match the manifest's spec.sha256" in lines
    assert "spec.rendered.yaml: does not match the manifest's spec.rendered_sha256" in lines


def test_the_repair_hint_reads_no_file_the_manifest_names_beyond_a_specs_size(cli, table):
    """A manifest's ``spec.source`` may name any path: a file of gigabytes, or /proc/kmsg
    (reading it blocks). The hint hashes it only when it is a regular file of a spec's size,
    reading that much at most; otherwise it says SPEC."""
    spec, out = table
    big = spec.parent / "big.yaml"
    big.write_bytes(b"x" * (2 << 20))  # over synthc.limits.MAX_SPEC_BYTES
    manifest = manifest_of(out)
    manifest["spec"]["source"] = str(big)
    manifest["spec"]["sha256"] = hashlib.sha256(big.read_bytes()).hexdigest()
    rewrite(out, manifest)
    code, lines = verify_lines(cli, out)
    assert code == 1 and lines[-1].startswith("to repair: run `synthc build SPEC -o ")
    manifest["spec"]["source"] = str(spec)  # the real spec, unchanged: named in the hint
    manifest["spec"]["sha256"] = hashlib.sha256(spec.read_bytes()).hexdigest()
    rewrite(out, manifest)
    (out / manifest["splits"]["train"]["shards"][0]["path"]).unlink()  # something to repair
    code, lines = verify_lines(cli, out)
    assert code == 1 and lines[-1].startswith(f"to repair: run `synthc build {spec} -o ")


def test_a_shard_naming_a_table_of_a_dataset_without_tables_is_a_problem(cli, table):
    """A reader picks a split's shards by their table: one naming a table the split does not
    have was skipped, its rows silently missing, while verify said ok."""
    _, out = table
    manifest = manifest_of(out)
    manifest["splits"]["train"]["shards"][0]["table"] = "x"
    rewrite(out, manifest)
    code, lines = verify_lines(cli, out)
    assert code == 1 and any("names a table, but the split has none" in line for line in lines)
    with pytest.raises(OutputError, match="names a table"):
        synthc.open(out)


def test_tables_in_the_schema_but_not_the_splits_is_a_problem_not_a_key_error(cli, table):
    _, out = table
    manifest = manifest_of(out)
    manifest["schema"]["tables"] = {"foo": []}
    rewrite(out, manifest)
    code, lines = verify_lines(cli, out)
    assert code == 1 and any(
        "splits.train.tables names [], schema.tables ['foo']" in x for x in lines
    )
    with pytest.raises(OutputError, match="schema.tables"):
        synthc.open(out)


def test_a_compressed_tar_is_unreadable_not_decompressed(cli, tmp_path):
    """synthc writes and reads uncompressed tars; a compressed one (a megabyte of xz can hold
    a million members) is refused by verify, as synthc.open refuses it, not decompressed."""
    out = api.build(write_spec(tmp_path, "fractal"), tmp_path / "out", workers=1).out
    manifest = manifest_of(out)
    shard = manifest["splits"]["val"]["shards"][0]
    path = out / shard["path"]
    path.write_bytes(gzip.compress(path.read_bytes()))
    shard["bytes"] = path.stat().st_size
    shard["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    rewrite(out, manifest)
    code, lines = verify_lines(cli, out)
    assert code == 1 and any(line.startswith(f"{shard['path']}: unreadable") for line in lines)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("images"), "fractal")[1]


@pytest.mark.parametrize("edit", TAR_EDITS)
def test_verify_reports_each_tar_member_the_reader_refuses(images, tmp_path, edit):
    """verify counted a tar's distinct keys: a member taken out of a sample, renamed or made a
    link passed while synthc.open refused it (or yielded a sample without its label). Both
    read tars through one function now, so verify's line is the reader's error."""
    out = tmp_path / "out"
    shutil.copytree(images, out)
    shard = "train/train-00001.tar"
    change, said = TAR_EDITS[edit]
    rewrite_tar(out / shard, change)
    make_manifest_match(out)  # size and sha256 are the manifest's: only the members tell
    with pytest.raises(OutputError) as refused:
        list(synthc.open(out)["train"].samples(decode=False))
    _, problems = verify_module.verify_dataset(out)
    assert [str(problem) for problem in problems] == [
        str(refused.value).replace(str(out / shard), shard)
    ]
    assert re.match(said, problems[0].message)


def test_verify_reads_each_tar_once(images, monkeypatch):
    """verify hashed a tar, then opened it again to walk its members: the walk now reads the
    bytes it hashes."""
    opened: list[str] = []
    real = verify_module.open_regular

    def counting(path, *args, **kwargs):
        opened.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(verify_module, "open_regular", counting)
    shards, problems = verify_module.verify_dataset(images)
    tars = [name for name in opened if name.endswith(".tar")]
    assert problems == [] and shards > 1
    assert sorted(tars) == sorted(set(tars)) and len(tars) == shards


def test_a_readers_panic_is_an_unreadable_shard(table, monkeypatch):
    """polars raises a Rust panic as PanicException, a BaseException: it ended verify with a
    traceback, the shards after it unchecked."""

    class PanicException(BaseException):  # as pyo3_runtime.PanicException derives
        pass

    def panic(path, *_):
        raise PanicException("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(verify_module, "count_parquet_rows", panic)
    monkeypatch.setattr(verify_module, "index_problem", panic)  # it counts a shard's rows
    _, out = table
    checked, problems = verify_module.verify_dataset(out)
    assert checked == len(problems) and checked > 1  # every shard was still checked
    assert all(p.message.startswith("unreadable: called `Option::unwrap()`") for p in problems)


def test_a_manifest_of_too_many_json_values_is_refused_before_parsing(cli, table, monkeypatch):
    """Bytes alone do not bound what parsing costs: 99 MB of empty lists took 4.9 GB. The
    values are counted first (synthc.limits.MAX_JSON_VALUES; lowered here)."""
    from synthc import limits

    _, out = table
    manifest = manifest_of(out)
    assert api.verify(out) > 0  # within the limit as built
    monkeypatch.setattr(limits, "MAX_JSON_VALUES", 5_000)
    manifest["padding"] = [[] for _ in range(6_000)]
    (out / "manifest.json").write_text(json.dumps(manifest))
    code, lines = verify_lines(cli, out)
    assert code == 1 and "JSON values, over the limit of 5,000" in lines[0]
    assert "synthc.limits.MAX_JSON_VALUES" in lines[0]


def test_names_are_printed_with_their_control_characters_escaped(cli, table):
    """A stray file's name may hold a tab or U+202E (which makes a terminal show the rest of
    the line reversed): verify prints them as escapes, on one line."""
    _, out = table
    (out / "train" / "x\tz\u202egnp.parquet").write_bytes(b"stray")
    code, lines = verify_lines(cli, out)
    assert code == 1
    assert "train/x\\tz\\u202egnp.parquet: a shard file the manifest does not list" in lines


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda f: f.rename({"x0": "y0"}), "holds the columns ['index', 'y0', "),
        (lambda f: f.with_columns(extra=1), "'label', 'extra'], the manifest's schema"),
        (lambda f: f.with_columns(f["x0"].cast(pl.String)), "column 'x0' holds String, the"),
    ],
    ids=["renamed", "extra", "retyped"],
)
def test_a_parquet_shard_of_other_columns_than_the_schema_is_a_problem(cli, table, change, words):
    """A split's shards are read as one table: a shard of other columns made polars fail
    (or read the wrong columns) in a dataset verify said was ok."""
    _, out = table
    shard = out / manifest_of(out)["splits"]["train"]["shards"][1]["path"]
    change(pl.read_parquet(shard)).write_parquet(shard)
    make_manifest_match(out)
    code, lines = verify_lines(cli, out)
    assert code == 1 and any(
        line.startswith("train/train-00001.parquet: ") and words in line for line in lines
    ), lines


def one_sample_tar(info: tarfile.TarInfo, tar_format: int) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as tar:
        tar.addfile(info, io.BytesIO(b"1"))
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("kind", ["pax header", "GNU long name", "sparse"])
def test_a_tar_header_extension_is_bounded_before_it_is_read(kind):
    """tarfile reads a header extension whole, several times over (a pax header of 200 MB took
    600 MB), before the member it names is seen: one over the bound is refused unread."""
    from synthc.outputs.webdataset import MAX_HEADER_EXTENSION_BYTES, TarLayout, read_tar_samples

    info = tarfile.TarInfo("000000000000.cls")
    info.size = 1
    tar_format = tarfile.PAX_FORMAT
    if kind == "pax header":
        info.pax_headers = {"comment": "x" * MAX_HEADER_EXTENSION_BYTES}
    elif kind == "GNU long name":
        tar_format = tarfile.GNU_FORMAT
        info.name = "0" * MAX_HEADER_EXTENSION_BYTES + ".cls"
    else:
        tar_format, info.type = tarfile.GNU_FORMAT, tarfile.GNUTYPE_SPARSE
    handle = one_sample_tar(info, tar_format)
    words = "a GNU sparse file" if kind == "sparse" else f"a {kind} of 655[0-9][0-9] bytes"
    with pytest.raises(OutputError, match=f"x.tar: unreadable as a tar .*{words}"):
        list(read_tar_samples(handle, TarLayout(0, 1, ("cls",)), "x.tar"))
    small = tarfile.TarInfo("000000000000.cls")
    small.size, small.pax_headers = 1, {"comment": "é" * 100}  # a pax header of its own size
    handle = one_sample_tar(small, tarfile.PAX_FORMAT)
    assert list(read_tar_samples(handle, TarLayout(0, 1, ("cls",)), "x.tar")) == [
        ("000000000000", {"cls": b"1"})
    ]


def test_a_parquet_shard_copied_over_another_is_named_by_its_index(cli, table):
    """A shard copied over another (the manifest's sha256 and bytes recomputed) holds that
    shard's rows: it passed verify and synthc.open(verify=True), and readers got rows 0..99
    twice, under the indices of rows 100..199 nowhere."""
    _, out = table
    shards = manifest_of(out)["splits"]["train"]["shards"]
    shutil.copyfile(out / shards[0]["path"], out / shards[1]["path"])
    make_manifest_match(out)
    words = "train/train-00001.parquet: its index runs 0..99, the manifest records 100..199"
    code, lines = verify_lines(cli, out)
    assert code == 1 and words in lines, lines
    with pytest.raises(OutputError, match=re.escape(words)):
        synthc.open(out, verify=True)["train"].lazy()


@pytest.mark.parametrize(
    "index, words",
    [
        (
            list(range(100, 150)) + list(range(151, 201)),
            "its index holds 151 at row 50, not 150 (the manifest records 100..199)",
        ),
        (
            list(range(100, 150)) + list(range(149, 199)),
            "its index holds 149 at row 50, not 150 (the manifest records 100..199)",
        ),
        (
            [None] + list(range(101, 200)),
            "its index holds 1 nulls (the manifest records 100..199)",
        ),
    ],
    ids=["gap", "duplicate", "null"],
)
def test_a_parquet_index_that_is_not_the_shards_rows_is_a_problem(cli, table, index, words):
    """Each row's index is its global sample index: a shard whose index skips one, repeats
    one or holds a null passed verify, its columns and types the schema's."""
    _, out = table
    shard = out / manifest_of(out)["splits"]["train"]["shards"][1]["path"]
    frame = pl.read_parquet(shard)
    frame.with_columns(index=pl.Series(index, dtype=pl.Int64)).write_parquet(shard)
    make_manifest_match(out)
    code, lines = verify_lines(cli, out)
    assert code == 1 and f"train/train-00001.parquet: {words}" in lines, lines
