"""Spec models of tabular columns: one pydantic model per distribution, chosen by ``dist``.

A distribution's model holds its fields and rules, its output dtype, the parameters a
description shows and, when it has a quantile function (and so can join a Gaussian copula), its
code and parameters for ``kernels.quantile``: the config side, which imports no NumPy. How it
draws a batch is the kernel side's (``draws.py``). Adding a distribution is a new class here,
listed in :data:`ColumnConfig`, plus its kernels and its line in ``draws.py``. A column entry
with ``expr`` instead of ``dist`` is a derived column, computed by the sampler.
"""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from synthc.errors import counted
from synthc.generators.base import PART_CONFIG
from synthc.generators.tabular import expr, quantiles
from synthc.generators.tabular.params import Bounds, broken_bounds, number_or_formula

Path = tuple[str | int, ...]
#: a column's Philox key, derived from the seed and the column's name
Key = tuple[int, int]
#: 1970-01-01: dates are stored as days since it, timestamps as microseconds since its midnight
EPOCH = date(1970, 1, 1)
FloatDtype = Literal["float64", "float32"]
#: the largest finite value of each float storage dtype (float32's is (2 - 2**-23) * 2**127)
FLOAT_MAX = {"float64": sys.float_info.max, "float32": (2 - 2**-23) * 2.0**127}
#: the largest |Z| the samplers' standard normal gives: Marsaglia's polar method on 53-bit
#: uniforms has s >= 2**-104 and |Z| <= sqrt(-2 ln s) = 12.007 (a copula's normals pass it
#: with probability below 1e-32 per value)
Z_MAX = math.sqrt(-2.0 * math.log(2.0**-104))
#: the largest standard exponential the kernels give: -log P(Z > Z_MAX) = 75.5, the copula's
#: quantile at Z_MAX (the sampler's -log(1 - U) stops at -log(2**-53) = 36.7)
E_MAX = -math.log(0.5 * math.erfc(Z_MAX / math.sqrt(2.0)))
IntDtype = Literal["int64", "int32", "int16", "int8", "float64", "float32"]


def _number(default: float | None = None, **kwargs: Any) -> Any:
    if default is None:
        return Field(allow_inf_nan=False, **kwargs)
    return Field(default, allow_inf_nan=False, **kwargs)


class ColumnBase(BaseModel):
    """What every column has; subclasses add their parameters."""

    model_config = ConfigDict(**PART_CONFIG, strict=True)

    standardize: bool = Field(
        False,
        # left out of the dumped config when off, so task keys of specs without it are as before
        exclude_if=lambda on: not on,
        description="Rescale a float column to mean 0 and std 1 by its known distribution "
        "before other columns read it (what is stored too); see the README.",
    )

    #: "numeric" | "categorical" | "date" | "timestamp": how expressions may use the column.
    value_kind: ClassVar[str] = "numeric"
    #: The parameters a description shows, in order (and by default the quantile's parameters).
    params: ClassVar[tuple[str, ...]] = ()
    #: The distribution's code in kernels.quantile; None when it has no quantile function.
    quantile_code: ClassVar[int | None] = None

    @classmethod
    def dist_name(cls) -> str:
        """The ``dist`` this model is."""
        return str(get_args(cls.model_fields["dist"].annotation)[0])

    #: True when the column has a quantile function, so it can join a Gaussian copula (set
    #: from ``quantile_code`` for every model, so the class and its instances both answer).
    copula_ok: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.copula_ok = cls.quantile_code is not None

    def out_dtype(self) -> str:
        return "float64"

    def shown_params(self) -> dict[str, Any]:
        """The parameters a description of the column shows, by name."""
        return {k: getattr(self, k) for k in self.params if getattr(self, k) is not None}

    def quantile_params(self) -> list[float]:
        """The parameters kernels.quantile takes for this distribution."""
        return [float(getattr(self, k)) for k in self.params]

    def expr_kind(self) -> str:
        """How expressions may use the column: numeric, categorical, date or timestamp."""
        return self.value_kind

    def depends_on(self) -> list[str]:
        """Columns whose values this column's values depend on (its parameter formulas')."""
        names: list[str] = []
        for text in self.formula_paths().values():
            with contextlib.suppress(expr.ExprError):
                names += [ref.name for ref in expr.names(expr.parse(text))]
        return list(dict.fromkeys(names))

    #: bounds of each parameter that may be a formula, checked per row when it is one
    param_bounds: ClassVar[dict[str, Bounds]] = {}
    #: the parameters that may be formulas (of ``params``, in order)
    formula_params: ClassVar[tuple[str, ...]] = ()
    #: the kernel in ``kernels`` that takes one value per row for every parameter
    rows_kernel: ClassVar[str | None] = None

    def formulas(self) -> dict[str, str]:
        """The parameters given as formulas of other columns, by name."""
        return {k: v for k in self.formula_params if isinstance(v := getattr(self, k), str)}

    def formula_paths(self) -> dict[Path, str]:
        """Every formula among the parameters, by its path in the column."""
        return {(k,): v for k, v in self.formulas().items()}

    def formula_bounds(self, at: Path) -> Bounds:
        """The bounds of the parameter formula at ``at`` (a weight's when nested)."""
        return self.param_bounds.get(str(at[0]), {}) if len(at) == 1 else {"ge": 0.0}

    def constant_formulas(self) -> dict[Path, tuple[str, float]]:
        """The parameter formulas that read no column, by path: the text and the one value
        it has on every row (folded as the build computes it)."""
        found: dict[Path, tuple[str, float]] = {}
        for at, text in self.formula_paths().items():
            try:
                node = expr.parse(text)
            except expr.ExprError:
                continue
            if not expr.names(node):
                found[at] = (text, expr.affine(node)[0])
        return found

    def folded(self) -> ColumnBase | None:
        """This column with each parameter formula replaced by its value, when every formula
        reads no column and each value is within its bounds; None otherwise (no formula, or one
        that varies by row or breaks its bounds)."""
        paths = self.formula_paths()
        constant = self.constant_formulas()
        if not paths or len(constant) < len(paths):
            return None
        update: dict[str, Any] = {}
        for at, (_, value) in constant.items():
            if broken_bounds(value, self.formula_bounds(at)) is not None:
                return None
            if len(at) == 1:
                update[str(at[0])] = value
            else:
                items = update.setdefault(str(at[0]), list(getattr(self, str(at[0]))))
                items[int(at[1])] = value
        return self.model_copy(update=update)

    def copula_problem(self) -> str | None:
        """Why this copula-capable column cannot join a copula with these parameters, if so."""
        return None

    def formula_copula_problem(self) -> str | None:
        """A column whose parameters vary by row has no single quantile function."""
        if self.formulas():
            return "a column with parameter formulas cannot join the copula"
        return self.copula_problem()

    def problems(self) -> Iterable[tuple[Path, str]]:
        """Cross-field problems, paths relative to the column."""
        for rule in self.rules():
            yield from rule()

    def rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        """The column's checks, each judged on its own (synthc.compiler.partial): an invalid
        ``clip`` does not hide ``low >= high``."""
        return []

    def value_bounds(self, samples: int) -> tuple[Path, float, float] | None:
        """For a column stored as integers: the field that sets its extreme values and the
        lowest and highest value it can take over ``samples`` rows (before ``clip``); None
        when the column is not integer-valued."""
        return None


class Clipped(ColumnBase):
    """A numeric column that may be clipped to ``[low, high]``."""

    clip: list[float] | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="[low, high]: values outside are set to the nearer bound.",
    )

    def rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [self._clip_problems]

    def _clip_problems(self) -> Iterable[tuple[Path, str]]:
        if self.clip is not None and not self.clip[0] <= self.clip[1]:
            yield (("clip",), "low must be <= high")
        dtype = self.out_dtype()
        if self.clip is not None and (dtype.startswith("int") or dtype == "bool"):
            # a value clipped to 0.5 was stored as 0 (int) or True (bool), outside the clip
            for i, bound in enumerate(self.clip):
                if math.isfinite(bound) and bound != int(bound):
                    whole = math.ceil(bound) if i == 0 else math.floor(bound)
                    yield (
                        ("clip", i),
                        f"{_g(bound)} is not a whole number, and the column stores {dtype} "
                        f"values: use {whole}",
                    )
        top = FLOAT_MAX.get(dtype)
        if self.clip is not None and top is not None:
            # a value clipped to a bound beyond the dtype is stored as inf
            for i, bound in enumerate(self.clip):
                if (bound > top) if i == 0 else (bound < -top):
                    yield (
                        ("clip", i),
                        f"{_g(bound)} is beyond the largest {self.out_dtype()} ({_g(top)}): "
                        "values clipped to it would be stored as inf; use a bound within it",
                    )


class Continuous(Clipped):
    """A real-valued column stored as float64 or float32."""

    dtype: FloatDtype = Field("float64", description="Storage dtype.")

    def out_dtype(self) -> str:
        return self.dtype

    def rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [*super().rules(), self._overflow_problems]

    def _overflow_problems(self) -> Iterable[tuple[Path, str]]:
        if self.formulas():
            # the drawn values are checked per row at build time, unless the numbers alone
            # overflow whatever the formulas give
            found = self.overflow_beside_formulas(FLOAT_MAX[self.dtype])
        else:
            found = self.overflow(FLOAT_MAX[self.dtype])
        if found is not None:
            at, message = found
            yield (
                (at,),
                f"{message}, beyond the largest {self.dtype} ({_g(FLOAT_MAX[self.dtype])})",
            )

    def overflow(self, top: float) -> tuple[str, str] | None:
        """The parameter to blame and what overflows when some value the kernel can draw (or
        a sum it takes on the way) is beyond ``top``, the dtype's largest; None if none is."""
        return None

    def overflow_beside_formulas(self, top: float) -> tuple[str, str] | None:
        """As :meth:`overflow` for a column with parameter formulas: what its number
        parameters alone make overflow, whatever values the formulas take; None if nothing."""
        return None


class Discrete(Clipped):
    """An integer-valued column (int64 by default)."""

    dtype: IntDtype = Field("int64", description="Storage dtype.")

    def out_dtype(self) -> str:
        return self.dtype


class Normal(Continuous):
    """N(mean, std^2)."""

    dist: Literal["normal"]
    mean: Annotated[float | str, number_or_formula()] = Field(
        0.0, description="Mean (or a formula)."
    )
    std: Annotated[float | str, number_or_formula(ge=0)] = Field(
        1.0, description="Standard deviation (or a formula)."
    )
    params: ClassVar[tuple[str, ...]] = ("mean", "std")
    quantile_code: ClassVar[int | None] = quantiles.Q_NORMAL
    param_bounds: ClassVar[dict[str, Bounds]] = {"std": {"ge": 0}}
    rows_kernel: ClassVar[str | None] = "normal_rows"
    formula_params: ClassVar[tuple[str, ...]] = params

    def overflow_beside_formulas(self, top: float) -> tuple[str, str] | None:
        if isinstance(self.std, str):
            return None
        spread = float(self.std) * Z_MAX
        if not spread <= top:
            return (
                "std",
                f"values reach mean + {Z_MAX:.4g} std, and {Z_MAX:.4g} std alone is "
                f"{_g(spread)} whatever the mean",
            )
        return None

    def overflow(self, top: float) -> tuple[str, str] | None:
        mean, spread = abs(float(self.mean)), float(self.std) * Z_MAX
        if not mean + spread <= top:
            return (
                "mean" if mean >= spread else "std",
                f"values reach |mean| + {Z_MAX:.4g} std = {_g(mean + spread)}",
            )
        return None


class Uniform(Continuous):
    """U[low, high)."""

    dist: Literal["uniform"]
    low: Annotated[float | str, number_or_formula()] = Field(
        0.0, description="Lower bound (inclusive; or a formula)."
    )
    high: Annotated[float | str, number_or_formula()] = Field(
        1.0, description="Upper bound (exclusive; or a formula)."
    )
    params: ClassVar[tuple[str, ...]] = ("low", "high")
    quantile_code: ClassVar[int | None] = quantiles.Q_UNIFORM
    rows_kernel: ClassVar[str | None] = "uniform_rows"
    formula_params: ClassVar[tuple[str, ...]] = params

    def rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [*super().rules(), self._range_problems]

    def _range_problems(self) -> Iterable[tuple[Path, str]]:
        if self.formulas():
            return  # checked per row at build time
        if not self.low < self.high:  # type: ignore[operator]
            yield (("high",), f"must be > low ({self.low:g})")

    def overflow(self, top: float) -> tuple[str, str] | None:
        low, high = float(self.low), float(self.high)
        if not high - low <= sys.float_info.max:
            return ("high", f"high - low = {_g(high - low)} (values are low + (high - low) U)")
        for at, value in (("low", low), ("high", high)):
            if not abs(value) <= top:
                return (at, f"{at} is {_g(value)}")
        return None


class Lognormal(Continuous):
    """exp(N(mu, sigma^2))."""

    dist: Literal["lognormal"]
    mu: Annotated[float | str, number_or_formula()] = Field(
        0.0, description="Mean of the log (or a formula)."
    )
    sigma: Annotated[float | str, number_or_formula(ge=0)] = Field(
        1.0, description="Std of the log (or a formula)."
    )
    params: ClassVar[tuple[str, ...]] = ("mu", "sigma")
    quantile_code: ClassVar[int | None] = quantiles.Q_LOGNORMAL
    param_bounds: ClassVar[dict[str, Bounds]] = {"sigma": {"ge": 0}}
    rows_kernel: ClassVar[str | None] = "lognormal_rows"
    formula_params: ClassVar[tuple[str, ...]] = params

    def overflow(self, top: float) -> tuple[str, str] | None:
        mu, spread = float(self.mu), float(self.sigma) * Z_MAX
        if mu > math.log(top):
            return ("mu", f"the median exp(mu) is about {_power_of_e(mu)}")
        if not mu + spread <= math.log(top):
            return (
                "sigma",
                f"values reach exp(mu + {Z_MAX:.4g} sigma) = {_power_of_e(mu + spread)}",
            )
        return None


class Exponential(Continuous):
    """Exponential with the given scale (mean)."""

    dist: Literal["exponential"]
    scale: Annotated[float | str, number_or_formula(gt=0)] = Field(
        1.0, description="Scale = mean = 1 / rate (or a formula)."
    )
    params: ClassVar[tuple[str, ...]] = ("scale",)
    quantile_code: ClassVar[int | None] = quantiles.Q_EXPONENTIAL
    param_bounds: ClassVar[dict[str, Bounds]] = {"scale": {"gt": 0}}
    rows_kernel: ClassVar[str | None] = "exponential_rows"
    formula_params: ClassVar[tuple[str, ...]] = params

    def overflow(self, top: float) -> tuple[str, str] | None:
        reach = float(self.scale) * E_MAX
        if not reach <= top:
            return ("scale", f"values reach {E_MAX:.3g} scale = {_g(reach)}")
        return None


class Gamma(Continuous):
    """Gamma(shape, scale), mean shape * scale."""

    dist: Literal["gamma"]
    shape: float = _number(gt=0, description="Shape k.")
    scale: float = _number(1.0, gt=0, description="Scale theta.")
    params: ClassVar[tuple[str, ...]] = ("scale", "shape")

    def overflow(self, top: float) -> tuple[str, str] | None:
        most = _gamma_max(self.shape)
        if not most <= top:
            return ("shape", f"Gamma(shape) draws reach {_g(most)}")
        if not self.scale * most <= top:
            return ("scale", f"values reach scale x {_g(most)} = {_g(self.scale * most)}")
        return None


class Beta(Continuous):
    """Beta(a, b) on [0, 1]."""

    dist: Literal["beta"]
    a: float = _number(gt=0, description="Shape alpha.")
    b: float = _number(gt=0, description="Shape beta.")
    params: ClassVar[tuple[str, ...]] = ("a", "b")

    def overflow(self, top: float) -> tuple[str, str] | None:
        total = _gamma_max(self.a) + _gamma_max(self.b)
        if not total <= sys.float_info.max:
            return (
                "a" if self.a >= self.b else "b",
                "X + Y of X ~ Gamma(a), Y ~ Gamma(b) reaches inf (values are X / (X + Y))",
            )
        return None


class Poisson(Discrete):
    """Poisson(lam)."""

    dist: Literal["poisson"]
    lam: Annotated[float | str, number_or_formula(ge=0, le=1e9)] = Field(
        description="Mean (or a formula)."
    )
    params: ClassVar[tuple[str, ...]] = ("lam",)
    quantile_code: ClassVar[int | None] = quantiles.Q_POISSON
    param_bounds: ClassVar[dict[str, Bounds]] = {"lam": {"ge": 0, "le": 1e9}}
    rows_kernel: ClassVar[str | None] = "poisson_rows"
    formula_params: ClassVar[tuple[str, ...]] = params

    def value_bounds(self, samples: int) -> tuple[Path, float, float] | None:
        lam = 1e9 if isinstance(self.lam, str) else self.lam  # a formula: up to the bound
        # P(X > lam + 20 sqrt(lam) + 20) is far below one in 10**40: a practical maximum.
        return (("lam",), 0, math.ceil(lam + 20 * math.sqrt(lam) + 20))

    def copula_problem(self) -> str | None:
        if isinstance(self.lam, float) and self.lam > 700:
            return "a poisson column in the copula needs lam <= 700 (its quantile is inverted)"
        return None


class Binomial(Discrete):
    """Binomial(n, p)."""

    dist: Literal["binomial"]
    n: int = Field(ge=0, le=2**31 - 1, description="Trials.")
    p: float = _number(ge=0, le=1, description="Success probability.")
    params: ClassVar[tuple[str, ...]] = ("n", "p")
    quantile_code: ClassVar[int | None] = quantiles.Q_BINOMIAL

    def value_bounds(self, samples: int) -> tuple[Path, float, float] | None:
        return (("n",), 0, self.n)

    def copula_problem(self) -> str | None:
        if self.n > 1000:
            return "a binomial column in the copula needs n <= 1000 (its quantile is inverted)"
        return None


class Bernoulli(Discrete):
    """1 with probability p, else 0."""

    dist: Literal["bernoulli"]
    p: Annotated[float | str, number_or_formula(ge=0, le=1)] = Field(
        description="Probability of 1 (or a formula)."
    )
    # frozen models: widening the inherited field's type is safe here
    dtype: Literal[IntDtype, "bool"] = Field("int64", description="Storage dtype.")  # type: ignore[assignment]
    params: ClassVar[tuple[str, ...]] = ("p",)
    quantile_code: ClassVar[int | None] = quantiles.Q_BERNOULLI
    param_bounds: ClassVar[dict[str, Bounds]] = {"p": {"ge": 0, "le": 1}}
    rows_kernel: ClassVar[str | None] = "bernoulli_rows"
    formula_params: ClassVar[tuple[str, ...]] = params

    def value_bounds(self, samples: int) -> tuple[Path, float, float] | None:
        return (("p",), 0, 1)


class UniformIntegers:
    """A column drawn uniformly from ``span`` consecutive integers from ``low`` (integers, dates
    as days, timestamps as microseconds): its range and its quantile's parameters."""

    quantile_code: ClassVar[int | None] = quantiles.Q_INTEGER

    def integer_range(self) -> tuple[int, int]:
        """(lowest value, number of values) as stored integers."""
        raise NotImplementedError

    def quantile_params(self) -> list[float]:
        low, span = self.integer_range()
        return [float(low), float(span)]


class Integer(UniformIntegers, Discrete):
    """Uniform integer in [low, high], both inclusive."""

    dist: Literal["integer"]
    low: int = Field(ge=-(2**62), le=2**62, description="Lowest value (inclusive).")
    high: int = Field(ge=-(2**62), le=2**62, description="Highest value (inclusive).")
    params: ClassVar[tuple[str, ...]] = ("low", "high")

    def integer_range(self) -> tuple[int, int]:
        return self.low, self.high - self.low + 1

    def rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [*super().rules(), self._range_problems]

    def _range_problems(self) -> Iterable[tuple[Path, str]]:
        if not self.low <= self.high:
            yield (("high",), f"must be >= low ({self.low})")

    def value_bounds(self, samples: int) -> tuple[Path, float, float] | None:
        return (("high",) if abs(self.high) >= abs(self.low) else ("low",), self.low, self.high)

    def copula_problem(self) -> str | None:
        if self.high - self.low >= 2**53 or max(abs(self.low), abs(self.high)) > 2**53:
            return "an integer column in the copula needs values within +-2**53"
        return None


class DateColumn(UniformIntegers, ColumnBase):
    """A uniform calendar date in [start, end], both inclusive."""

    dist: Literal["date"]
    start: date = Field(strict=False, description="First date (YYYY-MM-DD).")
    end: date = Field(strict=False, description="Last date (inclusive).")
    value_kind: ClassVar[str] = "date"
    params: ClassVar[tuple[str, ...]] = ("start", "end")

    def integer_range(self) -> tuple[int, int]:
        return (self.start - EPOCH).days, (self.end - self.start).days + 1

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_only(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            raise ValueError("a date column takes dates (YYYY-MM-DD); use dist: timestamp")
        return value

    def out_dtype(self) -> str:
        return "date"

    def rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [self._own_problems]

    def _own_problems(self) -> Iterable[tuple[Path, str]]:
        if not self.start <= self.end:
            yield (("end",), f"must be on or after start ({self.start})")


class TimestampColumn(UniformIntegers, ColumnBase):
    """A uniform instant in [start, end), microsecond resolution, no time zone."""

    dist: Literal["timestamp"]
    start: datetime = Field(strict=False, description="First instant (ISO 8601, or a date).")
    end: datetime = Field(strict=False, description="End instant (exclusive).")
    value_kind: ClassVar[str] = "timestamp"
    params: ClassVar[tuple[str, ...]] = ("start", "end")

    def integer_range(self) -> tuple[int, int]:
        return _micros(self.start), _micros(self.end) - _micros(self.start)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _midnight(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day)
        return value

    @field_validator("start", "end")
    @classmethod
    def _naive(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("give a time without a time zone (timestamps are stored naive)")
        return value

    def out_dtype(self) -> str:
        return "datetime[us]"

    def rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [self._own_problems]

    def _own_problems(self) -> Iterable[tuple[Path, str]]:
        if not self.start < self.end:
            yield (("end",), f"must be after start ({self.start.isoformat()})")


class Categorical(ColumnBase):
    """One of ``values`` by ``weights``; with ``given``, by the weights of the parent's value."""

    dist: Literal["categorical"]
    values: list[str] = Field(min_length=1, description="The categories, in order.")
    weights: list[float | str] | dict[str, list[float]] | None = Field(
        None,
        description="One weight per value (normalised; default equal; each a number or a "
        "formula of numeric columns), or with `given` a mapping from each value of the given "
        "column to a list of numbers.",
    )
    given: str | None = Field(None, description="A categorical column this one depends on.")
    value_kind: ClassVar[str] = "categorical"
    params: ClassVar[tuple[str, ...]] = ("values", "weights", "given")

    def out_dtype(self) -> str:
        return "enum"

    def depends_on(self) -> list[str]:
        return ([self.given] if self.given else []) + super().depends_on()

    def formula_paths(self) -> dict[Path, str]:
        if not isinstance(self.weights, list):
            return {}
        return {("weights", i): w for i, w in enumerate(self.weights) if isinstance(w, str)}

    def shown_params(self) -> dict[str, Any]:
        return {"values": self.values, "weights": self.weights or "equal"} | (
            {"given": self.given} if self.given else {}
        )

    def rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [self._own_problems]

    def _own_problems(self) -> Iterable[tuple[Path, str]]:
        seen: set[str] = set()
        for i, value in enumerate(self.values):
            if value in seen:
                yield (("values", i), f"duplicate value {value!r}")
            seen.add(value)
        if self.given is None and isinstance(self.weights, dict):
            yield (("weights",), "per-value weights need `given`: a list of weights otherwise")
        if self.given is not None and not isinstance(self.weights, dict):
            yield (
                ("weights",),
                f"with given: {self.given}, weights maps each of its values to a list of weights",
            )
        rows = self.weights.items() if isinstance(self.weights, dict) else [(None, self.weights)]
        for key, row in rows:
            if row is None:
                continue
            at: Path = ("weights",) + ((key,) if key is not None else ())
            if len(row) != len(self.values):
                yield (
                    at,
                    f"has {counted(len(row), 'weight')} for {counted(len(self.values), 'value')}",
                )
                continue
            numbers = [w for w in row if not isinstance(w, str)]
            if len(numbers) < len(row):  # formulas: their rows are checked at build time
                if any(not (w >= 0 and w < float("inf")) for w in numbers):
                    yield (at, "weights must be finite and >= 0")
                    continue
            elif any(not (w >= 0 and w < float("inf")) for w in numbers) or sum(numbers) <= 0:
                yield (at, "weights must be finite, >= 0, and not all 0")
                continue
            total = 0.0
            for w in numbers:  # added in order, as the sampler's cumulative sums are
                total += w
            if total == math.inf:
                yield (
                    at,
                    "the weights add up to inf: their sum must be at most "
                    f"{_g(sys.float_info.max)}",
                )


class Sequence(ColumnBase):
    """start + step * i for the global sample index i."""

    dist: Literal["sequence"]
    # Not _number: pydantic's field-level inf/nan check also runs on the int branch and raises
    # OverflowError for integers beyond a float; the model config refuses non-finite floats.
    start: int | float = Field(0, description="Value of sample 0.")
    step: int | float = Field(1, description="Increment per sample.")
    params: ClassVar[tuple[str, ...]] = ("start", "step")

    def out_dtype(self) -> str:
        return "int64" if isinstance(self.start, int) and isinstance(self.step, int) else "float64"

    def value_bounds(self, samples: int) -> tuple[Path, float, float] | None:
        if isinstance(self.start, int) and isinstance(self.step, int):
            last: float = self.start + self.step * (samples - 1)  # exact: Python ints
        else:
            last = _as_float(self.start) + _as_float(self.step) * (samples - 1)
        # blame start when it alone is out of the int64 / float64 range, else the step
        ints = self.out_dtype() == "int64"
        start_fits = abs(self.start) < 2**63 if ints else math.isfinite(_as_float(self.start))
        at = ("step",) if self.step and start_fits else ("start",)
        return (at, min(self.start, last), max(self.start, last))


class Constant(ColumnBase):
    """The same value in every row."""

    dist: Literal["constant"]
    value: bool | int | float | str = Field(description="The value.")
    params: ClassVar[tuple[str, ...]] = ("value",)

    def expr_kind(self) -> str:
        return "categorical" if isinstance(self.value, str) else "numeric"

    def out_dtype(self) -> str:
        if isinstance(self.value, bool):
            return "bool"
        if isinstance(self.value, str):
            return "enum"
        return "int64" if isinstance(self.value, int) else "float64"

    def value_bounds(self, samples: int) -> tuple[Path, float, float] | None:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            return None
        return (("value",), self.value, self.value)


#: the distributions an ``expr`` column's ``noise`` may take (numeric, constant parameters)
Noise = Annotated[
    Normal | Uniform | Lognormal | Exponential | Gamma | Beta | Poisson | Binomial | Bernoulli,
    Field(discriminator="dist"),
]


class Derived(Clipped):
    """A column computed from others by an expression, plus optional noise."""

    expr: str = Field(min_length=1, description="Formula over other columns; see the README.")
    dtype: FloatDtype = Field("float64", description="Storage dtype.")
    noise: Noise | None = Field(
        None,
        description="A distribution with constant parameters whose draw (from the column's "
        "own stream) is added to the formula's value.",
    )

    def out_dtype(self) -> str:
        return self.dtype

    def rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [*super().rules(), self._noise_problems]

    def _noise_problems(self) -> Iterable[tuple[Path, str]]:
        if self.noise is None:
            return
        for param in self.noise.formulas():
            yield (("noise", param), "a noise parameter must be a number, not a formula")
        if not self.noise.formulas():
            noise = self.noise
            if getattr(noise, "dtype", None) in FLOAT_MAX and noise.dtype != self.dtype:
                # judged in the column's dtype, which stores it (its own is ignored)
                noise = noise.model_copy(update={"dtype": self.dtype})
            for path, message in noise.problems():
                yield (("noise", *path), message)


def _gamma_max(shape: float) -> float:
    """The largest Gamma(shape, 1) draw of ``kernels._gamma1``: d (1 + c Z)^3 at Z = Z_MAX,
    with a = shape (shape + 1 below 1, times U^(1/shape) <= 1), d = a - 1/3, c = 1/sqrt(9 d)."""
    d = (shape + 1.0 if shape < 1.0 else shape) - 1.0 / 3.0
    return d * (1.0 + Z_MAX / math.sqrt(9.0 * d)) ** 3


def _g(value: float) -> str:
    return f"{value:.4g}"


def _power_of_e(x: float) -> str:
    """exp(x) written as a power of ten, without computing it (it may overflow)."""
    if not math.isfinite(x):
        return "inf"
    return f"10^{x / math.log(10):.1f}" if x > 700 else f"{math.exp(x):.4g}"


def _micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _as_float(value: float) -> float:
    """``value`` as a float; an integer too large for one is infinite (and then refused)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _column_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        if "dist" in value:
            return value["dist"]
        if "expr" in value:
            return "expr"
        return None
    if isinstance(value, Derived):  # serialising a validated model
        return "expr"
    return getattr(value, "dist", None)


# The discriminator function is called `dist` so errors read "unknown dist 'x'".
_column_tag.__name__ = "dist"

ColumnConfig = Annotated[
    Annotated[Normal, Tag("normal")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Lognormal, Tag("lognormal")]
    | Annotated[Exponential, Tag("exponential")]
    | Annotated[Gamma, Tag("gamma")]
    | Annotated[Beta, Tag("beta")]
    | Annotated[Poisson, Tag("poisson")]
    | Annotated[Binomial, Tag("binomial")]
    | Annotated[Bernoulli, Tag("bernoulli")]
    | Annotated[Integer, Tag("integer")]
    | Annotated[DateColumn, Tag("date")]
    | Annotated[TimestampColumn, Tag("timestamp")]
    | Annotated[Categorical, Tag("categorical")]
    | Annotated[Sequence, Tag("sequence")]
    | Annotated[Constant, Tag("constant")]
    | Annotated[Derived, Tag("expr")],
    Discriminator(_column_tag),
]
