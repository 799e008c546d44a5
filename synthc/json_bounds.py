"""JSON synthc reads from files it does not trust: in an output directory (a manifest, a build
state, a lock, a shard's label records), a catalog a spec names, synthc's own caches.

Read: only what every JSON reader reads the same way (:func:`loads_strict`), and for the large
documents within a bound on its values as well as its bytes (:func:`loads_bounded`): bytes alone
do not bound the memory parsing takes. Written: never a NaN or infinite number (each writer
dumps with ``allow_nan=False``; ``synthc.compiler.variables.non_finite_at`` finds one in what
a build would record before it starts)."""

from __future__ import annotations

import json
import math
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
    """:func:`loads_strict` of ``data``; ``error`` naming ``where`` (holding ``what``, e.g.
    "build state") for text that is no JSON (or not strictly: see there), nested too deep, or
    holding more values than :data:`synthc.limits.MAX_JSON_VALUES`."""
    count = values_over_limit(data)
    if count is not None:
        raise error(
            f"{where}: about {count:,} JSON values, over the limit of {limits.MAX_JSON_VALUES:,} "
            "(synthc.limits.MAX_JSON_VALUES)"
        )
    try:
        return loads_strict(data)
    except (ValueError, RecursionError) as problem:
        named = f"{what} is " if what else ""
        raise error(f"{where}: {named}not valid JSON ({problem})") from None


def loads_strict(data: bytes | str) -> Any:
    """``json.loads(data)``, refusing (ValueError) what Python's reader takes but JSON is not,
    or is not read alike everywhere: a key twice in one object (readers disagree on which one
    counts: a check could pass on one while another tool reads the other), the constants
    ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON: other readers refuse the file that
    synthc's ``verify`` passed), and a number too large for a double (``1e999``: Python reads
    infinity, which synthc could not write back as JSON)."""
    return json.loads(
        data,
        object_pairs_hook=_unique_keys,
        parse_constant=_no_constant,
        parse_float=_finite_float,
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"the constant {name}: JSON has no NaN or infinite numbers")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]}: beyond a double, read as infinite")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key!r} appears twice in one object")
            seen.add(key)
    return found
