"""Shards that differ between two sides, per split: unchanged, changed, added, removed.

Shards are matched by path within their split. A shard is unchanged when its task keys are
equal (the key hashes everything that shapes its bytes) and, when both sides are built, its
sha256 too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

ShardChangeKind = Literal["unchanged", "changed", "added", "removed"]
KINDS: tuple[ShardChangeKind, ...] = ("unchanged", "changed", "added", "removed")


@dataclass(frozen=True)
class ShardInfo:
    """One shard of a side: where, which samples, its task key and (when built) its sha256."""

    split: str
    path: str
    start: int
    stop: int
    key: str
    sha256: str | None = None


@dataclass(frozen=True)
class ShardChange:
    """One shard compared; ``old``/``new`` are its ``[start, stop)`` ranges, None on the side
    that lacks it."""

    path: str
    change: ShardChangeKind
    old: tuple[int, int] | None
    new: tuple[int, int] | None

    def to_json(self) -> dict[str, Any]:
        """``{"path", "old": [start, stop], "new": [start, stop]}``, a side left out where the
        shard is not."""
        data: dict[str, Any] = {"path": self.path}
        if self.old is not None:
            data["old"] = list(self.old)
        if self.new is not None:
            data["new"] = list(self.new)
        return data


@dataclass(frozen=True)
class SplitDiff:
    """The shards of one split compared (old's order, then the shards only new has)."""

    name: str
    shards: tuple[ShardChange, ...]

    def of(self, change: ShardChangeKind) -> list[ShardChange]:
        """The shards with this kind of change."""
        return [s for s in self.shards if s.change == change]

    @property
    def identical(self) -> bool:
        return all(s.change == "unchanged" for s in self.shards)

    def to_json(self) -> dict[str, Any]:
        """``{"unchanged": [...], "changed": [...], "added": [...], "removed": [...]}``."""
        return {kind: [s.to_json() for s in self.of(kind)] for kind in KINDS}


def compare_shards(old: Sequence[ShardInfo], new: Sequence[ShardInfo]) -> list[SplitDiff]:
    """Per split (old's order, then splits only new has), the shards compared."""
    before, after = _by_split(old), _by_split(new)
    splits = list(dict.fromkeys([*before, *after]))
    return [_compare_split(name, before.get(name, []), after.get(name, [])) for name in splits]


def _by_split(shards: Sequence[ShardInfo]) -> dict[str, list[ShardInfo]]:
    grouped: dict[str, list[ShardInfo]] = {}
    for shard in shards:
        grouped.setdefault(shard.split, []).append(shard)
    return grouped


def _compare_split(name: str, old: list[ShardInfo], new: list[ShardInfo]) -> SplitDiff:
    before = {s.path: s for s in reversed(old)}  # a path listed twice: its first entry counts
    after = {s.path: s for s in reversed(new)}
    changes: list[ShardChange] = []
    for path in dict.fromkeys(s.path for s in old):
        a, b = before[path], after.get(path)
        if b is None:
            changes.append(ShardChange(path, "removed", (a.start, a.stop), None))
            continue
        same = a.key == b.key and (a.sha256 is None or b.sha256 is None or a.sha256 == b.sha256)
        kind: ShardChangeKind = "unchanged" if same else "changed"
        changes.append(ShardChange(path, kind, (a.start, a.stop), (b.start, b.stop)))
    for path in dict.fromkeys(s.path for s in new):
        if path not in before:
            b = after[path]
            changes.append(ShardChange(path, "added", None, (b.start, b.stop)))
    return SplitDiff(name, tuple(changes))
