"""A :class:`DatasetDiff` written for people: one line per change, shards per split.

Every value and name may come from an untrusted manifest: values are printed as ASCII JSON
(shortened), paths and labels with control characters escaped, so each fact stays one line.
"""

from __future__ import annotations

import json
from typing import Any

from synthc.diffing.fields import ABSENT, FieldChange
from synthc.diffing.result import DatasetDiff
from synthc.diffing.shards import ShardChange, SplitDiff
from synthc.errors import one_line

#: longest value printed in full; longer ones are cut (``--json`` has them whole)
MAX_VALUE_CHARS = 80


def diff_lines(diff: DatasetDiff) -> list[str]:
    """The diff as lines of text, ending with a line that says whether the content differs."""
    old, new = diff.old, diff.new
    lines = [f"--- {one_line(old.label)} ({old.kind})", f"+++ {one_line(new.label)} ({new.kind})"]
    if diff.seed is not None:
        lines.append(_field(diff.seed))
    lines += [_field(change) for change in diff.fields]
    lines += [_field(change, "var ") for change in diff.variables]
    if diff.inputs is None:
        missing = [side.label for side in (old, new) if side.inputs is None]
        lines.append(f"inputs: not recorded in {one_line(' and '.join(missing))}")
    for change in diff.inputs or ():
        line = f"input {change.change} {change.role} {change.path}"
        if change.change == "changed":
            line += (
                f" (sha256 {(change.old_sha256 or '')[:12]} -> {(change.new_sha256 or '')[:12]})"
            )
        lines.append(one_line(line))
    lines += [_field(change, "library ") for change in diff.libraries or ()]
    for split in diff.splits:
        lines += _split_lines(split)
    if diff.identical:
        lines.append("content identical")
    else:
        lines.append(
            f"content differs: {diff.count('changed')} shard(s) changed, "
            f"{diff.count('added')} added, {diff.count('removed')} removed, "
            f"{diff.count('unchanged')} unchanged"
        )
    return lines


def _field(change: FieldChange, prefix: str = "") -> str:
    return one_line(f"{prefix}{change.path}: {_value(change.old)} -> {_value(change.new)}")


def _value(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=True, separators=(", ", ": "))
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _split_lines(split: SplitDiff) -> list[str]:
    counts = ", ".join(
        f"{len(split.of(kind))} {kind}" for kind in ("unchanged", "changed", "added", "removed")
    )
    lines = [one_line(f"split {split.name}: {counts}")]
    unchanged = split.of("unchanged")
    if unchanged:
        # related tables number their rows apart: one table's ranges never join another's
        folders: dict[str, list[tuple[int, int]]] = {}
        for shard in unchanged:
            if shard.new:
                folders.setdefault(shard.path.rpartition("/")[0], []).append(shard.new)
        ranges = "; ".join(
            ("" if len(folders) == 1 else f"{folder} ")
            + ", ".join(f"[{a}, {b})" for a, b in _merged(spans))
            for folder, spans in folders.items()
        )
        lines.append(f"  unchanged  {len(unchanged)} shard(s), samples {ranges}")
    for shard in split.shards:
        if shard.change != "unchanged":
            lines.append(_shard_line(shard))
    return lines


def _shard_line(shard: ShardChange) -> str:
    old = f"[{shard.old[0]}, {shard.old[1]})" if shard.old else ""
    new = f"[{shard.new[0]}, {shard.new[1]})" if shard.new else ""
    ranges = f"{old} -> {new}" if old and new and old != new else old or new
    return one_line(f"  {shard.change:<9}  {shard.path}  {ranges}")


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sample ranges with touching neighbours joined, in order."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged
