"""ShardRecord: what a finished shard reports, and what the manifest is built from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: a shard's counts (samples, bytes, a generator's ``stats``) fit a signed 64-bit integer
COUNT_BOUND = 2**63


@dataclass(frozen=True)
class ShardRecord:
    """A shard on disk: where, which samples, how big, its sha256 and the task key that made it."""

    path: str
    split: str
    shard: int
    first_sample: int
    samples: int
    bytes: int
    sha256: str
    task_key: str
    #: generator counters for this shard (e.g. re-drawn samples), summed in the manifest
    stats: dict[str, int] = field(default_factory=dict)
    #: with related tables: the table the shard holds (``first_sample`` counts its rows)
    table: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.table is None:
            del data["table"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShardRecord:
        """A record from its JSON (a worker's result or a build state entry; other keys, such
        as the state's ``mtime_ns``, are left out)."""
        return cls(
            path=data["path"],
            split=data["split"],
            shard=data["shard"],
            first_sample=data["first_sample"],
            samples=data["samples"],
            bytes=data["bytes"],
            sha256=data["sha256"],
            task_key=data["task_key"],
            stats=dict(data.get("stats", {})),
            table=data.get("table"),
        )


def counts_map(stats: Any) -> bool:
    """Whether ``stats`` is what a shard's ``stats`` may be: names to whole counts from 0 below
    2**63, as a generator's are checked (synthc.generator_output.checked_stats); the manifest
    sums them into ``generator.stats``, so a state or manifest is held to the same."""
    return isinstance(stats, dict) and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v < COUNT_BOUND
        for v in stats.values()
    )
