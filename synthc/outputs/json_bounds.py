"""JSON read from an output directory (a manifest, a build state), parsed within a bound on
its values as well as its bytes: bytes alone do not bound the memory parsing takes."""

from __future__ import annotations

import json
from typing import Any

from synthc import limits


def values_over_limit(data: bytes | str) -> int | None:
    """The count of JSON values in ``data`` (an over-count: commas and opening brackets) when it
    is over ``synthc.limits.MAX_JSON_VALUES``, else None."""
    if isinstance(data, str):
        count = data.count(",") + data.count("[") + data.count("{")
    else:
        count = data.count(b",") + data.count(b"[") + data.count(b"{")
    return count if count > limits.MAX_JSON_VALUES else None


def loads_bounded(data: bytes | str, where: str, error: type[Exception], what: str = "") -> Any:
    """``json.loads(data)``; ``error`` naming ``where`` (holding ``what``, e.g. "build state")
    for text that is no JSON, nested too deep, or holding more values than
    :data:`synthc.limits.MAX_JSON_VALUES`, or holding a key twice in one object (JSON readers
    disagree on which one counts: a check could pass on one while another tool reads the
    other)."""
    count = values_over_limit(data)
    if count is not None:
        raise error(
            f"{where}: about {count:,} JSON values, over the limit of {limits.MAX_JSON_VALUES:,} "
            "(synthc.limits.MAX_JSON_VALUES)"
        )
    try:
        return json.loads(data, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as problem:
        named = f"{what} is " if what else ""
        raise error(f"{where}: {named}not valid JSON ({problem})") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key!r} appears twice in one object")
            seen.add(key)
    return found
