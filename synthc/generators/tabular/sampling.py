"""Draw one shard of a tabular dataset: columns in dependency order, then the label, then nulls.

Every column draws from its own Philox key, ``derive_key(seed, "tabular/<name>")``; the copula
from ``"tabular/copula"`` and the label from ``"tabular/label"``. So row ``i`` is a pure function of
``(seed, config, i)`` and a column's values do not move when other columns are added or removed
(columns of the copula excepted: they share its correlated normals).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from synthc.generators.linalg import cholesky
from synthc.generators.rng import derive_key
from synthc.generators.tabular import columns as c
from synthc.generators.tabular import expr, kernels
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.copula import correlation_matrix

EPOCH = dt.date(1970, 1, 1)
_POLARS_DTYPES: dict[str, Any] = {
    "float64": pl.Float64,
    "float32": pl.Float32,
    "int64": pl.Int64,
    "int32": pl.Int32,
    "int16": pl.Int16,
    "int8": pl.Int8,
    "bool": pl.Boolean,
}
#: Quantile codes of kernels.quantile, by distribution.
QUANTILE_CODES = {
    "normal": 0,
    "uniform": 1,
    "lognormal": 2,
    "exponential": 3,
    "poisson": 4,
    "binomial": 5,
    "bernoulli": 6,
    "integer": 7,
    "date": 7,
    "timestamp": 7,
}


def sample_shard(config: TabularConfig, seed: int, start: int, stop: int) -> dict[str, pl.Series]:
    """Rows ``[start, stop)``: every column, then the label and its truth, as polars Series."""
    n = stop - start
    latent = _copula(config, seed, start, n)
    series: dict[str, pl.Series] = {}
    for name in config.order():
        column = config.columns[name]
        if isinstance(column, c.Derived):
            values = formula_values(column.expr, config, series, n)
        elif name in latent:
            values = _from_normals(column, latent[name])
        else:
            values = _draw(column, series, derive_key(seed, f"tabular/{name}"), start, n)
        series[name] = _typed(name, column, values)
    out = {name: series[name] for name in config.columns}
    if config.label is not None:
        out.update(_label(config, series, seed, start, n))
    for name, rate in config.missing.items():
        if rate > 0:
            mask = np.empty(n, dtype=np.bool_)
            k0, k1 = derive_key(seed, f"tabular/{name}")
            kernels.missing_mask(start, k0, k1, float(rate), mask)
            out[name] = out[name].set(pl.Series(mask), None)  # type: ignore[arg-type]
    return out


def _copula(config: TabularConfig, seed: int, start: int, n: int) -> dict[str, np.ndarray]:
    names = config.copula_columns()
    if not names:
        return {}
    lower = cholesky(correlation_matrix(names, config.correlation))
    z = np.empty((len(names), n), dtype=np.float64)
    k0, k1 = derive_key(seed, "tabular/copula")
    kernels.correlated_normals(start, k0, k1, lower, z)
    return {name: z[i] for i, name in enumerate(names)}


def _from_normals(column: c.ColumnBase, z: np.ndarray) -> np.ndarray:
    dist = column.dist  # type: ignore[attr-defined]
    out = np.empty(z.shape[0], dtype=np.float64)
    kernels.quantile(QUANTILE_CODES[dist], np.asarray(quantile_params(column)), z, out)
    if dist in ("integer", "date", "timestamp"):
        return out.astype(np.int64)
    return out


def quantile_params(column: c.ColumnBase) -> list[float]:
    """The parameters kernels.quantile takes for ``column``'s distribution."""
    if isinstance(column, c.Normal):
        return [column.mean, column.std]
    if isinstance(column, c.Uniform):
        return [column.low, column.high]
    if isinstance(column, c.Lognormal):
        return [column.mu, column.sigma]
    if isinstance(column, c.Exponential):
        return [column.scale]
    if isinstance(column, c.Poisson):
        return [column.lam]
    if isinstance(column, c.Binomial):
        return [float(column.n), column.p]
    if isinstance(column, c.Bernoulli):
        return [column.p]
    low, span = integer_range(column)
    return [float(low), float(span)]


def integer_range(column: c.ColumnBase) -> tuple[int, int]:
    """(lowest value, number of values) of an integer, date or timestamp column."""
    if isinstance(column, c.Integer):
        return column.low, column.high - column.low + 1
    if isinstance(column, c.DateColumn):
        return (column.start - EPOCH).days, (column.end - column.start).days + 1
    if isinstance(column, c.TimestampColumn):
        return _micros(column.start), _micros(column.end) - _micros(column.start)
    raise TypeError(f"not an integer-valued column: {type(column).__name__}")


def _micros(moment: dt.datetime) -> int:
    delta = moment - dt.datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _draw(
    column: c.ColumnBase, series: dict[str, pl.Series], key: tuple[int, int], start: int, n: int
) -> np.ndarray:
    k0, k1 = key
    out = np.empty(n, dtype=np.float64)
    if isinstance(column, c.Normal):
        kernels.normal(start, k0, k1, column.mean, column.std, out)
    elif isinstance(column, c.Uniform):
        kernels.uniform(start, k0, k1, column.low, column.high, out)
    elif isinstance(column, c.Lognormal):
        kernels.lognormal(start, k0, k1, column.mu, column.sigma, out)
    elif isinstance(column, c.Exponential):
        kernels.exponential(start, k0, k1, column.scale, out)
    elif isinstance(column, c.Gamma):
        kernels.gamma(start, k0, k1, column.shape, column.scale, out)
    elif isinstance(column, c.Beta):
        kernels.beta(start, k0, k1, column.a, column.b, out)
    elif isinstance(column, c.Poisson):
        kernels.poisson(start, k0, k1, column.lam, out)
    elif isinstance(column, c.Binomial):
        kernels.binomial(start, k0, k1, float(column.n), column.p, out)
    elif isinstance(column, c.Bernoulli):
        kernels.bernoulli(start, k0, k1, column.p, out)
    elif isinstance(column, (c.Integer, c.DateColumn, c.TimestampColumn)):
        low, span = integer_range(column)
        ints = np.empty(n, dtype=np.int64)
        kernels.integers(start, k0, k1, low, span, ints)
        return ints
    elif isinstance(column, c.Categorical):
        return _categorical(column, series, k0, k1, start, n)
    elif isinstance(column, c.Sequence):
        index = np.arange(start, start + n, dtype=np.int64)
        if column.out_dtype() == "int64":
            return column.start + column.step * index
        return column.start + column.step * index.astype(np.float64)
    elif isinstance(column, c.Constant):
        return np.full(n, column.value)
    else:  # pragma: no cover - the column union lists every distribution
        raise TypeError(f"no sampler for {type(column).__name__}")
    return out


def _categorical(
    column: c.Categorical, series: dict[str, pl.Series], k0: int, k1: int, start: int, n: int
) -> np.ndarray:
    m = len(column.values)
    if column.given is None:
        rows = [column.weights or [1.0] * m]
        parent = np.empty(0, dtype=np.int64)
    else:
        parent_series = series[column.given]
        parent_values = list(parent_series.dtype.categories)  # type: ignore[attr-defined]
        rows = [column.weights[value] for value in parent_values]  # type: ignore[index]
        parent = parent_series.to_physical().to_numpy().astype(np.int64)
    cumulative = np.cumsum(np.asarray(rows, dtype=np.float64), axis=1)
    codes = np.empty(n, dtype=np.int64)
    kernels.categorical(start, k0, k1, cumulative, parent, codes)
    return codes


def _typed(name: str, column: c.ColumnBase, values: np.ndarray) -> pl.Series:
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
    return pl.Series(name, values).cast(_POLARS_DTYPES[dtype])


def formula_values(
    text: str, config: TabularConfig, series: dict[str, pl.Series], n: int
) -> np.ndarray:
    """The formula ``text`` evaluated by polars over the columns drawn so far, as float64."""
    node = expr.parse(text)
    used = {ref.name for ref in expr.names(node)}
    frame = pl.DataFrame([series[name] for name in series if name in used])
    result = frame.select(expr.to_polars(node, config.expr_kinds()).alias("value"))
    if not used:  # a formula without columns is a constant: broadcast it
        return np.full(n, result.item(0, 0), dtype=np.float64)
    return np.ascontiguousarray(result.to_series().to_numpy(), dtype=np.float64)


def _label(
    config: TabularConfig, series: dict[str, pl.Series], seed: int, start: int, n: int
) -> dict[str, pl.Series]:
    label = config.label
    assert label is not None
    eta = formula_values(label.formula, config, series, n)
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
