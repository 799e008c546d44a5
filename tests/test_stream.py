"""synthc.stream: the built samples, byte for byte, made on the fly; split over ranks and
DataLoader workers so each sample comes once per epoch; fresh epochs of new samples."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import webdataset as wds
from small_datasets import FILE_KINDS, KINDS, TABLE_KINDS, build, parquet_rows, shard_paths
from small_datasets import tar_samples as built_samples

import synthc
from synthc import api, limits
from synthc.compiler.compiling import compile_spec
from synthc.errors import UsageError
from synthc.streaming import FILE_BLOCK, Share, Stream


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("stream")
    return {kind: build(root, kind) for kind in KINDS}


def keys(items: list) -> list[int]:
    """The sample indices of what a stream yielded (file samples or blocks of rows)."""
    if items and isinstance(items[0], pl.DataFrame):
        return [i for frame in items for i in frame["index"].to_list()]
    return [int(item["__key__"]) for item in items]


@pytest.mark.parametrize("kind", FILE_KINDS)
@pytest.mark.parametrize("split", ["train", "val"])
def test_file_samples_equal_the_built_tar_members(datasets, kind, split):
    spec, out = datasets[kind]
    streamed = list(synthc.stream(spec, split))
    assert streamed == built_samples(shard_paths(out, split))
    assert all(
        isinstance(value, bytes) for s in streamed for k, value in s.items() if k != "__key__"
    )


def test_file_samples_equal_what_the_webdataset_library_reads(datasets):
    spec, out = datasets["fractal"]
    urls = [str(p) for p in shard_paths(out, "train")]
    read = [
        {k: v for k, v in sample.items() if k not in ("__url__", "__local_path__")}
        for sample in wds.WebDataset(urls, shardshuffle=False)
    ]
    assert list(synthc.stream(spec)) == read


@pytest.mark.parametrize("kind", TABLE_KINDS)
@pytest.mark.parametrize("split", ["train", "val"])
def test_table_blocks_equal_the_built_parquet_rows(datasets, kind, split):
    spec, out = datasets[kind]
    frames = list(synthc.stream(spec, split, block_size=64))
    built = parquet_rows(shard_paths(out, split))
    assert all(len(frame) <= 64 for frame in frames) and len(frames) > 1
    streamed = pl.concat(frames)
    assert streamed.schema == built.schema  # dtypes, enum categories, the index column
    assert streamed.equals(built)  # nulls where the build has them
    if kind == "tabular":
        assert streamed["age"].null_count() > 0


def test_the_default_block_of_rows_is_one_frame_for_a_small_split(datasets):
    spec, _ = datasets["tabular"]
    frames = list(synthc.stream(spec))
    assert [len(f) for f in frames] == [225]


# -- ranks and workers --------------------------------------------------------------------


@pytest.mark.parametrize("world_size, num_workers", [(1, 1), (2, 1), (1, 3), (2, 3), (4, 2)])
def test_ranks_and_workers_together_see_every_sample_once(datasets, world_size, num_workers):
    spec, out = datasets["tabular"]
    seen: list[int] = []
    for rank in range(world_size):
        for worker in range(num_workers):
            part = synthc.stream(
                spec,
                rank=rank,
                world_size=world_size,
                worker=worker,
                num_workers=num_workers,
                block_size=10,
            )
            mine = keys(list(part))
            # the documented order: block b to rank b % world_size, a rank's j-th block to
            # its worker j % num_workers
            assert mine == [
                i
                for i in range(225)
                if (i // 10) % world_size == rank
                and (i // 10) // world_size % num_workers == worker
            ]
            seen += mine
    assert sorted(seen) == list(range(225))


def test_file_samples_split_over_workers_are_the_built_ones(datasets):
    spec, out = datasets["fractal"]
    built = {s["__key__"]: s for s in built_samples(shard_paths(out, "train"))}
    seen = []
    for worker in range(3):
        for sample in synthc.stream(spec, worker=worker, num_workers=3, block_size=4):
            assert sample == built[sample["__key__"]]
            seen.append(sample["__key__"])
    assert sorted(seen) == sorted(built) and len(seen) == len(built)


def test_a_small_split_is_cut_so_every_participant_gets_samples(datasets):
    spec, _ = datasets["fractal"]  # 45 training samples, default block 256
    parts = [synthc.stream(spec, worker=w, num_workers=4).blocks() for w in range(4)]
    assert all(parts)
    assert sorted(i for blocks in parts for block in blocks for i in block) == list(range(45))


def blocks_of(stream: Stream, num_workers: int) -> list[list[list[range]]]:
    """Every participant's blocks, ``[rank][worker]``, of a stream's world size."""
    world = stream.world_size
    count = world * num_workers
    return [
        [stream.blocks(Share(rank * num_workers + worker, count)) for worker in range(num_workers)]
        for rank in range(world)
    ]


@pytest.fixture(scope="module")
def small_config(datasets):
    return compile_spec(datasets["manifold"][0]).spec


def split_of(config, samples: int, world_size: int, block_size: int | None) -> Stream:
    """A stream of a split of ``samples`` samples (nothing is generated: only blocks() is read)."""
    return Stream(
        kind=config.generator.kind,
        config=config.generator,
        seed=config.seed,
        samples=samples,
        shard_size=FILE_BLOCK,
        split="train",
        split_range=(0, samples),
        read_roots={},
        rank=0,
        world_size=world_size,
        block_size=block_size,
    )


def test_every_dealing_covers_the_split_once_and_keeps_ranks_within_one_block(small_config):
    for samples in (*range(0, 41), 63, 64, 65, 255, 257, 1000):
        for world in range(1, 6):
            for block_size in (None, 1, 3, 10):
                blocks = -(-samples // (block_size or 1))
                if (block_size is None and 0 < samples < world) or 0 < blocks < world:
                    with pytest.raises(
                        UsageError, match="some ranks would get no samples|get none"
                    ):
                        split_of(small_config, samples, world, block_size)
                    continue
                stream = split_of(small_config, samples, world, block_size)
                for workers in range(1, 5):
                    parts = blocks_of(stream, workers)
                    length = stream.used_block_size(Share(0, world * workers))
                    assert length == block_size or block_size is None
                    every = [i for rank in parts for worker in rank for b in worker for i in b]
                    assert sorted(every) == list(range(samples))  # once each
                    for rank in parts:
                        for worker in rank:
                            flat = [i for b in worker for i in b]
                            assert flat == sorted(flat)
                            assert all(0 < len(b) <= length for b in worker)
                    per_rank = [sum(len(b) for w in rank for b in w) for rank in parts]
                    assert max(per_rank) - min(per_rank) <= length
                    if samples:
                        assert all(per_rank)  # no rank without samples, so DDP cannot hang
                    for rank in parts:
                        per_worker = [sum(map(len, w)) for w in rank]
                        assert max(per_worker) - min(per_worker) <= length
                    if block_size is None and samples >= world * workers:
                        assert all(w for rank in parts for w in rank)


@pytest.mark.parametrize(
    "samples, world, workers, block_size, counts",
    [
        (40, 8, 4, None, [5] * 8),  # was [8, 8, 8, 8, 8, 0, 0, 0]
        (9000, 2, 4, 256, [4608, 4392]),  # was [4904, 4096]: more than 3 blocks apart
    ],
)
def test_ranks_get_samples_within_one_block_of_each_other(
    write_spec, samples, world, workers, block_size, counts
):
    spec = write_spec(
        f"synthc: 1\nname: s\nseed: 1\nsamples: {samples}\n"
        "generator: {kind: manifold, shape: swiss_roll}\n"
    )
    got = [
        sum(
            len(block)
            for worker in range(workers)
            for block in synthc.stream(
                spec,
                rank=rank,
                world_size=world,
                worker=worker,
                num_workers=workers,
                block_size=block_size,
            ).blocks()
        )
        for rank in range(world)
    ]
    assert got == counts


def test_a_split_smaller_than_the_world_is_refused_and_idle_workers_are_fine(write_spec):
    spec = write_spec(
        "synthc: 1\nname: s\nseed: 1\nsamples: 5\ngenerator: {kind: manifold, shape: moons}\n"
    )
    with pytest.raises(UsageError, match="5 samples, fewer than world_size 8.*world_size=1"):
        synthc.stream(spec, rank=0, world_size=8)
    streams = [synthc.stream(spec, rank=r, world_size=2) for r in range(2)]
    parts = [[s.blocks(Share(r * 4 + w, 8)) for w in range(4)] for r, s in enumerate(streams)]
    assert [[sum(map(len, w)) for w in rank] for rank in parts] == [[1, 1, 1, 0], [1, 1, 0, 0]]


def test_an_explicit_block_size_is_used_exactly(write_spec):
    spec = write_spec(
        "synthc: 1\nname: s\nseed: 1\nsamples: 30\ngenerator: {kind: manifold, shape: moons}\n"
    )
    stream = synthc.stream(spec, rank=1, world_size=3, block_size=10)
    assert stream.block_size == stream.used_block_size() == 10
    assert stream.blocks() == [range(10, 20)]
    with pytest.raises(UsageError, match=r"into 3 block\(s\), fewer than world_size 4.*<= 9"):
        synthc.stream(spec, rank=0, world_size=4, block_size=10)
    # without block_size, 30 samples over 4 ranks: blocks of 7, every rank one or two
    four = [synthc.stream(spec, rank=r, world_size=4) for r in range(4)]
    assert [s.used_block_size() for s in four] == [7] * 4
    assert [sum(map(len, s.blocks())) for s in four] == [9, 7, 7, 7]


def test_a_block_too_large_for_memory_is_refused_or_made_smaller(write_spec, monkeypatch):
    spec = write_spec(
        "synthc: 1\nname: s\nseed: 1\nsamples: 20000\n"
        "generator: {kind: manifold, shape: swiss_roll}\noutput: {shard_size: 1000}\n"
    )
    compiled = compile_spec(spec)
    # 10 numbers a row, 8 bytes each, held 3 times over: 2,000 rows fit
    monkeypatch.setattr(limits, "MAX_BATCH_BYTES", 2000 * 10 * 8 * 3)
    assert Stream.of(compiled).block_size == 2000  # the default 8,192 rows would not fit
    assert Stream.of(compiled, block_size=2000).block_size == 2000
    with pytest.raises(UsageError, match=r"MAX_BATCH_BYTES\); use block_size <= 2,000$"):
        Stream.of(compiled, block_size=10**9)


def test_numpy_integers_are_integers(datasets):
    spec, _ = datasets["manifold"]
    stream = synthc.stream(
        spec,
        rank=np.int64(1),
        world_size=np.int64(2),
        worker=np.int32(0),
        num_workers=np.uint8(2),
        block_size=np.int64(16),
        fresh_epoch=np.int64(1),
    )
    assert (stream.rank, stream.world_size, stream.block_size, stream.fresh_epoch) == (
        1,
        2,
        16,
        1,
    )
    assert type(stream.rank) is int and stream.share() == Share(2, 4)


def test_rank_and_world_size_come_from_the_environment(datasets, monkeypatch):
    spec, _ = datasets["manifold"]
    seen: list[int] = []
    monkeypatch.setenv("WORLD_SIZE", "3")
    for rank in range(3):
        monkeypatch.setenv("RANK", str(rank))
        part = synthc.stream(spec, block_size=16)
        assert (part.rank, part.world_size) == (rank, 3)
        seen += keys(list(part))
    assert sorted(seen) == list(range(225))


@pytest.mark.parametrize(
    "env, kwargs, message",
    [
        ({"WORLD_SIZE": "two"}, {}, "WORLD_SIZE='two' is not an integer"),
        ({"RANK": "3", "WORLD_SIZE": "2"}, {}, "rank 3 is outside [0, 2)"),
        ({}, {"rank": -1}, "rank must be an integer >= 0"),
        ({}, {"world_size": 0}, "world_size must be an integer >= 1"),
        ({}, {"worker": 1}, "give worker and num_workers together"),
        ({}, {"worker": 2, "num_workers": 2}, "worker 2 is outside [0, 2)"),
        ({}, {"block_size": 0}, "block_size must be an integer >= 1"),
        ({}, {"fresh_epoch": -1}, "fresh_epoch must be an integer >= 0"),
        ({}, {"fresh_epoch": True}, "fresh_epoch must be an integer >= 0"),
        ({}, {"world_size": 2.0}, "world_size must be an integer >= 1; 2.0 is not an integer"),
        ({}, {"rank": "1"}, "rank must be an integer >= 0; '1' is not an integer"),
        ({}, {"block_size": np.True_}, "is not an integer"),
    ],
)
def test_bad_shares_are_usage_errors(datasets, monkeypatch, env, kwargs, message):
    spec, _ = datasets["manifold"]
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(UsageError) as caught:
        synthc.stream(spec, **kwargs)
    assert message in str(caught.value)


def test_an_unknown_split_is_a_usage_error_with_a_hint(datasets):
    spec, _ = datasets["manifold"]
    with pytest.raises(UsageError, match="no split 'trian'.*did you mean 'train'"):
        synthc.stream(spec, "trian")


def fake_torch(worker: int | None, workers: int) -> types.ModuleType:
    """A module shaped like torch as far as DataLoader's worker info goes."""
    info = None if worker is None else types.SimpleNamespace(id=worker, num_workers=workers)
    torch = types.ModuleType("torch")
    torch.utils = types.SimpleNamespace(  # type: ignore[attr-defined]
        data=types.SimpleNamespace(get_worker_info=lambda: info)
    )
    return torch


def test_a_dataloader_worker_takes_its_share_from_torch(datasets, monkeypatch):
    spec, _ = datasets["tabular"]
    monkeypatch.delitem(sys.modules, "torch.utils.data", raising=False)
    stream = synthc.stream(spec, block_size=8)
    seen: list[int] = []
    for worker in range(3):
        monkeypatch.setitem(sys.modules, "torch", fake_torch(worker, 3))
        assert stream.share() == Share(worker, 3)
        seen += keys(list(stream))
    assert sorted(seen) == list(range(225))
    monkeypatch.setitem(sys.modules, "torch", fake_torch(None, 0))  # the main process
    assert stream.share() == Share(0, 1)
    assert keys(list(stream)) == list(range(225))


def test_workers_of_every_rank_share_by_rank_times_workers(datasets, monkeypatch):
    spec, _ = datasets["manifold"]
    monkeypatch.setitem(sys.modules, "torch", fake_torch(1, 2))
    stream = synthc.stream(spec, rank=2, world_size=3)
    assert stream.share() == Share(2 * 2 + 1, 6)


def test_without_torch_imported_it_is_one_worker_and_torch_stays_unimported(datasets):
    code = (
        "import sys, synthc; s = synthc.stream(sys.argv[1]); "
        "print(s.share(), 'torch' in sys.modules)"
    )
    spec, _ = datasets["manifold"]
    result = subprocess.run(
        [sys.executable, "-c", code, str(spec)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "Share(index=0, count=1) False"


def test_a_stream_pickles_for_worker_processes(datasets):
    spec, _ = datasets["ocr_text"]
    stream = synthc.stream(spec, "val", fresh_epoch=2)
    copy = pickle.loads(pickle.dumps(stream))
    assert list(copy) == list(stream)


def test_import_synthc_stays_light():
    code = (
        "import sys, synthc; heavy = {'polars', 'numba', 'synthc.streaming', "
        "'synthc.outputs.dataset'} & set(sys.modules); print(sorted(heavy)); "
        "print(synthc.stream.__module__, synthc.open.__module__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.splitlines() == ["[]", "synthc.streaming synthc.outputs.dataset"]


def test_an_unknown_attribute_of_synthc_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = synthc.nothing  # type: ignore[attr-defined]


# -- fresh epochs ----------------------------------------------------------------------------


def test_fresh_fractal_epochs_are_new_instances_of_the_same_classes(datasets):
    spec, out = datasets["fractal"]
    built = built_samples(shard_paths(out, "train"))
    fresh = list(synthc.stream(spec, fresh_epoch=1))
    again = list(synthc.stream(spec, fresh_epoch=1))
    assert fresh == again  # deterministic
    assert [int(s["__key__"]) for s in fresh] == list(range(60, 60 + 45))  # 1 * samples on
    for new, old in zip(fresh, built, strict=True):
        assert new["cls"] == old["cls"] == str(int(new["__key__"]) % 4).encode()
        assert new["png"] != old["png"]
    labels = [api_json(s) for s in fresh]
    assert [label["index"] for label in labels] == list(range(60, 105))
    assert all(label["class"] == label["index"] % 4 for label in labels)


def api_json(sample: dict) -> dict:
    return json.loads(sample["json"])


@pytest.mark.parametrize("kind", KINDS)
def test_fresh_epochs_are_disjoint_from_each_other_and_from_every_split(datasets, kind):
    spec, _ = datasets[kind]
    samples = api.load_manifest(datasets[kind][1])["samples"]
    seen: dict[tuple[int, str], set[int]] = {}
    for epoch in (0, 1, 3):
        for split in ("train", "val"):
            seen[(epoch, split)] = set(keys(list(synthc.stream(spec, split, fresh_epoch=epoch))))
    everything = [i for indices in seen.values() for i in indices]
    assert len(everything) == len(set(everything)) == 3 * samples
    assert seen[(3, "val")] == {3 * samples + i for i in seen[(0, "val")]}


@pytest.mark.parametrize("kind", TABLE_KINDS + ("ocr_text",))
def test_fresh_epochs_are_deterministic_and_new(datasets, kind):
    spec, _ = datasets[kind]
    first = list(synthc.stream(spec, "val", fresh_epoch=2))
    again = list(synthc.stream(spec, "val", fresh_epoch=2))
    if kind == "ocr_text":
        assert first == again
    else:
        assert pl.concat(first).equals(pl.concat(again))
    built = list(synthc.stream(spec, "val"))
    if kind == "ocr_text":
        assert [s["txt"] for s in first] != [s["txt"] for s in built]
        assert all(api_json(s)["text"].encode() == s["txt"] for s in first)
    else:
        x = "x0" if kind == "manifold" else "visits"
        assert pl.concat(first)[x].to_list() != pl.concat(built)[x].to_list()


def test_a_sequence_column_continues_in_fresh_epochs(datasets):
    spec, _ = datasets["tabular"]
    frame = pl.concat(list(synthc.stream(spec, "val", fresh_epoch=1)))
    assert frame["id"].to_list() == [1000 + 3 * i for i in frame["index"].to_list()]
    assert frame["index"].to_list() == list(range(300 + 225, 600))


def test_set_epoch_changes_what_later_iterations_yield(datasets):
    spec, _ = datasets["manifold"]
    stream = synthc.stream(spec, "val")
    stream.set_epoch(4)
    assert keys(list(stream)) == list(range(4 * 300 + 225, 5 * 300))
    assert stream.indices == range(1425, 1500)
    stream.set_epoch(None)
    assert keys(list(stream))[0] == 225


def test_a_fresh_epoch_whose_values_overflow_is_refused(write_spec):
    spec = write_spec(
        "synthc: 1\nname: big\nseed: 1\nsamples: 100\ngenerator:\n  kind: tabular\n"
        "  columns:\n    n: {dist: sequence, start: 0, step: 40000000000000000}\n"
    )
    assert len(pl.concat(list(synthc.stream(spec)))) == 100  # the built range fits in int64
    with pytest.raises(UsageError, match=r"fresh_epoch=2: indices up to 300: generator\.columns"):
        synthc.stream(spec, fresh_epoch=2)


def test_a_fresh_epoch_past_the_sample_limit_is_refused(datasets):
    spec, _ = datasets["manifold"]
    with pytest.raises(UsageError, match="MAX_SAMPLES"):
        synthc.stream(spec, fresh_epoch=10**10)


def test_a_generator_that_does_not_continue_has_no_fresh_epochs(datasets, monkeypatch):
    spec, _ = datasets["manifold"]
    stream = synthc.stream(spec)
    monkeypatch.setattr(type(stream.generator), "continues", False)
    with pytest.raises(UsageError, match="no fresh epochs"):
        stream.set_epoch(1)
    stream.set_epoch(0)  # the built samples are always there


# -- batches, not samples -------------------------------------------------------------------


def test_tables_are_generated_one_call_per_block(datasets, monkeypatch):
    spec, _ = datasets["tabular"]
    stream = synthc.stream(spec, block_size=100)
    generator = stream.generator
    calls: list[tuple[int, int]] = []
    original = type(generator).generate

    def counting(self, config, seed, start, stop):
        calls.append((start, stop))
        return original(self, config, seed, start, stop)

    monkeypatch.setattr(type(generator), "generate", counting)
    list(stream)
    assert calls == [(0, 100), (100, 200), (200, 225)]


def test_stream_is_in_the_api_too(datasets):
    spec, _ = datasets["manifold"]
    assert isinstance(api.stream(spec), Stream)


def test_a_stream_runs_in_a_fresh_process_that_finds_the_spec_s_files(tmp_path):
    """As in a DataLoader worker started with spawn: only the pickle crosses over."""
    from synthc.generators.ocr.resources import trdg_root

    font = next((trdg_root() / "fonts" / "latin").glob("*.ttf"))
    (tmp_path / "fonts").mkdir()
    shutil.copy(font, tmp_path / "fonts" / "mine.ttf")
    spec = tmp_path / "ocr.yaml"
    spec.write_text(
        "synthc: 1\nname: o\nseed: 2\nsamples: 6\ngenerator:\n  kind: ocr_text\n"
        "  text: {source: dict, language: en, words: [1, 2]}\n"
        "  fonts: {paths: [fonts/mine.ttf]}\n  size: 24\n"
    )
    stream = synthc.stream(spec, worker=1, num_workers=2, block_size=2)
    code = "import pickle, sys; print([s['txt'].decode() for s in pickle.load(sys.stdin.buffer)])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps(stream),
        capture_output=True,
        cwd=tmp_path.parent,
        check=True,
    )
    assert result.stdout.decode().strip() == str([s["txt"].decode() for s in stream])
    assert [s["__key__"] for s in stream] == ["000000000002", "000000000003"]
