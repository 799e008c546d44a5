"""How each column model draws a batch: the kernel side of ``columns.py`` (NumPy and Numba).

Every function fills the global rows ``start .. start + n - 1`` of one column from its Philox
``key``; the model is looked up by class (the first of its classes listed here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from synthc.errors import BuildError
from synthc.generators.tabular import columns as c
from synthc.generators.tabular import kernels
from synthc.generators.tabular.columns import Key
from synthc.generators.tabular.params import check_rows
from synthc.generators.tabular.quantiles import Q_INTEGER

if TYPE_CHECKING:
    import polars as pl


def draw(
    column: c.ColumnBase, key: Key, start: int, n: int, drawn: Mapping[str, pl.Series]
) -> np.ndarray:
    """Values of rows ``start .. start + n - 1`` from the column's Philox ``key``; ``drawn``
    holds the columns drawn before it (those it depends on)."""
    for model in type(column).__mro__:
        if model in _DRAW:
            return _DRAW[model](column, key, start, n, drawn)
    raise TypeError(f"no sampler for {type(column).__name__}")


def from_normals(column: c.ColumnBase, z: np.ndarray) -> np.ndarray:
    """The column's values from standard normals ``z``: F^-1(Phi(z)) (the copula)."""
    if column.quantile_code is None:
        raise TypeError(f"no quantile function for {type(column).__name__}")
    out = np.empty(z.shape[0], dtype=np.float64)
    if isinstance(column, c.UniformIntegers):
        kernels.quantile(Q_INTEGER, np.asarray(column.quantile_params()), z, out)
        return out.astype(np.int64)
    kernels.quantile(column.quantile_code, np.asarray(column.quantile_params()), z, out)
    return out


def draw_with(
    column: c.ColumnBase, name: str, key: Key, start: int, n: int, values: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Like :func:`draw`, with the formula parameters' per-row ``values`` (checked here)."""
    for param, text in column.formulas().items():
        check_rows(name, param, text, values[param], column.param_bounds.get(param, {}), start)
    check_row_relations(column, name, start, values)
    assert column.rows_kernel is not None
    args = [
        np.ascontiguousarray(values[k], dtype=np.float64)
        if k in values
        else np.full(n, float(getattr(column, k)))
        for k in column.params
    ]
    out = np.empty(n, dtype=np.float64)
    getattr(kernels, column.rows_kernel)(start, key[0], key[1], *args, out)
    if isinstance(column, c.Continuous):
        check_overflow(column, name, start, out, values)
    return out


def check_overflow(
    column: c.Continuous, name: str, start: int, out: np.ndarray, values: Mapping[str, np.ndarray]
) -> None:
    """Raise a BuildError at the first row whose value, drawn with formula parameters, is not
    finite in the column's dtype (constant parameters are judged at validate time)."""
    top = c.FLOAT_MAX[column.dtype]
    bad = ~(np.abs(out) <= top)
    if bad.any():
        i = int(np.argmax(bad))
        params = ", ".join(
            f"{k} = {text!r} is {values[k][i]:g}" for k, text in column.formulas().items()
        )
        raise BuildError(
            f"column {name}: the value drawn at row {start + i} is {out[i]:g}, beyond the "
            f"largest {column.dtype} ({top:.4g}); there {params}"
        )


def check_sequence(column: c.Sequence, name: str, start: int, n: int) -> None:
    """Raise a BuildError at the first of rows ``start .. start + n - 1`` whose sequence value
    is beyond its dtype (int64 would wrap, float64 be inf). Validate judges the rows it knows
    of: a child table's are only expected, and a stream may go past ``samples``."""
    if n <= 0 or not column.step:
        return
    least: float
    most: float
    if column.out_dtype() == "int64":
        least, most = -(2**63), 2**63 - 1
        bound = most if column.step > 0 else least
        # the last row within the bound; start is within it (validate judged row 0)
        last = int((bound - column.start) // column.step)
    else:
        least, most = -c.FLOAT_MAX["float64"], c.FLOAT_MAX["float64"]
        with np.errstate(over="ignore"):
            ends = column.start + column.step * np.array([start, start + n - 1], np.float64)
        if np.isfinite(ends).all():
            return
        rows = np.arange(start, start + n, dtype=np.float64)
        with np.errstate(over="ignore"):
            last = start + int(np.argmin(np.isfinite(column.start + column.step * rows))) - 1
    if last >= start + n - 1:
        return
    row = max(start, last + 1)
    raise BuildError(
        f"column {name}: the sequence reaches {column.start + column.step * row:.6g} at row "
        f"{row}, outside the range of {column.out_dtype()} ({least:.6g} to {most:.6g}); "
        "validate judged the rows it knows of (a child table's are drawn per parent row): use "
        "a smaller start or step"
    )


def check_row_relations(
    column: c.ColumnBase, name: str, start: int, values: Mapping[str, np.ndarray]
) -> None:
    """Per-row checks between parameters (uniform: low < high); none for other columns."""
    if not isinstance(column, c.Uniform):
        return
    n = len(next(iter(values.values())))
    low = values.get("low", np.full(n, column.low))
    high = values.get("high", np.full(n, column.high))
    bad = ~(low < high)
    if bad.any():
        i = int(np.argmax(bad))
        raise BuildError(
            f"column {name}: low {low[i]:g} is not below high {high[i]:g} at row {start + i}"
        )


def draw_weighted(
    column: c.Categorical, name: str, key: Key, start: int, n: int, values: Mapping[int, np.ndarray]
) -> np.ndarray:
    """Category codes with per-row weights: ``values`` holds the formula weights' rows by
    position, the other weights are constants. A row without valid weights is an error."""
    assert isinstance(column.weights, list)
    weights = np.empty((n, len(column.values)), dtype=np.float64)
    for i, w in enumerate(column.weights):
        weights[:, i] = values[i] if isinstance(w, str) else float(w)
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        row, i = (int(k) for k in np.unravel_index(int(np.argmax(bad)), bad.shape))
        raise BuildError(
            f"column {name}: weights[{i}] = {column.weights[i]!r} is {weights[row, i]:g} at "
            f"row {start + row}; a weight must be finite and >= 0"
        )
    with np.errstate(over="ignore"):  # an infinite sum is reported below
        cumulative = np.cumsum(weights, axis=1)
    infinite = cumulative[:, -1] == np.inf
    if infinite.any():
        row = int(np.argmax(infinite))
        raise BuildError(
            f"column {name}: the weights add up to inf at row {start + row}; their sum must be "
            "finite"
        )
    empty = ~(cumulative[:, -1] > 0)
    if empty.any():
        row = int(np.argmax(empty))
        raise BuildError(f"column {name}: every weight is 0 at row {start + row}")
    codes = np.empty(n, dtype=np.int64)
    kernels.categorical(start, key[0], key[1], cumulative, np.arange(n), codes)
    return codes


def _categorical(
    column: c.Categorical, key: Key, start: int, n: int, drawn: Mapping[str, pl.Series]
) -> np.ndarray:
    """Category codes by the weights, or by the weights of the parent's value."""
    m = len(column.values)
    rows: list[Any]
    if column.given is None:
        rows = [column.weights or [1.0] * m]
        parent = np.empty(0, dtype=np.int64)
    else:
        parent_series = drawn[column.given]
        parent_values = list(parent_series.dtype.categories)  # type: ignore[attr-defined]
        rows = [column.weights[value] for value in parent_values]  # type: ignore[index]
        parent = parent_series.to_physical().to_numpy().astype(np.int64)
    cumulative = np.cumsum(np.asarray(rows, dtype=np.float64), axis=1)
    codes = np.empty(n, dtype=np.int64)
    kernels.categorical(start, key[0], key[1], cumulative, parent, codes)
    return codes


def _integers(
    column: c.UniformIntegers, key: Key, start: int, n: int, drawn: Mapping[str, pl.Series]
) -> np.ndarray:
    low, span = column.integer_range()
    ints = np.empty(n, dtype=np.int64)
    if span <= kernels.FLOAT_SPAN_MAX:
        kernels.integers(start, key[0], key[1], low, span, ints)
    else:  # a 53-bit U would reach only every (span / 2**53)-th value
        kernels.integers_wide(start, key[0], key[1], low, np.uint64(span - 1), ints)
    return ints


def _sequence(
    column: c.Sequence, key: Key, start: int, n: int, drawn: Mapping[str, pl.Series]
) -> np.ndarray:
    index = np.arange(start, start + n, dtype=np.int64)
    if column.out_dtype() == "int64":
        return column.start + column.step * index
    return column.start + column.step * index.astype(np.float64)


def _constant(
    column: c.Constant, key: Key, start: int, n: int, drawn: Mapping[str, pl.Series]
) -> np.ndarray:
    return np.full(n, column.value)


def _filled(
    kernel: Callable[..., None], key: Key, start: int, n: int, *args: float | str
) -> np.ndarray:
    """float64 values of rows ``start ..`` from a kernel ``(start, k0, k1, *args, out)``; the
    parameters are constants here (formula parameters go through :func:`draw_with`)."""
    out = np.empty(n, dtype=np.float64)
    kernel(start, key[0], key[1], *(float(a) for a in args), out)
    return out


#: column model -> how it draws a batch ``(column, key, start, n, drawn)``
_DRAW: dict[type[Any], Callable[..., np.ndarray]] = {
    c.Normal: lambda col, key, start, n, _: _filled(
        kernels.normal, key, start, n, col.mean, col.std
    ),
    c.Uniform: lambda col, key, start, n, _: _filled(
        kernels.uniform, key, start, n, col.low, col.high
    ),
    c.Lognormal: lambda col, key, start, n, _: _filled(
        kernels.lognormal, key, start, n, col.mu, col.sigma
    ),
    c.Exponential: lambda col, key, start, n, _: _filled(
        kernels.exponential, key, start, n, col.scale
    ),
    c.Gamma: lambda col, key, start, n, _: _filled(
        kernels.gamma, key, start, n, col.shape, col.scale
    ),
    c.Beta: lambda col, key, start, n, _: _filled(kernels.beta, key, start, n, col.a, col.b),
    c.Poisson: lambda col, key, start, n, _: _filled(kernels.poisson, key, start, n, col.lam),
    c.Binomial: lambda col, key, start, n, _: _filled(
        kernels.binomial, key, start, n, float(col.n), col.p
    ),
    c.Bernoulli: lambda col, key, start, n, _: _filled(kernels.bernoulli, key, start, n, col.p),
    c.UniformIntegers: _integers,
    c.Categorical: _categorical,
    c.Sequence: _sequence,
    c.Constant: _constant,
}
