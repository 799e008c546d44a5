"""Draw one shard of a tabular dataset: columns in dependency order, then the label, then nulls.

Every column draws from its own Philox key, ``derive_key(seed, "tabular/<name>")``; the copula
from ``"tabular/copula"`` and the label from ``"tabular/label"``. So row ``i`` is a pure function of
``(seed, config, i)`` and a column's values do not move when other columns are added or removed
(columns of the copula excepted: they share its correlated normals). A column with
``standardize: true`` is rescaled by its ``(mean, std)`` from ``scales`` (tabular.standardize)
as soon as it is drawn, so children read, and the shard stores, the standardised values.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from synthc.errors import BuildError
from synthc.generators.linalg import cholesky
from synthc.generators.rng import derive_key
from synthc.generators.tabular import columns as c
from synthc.generators.tabular import draws, expr, kernels
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.copula import correlation_matrix

if TYPE_CHECKING:
    import polars as pl

#: the polars type (its name in polars) of each numeric dtype
_POLARS_DTYPES: dict[str, str] = {
    "float64": "Float64",
    "float32": "Float32",
    "int64": "Int64",
    "int32": "Int32",
    "int16": "Int16",
    "int8": "Int8",
    "bool": "Boolean",
}


#: column -> (mean, std) a standardised column is rescaled by
Scales = dict[str, tuple[float, float]]


def sample_shard(
    config: TabularConfig,
    seed: int,
    start: int,
    stop: int,
    scales: Scales | None = None,
    outer: dict[str, pl.Series] | None = None,
) -> dict[str, pl.Series]:
    """Rows ``[start, stop)``: every column, then the label and its truth, as polars Series;
    ``scales`` must hold every standardised column (tabular.standardize.scales); ``outer``:
    more columns the formulas may read, one value per row (a parent row's)."""
    import polars as pl

    n = stop - start
    series = draw_columns(config, seed, start, n, dict(scales or {}), outer=outer)
    out = {name: series[name] for name in config.columns}
    if config.label is not None:
        out.update(_label(config, series, seed, start, n))
    for name, rate in config.missing.items():
        if rate > 0:
            mask = np.empty(n, dtype=np.bool_)
            k0, k1 = derive_key(seed, f"tabular/{name}")
            kernels.missing_mask(start, k0, k1, float(rate), mask)
            out[name] = out[name].set(pl.Series(mask), None)
    return out


def draw_columns(
    config: TabularConfig,
    seed: int,
    start: int,
    n: int,
    scales: Scales,
    stream: str = "tabular",
    learn: bool = False,
    outer: dict[str, pl.Series] | None = None,
) -> dict[str, pl.Series]:
    """Every column of rows ``start .. start + n - 1`` in dependency order (no label, no nulls),
    each from the key ``derive_key(seed, f"{stream}/<name>")``. With ``learn``, a standardised
    column missing from ``scales`` is rescaled by its own values' mean and std, added to
    ``scales`` (the pilot sample of tabular.standardize). ``outer``: more columns the formulas
    may read (a parent row's), not returned."""
    latent = _copula(config, seed, start, n, stream)
    series: dict[str, pl.Series] = dict(outer or {})
    kinds = config.expr_kinds()  # once: per formula, it made many columns quadratic
    for name in config.order():
        column = config.columns[name]
        key = derive_key(seed, f"{stream}/{name}")
        formulas = column.formulas()
        if isinstance(column, c.Derived):
            values = formula_values(column.expr, config, series, n, kinds)
            if column.noise is not None:
                values = values + draws.draw(column.noise, key, start, n, series)
        elif name in latent:
            values = draws.from_normals(column, latent[name])
        elif isinstance(column, c.Categorical) and column.formula_paths():
            weights = {
                at[1]: formula_values(text, config, series, n, kinds)
                for at, text in column.formula_paths().items()
                if isinstance(at[1], int)
            }
            values = draws.draw_weighted(column, name, key, start, n, weights)
        elif formulas:
            given = {p: formula_values(t, config, series, n, kinds) for p, t in formulas.items()}
            values = draws.draw_with(column, name, key, start, n, given)
        else:
            if isinstance(column, c.Sequence):
                draws.check_sequence(column, name, start, n)
            values = draws.draw(column, key, start, n, series)
        if column.standardize:
            if name not in scales:
                if not learn:
                    raise ValueError(f"no scale for the standardised column {name}")
                scales[name] = _moments(name, values)
            mean, std = scales[name]
            values = (values - mean) / std
        series[name] = _typed(name, column, values)
    return series


def _moments(name: str, values: np.ndarray) -> tuple[float, float]:
    with np.errstate(all="ignore"):  # an overflowing sum is refused below, not warned about
        mean, std = float(np.mean(values)), float(np.std(values))
        if not (math.isfinite(mean) and math.isfinite(std)) and np.isfinite(values).all():
            # finite values whose sum or squares overflow: the moments of values / max |value|
            # (only here, so the moments of every other column keep their bits)
            top = float(np.max(np.abs(values)))
            mean, std = top * float(np.mean(values / top)), top * float(np.std(values / top))
    if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise BuildError(
            f"column {name}: standardize: the pilot sample's mean {mean:g} and std {std:g} "
            "cannot rescale it (the std must be finite and > 0)"
        )
    return mean, std


def _copula(
    config: TabularConfig, seed: int, start: int, n: int, stream: str
) -> dict[str, np.ndarray]:
    names = config.copula_columns()
    if not names:
        return {}
    lower = cholesky(correlation_matrix(names, config.correlation))
    z = np.empty((len(names), n), dtype=np.float64)
    k0, k1 = derive_key(seed, f"{stream}/copula")
    kernels.correlated_normals(start, k0, k1, lower, z)
    return {name: z[i] for i, name in enumerate(names)}


def _typed(name: str, column: c.ColumnBase, values: np.ndarray) -> pl.Series:
    import polars as pl

    dtype = column.out_dtype()
    if dtype == "enum":
        categories = column.values if isinstance(column, c.Categorical) else [column.value]  # type: ignore[attr-defined]
        codes = values if isinstance(column, c.Categorical) else np.zeros(len(values), np.int64)
        return pl.Series(name, categories).cast(pl.Enum(categories)).gather(codes)
    if dtype == "date":
        return pl.Series(name, values.astype(np.int32)).cast(pl.Date)
    if dtype == "datetime[us]":
        return pl.Series(name, values).cast(pl.Datetime("us"))
    clip = getattr(column, "clip", None)
    if clip is not None:
        values = np.clip(values, clip[0], clip[1])
    if dtype == "bool":
        return pl.Series(name, values != 0)
    return pl.Series(name, values).cast(getattr(pl, _POLARS_DTYPES[dtype]))


def formula_values(
    text: str,
    config: TabularConfig,
    series: dict[str, pl.Series],
    n: int,
    kinds: dict[str, str] | None = None,
) -> np.ndarray:
    """The formula ``text`` evaluated by polars over the columns drawn so far, as float64
    (``kinds``: ``config.expr_kinds()``, when the caller has it)."""
    import polars as pl

    node = expr.parse(text)
    used = {ref.name for ref in expr.names(node)}
    # looked up, not picked from every column drawn so far: that made wide tables quadratic
    frame = pl.DataFrame([series[name] for name in sorted(used) if name in series])
    result = frame.select(
        expr.to_polars(node, config.expr_kinds() if kinds is None else kinds).alias("value")
    )
    if not used:  # a formula without columns is a constant: broadcast it
        return np.full(n, result.item(0, 0), dtype=np.float64)
    return np.ascontiguousarray(result.to_series().to_numpy(), dtype=np.float64)


def _check_label(name: str, text: str, eta: np.ndarray, finite: bool, start: int) -> None:
    """Raise a BuildError at the first row where the label's formula is NaN (or, for a linear
    label, which stores it, not finite): the label drawn there would not follow the formula."""
    bad = ~np.isfinite(eta) if finite else np.isnan(eta)
    if bad.any():
        i = int(np.argmax(bad))
        raise BuildError(
            f"label {name}: formula {text!r} is {eta[i]:g} at row {start + i}; it must be "
            + ("finite" if finite else "a number (not NaN)")
            + " at every row: bound it yourself (abs(...), clip(...), where(...))"
        )


def _label(
    config: TabularConfig, series: dict[str, pl.Series], seed: int, start: int, n: int
) -> dict[str, pl.Series]:
    import polars as pl

    label = config.label
    assert label is not None
    eta = formula_values(label.formula, config, series, n)
    _check_label(label.name, label.formula, eta, finite=label.kind == "linear", start=start)
    k0, k1 = derive_key(seed, "tabular/label")
    truth = np.empty(n, dtype=np.float64)
    if label.kind == "linear":
        observed = np.empty(n, dtype=np.float64)
        kernels.linear_label(start, k0, k1, eta, label.noise, observed)
        return {
            label.name: pl.Series(label.name, observed),
            f"{label.name}_true": pl.Series(f"{label.name}_true", eta),
        }
    classes = np.empty(n, dtype=np.int64)
    if label.kind == "logistic":
        kernels.logistic_label(start, k0, k1, eta, label.noise, classes, truth)
    else:
        kernels.threshold_label(start, k0, k1, eta, label.noise, classes)
        truth = eta
    return {
        label.name: pl.Series(label.name, classes),
        f"{label.name}_true": pl.Series(f"{label.name}_true", truth),
    }
