"""Memory estimates checked at validate time, against the bounds in synthc.limits."""

from __future__ import annotations

from typing import Any

from synthc import limits

#: bytes of one number in a generator's working arrays (float64 / int64)
NUMBER_BYTES = 8


def size(nbytes: float) -> str:
    """``nbytes`` for people: 1.5 GiB, 300 MiB, 12 KiB."""
    if nbytes >= 1 << 90:  # estimates from absurd integers stay printable
        return "more than 2^90 bytes"
    for unit, scale in (("GiB", limits.GiB), ("MiB", limits.MiB), ("KiB", 1024)):
        if nbytes >= scale:
            return f"{nbytes / scale:,.1f} {unit}"
    return f"{int(nbytes)} bytes"


def sample_problem(at: tuple[Any, ...], need: float, what: str) -> tuple[Any, ...] | None:
    """A problem at ``at`` when one sample needs more than limits.MAX_SAMPLE_BYTES."""
    if need <= limits.MAX_SAMPLE_BYTES:
        return None
    return (
        at,
        f"{what} needs about {size(need)} per sample, over the limit of "
        f"{size(limits.MAX_SAMPLE_BYTES)} (synthc.limits.MAX_SAMPLE_BYTES)",
    )


def facts_problem(at: tuple[Any, ...], numbers: float, what: str, per_number: int = 8) -> Any:
    """A problem at ``at`` when facts of ``numbers`` numbers (``per_number`` bytes each) need
    more than limits.MAX_FACT_BYTES."""
    need = numbers * per_number
    if need <= limits.MAX_FACT_BYTES:
        return None
    return (
        at,
        f"{what} make {int(numbers):,} numbers (about {size(need)}), over the limit of "
        f"{size(limits.MAX_FACT_BYTES)} for a generator's facts (synthc.limits.MAX_FACT_BYTES)",
    )


def table_shard_problem(rows: int, numbers_per_row: int, factor: float) -> tuple[Any, ...] | None:
    """A problem at ``output.shard_size`` when a Parquet shard of ``rows`` rows, each of
    ``numbers_per_row`` numbers held ``factor`` times over while generated and encoded, needs
    more than limits.MAX_BATCH_BYTES."""
    per_row = numbers_per_row * NUMBER_BYTES * factor
    need = rows * per_row
    if need <= limits.MAX_BATCH_BYTES:
        return None
    fits = max(1, int(limits.MAX_BATCH_BYTES // per_row))
    return (
        ("output", "shard_size"),
        f"a shard of {rows:,} rows x {numbers_per_row:,} values needs about {size(need)} "
        f"while it is generated, over the limit of {size(limits.MAX_BATCH_BYTES)} per shard "
        f"(synthc.limits.MAX_BATCH_BYTES); use output.shard_size <= {fits:,}",
    )
