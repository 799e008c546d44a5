"""A dataset opened from an object store read the ways training reads it: in forked and spawned
worker processes (PyTorch's DataLoader forks on Linux), against a real S3 API server on loopback
(moto's server mode, tests/conftest.py)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import s3fs
from small_datasets import write_spec as write_small_spec
from store_servers import in_child

import synthc
from synthc import api
from synthc.errors import OutputError
from synthc.outputs.dataset import Dataset
from synthc.outputs.store import S3FS_RETRIES


def _read(opened: tuple[Dataset, Dataset]) -> dict[str, Any]:
    """What a worker reads of an opened fractal and table dataset: the tar samples, the Parquet
    shards' bytes, and how often s3fs tries each call (synthc bounds it, docs/storage.md)."""
    images, table = opened
    store = images["train"].shards[0].store
    return {
        "samples": list(images["train"].samples(decode=False)),
        "paths": [path.read_bytes() for path in table["train"].paths],
        "retries": store.fs.retries if store is not None else None,
    }


@pytest.fixture
def opened(bucket: str, tmp_path: Path) -> tuple[Dataset, Dataset]:
    """A fractal (tars) and a table (Parquet) dataset built to the store and opened there."""
    for kind in ("fractal", "tabular"):
        api.build(write_small_spec(tmp_path, kind), f"s3://{bucket}/{kind}", workers=1)
    images = synthc.open(f"s3://{bucket}/fractal", verify=True)
    return images, synthc.open(f"s3://{bucket}/tabular")


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_an_opened_store_dataset_is_read_in_worker_processes(opened, method):
    # a forked child raised "cannot stat: This class is not fork-safe" (the s3fs instance was
    # bound to the parent's event loop); a spawned one lost synthc's bound on s3fs's retries
    got = in_child(method, _read, opened)  # the parent read the manifests through its store
    assert got == _read(opened)
    assert len(got["samples"]) == 45 and got["paths"] and got["retries"] == S3FS_RETRIES


def _paths_once(table: Dataset) -> list[bytes]:
    return [path.read_bytes() for path in table["train"].paths]


def test_concurrent_readers_fetch_each_shard_once_and_whole(bucket, tmp_path, monkeypatch):
    # every caller downloaded to the same <name>.partial and renamed it: 5 of 6 threads failed
    # with "No such file or directory: '...parquet.partial'", and one could cut another's short
    from synthc.outputs.store import Store

    api.build(write_small_spec(tmp_path, "tabular"), f"s3://{bucket}/table", workers=1)
    table = synthc.open(f"s3://{bucket}/table")
    fetches = tmp_path / "fetches"  # one line per download, by this process and its children
    download = Store.download

    def counted(self: Store, name: str, local: Path, size: int | None = None) -> None:
        with open(fetches, "a") as log:
            log.write(f"{name}\n")
        time.sleep(0.2)  # a slow store: the other readers come while it downloads
        download(self, name, local, size)

    monkeypatch.setattr(Store, "download", counted)
    threads = 6
    start = threading.Barrier(threads)
    found: list[Any] = []

    def read() -> None:
        start.wait()
        try:
            found.append(_paths_once(table))
        except Exception as error:  # noqa: BLE001 - failed below
            found.append(error)

    readers = [threading.Thread(target=read) for _ in range(threads)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    want = [s3fs.S3FileSystem().cat_file(f"{bucket}/table/{s.name}") for s in table["train"].shards]
    assert found == [want] * threads
    names = [shard.name for shard in table["train"].shards]
    assert fetches.read_text().splitlines() == names  # each shard once
    # forked workers share the parent's cache: each shard is fetched by one of them
    second = synthc.open(f"s3://{bucket}/table")
    fetches.unlink()
    with multiprocessing.get_context("fork").Pool(3) as pool:
        assert pool.map(_paths_once, [second] * 6) == [want] * 6
    assert sorted(fetches.read_text().splitlines()) == sorted(names)
    folder = second["train"].shards[0].path.parent
    assert not [path for path in folder.iterdir() if path.name.endswith(".partial")]


def test_paths_of_a_verified_store_dataset_check_each_shard_once(bucket, tmp_path, monkeypatch):
    # paths fetched the shards and returned them unchecked, as lazy() never did
    from synthc.outputs import dataset as dataset_module

    url = f"s3://{bucket}/checked"
    api.build(write_small_spec(tmp_path, "tabular"), url, workers=1)
    hashed: list[Path] = []
    opened = dataset_module.open_regular
    monkeypatch.setattr(
        dataset_module, "open_regular", lambda p, size=None: hashed.append(p) or opened(p, size)
    )
    split = synthc.open(url, verify=True)["train"]
    assert split.paths == split.paths and hashed == split.paths  # once each
    shard = split.shards[1].name
    fs = s3fs.S3FileSystem()
    data = bytearray(fs.cat_file(f"{bucket}/checked/{shard}"))
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    fs.pipe_file(f"{bucket}/checked/{shard}", bytes(data))
    said = rf"{url}/{shard}: sha256 .* does not match the manifest"
    with pytest.raises(OutputError, match=said):
        synthc.open(url, verify=True)["train"].paths  # noqa: B018 (a property that checks)
    with pytest.raises(OutputError, match=said):  # the message lazy() gives
        synthc.open(url, verify=True)["train"].lazy()
