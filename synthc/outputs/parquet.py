"""Parquet shard writer: a table of NumPy columns to one reproducible Parquet file.

The file is encoded in memory (a shard is bounded in size), hashed from that buffer, and written
atomically, so it is read back neither for hashing nor for counting. Bytes depend only on the
table, the codec settings and the polars version (which the task key records).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from synthc.outputs.atomic import write_atomic


def encode_parquet(table: Mapping[str, np.ndarray], output: Mapping[str, Any]) -> memoryview:
    """Encode ``table`` (equal-length 1-D columns, in order) as Parquet bytes (no copy)."""
    frame = pl.DataFrame(dict(table))
    compression = output.get("compression", "lz4")
    options: dict[str, Any] = {"compression": compression, "statistics": True}
    if compression == "zstd" and output.get("compression_level") is not None:
        options["compression_level"] = output["compression_level"]
    buffer = io.BytesIO()
    frame.write_parquet(buffer, **options)
    return buffer.getbuffer()


def write_parquet_shard(
    table: Mapping[str, np.ndarray], path: Path, output: Mapping[str, Any]
) -> tuple[int, str]:
    """Write ``table`` to ``path`` atomically; return ``(bytes, sha256)`` of the file."""
    data = encode_parquet(table, output)
    write_atomic(path, data)
    return len(data), hashlib.sha256(data).hexdigest()


def count_parquet_rows(path: Path) -> int:
    """Rows in a Parquet file, from its footer."""
    return int(pl.scan_parquet(path).select(pl.len()).collect().item())


def read_table_head(path: Path, rows: int) -> dict[str, np.ndarray]:
    """The first ``rows`` rows of a Parquet file as NumPy columns."""
    frame = pl.read_parquet(path, n_rows=rows)
    return {name: frame[name].to_numpy() for name in frame.columns}
