"""Verify a built dataset against its manifest: every shard present, hash and count match."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from synthc.outputs.manifest import iter_shards, read_manifest
from synthc.outputs.parquet import count_parquet_rows
from synthc.outputs.webdataset import count_tar_samples

_CHUNK = 1 << 22


@dataclass(frozen=True)
class ShardProblem:
    """A shard that is missing or does not match the manifest."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_dataset(out: Path) -> tuple[int, list[ShardProblem]]:
    """Check every shard of the dataset in ``out``; return (shards checked, problems)."""
    manifest = read_manifest(out)
    problems: list[ShardProblem] = []
    shards = iter_shards(manifest)
    for shard in shards:
        path = out / shard["path"]
        if not path.is_file():
            problems.append(ShardProblem(shard["path"], "missing"))
            continue
        size = path.stat().st_size
        if size != shard["bytes"]:
            problems.append(
                ShardProblem(shard["path"], f"{size} bytes, manifest says {shard['bytes']}")
            )
            continue
        digest = file_sha256(path)
        if digest != shard["sha256"]:
            problems.append(
                ShardProblem(shard["path"], f"sha256 {digest[:16]}… does not match the manifest")
            )
            continue
        try:
            count = count_tar_samples if path.suffix == ".tar" else count_parquet_rows
            rows = count(path)
        except Exception as error:  # noqa: BLE001 - any reader failure means a bad shard
            problems.append(ShardProblem(shard["path"], f"unreadable: {error}"))
            continue
        if rows != shard["samples"]:
            problems.append(
                ShardProblem(shard["path"], f"{rows} samples, manifest says {shard['samples']}")
            )
    return len(shards), problems
