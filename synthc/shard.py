"""Build one shard: generate its samples and write them. The unit of work every executor runs.

In: a task as plain data (``ShardTask.to_json()``) and the output directory. Out: the shard's
record as plain data. Executors know nothing of generators or writers; this module binds them.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from synthc import cancellation, generators, inputs
from synthc.compiler.planning import ShardTask
from synthc.generator_output import check_frame, checked_samples, checked_stats
from synthc.generators.base import INDEX_NAME, Column, FileGenerator, Table, TableGenerator
from synthc.outputs.parquet import write_parquet_shard
from synthc.outputs.records import ShardRecord
from synthc.outputs.shard_scratch import shard_scratch
from synthc.outputs.store import UPLOADED, is_store_url, open_store
from synthc.outputs.webdataset import Sample, TarLayout, write_tar_shard

INDEX_COLUMN = Column(
    INDEX_NAME,
    "int64",
    "Global sample index i: the sample is a pure function of (seed, config, i).",
)

TABLE_INDEX_COLUMN = Column(
    INDEX_NAME, "int64", "The row's index in its table (the key its children's foreign key names)."
)


def generate_table(generator: TableGenerator[Any], config: Any, task: ShardTask) -> Table:
    """The shard's rows as columns, led by the global sample ``index`` (with related tables:
    the row's index in its table; only the columns of ``output.columns`` when the spec names
    some)."""
    import numpy as np

    if task.table is not None and task.rows is not None:
        table: Table = {"index": np.arange(task.start, task.stop, dtype=np.int64)}
        table.update(generator.generate_part(config, task.seed, task.table, task.rows))
        return table
    keep = task.output.get("columns")
    return table_rows(generator, config, task.seed, task.start, task.stop, keep)


def table_rows(
    generator: TableGenerator[Any],
    config: Any,
    seed: int,
    start: int,
    stop: int,
    keep: Collection[str] | None = None,
) -> Table:
    """Rows ``[start, stop)`` as columns, led by the global sample ``index``: what a shard holds
    for that range, and what a stream yields (synthc.streaming); only the columns in ``keep``
    (the spec's ``output.columns``) when given."""
    import numpy as np

    table: Table = {"index": np.arange(start, stop, dtype=np.int64)}
    table.update(generator.generate(config, seed, start, stop))
    if keep is None:
        return table
    return {name: column for name, column in table.items() if name in keep}


#: a running shard reports its written samples at least this often (seconds) ...
REPORT_SECONDS = 0.5
#: ... and at least this many times over the shard, so that even a fast shard moves a count
REPORT_STEPS = 16


def run_task(
    task_json: dict[str, Any],
    out_dir: str,
    read_roots: dict[str, list[str]] | None = None,
    report: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Generate and write the shard of ``task_json`` under ``out_dir``; return its record.

    ``read_roots``: where the files the spec names are on this machine (synthc.inputs).
    ``report``: called with the samples written so far, in batches (every REPORT_SECONDS or
    1/REPORT_STEPS of the shard, whichever comes first) as a file shard is written; a table,
    generated as one batch, is counted when its shard is done."""
    inputs.use_roots(read_roots or {})
    task = ShardTask.from_json(task_json)
    if is_store_url(out_dir):
        # an object store: write the shard to a local temporary file, then put it whole at
        # its final key (an object appears complete or not at all)
        store = open_store(out_dir)
        store.key(task.path)  # confined before any work
        with shard_scratch() as scratch:
            record = _write_shard(task, Path(scratch) / "shard", report)
            cancellation.check()  # a cancelled Dask task puts nothing in place
            store.upload(Path(scratch) / "shard", task.path)
        # what this worker's store says of the object: the driver, which may reach another
        # store (other credentials or endpoint), checks it sees the same (store_state)
        found = store.info(task.path)
        return {**record, UPLOADED: None if found is None else found["stamp"]}
    return _write_shard(task, Path(out_dir) / task.path, report)


def _write_shard(
    task: ShardTask, path: Path, report: Callable[[int], None] | None
) -> dict[str, Any]:
    generator = generators.get(task.kind)
    config = _config(task)
    stats: dict[str, int] = {}
    if isinstance(generator, FileGenerator):
        samples = generator.generate(config, task.seed, task.start, task.stop)
        layout = TarLayout.of_columns(task.start, task.samples, generator.columns(config))
        made: dict[str, int] = {}

        def checked() -> Iterator[Sample]:
            yield from checked_samples(samples, layout, task.kind)
            # complete once the last sample is made; checked before the shard is in place
            made.update(checked_stats(samples.stats, task.kind))

        stream = checked() if report is None else _counted(checked(), report, task.samples)
        nbytes, sha256 = write_tar_shard(stream, path)
        stats = made
    elif isinstance(generator, TableGenerator):
        table = generate_table(generator, config, task)
        if task.table is not None:
            columns = related_table_columns(task.kind, config)[task.table]
        else:
            columns = table_columns(task.kind, config, task.output.get("columns"))
        check = functools.partial(check_frame, columns=columns, kind=task.kind)
        nbytes, sha256 = write_parquet_shard(table, path, task.output, check)
    else:
        raise TypeError(f"{task.kind}: a generator is a TableGenerator or a FileGenerator")
    record = ShardRecord(
        path=task.path,
        split=task.split,
        shard=task.shard,
        first_sample=task.start,
        samples=task.samples,
        bytes=nbytes,
        sha256=sha256,
        task_key=task.key,
        stats=stats,
        table=task.table,
    )
    return record.to_json()


def _counted(
    samples: Iterable[Sample], report: Callable[[int], None], total: int
) -> Iterator[Sample]:
    """``samples`` as they are, calling ``report(written so far)`` in batches as they pass."""
    step = max(1, math.ceil(total / REPORT_STEPS))
    reported = 0
    last = time.monotonic()
    # the writer has taken sample n once it asks for the next
    for done, sample in enumerate(samples, 1):
        yield sample
        now = time.monotonic()
        if done - reported >= step or now - last >= REPORT_SECONDS:
            report(done)
            reported, last = done, now


def table_columns(kind: str, config: Any, keep: Collection[str] | None = None) -> list[Column]:
    """The schema of a shard: for tables ``index``, then the generator's columns (those in
    ``keep``, the spec's ``output.columns``, when given); for files per sample, the generator's
    files."""
    generator = generators.get(kind)
    if isinstance(generator, FileGenerator):
        return generator.columns(config)
    columns = [INDEX_COLUMN, *generator.columns(config)]
    return columns if keep is None else [c for c in columns if c.name in keep]


def related_table_columns(kind: str, config: Any) -> dict[str, list[Column]]:
    """With related tables: each table's schema (``index``, then its columns); else empty."""
    generator = generators.get(kind)
    if not isinstance(generator, TableGenerator):
        return {}
    return {
        name: [TABLE_INDEX_COLUMN, *generator.table_columns(config, name)]
        for name in config.table_names()
    }


def _config(task: ShardTask) -> Any:
    # A worker builds many shards of one config; validate it once, not per shard.
    return _validated(task.kind, json.dumps(task.config))


@functools.lru_cache(maxsize=4)
def _validated(kind: str, config_json: str) -> Any:
    return TypeAdapter(generators.get(kind).Config).validate_json(config_json)
