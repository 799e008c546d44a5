"""Parquet shard writer: a table of columns to one reproducible Parquet file.

polars encodes straight into the shard's temporary file (writing to a Python buffer would hold
the GIL and serialise threaded workers); the file is then hashed from the page cache and renamed
into place. Bytes depend only on the table, the codec settings and the polars version (which the
task key records).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from synthc.atomic import write_atomic_by
from synthc.errors import counted
from synthc.generators.base import INDEX_NAME


def for_polars(path: str | os.PathLike[str]) -> str:
    """A local file's path as polars must be given it: absolute. polars reads a relative
    ``file:out/x.parquet`` (an output directory named ``file:out``) as a URL, ``/out/x.parquet``.
    Readers pass ``glob=False`` too: ``out[1]/`` or ``o?t/`` is a folder's name, not a pattern."""
    return os.path.abspath(path)


#: the dtypes a table column may declare (a generator's ``columns(config)``), each written
#: as the polars type :func:`polars_type` gives
TABLE_DTYPES = (
    "float64",
    "float32",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint64",
    "uint32",
    "uint16",
    "uint8",
    "bool",
    "string",
    "enum",
    "date",
    "datetime[us]",
)


def polars_type(dtype: str) -> Any:
    """The polars type a column of manifest ``dtype`` is written as (``pl.Enum`` for ``enum``,
    whatever its categories); None for a dtype synthc does not write."""
    import polars as pl

    known = {
        "float64": pl.Float64,
        "float32": pl.Float32,
        "int64": pl.Int64,
        "int32": pl.Int32,
        "int16": pl.Int16,
        "int8": pl.Int8,
        "uint64": pl.UInt64,
        "uint32": pl.UInt32,
        "uint16": pl.UInt16,
        "uint8": pl.UInt8,
        "bool": pl.Boolean,
        "string": pl.String,
        "enum": pl.Enum,
        "date": pl.Date,
        "datetime[us]": pl.Datetime("us"),
    }
    return known.get(dtype)


def parquet_options(output: Mapping[str, Any]) -> dict[str, Any]:
    """polars ``write_parquet`` options for the spec's ``output`` settings."""
    compression = output.get("compression", "lz4")
    options: dict[str, Any] = {"compression": compression, "statistics": True}
    if compression == "zstd" and output.get("compression_level") is not None:
        options["compression_level"] = output["compression_level"]
    return options


def write_parquet_shard(
    table: Mapping[str, Any],
    path: Path,
    output: Mapping[str, Any],
    check: Callable[[Any], None] | None = None,
) -> tuple[int, str]:
    """Write ``table`` (equal-length 1-D NumPy arrays or polars Series, in order) to ``path``
    atomically; return ``(bytes, sha256)`` of the file. ``check``: called with the table as a
    polars DataFrame before anything is written (it raises to stop the write)."""
    import polars as pl

    frame = pl.DataFrame(dict(table))
    if check is not None:
        check(frame)
    options = parquet_options(output)
    return write_atomic_by(path, lambda tmp: frame.write_parquet(for_polars(tmp), **options))


def count_parquet_rows(path: Path) -> int:
    """Rows in a Parquet file, from its footer."""
    import polars as pl

    return int(pl.scan_parquet(for_polars(path), glob=False).select(pl.len()).collect().item())


def footer_schema(path: Path) -> dict[str, Any]:
    """The columns and polars types of the Parquet file ``path``, from its footer (not
    ``pl.read_parquet_schema``, which reads a path as a glob pattern: ``out[1]/`` matched
    ``out1/``, ``o?t/`` the first of ``oat/`` and itself)."""
    import polars as pl

    return dict(pl.scan_parquet(for_polars(path), glob=False).collect_schema())


def column_problem(path: Path, columns: list[dict[str, Any]]) -> str | None:
    """How the columns of the Parquet file ``path`` (from its footer) differ from a manifest's
    ``columns`` (each a name and a dtype): their names in order, and the type of each column
    whose dtype synthc writes; None when they agree. polars reads the shards of a split as
    one table, so a shard of other columns fails the reader that trusted its manifest."""
    import polars as pl

    found = footer_schema(path)
    names = [column["name"] for column in columns]
    if list(found) != names:
        return f"holds the columns {list(found)!r:.300}, the manifest's schema {names!r:.300}"
    for column in columns:
        expected = polars_type(column["dtype"])
        held = found[column["name"]]
        same = isinstance(held, pl.Enum) if expected is pl.Enum else held == expected
        if expected is not None and not same:
            return (
                f"column {column['name']!r:.80} holds {held}, the manifest says {column['dtype']}"
            )
    return None


def index_problem(path: Path, first: int, samples: int) -> str | None:
    """How the ``index`` column of the Parquet file ``path`` (only that column is read) differs
    from the rows ``first .. first + samples - 1`` its manifest entry records (as many, int64,
    no nulls; with related tables the row's index in its table); None when it holds them. A
    shard copied over another, its sha256 recomputed, holds that shard's rows: readers would
    get them under the wrong indices, or twice."""
    import numpy as np
    import polars as pl

    column = pl.scan_parquet(for_polars(path), glob=False).select(INDEX_NAME).collect().to_series()
    records = f"the manifest records {_run(first, first + samples - 1)}"
    if len(column) != samples:
        return f"{counted(len(column), 'sample')}, manifest says {samples}"
    if column.dtype != pl.Int64:
        return f"its index column holds {column.dtype}, not int64 ({records})"
    if column.null_count():
        return f"its index holds {column.null_count()} nulls ({records})"
    if samples == 0:
        return None
    held = column.to_numpy()
    steps = np.diff(held)  # compared as Python ints below: a forged range may pass int64's
    runs = bool((steps == 1).all()) and int(held[-1]) - int(held[0]) == samples - 1
    start = int(held[0])
    if runs and start == first:
        return None
    if runs:
        return f"its index runs {_run(start, start + samples - 1)}, {records}"
    row = 0 if start != first else int(np.argmax(steps != 1)) + 1
    return f"its index holds {int(held[row])} at row {row}, not {first + row} ({records})"


def _run(first: int, last: int) -> str:
    return f"{first}..{last}"
