"""The LazyFrame ``Split.lazy()`` returns: a polars LazyFrame that, when polars fails reading
it, says whether the dataset was rebuilt since it was opened.

polars reads the shards when the frame is collected, which may be long after ``synthc.open``:
a rebuild in between removes or replaces shards, and polars said only "No such file or
directory" (or read a replaced shard's new rows). The frame remembers each shard's size,
modification time and inode as ``lazy()`` found them; only when polars raises does it look
again, so reading costs nothing more. Frames derived from it (``select``, ``filter``, ...) keep
the shards; a pickled one is a plain LazyFrame. Imported on first ``lazy()`` (it imports
polars).
"""

from __future__ import annotations

import copyreg
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from synthc.errors import OutputError
from synthc.outputs.file_signature import Signature, file_signature

#: a shard as ``lazy()`` found it: what to name it, its file, and (size, mtime_ns, inode)
Seen = tuple[str, Path, Signature]


def changed(root: str, shards: Sequence[Seen]) -> OutputError | None:
    """The error to raise when a shard is not as ``lazy()`` found it, else None."""
    for where, path, seen in shards:
        now = file_signature(path)
        if now == seen:
            continue
        what = "is gone" if now is None else "was replaced"
        return OutputError(
            f"{root}: the dataset changed since it was opened ({where} {what}, a rebuild?); "
            "open it again with synthc.open and read it from the new frame"
        )
    return None


def _checked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(self: OpenedFrame, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - polars' errors: told apart below
            problem = changed(self._synthc_root, self._synthc_shards)
            if problem is not None:
                raise problem from error
            raise

    return run


class OpenedFrame(pl.LazyFrame):
    """A LazyFrame over an opened dataset's shards (see the module doc)."""

    _synthc_root: str = ""
    _synthc_shards: Sequence[Seen] = ()

    def _from_pyldf(self, ldf: Any) -> Any:  # type: ignore[override]
        # polars builds every derived frame with self._from_pyldf: it keeps the shards
        frame = OpenedFrame.__new__(OpenedFrame)
        frame._ldf = ldf
        frame._synthc_root, frame._synthc_shards = self._synthc_root, self._synthc_shards
        return frame

    def __reduce_ex__(self, protocol: Any) -> Any:
        # unpickled as a plain LazyFrame: where synthc is not installed too
        rebuild = copyreg._reconstructor  # type: ignore[attr-defined]
        return (rebuild, (pl.LazyFrame, object, None), self.__getstate__())

    collect = _checked(pl.LazyFrame.collect)
    collect_schema = _checked(pl.LazyFrame.collect_schema)
    sink_parquet = _checked(pl.LazyFrame.sink_parquet)
    sink_ipc = _checked(pl.LazyFrame.sink_ipc)
    sink_csv = _checked(pl.LazyFrame.sink_csv)
    sink_ndjson = _checked(pl.LazyFrame.sink_ndjson)


def opened_frame(frame: pl.LazyFrame, root: str, shards: Sequence[Seen]) -> pl.LazyFrame:
    """``frame`` as an :class:`OpenedFrame` of ``shards`` of the dataset at ``root``."""
    opened = OpenedFrame.__new__(OpenedFrame)
    opened._ldf = frame._ldf
    opened._synthc_root, opened._synthc_shards = root, shards
    return opened
