"""``--var KEY=VALUE`` assignments: parsed and typed as YAML, with the limits of a spec, and
only values the manifest can record (JSON: no NaN or infinite number)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from synthc import limits
from synthc.compiler.loading import load_value
from synthc.compiler.source import UnreadableSource, check_text
from synthc.errors import SpecError, UsageError, clipped


class VarAssignments(dict):
    """``--var`` values by name, remembering each as typed (``raw``) for messages."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: dict[str, str] = {}


class RecordedVars(dict):
    """The template variables a manifest recorded (``spec.vars``), named as such in messages
    (``recorded_in``: the manifest) instead of as ``--var``s no one gave."""

    def __init__(self, values: dict[str, Any], recorded_in: str) -> None:
        super().__init__(values)
        self.raw: dict[str, str] = {}
        self.recorded_in = recorded_in


def parse_var_assignments(items: Sequence[str]) -> dict[str, Any]:
    """``["n=1000", "xs=[1, 2]"]`` -> ``{"n": 1000, "xs": [1, 2]}``, values typed as YAML.

    A value is untrusted like a spec: the same size, character, depth and alias limits apply,
    and breaking one is a UsageError naming the ``--var``.
    """
    variables = VarAssignments()
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            shown = item if len(item) <= 80 else item[:77] + "..."
            raise UsageError(f"--var {shown!r}: expected KEY=VALUE with KEY a name")
        if len(raw.encode("utf-8", "surrogatepass")) > limits.MAX_SPEC_BYTES:
            raise UsageError(
                f"--var {key}: the value is larger than the limit of {limits.MAX_SPEC_BYTES:,} "
                "bytes (synthc.limits.MAX_SPEC_BYTES)"
            )
        if key in variables.raw and variables.raw[key] != raw:
            # which one the user meant is unknown: a script's default and an override, say
            first, then = (clipped(repr(text), 80) for text in (variables.raw[key], raw))
            raise UsageError(
                f"--var {key}: given twice, {first} then {then}; give each variable once"
            )
        try:
            check_text(raw, f"--var {key}")
            variables[key] = load_value(raw, f"--var {key}") if raw.strip() else ""
            variables.raw[key] = raw
        except UnreadableSource as error:
            raise UsageError(f"--var {key}: {error.message}") from None
        except SpecError as error:
            raise UsageError(f"--var {key}: {error.problems[0].message}") from None
    return variables


def check_recordable(variables: Mapping[str, Any]) -> None:
    """UsageError naming the first variable holding a NaN or infinite number (``--var
    n=.inf``, ``1e999``, or a float from the Python API): the manifest records every variable
    as JSON, which has none, and the build failed after its last shard."""
    for name, value in variables.items():
        if non_finite_at(value) is not None:
            shown = f"--var {name}" if isinstance(variables, VarAssignments) else f"var {name!r}"
            raise UsageError(
                f"{shown}: a NaN or infinite number cannot be recorded in the manifest (JSON "
                "has none); give a finite number or a string"
            )


def non_finite_at(value: Any, path: str = "") -> str | None:
    """The dotted path in ``value`` (dicts, lists and tuples of plain values) to its first NaN
    or infinite float (``""`` for ``value`` itself), else None: JSON cannot hold it."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return at
        if isinstance(item, dict):
            stack.extend((v, f"{at}.{k}" if at else str(k)) for k, v in reversed(item.items()))
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{at}[{i}]") for i, v in reversed(list(enumerate(item))))
    return None
