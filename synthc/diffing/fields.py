"""Changed fields between two JSON values, as dotted paths (``generator.noise``, lists by index).

The values may come from an untrusted manifest: the walk uses an explicit stack (no recursion
limit to reach) and compares scalars by their JSON spelling, so ``1``, ``1.0`` and ``true``
differ as they do in the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: a key printed bare after a dot; any other key is printed as a JSON string in brackets
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


class _Absent:
    """The value of a field that one side does not have."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class FieldChange:
    """One field whose value differs; ``old`` or ``new`` is :data:`ABSENT` where a side lacks
    the field."""

    path: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        """``{"path", "old", "new"}``, leaving out the side that lacks the field."""
        data: dict[str, Any] = {"path": self.path}
        if self.old is not ABSENT:
            data["old"] = self.old
        if self.new is not ABSENT:
            data["new"] = self.new
        return data


def join(path: str, key: str | int, *, bare: bool = False) -> str:
    """``path`` extended by a mapping key (``a.b``, ``a["x.y"]``) or a list index (``a[0]``);
    ``bare`` puts the key in brackets as it is (``shards[train/x.parquet]``)."""
    if isinstance(key, int) or bare:
        return f"{path}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def changed_fields(
    old: Any, new: Any, path: str = "", *, named: Callable[[str], bool] | None = None
) -> list[FieldChange]:
    """Every leaf where ``old`` and ``new`` differ, in the order of ``old`` (keys only ``new``
    has follow); a mapping against a list or scalar is one change at that path. The keys of a
    mapping at a path ``named`` accepts are names (file paths) printed bare in brackets."""
    changes: list[FieldChange] = []
    stack: list[tuple[str, Any, Any]] = [(path, old, new)]
    while stack:
        where, a, b = stack.pop()
        children: list[tuple[str, Any, Any]] = []
        if isinstance(a, dict) and isinstance(b, dict):
            bare = named is not None and named(where)
            for key in [*a, *(k for k in b if k not in a)]:
                spelt = join(where, str(key), bare=bare)
                children.append((spelt, a.get(key, ABSENT), b.get(key, ABSENT)))
        elif isinstance(a, list) and isinstance(b, list):
            for index in range(max(len(a), len(b))):
                children.append(
                    (
                        join(where, index),
                        a[index] if index < len(a) else ABSENT,
                        b[index] if index < len(b) else ABSENT,
                    )
                )
        elif _spelling(a) != _spelling(b):
            changes.append(FieldChange(where, a, b))
        stack.extend(reversed(children))
    return changes


def _spelling(value: Any) -> str:
    if value is ABSENT:
        return "\0absent"
    if isinstance(value, dict | list):
        # reached only against a scalar or the other container kind: a change
        return f"\0{type(value).__name__}"
    return json.dumps(value)
