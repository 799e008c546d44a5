"""Plan: a pure function from a validated Spec to the shard tasks that build it.

In: a :class:`Spec`. Out: a :class:`Plan`, plain JSON-serialisable data that any executor can
ship. A task's key hashes everything that determines its shard's bytes, so an unchanged key means
an unchanged shard.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import Any

from synthc import FORMAT_VERSION, generators
from synthc.compiler.models import Spec
from synthc.compiler.splits import split_ranges

#: Libraries whose versions can change the bytes of a shard.
BYTE_SHAPING_LIBRARIES = ("numpy", "numba", "polars", "pillow")

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

    @property
    def samples(self) -> int:
        return self.stop - self.start

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

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


def library_versions(names: Iterable[str] = BYTE_SHAPING_LIBRARIES) -> dict[str, str]:
    """Installed versions of the libraries that shape shard bytes."""
    return {name: version(name) for name in sorted(names)}


def plan(spec: Spec, libraries: dict[str, str] | None = None) -> Plan:
    """The shard tasks of ``spec``. Pure: same spec (and library versions), same plan."""
    needed = {
        "numpy",
        "numba",
        *_FORMAT_LIBRARIES[spec.output.format],
        *getattr(generators.get(spec.generator.kind), "libraries", ()),
    }
    libraries = library_versions(needed) if libraries is None else libraries
    libraries = {name: v for name, v in libraries.items() if name in needed}
    config = spec.generator.model_dump(mode="json")
    output = spec.output.model_dump(mode="json")
    shard_size = output.pop("shard_size")  # shapes which tasks exist, not what a range holds
    extension = _EXTENSIONS[spec.output.format]
    ranges = split_ranges(spec.splits, spec.samples)
    tasks: list[ShardTask] = []
    for split, (first, last) in ranges.items():
        for shard, start in enumerate(range(first, last, shard_size)):
            stop = min(start + shard_size, last)
            path = f"{split}/{split}-{shard:05d}.{extension}"
            identity = {
                "format_version": FORMAT_VERSION,
                "libraries": libraries,
                "kind": config["kind"],
                "config": config,
                "seed": spec.seed,
                "range": [start, stop],
                "path": path,
                "output": output,
            }
            tasks.append(
                ShardTask(
                    split,
                    shard,
                    start,
                    stop,
                    path,
                    content_key(identity),
                    config["kind"],
                    config,
                    spec.seed,
                    output,
                )
            )
    return Plan(spec.name, spec.samples, ranges, tuple(tasks))


def content_key(value: Any) -> str:
    """sha256 of the canonical JSON of ``value``."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()
