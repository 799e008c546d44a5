"""Distribution parameters that are numbers or formulas of other columns (structural equations).

A parameter field accepts a finite number within its bounds (checked at validate time, as
before) or a formula string in the language of ``tabular.expr``. A formula is evaluated per row
at build time; :func:`check_rows` refuses the first row whose value breaks the bounds, naming
the column, the parameter and the global row index.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import PlainValidator
from pydantic_core import PydanticCustomError

from synthc.errors import BuildError

if TYPE_CHECKING:
    import numpy as np

#: bounds of a parameter: "ge", "gt", "le" -> value
Bounds = dict[str, float]


def number_or_formula(**bounds: float) -> PlainValidator:
    """A validator for a parameter: a finite number within ``bounds`` (ge / gt / le), or a
    non-empty formula string."""

    def check(value: Any) -> float | str:
        if isinstance(value, str):
            if not value.strip():
                raise PydanticCustomError("formula", "a formula must not be empty")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PydanticCustomError(
                "float_type", "Input should be a valid number or a formula string"
            )
        try:
            number = float(value)
        except OverflowError:
            raise PydanticCustomError("finite_number", "Input should be a finite number") from None
        if not math.isfinite(number):
            raise PydanticCustomError("finite_number", "Input should be a finite number")
        for op, limit in bounds.items():
            if not _holds(op, number, limit):
                raise PydanticCustomError(
                    _ERROR_TYPES[op], f"Input should be {_WORDS[op]} {{limit}}", {"limit": limit}
                )
        return number

    return PlainValidator(check, json_schema_input_type=float | str)


def check_rows(
    column: str, param: str, text: str, values: np.ndarray, bounds: Bounds, start: int
) -> None:
    """Raise a BuildError at the first row where ``values`` (the formula ``text`` of parameter
    ``param``) is not finite or breaks ``bounds``; rows are numbered globally from ``start``."""
    import numpy as np

    bad = ~np.isfinite(values)
    for op, limit in bounds.items():
        bad |= {"ge": values < limit, "gt": values <= limit, "le": values > limit}[op]
    if bad.any():
        i = int(np.argmax(bad))
        need = " and ".join(f"{_WORDS[op]} {limit:g}" for op, limit in bounds.items())
        raise BuildError(
            f"column {column}: parameter {param} = {text!r} is {values[i]:g} at row "
            f"{start + i}; it must be finite" + (f" and {need}" if need else "")
        )


def broken_bounds(value: float, bounds: Bounds) -> str | None:
    """What ``value`` must be when it is not finite or breaks ``bounds``; None when it holds."""
    if math.isfinite(value) and all(_holds(op, value, limit) for op, limit in bounds.items()):
        return None
    need = " and ".join(f"{_WORDS[op]} {limit:g}" for op, limit in bounds.items())
    return "finite" + (f" and {need}" if need else "")


def _holds(op: str, number: float, limit: float) -> bool:
    return {"ge": number >= limit, "gt": number > limit, "le": number <= limit}[op]


_ERROR_TYPES = {"ge": "greater_than_equal", "gt": "greater_than", "le": "less_than_equal"}
_WORDS = {"ge": "greater than or equal to", "gt": "greater than", "le": "less than or equal to"}
