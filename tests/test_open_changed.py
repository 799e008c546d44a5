"""An opened dataset whose shard is replaced after ``synthc.open`` (a rebuild, a copy over it)
raises OutputError on every read path rather than reading the new file's rows with the others:
``lazy()`` and the frames made of it, ``samples()`` (and iterating a split), ``paths``."""

from __future__ import annotations

import os
import pickle
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import polars.io.plugins
import pytest

import synthc
from synthc import api
from synthc.errors import OutputError, UsageError
from synthc.outputs import dataset, opened_frame

TABLE = """\
synthc: 1
name: rep
seed: {seed}
samples: 40
generator: {{kind: manifold, shape: swiss_roll}}
output: {{shard_size: 20, compression: uncompressed}}
"""
FILES = """\
synthc: 1
name: fr
seed: {seed}
generator:
  kind: fractal
  classes: 2
  instances: 10
  render: {{size: 16, points: 500, mode: binary}}
output: {{shard_size: 10}}
"""


def _two_builds(tmp_path: Path, text: str) -> tuple[Path, Path]:
    """The same spec built with two seeds: shards of the same names (and, uncompressed
    Parquet, the same sizes) and other content."""
    outs = []
    for seed in (1, 2):
        spec = tmp_path / f"s{seed}.yaml"
        spec.write_text(text.format(seed=seed))
        outs.append(api.build(spec, tmp_path / f"out{seed}", workers=1).out)
    return outs[0], outs[1]


def _in_place(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)  # the same inode, rewritten


def _renamed(source: Path, target: Path) -> None:
    shutil.copyfile(source, target.with_name("new"))
    os.replace(target.with_name("new"), target)  # as a rebuild puts a shard in place


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _two_builds(tmp_path_factory.mktemp("tables"), TABLE)


@pytest.fixture(scope="module")
def tars(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _two_builds(tmp_path_factory.mktemp("tars"), FILES)


def _copy(out: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(out, target)
    return target


@pytest.mark.parametrize("replace", [_in_place, _renamed])
@pytest.mark.parametrize("when", ["before lazy", "before collect"])
def test_a_parquet_shard_replaced_after_open_is_refused(tables, tmp_path, replace, when):
    # same name, same size, other rows: polars read them with the other shard's, silently
    out, other = _copy(tables[0], tmp_path), tables[1]
    shard = Path("train/train-00001.parquet")
    assert (out / shard).stat().st_size == (other / shard).stat().st_size
    split = synthc.open(out)["train"]
    if when == "before lazy":
        replace(other / shard, out / shard)
        with pytest.raises(OutputError, match="changed since it was opened") as error:
            split.lazy().collect()
    else:
        frame = split.lazy()
        replace(other / shard, out / shard)
        with pytest.raises(OutputError, match="changed since it was opened") as error:
            frame.collect()
    assert str(out / shard) in str(error.value) and "open it again" in str(error.value)
    # opened again, it reads the file now there
    assert synthc.open(out)["train"].lazy().collect().height == 40


@pytest.mark.parametrize(
    "read",
    [
        lambda frame, plain: frame.select("x0").filter(pl.col("x0") > -100).collect(),
        lambda frame, plain: frame.group_by("index").len().collect(),
        lambda frame, plain: frame.join(plain, on="index").collect(),
        lambda frame, plain: pl.collect_all([frame])[0],
        lambda frame, plain: frame.collect(engine="streaming"),
    ],
    ids=["select", "group_by", "join", "collect_all", "streaming"],
)
def test_every_frame_made_of_a_changed_split_is_refused(tables, tmp_path, read):
    out, other = _copy(tables[0], tmp_path), tables[1]
    shard = Path("train/train-00000.parquet")
    frame = synthc.open(out)["train"].lazy()
    plain = pl.scan_parquet(other / shard)
    _renamed(other / shard, out / shard)
    with pytest.raises(OutputError, match="changed since it was opened"):
        read(frame, plain)


def test_paths_of_a_shard_replaced_after_open_are_refused(tables, tmp_path):
    out, other = _copy(tables[0], tmp_path), tables[1]
    shard = Path("train/train-00000.parquet")
    split = synthc.open(out)["train"]
    _renamed(other / shard, out / shard)
    with pytest.raises(OutputError, match="changed since it was opened"):
        split.paths  # noqa: B018


READS: dict[str, Callable[[dataset.Split], object]] = {
    "samples": lambda split: list(split.samples(decode=False)),
    "decoded": lambda split: list(split.samples()),
    "iterated": lambda split: list(split),
    "verified": lambda split: list(split.samples(verify=True)),
}


@pytest.mark.parametrize("replace", [_in_place, _renamed])
@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_a_tar_shard_replaced_after_open_is_refused(tars, tmp_path, replace, read):
    # the same keys in the other seed's tar: its samples were yielded as this dataset's
    out, other = _copy(tars[0], tmp_path), tars[1]
    shard = Path("train/train-00001.tar")
    split = synthc.open(out)["train"]
    replace(other / shard, out / shard)
    with pytest.raises(OutputError, match="changed since it was opened") as error:
        read(split)
    assert str(out / shard) in str(error.value)


def test_a_tar_shard_rewritten_while_it_is_read_is_refused(tars, tmp_path):
    out, other = _copy(tars[0], tmp_path), tars[1]
    shard = Path("train/train-00000.tar")
    samples = synthc.open(out)["train"].samples(decode=False)
    first = next(samples)
    assert first["__key__"] == "000000000000"
    _in_place(other / shard, out / shard)
    with pytest.raises(OutputError, match="changed since it was opened"):
        list(samples)


def test_a_pickled_frame_keeps_the_check(tables, tmp_path):
    # a DataLoader worker gets the frame pickled: it read a replaced shard's rows
    out, other = _copy(tables[0], tmp_path), tables[1]
    frame = pickle.loads(pickle.dumps(synthc.open(out)["train"].lazy()))
    assert type(frame) is pl.LazyFrame and frame.collect().height == 40
    _renamed(other / "train/train-00000.parquet", out / "train/train-00000.parquet")
    with pytest.raises(OutputError, match="changed since it was opened"):
        frame.collect()


def test_frames_use_no_private_polars_api():
    # opened_frame.py subclassed LazyFrame through polars' private _from_pyldf and _ldf, which
    # any polars release may rename: derived frames would have lost the check, or failed
    source = Path(opened_frame.__file__).read_text() + Path(dataset.__file__).read_text()
    assert not re.findall(r"\b_from_py\w+|\._ldf\b|\._df\b", source)


def test_a_polars_without_io_sources_is_a_clear_error(tables, monkeypatch):
    monkeypatch.delattr(polars.io.plugins, "register_io_source")
    with pytest.raises(UsageError, match=r"lazy\(\) needs polars.io.plugins.register_io_source"):
        synthc.open(tables[0])["train"].lazy()


def test_a_polars_without_collect_batches_reads_the_rows_at_once(tables, monkeypatch):
    expected = synthc.open(tables[0])["train"].lazy().collect()
    monkeypatch.delattr(pl.LazyFrame, "collect_batches")
    frame = synthc.open(tables[0])["train"].lazy()
    assert frame.collect().equals(expected)
    assert frame.filter(pl.col("index") >= 30).select("index").collect()["index"].to_list() == (
        list(range(30, 40))
    )


def test_a_rebuild_while_the_dataset_is_opened_is_refused(tables, tmp_path, monkeypatch):
    # a rebuild between reading the manifest and noting the shards: the new shards were taken
    # for the old manifest's, and read as its rows without a word
    out, other = _copy(tables[0], tmp_path), tables[1]
    read = dataset.read_manifest

    def rebuilt_meanwhile(root: Path) -> dict:
        manifest = read(root)
        (out / "manifest.json").unlink()  # as a build retracts it first
        _renamed(other / "train/train-00000.parquet", out / "train/train-00000.parquet")
        shutil.copyfile(other / "manifest.json", out / "manifest.json")
        return manifest

    monkeypatch.setattr(dataset, "read_manifest", rebuilt_meanwhile)
    with pytest.raises(OutputError, match="rewritten or removed while the dataset was opened"):
        synthc.open(out)


def _damage(path: Path) -> None:
    """Flip bytes of column x0's page header: polars fails reading it ("Invalid thrift")."""
    data = bytearray(path.read_bytes())
    for at in range(300, 340):
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("edit", ["damaged", "gone"])
def test_a_shard_polars_cannot_read_is_named(tables, tmp_path, edit):
    # polars said "parquet: File out of specification: Invalid thrift: bad data", naming no
    # file of the split's, and a shard missing when the dataset was opened was polars' own
    # FileNotFoundError
    out = _copy(tables[0], tmp_path)
    shard = out / "train/train-00001.parquet"
    _damage(shard) if edit == "damaged" else shard.unlink()
    frame = synthc.open(out)["train"].lazy()
    for read in (frame.collect, frame.select("x0").collect, frame.tail(3).collect):
        with pytest.raises(OutputError, match=rf"^{re.escape(str(shard))}: unreadable: ") as error:
            read()
        assert "synthc verify" in str(error.value)
    assert frame.head(3).collect().height == 3  # the first shard alone is read as before


@pytest.mark.parametrize("key", [["train"], slice(0, 1), {"train": 1}, 0])
def test_a_split_that_is_not_a_name_is_a_usage_error(tables, key):
    # dataset[["train"]] and dataset[0:1] raised dict's "unhashable type" TypeError
    opened = synthc.open(tables[0])
    with pytest.raises(UsageError, match=r"no split .*; it has train"):
        opened[key]
    assert key not in opened


def test_a_first_shard_gone_is_named_too(tables, tmp_path):
    # polars asks the first shard for the frame's schema when the frame is collected: its
    # error came wrapped, "ComputeError: schema callable failed: ...", and one missing at
    # open was polars' FileNotFoundError
    out = _copy(tables[0], tmp_path)
    shard = out / "train/train-00000.parquet"
    frame = synthc.open(out)["train"].lazy()
    shard.unlink()
    for read in (frame.collect, frame.select("x0").collect):
        with pytest.raises(OutputError, match="changed since it was opened .* is gone"):
            read()
    assert frame.collect_schema().names()[:2] == ["index", "x0"]  # read by lazy()
    with pytest.raises(OutputError, match=rf"^{re.escape(str(shard))}: unreadable: "):
        synthc.open(out)["train"].lazy().collect()


@pytest.mark.parametrize("link", [os.symlink, os.link], ids=["symlink", "hard link"])
def test_a_shard_that_is_another_shards_file_is_refused(tables, tmp_path, link):
    # uncompressed shards of one size: without verify, polars read shard 0's rows twice
    out = _copy(tables[0], tmp_path)
    shard = out / "train/train-00001.parquet"
    shard.unlink()
    link(out / "train/train-00000.parquet", shard)
    with pytest.raises(OutputError, match=rf"^{re.escape(str(shard))}: is the file .*train-00000"):
        synthc.open(out)


def test_a_failing_filter_is_not_named_a_damaged_shard(tables):
    # the frame read each shard alone with the filter, which failed there too: the query's own
    # error was reported as "SHARD: unreadable: ... (a damaged shard?)"
    frame = synthc.open(tables[0])["train"].lazy()
    failing = pl.col("x0").cast(pl.String).str.to_integer() > 0
    with pytest.raises(pl.exceptions.ComputeError, match="strict integer parsing failed"):
        frame.filter(failing).collect()
    with pytest.raises(pl.exceptions.ComputeError, match="strict integer parsing failed"):
        frame.filter(failing).select("x1").collect()
