"""The LazyFrame ``Split.lazy()`` returns: polars' scan of the split's Parquet shards behind an
IO source (``polars.io.plugins.register_io_source``, public API) that makes sure they are the
files ``synthc.open`` found.

polars reads the shards when a frame is collected, which may be long after ``synthc.open``: a
rebuild in between removes or replaces shards, and polars said only "No such file or
directory", or read a replaced shard's rows with the others. The source compares each shard's
size, modification time and inode with those ``synthc.open`` found before polars reads any
shard, again when the last row is read, and when polars fails: a shard that changed raises
OutputError instead of giving rows. The check is in the frame's plan, so every frame made of it
(``select``, ``group_by``, a join, ``pl.collect_all``, the streaming engine, sinks) and a pickled
copy keep it; polars still pushes projections, filters and ``head`` down into the Parquet scan.
Imported on first ``lazy()`` (it imports polars).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from synthc.errors import OutputError, UsageError
from synthc.outputs.file_signature import Signature, changed_since_opened, file_signature

#: a shard as ``synthc.open`` found it: what to name it, its file, and (size, mtime_ns, inode)
Seen = tuple[str, Path, Signature | None]


class ShardScan:
    """The IO source of an opened split's frame: its shards' rows, read by polars, in order,
    only while every shard is the file ``synthc.open`` found (it pickles)."""

    def __init__(self, root: str, paths: Sequence[str], shards: Sequence[Seen]) -> None:
        self.root = root
        self.paths = list(paths)
        self.shards = list(shards)

    def check(self) -> None:
        """OutputError naming the first shard that is not as ``synthc.open`` found it."""
        for where, path, seen in self.shards:
            now = file_signature(path)
            if now != seen:
                raise changed_since_opened(self.root, where, seen, now)

    def __call__(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        self.check()
        frame = _query(self.paths, with_columns, predicate, n_rows)
        batches = getattr(frame, "collect_batches", None)
        try:
            if batches is None:  # a polars without it: the rows at once
                yield frame.collect()
            else:
                yield from batches(chunk_size=batch_size)
        except Exception as error:  # polars' errors: a shard that changed meanwhile is named
            self.check()
            unreadable = self._unreadable(with_columns, predicate)
            if unreadable is not None:  # else the query's own error (a filter's strict cast)
                raise unreadable from error
            raise
        self.check()  # a shard rewritten while polars read it

    def _unreadable(
        self, with_columns: list[str] | None, predicate: pl.Expr | None
    ) -> OutputError | None:
        """The error naming the first shard polars fails to read alone, the columns the frame
        reads of it but unfiltered (polars' own error for a damaged or missing file of many
        names none, or cuts its path); None if each reads, when the query itself failed."""
        columns = None
        if with_columns is not None:
            needed = predicate.meta.root_names() if predicate is not None else []
            columns = list(dict.fromkeys([*with_columns, *needed]))
        for (where, _, _), path in zip(self.shards, self.paths, strict=True):
            try:
                _query([path], columns, None, None).collect()
            except Exception as error:  # noqa: BLE001 - polars' errors, worded here
                text = str(error).strip().splitlines()
                return OutputError(
                    f"{where}: unreadable: {text[0] if text else type(error).__name__} (a "
                    "damaged shard? synthc verify checks the whole dataset)"
                )
        return None


def _query(
    paths: list[str], with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None
) -> pl.LazyFrame:
    """The scan of ``paths`` with what polars pushed down into the IO source."""
    frame = pl.scan_parquet(paths, glob=False)
    if with_columns is not None:
        frame = frame.select(with_columns)
    if predicate is not None:
        frame = frame.filter(predicate)
    return frame if n_rows is None else frame.head(n_rows)


def opened_frame(
    root: str, paths: Sequence[str], shards: Sequence[Seen], schema: dict[str, Any]
) -> pl.LazyFrame:
    """A LazyFrame of the Parquet files ``paths`` (``shards`` as ``synthc.open`` found them) of
    the dataset at ``root``, of the columns ``schema`` (the first shard's, as polars reads a
    list of files); UsageError if this polars has no IO sources."""
    try:
        from polars.io.plugins import register_io_source
    except ImportError:
        raise UsageError(
            f"synthc.open(...).lazy() needs polars.io.plugins.register_io_source, which polars "
            f"{pl.__version__} lacks: install a newer polars (pip install -U polars)"
        ) from None
    scan = ShardScan(root, paths, shards)
    return register_io_source(scan, schema=pl.Schema(schema))
