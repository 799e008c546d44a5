"""Per shard, what a build of a plan into an output directory would do: keep, build or remove.

In: a :class:`Plan` and the build's decision (``building.pending``). Out: a
:class:`PlanStatus`, every planned shard with ``keep`` or ``build`` and every shard the build
would remove (from the output's build state, already checked as a build checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from synthc.building import Actions
from synthc.compiler.planning import Plan
from synthc.outputs.state import BuildState

Status = Literal["keep", "build", "remove"]


@dataclass(frozen=True)
class ShardStatus:
    """One shard and what the build would do with it; ``shard`` and ``key`` as planned, or as
    the build state recorded them for a shard to remove."""

    status: Status
    split: str
    shard: int
    start: int
    stop: int
    path: str
    key: str

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "split": self.split,
            "shard": self.shard,
            "start": self.start,
            "stop": self.stop,
            "path": self.path,
            "key": self.key,
        }


@dataclass(frozen=True)
class PlanStatus:
    """A plan, the output directory it was compared with, and every shard's status (planned
    shards in plan order, then the shards to remove)."""

    plan: Plan
    #: the output directory, or an object-store URL
    out: Path | str
    shards: tuple[ShardStatus, ...]

    def count(self, status: Status) -> int:
        """How many shards have ``status``."""
        return sum(1 for s in self.shards if s.status == status)

    def to_json(self) -> dict[str, Any]:
        """The plan's JSON, each task with its ``status``, plus ``out``, the shards to
        ``remove`` and the ``counts`` of keep, build and remove."""
        data = self.plan.to_json()
        statuses = {s.path: s.status for s in self.shards if s.status != "remove"}
        data["tasks"] = [{**t, "status": statuses[t["path"]]} for t in data["tasks"]]
        data["out"] = str(self.out)
        data["remove"] = [s.to_json() for s in self.shards if s.status == "remove"]
        data["counts"] = {k: self.count(k) for k in ("keep", "build", "remove")}
        return data


def plan_status(plan: Plan, out: Path | str, actions: Actions, state: BuildState) -> PlanStatus:
    """Statuses from the build's decision ``actions``, read from ``state``."""
    shards = [
        ShardStatus(
            "keep" if t.path in actions.keep else "build",
            t.split,
            t.shard,
            t.start,
            t.stop,
            t.path,
            t.key,
        )
        for t in plan.tasks
    ]
    for path in actions.remove:
        entry = state.shards[path]
        start = entry["first_sample"]
        shards.append(
            ShardStatus(
                "remove",
                entry["split"],
                entry["shard"],
                start,
                start + entry["samples"],
                path,
                entry["task_key"],
            )
        )
    return PlanStatus(plan, out, tuple(shards))
