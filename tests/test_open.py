"""synthc.open: a built dataset read back as a user trains from it: LazyFrames of tables, decoded
file samples, sha256 checked as shards are read, wherever the directory was copied, and an
untrusted directory refused with one clear error."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image
from small_datasets import (
    FILE_KINDS,
    KINDS,
    TABLE_KINDS,
    TAR_EDITS,
    build,
    make_manifest_match,
    parquet_rows,
    rewrite_tar,
    shard_paths,
)
from small_datasets import tar_samples as built_samples

import synthc
from synthc import api, limits
from synthc.errors import OutputError, UsageError
from synthc.outputs.manifest import MANIFEST_FILE, content_sha256, encode_manifest, iter_shards


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("open")
    return {kind: build(root, kind) for kind in KINDS}


@pytest.fixture
def copy_of(tmp_path):
    """A copy of a built output directory, to damage freely."""

    def make(out: Path) -> Path:
        target = tmp_path / "copy"
        shutil.copytree(out, target)
        return target

    return make


@pytest.mark.parametrize("kind", KINDS)
def test_a_dataset_has_its_manifest_and_splits(datasets, kind):
    _, out = datasets[kind]
    dataset = synthc.open(out)
    assert dataset.manifest == api.load_manifest(out)
    assert list(dataset.splits) == ["train", "val"]
    assert [len(s) for s in dataset.splits.values()] == [
        split["samples"] for split in dataset.manifest["splits"].values()
    ]
    assert dataset["val"] is dataset.splits["val"]


def test_a_dataset_is_a_mapping_of_its_split_names(datasets):
    dataset = synthc.open(datasets["fractal"][1])
    assert "val" in dataset and "test" not in dataset and 0 not in dataset
    assert list(dataset) == ["train", "val"] and len(dataset) == 2


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_a_table_split_is_a_lazy_frame_of_its_parquet_rows(datasets, kind):
    _, out = datasets[kind]
    lazy = synthc.open(out)["train"].lazy()
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect().equals(parquet_rows(shard_paths(out, "train")))
    assert lazy.filter(pl.col("index") >= 220).select("index").collect()["index"].to_list() == [
        220,
        221,
        222,
        223,
        224,
    ]


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_file_samples_as_bytes_are_the_tar_members_and_the_stream(datasets, kind):
    spec, out = datasets[kind]
    read = list(synthc.open(out)["val"].samples(decode=False))
    assert read == built_samples(shard_paths(out, "val"))
    assert read == list(synthc.stream(spec, "val"))


def test_decoded_fractal_samples(datasets):
    _, out = datasets["fractal"]
    samples = list(synthc.open(out)["train"])
    assert len(samples) == 45
    for sample in samples:
        assert isinstance(sample["png"], Image.Image) and sample["png"].size == (32, 32)
        assert isinstance(sample["cls"], int) and sample["cls"] == int(sample["__key__"]) % 4
        assert sample["json"]["class"] == sample["cls"]
    arrays = synthc.open(out)["train"].samples(image="numpy")
    first = next(arrays)
    assert isinstance(first["png"], np.ndarray) and first["png"].shape == (32, 32)
    assert np.array_equal(first["png"], np.asarray(samples[0]["png"]))


def test_decoded_ocr_samples(datasets):
    _, out = datasets["ocr_text"]
    for sample in synthc.open(out)["train"].samples():
        assert isinstance(sample["txt"], str) and sample["txt"] == sample["json"]["text"]
        assert isinstance(sample["png"], Image.Image)


def test_a_copied_dataset_opens_and_verifies_where_it_now_is(datasets, copy_of):
    _, out = datasets["fractal"]
    copy = copy_of(out)
    moved = copy.parent / "moved"
    copy.rename(moved)
    dataset = synthc.open(moved, verify=True)
    assert all(str(p).startswith(str(moved)) for p in dataset["train"].paths)
    assert [s["__key__"] for s in dataset["train"]] == [f"{i:012d}" for i in range(45)]


def test_verify_passes_on_intact_shards(datasets):
    _, out = datasets["tabular"]
    assert synthc.open(out, verify=True)["val"].lazy().collect().height == 75
    _, out = datasets["ocr_text"]
    assert len(list(synthc.open(out)["val"].samples(verify=True))) == 6


def damage_a_member(shard: Path, member_name: str, new: bytes) -> None:
    """Overwrite a member's data in place (same length): the tar still reads, its hash differs."""
    with tarfile.open(shard) as tar:
        member = tar.getmember(member_name)
        assert member.size == len(new)
        offset = member.offset_data
    with open(shard, "r+b") as handle:
        handle.seek(offset)
        handle.write(new)


def test_a_damaged_tar_shard_stops_the_read_naming_it_before_the_next_shard(datasets, copy_of):
    _, out = datasets["fractal"]
    copy = copy_of(out)
    second = copy / "train" / "train-00001.tar"  # samples 20..39
    damage_a_member(second, "000000000025.cls", b"3")  # was 1 (25 % 4)
    seen = []
    with pytest.raises(OutputError, match=r"train-00001\.tar: sha256 .* does not match"):
        for sample in synthc.open(copy, verify=True)["train"].samples(decode=False):
            seen.append(int(sample["__key__"]))
    assert seen == list(range(39))  # nothing of the third shard, nor the second's last sample
    # without verify the damage is read as it is
    unverified = {s["__key__"]: s for s in synthc.open(copy)["train"]}
    assert unverified["000000000025"]["cls"] == 3


def test_a_damaged_parquet_shard_is_named_before_polars_reads_it(datasets, copy_of):
    _, out = datasets["manifold"]
    copy = copy_of(out)
    shard = copy / "train" / "train-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(OutputError, match=r"train-00001\.parquet: sha256"):
        synthc.open(copy)["train"].lazy(verify=True)
    assert synthc.open(copy)["val"].lazy(verify=True).collect().height == 75


@pytest.mark.parametrize("kind", ["manifold", "fractal"])
def test_paths_check_each_shard_once_when_verify_is_set(datasets, copy_of, monkeypatch, kind):
    # paths returned the files unchecked, though verify=True "checks each shard's sha256"
    from synthc.outputs import dataset as dataset_module

    copy = copy_of(datasets[kind][1])
    hashed: list[Path] = []
    opened = dataset_module.open_regular
    monkeypatch.setattr(
        dataset_module, "open_regular", lambda p, size=None: hashed.append(p) or opened(p, size)
    )
    split = synthc.open(copy, verify=True)["train"]
    assert split.paths == split.paths == shard_paths(copy, "train")
    assert hashed == shard_paths(copy, "train")  # once each, not at every access
    assert synthc.open(copy)["train"].paths and len(hashed) == len(split.shards)
    shard = shard_paths(copy, "train")[1]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    swapped = shard.with_name("swapped")
    swapped.write_bytes(bytes(data))
    swapped.replace(shard)  # same size, another file
    said = rf"{shard.name}: sha256 .* does not match the manifest"
    with pytest.raises(OutputError, match=said):
        synthc.open(copy, verify=True)["train"].paths  # noqa: B018 (a property that checks)
    with pytest.raises(OutputError, match="changed since it was opened"):
        split.paths  # noqa: B018 (the file changed since it was opened and checked)
    assert synthc.open(copy)["train"].paths == shard_paths(copy, "train")  # unchecked


@pytest.mark.parametrize("edit", ["cut", "swap"])
def test_a_parquet_shard_of_another_size_is_named_by_an_unverified_read(datasets, copy_of, edit):
    # polars read a cut shard with an error naming no file, and swapped shards silently
    copy = copy_of(datasets["tabular"][1])
    first, second = shard_paths(copy, "train")[:2]
    if edit == "cut":
        first.write_bytes(first.read_bytes()[:-100])
    else:
        data = first.read_bytes()
        first.write_bytes(second.read_bytes())
        second.write_bytes(data)
    assert first.stat().st_size != api.load_manifest(copy)["splits"]["train"]["shards"][0]["bytes"]
    said = rf"{first.name}: \d+ bytes, the manifest says \d+"
    with pytest.raises(OutputError, match=said):
        synthc.open(copy)["train"].lazy()
    with pytest.raises(OutputError, match=said):
        synthc.open(copy)["train"].paths  # noqa: B018 (a property that checks)


def test_a_missing_shard_is_named(datasets, copy_of):
    _, out = datasets["manifold"]
    copy = copy_of(out)
    (copy / "val" / "val-00000.parquet").unlink()
    with pytest.raises(OutputError, match=r"val-00000\.parquet: unreadable"):
        synthc.open(copy)["val"].lazy(verify=True)


def test_a_missing_tar_shard_is_named(datasets, copy_of):
    _, out = datasets["ocr_text"]
    copy = copy_of(out)
    (copy / "val" / "val-00000.tar").unlink()
    with pytest.raises(OutputError, match=r"val-00000\.tar: unreadable"):
        list(synthc.open(copy)["val"])


@pytest.mark.parametrize("cut", ["between members", "inside a header"])
def test_a_cut_short_tar_is_named_when_read_without_verify(datasets, copy_of, cut):
    """A tar cut at a member's header read as if it ended there: the split silently lost the
    shard's last samples. Now its end is checked against the manifest's count (no hashing)."""
    copy = copy_of(datasets["fractal"][1])
    shard = copy / "train" / "train-00001.tar"  # samples 20..39
    with tarfile.open(shard) as tar:
        offset = tar.getmember("000000000030.png").offset
    shard.write_bytes(shard.read_bytes()[: offset + (100 if cut == "inside a header" else 0)])
    seen = []
    with pytest.raises(OutputError, match=rf"{shard}: ends after 10 of the 20 samples"):
        for sample in synthc.open(copy)["train"].samples(decode=False):
            seen.append(sample["__key__"])
    assert seen == [f"{i:012d}" for i in range(29)]  # nothing of the next shard


@pytest.mark.parametrize("edit", TAR_EDITS)
def test_tar_members_taken_out_renamed_or_moved_are_named_when_read_without_verify(
    datasets, copy_of, edit
):
    """Samples taken out of a tar, or members renamed, went unnoticed without verify: fewer
    samples, or a sample without its label. Each member must be the next file of the sample
    the manifest's count and first sample say comes next."""
    copy = copy_of(datasets["fractal"][1])
    shard = copy / "train" / "train-00001.tar"
    change, said = TAR_EDITS[edit]
    rewrite_tar(shard, change)
    with pytest.raises(OutputError, match=rf"^{shard}: {said}"):
        list(synthc.open(copy)["train"].samples(decode=False))


def test_the_wrong_reader_for_a_split_is_a_usage_error(datasets):
    with pytest.raises(UsageError, match=r"WebDataset tars.*\.samples\(\)"):
        synthc.open(datasets["fractal"][1])["train"].lazy()
    with pytest.raises(UsageError, match=r"a table: use \.lazy\(\)"):
        next(synthc.open(datasets["tabular"][1])["train"].samples())
    with pytest.raises(UsageError, match="image must be 'pil' or 'numpy'"):
        next(synthc.open(datasets["fractal"][1])["train"].samples(image="cv2"))  # type: ignore[arg-type]


def test_an_unknown_split_is_a_usage_error_with_a_hint(datasets):
    with pytest.raises(UsageError, match="no split 'vla'.*did you mean 'val'"):
        synthc.open(datasets["fractal"][1])["vla"]


def test_a_url_given_as_a_path_is_said_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    said = r"^s3:/bucket/data: does not exist \(the URL s3://bucket/data given as a Path\? pass"
    with pytest.raises(OutputError, match=said):
        synthc.open(Path("s3://bucket/data"))


def test_a_directory_without_a_manifest_is_refused(tmp_path):
    with pytest.raises(OutputError, match="no manifest"):
        synthc.open(tmp_path)
    with pytest.raises(OutputError, match="does not exist"):
        synthc.open(tmp_path / "nothing")


def rewrite_manifest(out: Path, change) -> None:
    """Change the manifest, then make it consistent again (bytes, hashes) as an attacker would."""
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    change(manifest)
    for split in manifest["splits"].values():
        split["bytes"] = sum(s["bytes"] for s in split["shards"])
    manifest["bytes"] = sum(s["bytes"] for s in iter_shards(manifest))
    manifest["content_sha256"] = content_sha256(iter_shards(manifest))
    (out / MANIFEST_FILE).write_bytes(encode_manifest(manifest))


def test_a_shard_path_leaving_the_directory_is_refused(datasets, copy_of, tmp_path):
    copy = copy_of(datasets["tabular"][1])
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.move(copy / "val", outside / "val")
    os.symlink(outside / "val", copy / "val")  # the split folder leads out through a symlink
    said = re.escape(f"{copy / 'manifest.json'}: entry 'val/val-00000.parquet' is refused")
    with pytest.raises(OutputError, match=said):
        synthc.open(copy)


def test_a_copy_made_of_links_is_refused_saying_how_to_open_it(datasets, tmp_path):
    # the Hugging Face hub's cache keeps each file as a link to a blob outside the snapshot
    _, out = datasets["tabular"]
    links = tmp_path / "links"
    shutil.copytree(out, links, copy_function=lambda src, dst: os.symlink(Path(src).resolve(), dst))
    with pytest.raises(OutputError, match=r"manifest\.json: is a symlink;.* cp -rL\)$"):
        synthc.open(links)


def test_a_manifest_that_contradicts_itself_is_refused(datasets, copy_of):
    copy = copy_of(datasets["tabular"][1])
    manifest = json.loads((copy / MANIFEST_FILE).read_text())
    manifest["splits"]["val"]["shards"][0]["path"] = "val/../../etc/passwd.parquet"
    (copy / MANIFEST_FILE).write_bytes(encode_manifest(manifest))
    with pytest.raises(OutputError, match="manifest.json: content_sha256 does not match"):
        synthc.open(copy)

    def escape(m: dict) -> None:
        m["splits"]["val"]["shards"][0]["path"] = "val/../../x.parquet"

    rewrite_manifest(copy, escape)
    with pytest.raises(OutputError, match=r"val/\.\./\.\./x\.parquet is not in the split's folder"):
        synthc.open(copy)


def test_a_tar_member_that_is_not_a_file_is_refused(datasets, copy_of):
    copy = copy_of(datasets["ocr_text"][1])
    shard = copy / "val" / "val-00000.tar"
    with tarfile.open(shard, "w", format=tarfile.USTAR_FORMAT) as tar:
        link = tarfile.TarInfo("000000000018.png")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    size, digest = shard.stat().st_size, _sha256(shard)

    def point(m: dict) -> None:
        m["splits"]["val"]["shards"][0].update(bytes=size, sha256=digest)

    rewrite_manifest(copy, point)
    with pytest.raises(OutputError, match=r"member '000000000018\.png' is not a regular file"):
        list(synthc.open(copy, verify=True)["val"])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_image_over_the_pixel_limit_is_not_decoded(datasets, monkeypatch):
    monkeypatch.setattr(limits, "MAX_IMAGE_PIXELS", 32 * 31)
    with pytest.raises(OutputError, match=r"train-00000\.tar: 000000000000\.png: cannot decode"):
        next(iter(synthc.open(datasets["fractal"][1])["train"]))


def test_an_image_pillow_would_warn_of_is_refused_without_its_warning(datasets, monkeypatch):
    # Pillow warned on stderr (DecompressionBombWarning) before synthc's own limit refused it
    from PIL import Image

    monkeypatch.setattr(limits, "MAX_IMAGE_PIXELS", 32 * 31)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 600)  # warns over 600, refuses over 1200
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(OutputError, match=r"000000000000\.png: cannot decode: 32 x 32"):
            next(iter(synthc.open(datasets["fractal"][1])["train"]))
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_a_member_over_the_size_limit_is_not_read(datasets, monkeypatch):
    monkeypatch.setattr(limits, "MAX_SAMPLE_BYTES", 8)
    with pytest.raises(OutputError, match="MAX_SAMPLE_BYTES"):
        next(synthc.open(datasets["fractal"][1])["train"].samples(decode=False))


def test_a_member_that_is_not_what_its_extension_says_is_named(datasets, copy_of):
    copy = copy_of(datasets["fractal"][1])
    damage_a_member(copy / "val" / "val-00000.tar", "000000000045.cls", b"x")
    with pytest.raises(OutputError, match=r"000000000045\.cls: cannot decode: 'x' is not an"):
        list(synthc.open(copy)["val"])


def test_a_label_record_holding_nan_is_not_json(datasets, copy_of):
    # Python's json read it as a float nan; other readers of the same tar refuse it
    copy = copy_of(datasets["fractal"][1])
    shard = copy / "val" / "val-00000.tar"
    with tarfile.open(shard) as tar:
        label = tar.extractfile("000000000045.json").read()  # type: ignore[union-attr]
    number = label.split(b"[[[", 1)[1].split(b",", 1)[0]
    damage_a_member(shard, "000000000045.json", label.replace(number, b"NaN".ljust(len(number))))
    with pytest.raises(OutputError, match=r"000000000045\.json: cannot decode: the constant NaN"):
        list(synthc.open(copy)["val"])


def test_a_label_record_of_too_many_values_is_refused_before_parsing(
    datasets, copy_of, monkeypatch
):
    """A label record may be up to MAX_SAMPLE_BYTES: 30 MB of '[],' took 840 MB to parse, so
    its values are counted first, as a manifest's are (the limit lowered here)."""
    copy = copy_of(datasets["fractal"][1])
    shard = copy / "val" / "val-00000.tar"
    with tarfile.open(shard) as tar:
        size = tar.getmember("000000000045.json").size
    damage_a_member(shard, "000000000045.json", (b"[" + b"[]," * size)[: size - 1] + b"]")
    manifest = (copy / MANIFEST_FILE).read_bytes()  # within the limit: its values
    monkeypatch.setattr(limits, "MAX_JSON_VALUES", sum(map(manifest.count, (b",", b"[", b"{"))))
    assert size * 2 // 3 > limits.MAX_JSON_VALUES  # the record's are not
    opened = synthc.open(copy)
    with pytest.raises(OutputError, match=r"000000000045\.json: cannot decode: about [\d,]+ JSON"):
        list(opened["val"])


def test_an_empty_split_is_an_empty_frame_with_the_schema(write_spec, tmp_path):
    spec = write_spec(
        "synthc: 1\nname: empty\nseed: 1\nsamples: 50\nsplits: {train: 50, test: 0}\n"
        "generator: {kind: manifold, shape: swiss_roll}\n"
    )
    out = api.build(spec, tmp_path / "out", workers=1).out
    frame = synthc.open(out)["test"].lazy().collect()
    assert frame.height == 0 and frame.columns[:2] == ["index", "x0"]
    assert frame.schema["index"] == pl.Int64 and frame.schema["x0"] == pl.Float64


def test_an_empty_split_has_the_dtypes_of_the_built_shards(write_spec, tmp_path):
    # an enum column was Null in the empty split, Enum in the others; float32 was Null too
    spec = write_spec(
        "synthc: 1\nname: empty\nseed: 1\nsamples: 50\nsplits: {train: 50, test: 0}\n"
        "generator:\n  kind: tabular\n  columns:\n"
        "    region: {dist: categorical, values: [north, south]}\n"
        "    w: {dist: uniform, low: 0, high: 1, dtype: float32}\n"
    )
    dataset = synthc.open(api.build(spec, tmp_path / "out", workers=1).out)
    built = dataset["train"].lazy().collect_schema()
    assert dataset["test"].lazy().collect_schema() == built
    assert built["region"] == pl.Enum(["north", "south"]) and built["w"] == pl.Float32


def test_a_dataset_opened_by_a_relative_path_reads_from_another_directory(
    datasets, tmp_path, monkeypatch
):
    # a DataLoader worker may start elsewhere: the pickled dataset named out/... from there
    out = datasets["manifold"][1]
    monkeypatch.chdir(out.parent)
    dataset = synthc.open(out.name)
    monkeypatch.chdir(tmp_path)
    assert dataset["train"].lazy().collect().height == len(dataset["train"])


def test_open_is_in_the_api_too(datasets):
    assert isinstance(api.open_dataset(datasets["fractal"][1]), api.Dataset)


# -- shards that are not regular files, or far larger than the manifest says -------------------

_SPECIAL_READS = """
import sys
import synthc
from synthc.errors import OutputError

tars, tables = sys.argv[1:]
reads = [
    lambda: synthc.open(tars, verify=True)["train"].paths,
    lambda: next(iter(synthc.open(tars, verify=True)["train"])),
    lambda: list(synthc.open(tars)["train"].samples()),
    lambda: synthc.open(tars)["train"].paths,
    lambda: synthc.open(tables)["train"].lazy().collect(),
    lambda: synthc.open(tables, verify=True)["train"].lazy(),
]
for read in reads:
    try:
        read()
        print("read")
    except OutputError as error:
        print(error)
"""


def test_a_shard_that_is_a_fifo_or_a_device_is_named_not_read(datasets, tmp_path):
    # reading a FIFO shard waited for a writer for ever; a device was read without end: run
    # in a process of its own, so that a regression fails instead of hanging the suite
    tars, tables = tmp_path / "tars", tmp_path / "tables"
    shutil.copytree(datasets["fractal"][1], tars)
    shutil.copytree(datasets["manifold"][1], tables)
    fifo, device = tars / "train" / "train-00000.tar", tables / "train" / "train-00000.parquet"
    fifo.unlink()
    os.mkfifo(fifo)
    device.unlink()
    try:  # /dev/zero's numbers, where the system lets us make a device node
        os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(1, 5))
        kind = "a character device"
    except OSError:
        os.mkfifo(device)
        kind = "a FIFO"
    script = [sys.executable, "-c", _SPECIAL_READS, str(tars), str(tables)]
    result = subprocess.run(script, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 6
    assert (
        lines
        == [f"{fifo}: is not a regular file (a FIFO)"] * 4
        + [f"{device}: is not a regular file ({kind})"] * 2
    )


def test_a_shard_far_larger_than_the_manifest_says_is_refused_before_hashing(
    datasets, copy_of, monkeypatch, tmp_path
):
    from synthc.outputs import dataset as dataset_module

    monkeypatch.setattr(dataset_module, "handle_sha256", lambda handle: pytest.fail("hashed"))
    tables = copy_of(datasets["manifold"][1]).rename(tmp_path / "tables")
    shard = tables / "train" / "train-00000.parquet"
    os.truncate(shard, 50 << 30)  # sparse: hashing it took minutes
    with pytest.raises(OutputError, match=rf"{shard}: {50 << 30} bytes, the manifest says \d+"):
        synthc.open(tables, verify=True)["train"].lazy()
    tars = copy_of(datasets["fractal"][1])
    shard = tars / "train" / "train-00001.tar"
    os.truncate(shard, 50 << 30)
    keys = []
    with pytest.raises(OutputError, match=rf"{shard}: {50 << 30} bytes, the manifest says \d+"):
        for sample in synthc.open(tars, verify=True)["train"].samples(decode=False):
            keys.append(int(sample["__key__"]))
    assert keys == list(range(20))  # nothing of the shard: its size is checked as it is opened


def test_a_broken_png_is_an_output_error_not_pils_syntax_error(datasets, copy_of):
    copy = copy_of(datasets["fractal"][1])
    shard = copy / "val" / "val-00000.tar"
    with tarfile.open(shard) as tar:
        png = bytearray(tar.extractfile("000000000045.png").read())  # type: ignore[union-attr]
    damage_a_member(shard, "000000000045.png", _broken_png(bytes(png)))
    with pytest.raises(OutputError, match=r"val-00000\.tar: 000000000045\.png: cannot decode"):
        list(synthc.open(copy)["val"])


def _broken_png(png: bytes) -> bytes:
    """``png`` with the first chunk after IHDR (its image data) said to be half as long: PIL
    then reads the next chunk's header from the compressed data and, loading the image,
    raises SyntaxError ("broken PNG file"), not the OSError or ValueError synthc caught."""
    (length,) = struct.unpack(">I", png[33:37])
    return png[:33] + struct.pack(">I", length // 2) + png[37:]


def test_a_parquet_shard_of_other_columns_is_named_by_a_verified_read(datasets, copy_of):
    """A manifest recording the sha256 of a shard of other columns passed lazy(verify=True),
    and polars failed when the frame was collected (SchemaError, naming no synthc check)."""
    _, out = datasets["manifold"]
    copy = copy_of(out)
    shard = copy / "train" / "train-00001.parquet"
    pl.read_parquet(shard).rename({"x0": "y0"}).write_parquet(shard)
    make_manifest_match(copy)
    with pytest.raises(
        OutputError, match=r"train-00001\.parquet: holds the columns \['index', 'y0'"
    ):
        synthc.open(copy, verify=True)["train"].lazy()


def test_an_empty_splits_schema_from_a_shard_that_is_no_parquet_is_an_output_error(
    write_spec, tmp_path
):
    # polars' ComputeError left lazy() itself
    spec = write_spec(
        "synthc: 1\nname: empty\nseed: 1\nsamples: 50\nsplits: {train: 50, test: 0}\n"
        "generator: {kind: manifold, shape: swiss_roll}\n"
    )
    out = api.build(spec, tmp_path / "out", workers=1).out
    shard = out / "train" / "train-00000.parquet"
    shard.write_bytes(b"PAR1" + b"x" * (shard.stat().st_size - 8) + b"PAR1")  # its size
    with pytest.raises(OutputError, match=r"train-00000\.parquet: unreadable: "):
        synthc.open(out)["test"].lazy()


def test_a_missing_split_lists_at_most_twenty_names(tmp_path):
    """A dataset may have many splits (a forged manifest, a million): the message names the
    first twenty and counts the rest."""
    names = [f"s{k:02d}" for k in range(25)]
    spec = tmp_path / "many.yaml"
    spec.write_text(
        "synthc: 1\nname: many\nseed: 1\nsamples: 100\n"
        f"splits: {{{', '.join(f'{n}: 0.04' for n in names)}}}\n"
        "generator: {kind: manifold, shape: moons}\n"
    )
    api.build(spec, tmp_path / "out", workers=1)
    with pytest.raises(synthc.errors.UsageError) as caught:
        synthc.open(tmp_path / "out")["nope"]
    message = str(caught.value)
    assert message.endswith(f"no split 'nope'; it has {', '.join(names[:20])} and 5 more")
    assert "s20" not in message


def test_a_frame_read_after_a_rebuild_says_the_dataset_changed(write_spec, tmp_path):
    # polars reads the shards when the frame is collected: after a rebuild removed or replaced
    # them it raised its own "No such file or directory"
    text = (
        "synthc: 1\nname: re\nseed: 1\nsamples: {n}\n"
        "generator: {{kind: manifold, shape: swiss_roll}}\n"
    )
    spec = write_spec(text.format(n=40) + "output: {shard_size: 20}\n")
    out = api.build(spec, tmp_path / "out", workers=1).out
    frame = synthc.open(out)["train"].lazy()
    derived = frame.select("x0").filter(pl.col("x0") > -100)
    assert frame.collect().height == 40
    spec.write_text(text.format(n=20) + "output: {shard_size: 20}\n")  # one shard, another
    api.build(spec, out, workers=1)
    for lazy in (frame, derived):
        with pytest.raises(OutputError, match="changed since it was opened") as error:
            lazy.collect()
        assert str(out) in str(error.value) and "open it again with synthc.open" in str(error)
    assert synthc.open(out)["train"].lazy().collect().height == 20
    again = pickle.loads(pickle.dumps(synthc.open(out)["train"].lazy()))
    assert type(again) is pl.LazyFrame and again.collect().height == 20


def test_samples_and_paths_read_after_a_rebuild_say_the_dataset_changed(tmp_path):
    # a tar shard the rebuild removed was "unreadable (No such file or directory)", and paths
    # named files that no longer exist
    text = (
        "synthc: 1\nname: fr\nseed: 3\ngenerator:\n  kind: fractal\n  classes: 2\n"
        "  instances: {i}\n  render: {{size: 16, points: 500, mode: binary}}\n"
        "output: {{shard_size: 10}}\n"
    )
    spec = tmp_path / "f.yaml"
    spec.write_text(text.format(i=10))
    out = api.build(spec, tmp_path / "out", workers=1).out
    split = synthc.open(out)["train"]
    spec.write_text(text.format(i=5))
    api.build(spec, out, workers=1)
    for read in (lambda: list(split.samples(decode=False)), lambda: split.paths):
        with pytest.raises(OutputError, match="changed since it was opened") as error:
            read()
        assert "open it again with synthc.open" in str(error.value)
    # opened again, it reads the new build
    assert len(list(synthc.open(out)["train"].samples(decode=False))) == 10
