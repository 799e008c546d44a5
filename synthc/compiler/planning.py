"""Plan: a pure function from a validated Spec to the shard tasks that build it.

In: a :class:`Spec`. Out: a :class:`Plan`, plain JSON-serialisable data that any executor can
ship. A task's key hashes everything that determines its shard's bytes, so an unchanged key means
an unchanged shard.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from synthc import FORMAT_VERSION, generators
from synthc.compiler.models import Spec
from synthc.compiler.shard_sizing import shard_sizes
from synthc.compiler.splits import split_ranges
from synthc.dist_versions import version
from synthc.errors import UsageError
from synthc.generators.base import TableGenerator

_EXTENSIONS = {"parquet": "parquet", "webdataset": "tar"}
#: Libraries whose version can change a shard's bytes, by output format (on top of the
#: generators' numpy and numba): polars encodes Parquet, Pillow (and its zlib) encodes PNGs.
_FORMAT_LIBRARIES = {"parquet": ("polars",), "webdataset": ("pillow",)}


@dataclass(frozen=True)
class ShardTask:
    """One shard to build: which samples, which generator, where, and its content key."""

    split: str
    shard: int
    start: int
    stop: int
    path: str
    key: str
    kind: str
    config: dict[str, Any]
    seed: int
    output: dict[str, Any]
    #: with related tables: the table this shard holds (its rows are ``start .. stop``) ...
    table: str | None = None
    #: ... and every table's rows for the same root rows (a child shard draws its parents again)
    rows: dict[str, list[int]] | None = None

    @property
    def samples(self) -> int:
        return self.stop - self.start

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.table is None:  # a single table or files: the plan as it always was
            del data["table"], data["rows"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShardTask:
        return cls(**data)


@dataclass(frozen=True)
class Plan:
    """Every shard task of a spec, in split order, with per-split sample ranges."""

    name: str
    samples: int
    splits: dict[str, tuple[int, int]]
    tasks: tuple[ShardTask, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "samples": self.samples,
            "splits": {k: list(v) for k, v in self.splits.items()},
            "shards": len(self.tasks),
            "tasks": [t.to_json() for t in self.tasks],
        }


def library_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed versions of the libraries that shape shard bytes; UsageError naming one that
    is not installed (a generator's ``libraries`` name it: its version is in every task key)."""
    from importlib.metadata import PackageNotFoundError

    versions = {}
    for name in sorted(names):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            raise UsageError(
                f"{name} is not installed, and its version is part of every shard's key: "
                f"pip install {name}"
            ) from None
    return versions


def shaping_libraries(spec: Spec) -> set[str]:
    """The libraries whose versions can change the bytes of ``spec``'s shards (every task key
    names their versions): for an installed kind, its package too."""
    package = generators.package(spec.generator.kind)  # an installed kind's own code
    return {
        "numpy",
        "numba",
        *_FORMAT_LIBRARIES[spec.output.chosen_format],
        *generators.get(spec.generator.kind).libraries,
        *([package] if package is not None else []),
    }


def known_shaping_libraries() -> set[str]:
    """Every library whose version can shape some shard's bytes: every format's and every
    generator kind's (for a check made before a spec is compiled)."""
    found = {"numpy", "numba", *(n for names in _FORMAT_LIBRARIES.values() for n in names)}
    for kind in generators.kinds():
        try:
            found.update(generators.get(kind).libraries)
        except generators.KindError:
            continue  # no spec of an installed kind that cannot be used is built
    return found


def kept_columns(spec: Spec) -> list[str]:
    """The columns ``output.columns`` keeps, in the order a shard holds them (``index``, then
    the generator's): a list in another order keeps the same shards."""
    keep = set(spec.output.columns or ())
    generator = generators.get(spec.generator.kind)
    assert isinstance(generator, TableGenerator)  # validation refuses columns of other kinds
    return [name for name in generator.written_names(spec.generator) if name in keep]


def plan(spec: Spec, libraries: dict[str, str] | None = None) -> Plan:
    """The shard tasks of ``spec``. Pure: same spec (and library versions), same plan."""
    needed = shaping_libraries(spec)
    libraries = library_versions(needed) if libraries is None else libraries
    libraries = {name: v for name, v in libraries.items() if name in needed}
    config = spec.generator.model_dump(mode="json")
    output = spec.output.model_dump(mode="json")
    output.pop("shard_size")  # shapes which tasks exist, not what a range holds
    if output.get("columns") is not None:  # written in the generator's order, however listed
        output["columns"] = kept_columns(spec)
    sizes = shard_sizes(spec)
    extension = _EXTENSIONS[spec.output.chosen_format]
    ranges = split_ranges(spec.splits, spec.sample_count)
    shared = {
        "format_version": FORMAT_VERSION,
        "libraries": libraries,
        "kind": config["kind"],
        "config": config,
        "seed": spec.seed,
        "output": output,
    }
    keys = _TaskKeys(shared)  # the shared parts are serialised and hashed once, not per shard
    if spec.generator.table_names():
        related = related_tasks(spec, ranges, sizes, keys, config, output)
        return Plan(spec.name, spec.sample_count, ranges, tuple(related))
    tasks: list[ShardTask] = []
    for split, (first, last) in ranges.items():
        shard_size = sizes[split]
        for shard, start in enumerate(range(first, last, shard_size)):
            stop = min(start + shard_size, last)
            path = f"{split}/{split}-{shard:05d}.{extension}"
            tasks.append(
                ShardTask(
                    split,
                    shard,
                    start,
                    stop,
                    path,
                    keys.key(path, start, stop),
                    config["kind"],
                    config,
                    spec.seed,
                    output,
                )
            )
    return Plan(spec.name, spec.sample_count, ranges, tuple(tasks))


def related_tasks(
    spec: Spec,
    ranges: dict[str, tuple[int, int]],
    sizes: dict[str, int],
    keys: _TaskKeys,
    config: dict[str, Any],
    output: dict[str, Any],
) -> list[ShardTask]:
    """The shards of related tables: per split, per table (each after its parent), one shard
    per ``shard_size`` root rows, ``<table>/<split>/<split>-NNNNN.parquet``. A child shard
    holds the children of its root rows' shard, numbered from the prefix sums of the counts
    (``first_rows``: one count drawn per parent row, no column), so children follow their
    parents into a split and a shard's rows do not depend on where other shards are cut."""
    generator = spec.generator
    cuts: list[list[int]] = []
    for split, (first, last) in ranges.items():
        cuts.append([*range(first, last, sizes[split]), last])
    flat = sorted({cut for split_cuts in cuts for cut in split_cuts})
    first_rows = generator.first_rows(spec.seed, flat)
    at = {cut: i for i, cut in enumerate(flat)}
    tasks: list[ShardTask] = []
    names = generator.table_names()
    for (split, _), split_cuts in zip(ranges.items(), cuts, strict=True):
        # each shard's row range in every table, shared by that shard's tasks of all tables
        shard_rows = [
            {name: [first_rows[name][at[low]], first_rows[name][at[high]]] for name in names}
            for low, high in itertools.pairwise(split_cuts)
        ]
        for table in names:
            for shard, rows in enumerate(shard_rows):
                start, stop = rows[table]
                path = f"{table}/{split}/{split}-{shard:05d}.parquet"
                tasks.append(
                    ShardTask(
                        split,
                        shard,
                        start,
                        stop,
                        path,
                        keys.key(path, start, stop),
                        config["kind"],
                        config,
                        spec.seed,
                        output,
                        table,
                        rows,
                    )
                )
    return tasks


class _TaskKeys:
    """Task keys equal to ``content_key({**shared, "path": path, "range": [start, stop]})``,
    with the canonical JSON of ``shared`` made and hashed once: per shard only the path and
    range are (canonical JSON sorts keys, so the shared parts are split around them)."""

    def __init__(self, shared: dict[str, Any]) -> None:
        before = {k: v for k, v in shared.items() if k < "path"}
        after = {k: v for k, v in shared.items() if k > "range"}
        if len(before) + len(after) != len(shared) or not before:
            raise ValueError("the shared parts of a task key must not sort between path and range")
        self._head = hashlib.sha256(_canonical(before)[:-1].encode() + b',"path":')
        self._tail = "}" if not after else "," + _canonical(after)[1:]

    def key(self, path: str, start: int, stop: int) -> str:
        digest = self._head.copy()
        digest.update(f'{_canonical(path)},"range":[{start},{stop}]{self._tail}'.encode())
        return digest.hexdigest()


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _canonical(value: Any) -> str:
    return _ENCODER.encode(value)


def content_key(value: Any) -> str:
    """sha256 of the canonical JSON of ``value``."""
    return hashlib.sha256(_canonical(value).encode()).hexdigest()
