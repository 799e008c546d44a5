"""A dataset opened from an object store read the ways training reads it: in forked and spawned
worker processes (PyTorch's DataLoader forks on Linux), against a real S3 API server on loopback
(moto's server mode, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from small_datasets import write_spec as write_small_spec
from store_servers import in_child

import synthc
from synthc import api
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
