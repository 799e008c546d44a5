"""What a generator hands the shard writers, checked as it is written against what its
``columns(config)`` declares (the manifest's schema), so a shard never holds other than the
manifest says: a generator's slip (a plugin's, most likely) fails its shard's build, where it
would otherwise build a dataset whose manifest lies and that ``synthc.open`` and ``verify``
refuse later.

Files per sample: the keys, files and count :func:`~synthc.outputs.webdataset.read_tar_samples`
reads back. Tables: the declared columns, in order, each of the declared type, which must be
one synthc writes (:data:`~synthc.outputs.parquet.TABLE_DTYPES`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from synthc import limits
from synthc.errors import counted
from synthc.generators.base import INDEX_NAME, Column
from synthc.outputs.parquet import TABLE_DTYPES, polars_type
from synthc.outputs.webdataset import Sample, TarLayout, sample_key

if TYPE_CHECKING:
    import polars as pl


class GeneratorSlip(ValueError):
    """A generator's output is not what it declares (the shard's build fails with it)."""


def checked_samples(samples: Iterable[Sample], layout: TarLayout, kind: str) -> Iterator[Sample]:
    """``samples`` as they pass, each checked to be sample ``layout.first + n`` under its key,
    with exactly ``layout.files`` (in any order), bytes of at most MAX_SAMPLE_BYTES each, and
    ``layout.samples`` of them in all; GeneratorSlip naming the generator ``kind`` otherwise."""
    for name in layout.files:  # a member is <key>.<ext>, the key up to the first dot
        if not isinstance(name, str) or not name or "/" in name:
            raise GeneratorSlip(
                f"generator {kind!r} declares a file {name!r:.80} in its columns(); a file's "
                "name is its extension in the tar (png, cls, json): non-empty, without '/'"
            )
    made = 0
    for key, files in samples:
        if made >= layout.samples:
            raise GeneratorSlip(
                f"generator {kind!r} made more than the {counted(layout.samples, 'sample')} "
                "asked of it"
            )
        expected = sample_key(layout.first + made)
        if key != expected:
            raise GeneratorSlip(
                f"generator {kind!r} keyed sample {layout.first + made} {key!r:.80}; "
                f"a tar's keys are the sample index in 12 digits ({expected})"
            )
        if not isinstance(files, dict) or set(files) != set(layout.files):
            got = sorted(map(str, files)) if isinstance(files, dict) else type(files).__name__
            raise GeneratorSlip(
                f"generator {kind!r} made sample {key} with files {got!s:.200}; its columns() "
                f"declare {sorted(layout.files)}"
            )
        for ext, data in files.items():
            if not isinstance(data, bytes):
                raise GeneratorSlip(
                    f"generator {kind!r} made {key}.{ext} a {type(data).__name__}, not bytes"
                )
            if len(data) > limits.MAX_SAMPLE_BYTES:
                raise GeneratorSlip(
                    f"generator {kind!r} made {key}.{ext} of {len(data)} bytes, over the limit "
                    f"of {limits.MAX_SAMPLE_BYTES} (synthc.limits.MAX_SAMPLE_BYTES) a reader takes"
                )
        made += 1
        yield key, files
    if made != layout.samples:
        raise GeneratorSlip(
            f"generator {kind!r} made {made} of the {counted(layout.samples, 'sample')} asked of it"
        )


def checked_stats(stats: object, kind: str) -> dict[str, int]:
    """A file generator's ``Samples.stats`` as the manifest records them: text names to counts
    from 0 below 2**63 (NumPy integers become ints); GeneratorSlip naming ``kind`` otherwise."""
    if not isinstance(stats, dict):
        raise GeneratorSlip(
            f"generator {kind!r} made Samples.stats a {type(stats).__name__}; stats map names "
            "to counts"
        )
    counted = {}
    for name, count in stats.items():
        number = count if isinstance(count, int) else getattr(count, "__index__", None)
        if callable(number):
            number = number()
        if (
            not isinstance(name, str)
            or isinstance(count, bool)
            or not isinstance(number, int)
            or not 0 <= number < 2**63
        ):
            raise GeneratorSlip(
                f"generator {kind!r} counted {name!r:.40}: {count!r:.40} in its Samples.stats; "
                "stats map names to whole counts from 0 below 2**63"
            )
        counted[name] = number
    return counted


def check_frame(frame: pl.DataFrame, columns: Sequence[Column], kind: str) -> None:
    """GeneratorSlip unless ``frame`` has exactly ``columns``, in order, each of its declared
    type, one of :data:`~synthc.outputs.parquet.TABLE_DTYPES`."""
    declared = [column.name for column in columns]
    seen: set[str] = set()
    for name in declared:
        if name in seen:
            itself = (
                ", the column synthc writes itself (each row's global sample index)"
                if name == INDEX_NAME
                else " twice"
            )
            raise GeneratorSlip(
                f"generator {kind!r} declares column {name!r:.80}{itself} in its columns(); "
                "give each column its own name"
            )
        seen.add(name)
    if frame.columns != declared:
        extra = [name for name in frame.columns if name not in declared]
        missing = [name for name in declared if name not in frame.columns]
        said = (
            f"columns {extra!s:.200} its columns() do not declare"
            if extra
            else f"no column {missing!s:.200}"
            if missing
            else f"its columns in the order {frame.columns!s:.200}"
        )
        raise GeneratorSlip(f"generator {kind!r} made {said}; declared: {declared!s:.200}")
    schema = frame.schema  # once: polars builds it anew on each access
    for column in columns:
        actual = schema[column.name]
        wanted = polars_type(column.dtype)
        if wanted is None:  # the manifest and the card would name a type the shard lacks
            raise GeneratorSlip(
                f"generator {kind!r} declares column {column.name!r} of dtype "
                f"{column.dtype!r:.80} in its columns(), which synthc does not write; declare "
                f"one of {', '.join(TABLE_DTYPES)} (it made {actual})"
            )
        if not _is(actual, wanted):
            raise GeneratorSlip(
                f"generator {kind!r} made column {column.name!r} of type {actual}; its "
                f"columns() declare {column.dtype}"
            )


def _is(actual: object, wanted: object) -> bool:
    """``actual`` is the type ``wanted`` (any categories for an Enum)."""
    import polars as pl

    if wanted is pl.Enum:
        return isinstance(actual, pl.Enum)
    return bool(actual == wanted)
