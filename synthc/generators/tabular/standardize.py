"""``standardize: true``: a column rescaled to mean 0 and std 1 by its known distribution.

Drawn values grow in variance along a simulated causal order (each child adds its parents'
variance to its own), which lets a method "discover" the order from marginal variances alone
(Reisach et al. 2021, "Beware of the simulated DAG"). A standardised column is stored, and read
by its children, as ``(value - mean) / std``, where ``(mean, std)`` are

* exact (``closed form``) for a column drawn from a distribution with constant parameters
  (a copula member too: the copula keeps the marginals), and
* otherwise (parameter formulas, ``expr`` columns) the mean and the population std of a pilot
  sample of :data:`PILOT_ROWS` rows (tabular.scales) drawn from the dedicated streams
  ``tabular/pilot/<name>`` with the same seed, its parents already standardised: fixed by
  ``(seed, config)``, independent of ``samples``, shards and workers.

Both are recorded in the manifest's graph (``generator.facts.graph``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from synthc.generators.tabular import columns as c
from synthc.generators.tabular import expr

Path = tuple[str | int, ...]
#: rows of the pilot sample that estimates the moments of columns without a closed form
PILOT_ROWS = 100_000
#: the pilot sample's stream prefix: column ``name`` draws from ``tabular/pilot/<name>``
PILOT_STREAM = "tabular/pilot"


def closed_form(column: c.ColumnBase) -> tuple[float, float] | None:
    """The exact (mean, std) of a column drawn from a distribution with constant parameters;
    None for parameter formulas, ``expr`` columns and distributions without one here."""
    if isinstance(column, c.Derived) or column.formulas():
        return None
    if isinstance(column, c.Normal):
        return float(column.mean), float(column.std)
    if isinstance(column, c.Uniform):
        low, high = float(column.low), float(column.high)
        return (low + high) / 2, (high - low) / math.sqrt(12)
    if isinstance(column, c.Lognormal):
        mu, s2 = float(column.mu), float(column.sigma) ** 2
        if s2 <= 700 and mu + s2 <= 700:
            return math.exp(mu + s2 / 2), math.sqrt(math.expm1(s2)) * math.exp(mu + s2 / 2)
        # the same in logs, where exp or expm1 would raise OverflowError (an inf is refused)
        log_mean = mu + s2 / 2
        log_std = log_mean + (s2 + math.log1p(-math.exp(-s2))) / 2
        return _exp(log_mean), _exp(log_std)
    if isinstance(column, c.Exponential):
        return float(column.scale), float(column.scale)
    if isinstance(column, c.Gamma):
        return column.shape * column.scale, math.sqrt(column.shape) * column.scale
    if isinstance(column, c.Beta):
        a, b = column.a, column.b
        return a / (a + b), math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    if isinstance(column, c.Poisson):
        return float(column.lam), math.sqrt(float(column.lam))
    if isinstance(column, c.Binomial):
        return column.n * column.p, math.sqrt(column.n * column.p * (1 - column.p))
    if isinstance(column, c.Bernoulli):
        p = float(column.p)
        return p, math.sqrt(p * (1 - p))
    if isinstance(column, c.Integer):
        span = column.high - column.low + 1
        return (column.low + column.high) / 2, math.sqrt((span * span - 1) / 12)
    return None


def _exp(x: float) -> float:
    return math.inf if x > 709.78 else math.exp(x)


def problems(column: c.ColumnBase) -> Iterable[tuple[Path, str]]:
    """Why ``standardize: true`` cannot apply to this column (paths relative to it)."""
    noise = getattr(column, "noise", None)
    if noise is not None and noise.standardize:
        yield (("noise", "standardize"), "standardize applies to the column, not to its noise")
    if not column.standardize:
        return
    kind = getattr(column, "dist", "expr")
    if kind in ("categorical", "date", "timestamp", "constant", "sequence"):
        yield (
            ("standardize",),
            f"a {kind} column cannot be standardised: standardize needs a float column drawn "
            "from a distribution or computed by expr",
        )
        return
    if column.out_dtype() not in ("float64", "float32"):
        yield (
            ("standardize",),
            f"standardize needs a float dtype (standardised values are not integers): "
            f"add dtype: float64 (the column is {column.out_dtype()})",
        )
    if getattr(column, "clip", None) is not None:
        yield (("clip",), "clip and standardize cannot be combined: clip the values in a formula")
    if isinstance(column, c.Derived) and column.noise is None:
        constant = _constant_value(column.expr)
        if constant is not None:
            yield (
                ("standardize",),
                f"the formula reads no column, so the column is always {constant:g}: there is "
                "nothing to standardise",
            )
            return
    moments = closed_form(column.folded() or column)
    if moments is not None and not all(map(math.isfinite, moments)):
        yield (("standardize",), "the column's mean or std is beyond float64: nothing to scale by")
    elif moments is not None and not moments[1] > 0:
        yield (("standardize",), "the column has zero variance: there is nothing to standardise")


def _constant_value(text: str) -> float | None:
    """The value of a formula that reads no column; None when it reads one (or is invalid)."""
    try:
        node = expr.parse(text)
    except expr.ExprError:
        return None
    return None if expr.names(node) else expr.affine(node)[0]


def needs_pilot(column: c.ColumnBase) -> bool:
    """True when a standardised column's moments come from the pilot sample."""
    return column.standardize and closed_form(column) is None
