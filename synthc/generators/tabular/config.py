"""The tabular generator's spec model and its cross-field checks (names, order, copula, label)."""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from synthc import limits
from synthc.generators.base import PART_CONFIG, GeneratorConfig
from synthc.generators.holes import HOLE, is_hole
from synthc.generators.memory import NUMBER_BYTES, size, table_shard_problem
from synthc.generators.tabular import expr, standardize
from synthc.generators.tabular.columns import (
    FLOAT_MAX,
    Z_MAX,
    Categorical,
    ColumnBase,
    ColumnConfig,
    Constant,
    Derived,
)
from synthc.generators.tabular.copula import (
    clearly_positive_definite,
    correlation_matrix,
    not_positive_definite,
)
from synthc.generators.tabular.params import broken_bounds
from synthc.hints import did_you_mean

Path = tuple[str | int, ...]
#: the largest finite float32, (2 - 2**-23) * 2**127 (numpy.finfo(numpy.float32).max)
FLOAT32_MAX = FLOAT_MAX["float32"]
#: the values each numeric storage dtype holds
DTYPE_RANGES: dict[str, tuple[float, float]] = {
    **{f"int{b}": (-(2 ** (b - 1)), 2 ** (b - 1) - 1) for b in (8, 16, 32, 64)},
    "float32": (-FLOAT32_MAX, FLOAT32_MAX),
    "float64": (-sys.float_info.max, sys.float_info.max),
}
#: copies of a shard's numbers alive at once while it is generated and encoded (a column's
#: float64 draws, its typed polars series, the copula's normals, Arrow buffers for Parquet;
#: measured 2.2 for a 250,000-row shard of specs/churn.yaml, with room for formulas)
SHARD_MEMORY_FACTOR = 4
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {"index", "and", "or", "not"}


class Label(BaseModel):
    """A label computed from the columns by a known formula."""

    model_config = ConfigDict(**PART_CONFIG, strict=True)

    name: str = Field(description="Column name of the label; `<name>_true` holds the truth.")
    kind: Literal["logistic", "linear", "threshold"] = Field(
        description="logistic: 1 with probability sigmoid(formula); linear: formula plus "
        "Gaussian noise; threshold: 1 where formula > 0."
    )
    formula: str = Field(min_length=1, description="Expression over the columns.")
    noise: float = Field(
        0.0,
        ge=0,
        allow_inf_nan=False,
        description="linear: Gaussian std; logistic and threshold: probability of flipping.",
    )


class TabularConfig(GeneratorConfig):
    """Columns drawn from distributions or computed by formulas, an optional copula and label."""

    model_config = ConfigDict(**PART_CONFIG, strict=True)

    kind: Literal["tabular"] = Field(description="Generator kind.")
    columns: dict[str, ColumnConfig] = Field(
        min_length=1, description="Column name -> distribution (`dist`) or formula (`expr`)."
    )
    correlation: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Gaussian copula: column -> {other column: correlation} over columns with "
        "a quantile function.",
    )
    label: Label | None = Field(None, description="A label from a known formula.")
    missing: dict[str, float] = Field(
        default_factory=dict,
        description="Column -> rate of values set to null completely at random, after labels.",
    )

    def semantic_problems(self) -> Iterable[tuple[Any, ...]]:
        for rule in self.semantic_rules():
            yield from rule()

    def semantic_rules(self) -> list[Callable[[], Iterable[tuple[Any, ...]]]]:
        # One rule per column and per formula, so a column that failed validation silences only
        # the rules that read it.
        rules: list[Callable[[], Iterable[tuple[Any, ...]]]] = [self._name_problems]
        # worked out once for every formula rule (each working out every column's kind made
        # validating a wide table quadratic: 12 s for 1,500 columns); not kept when it raises on
        # a column that failed validation, so the next rule tries again
        readable: Readable = functools.cache(lambda: (self.expr_kinds(), self.categories()))
        for name, column in {} if is_hole(self.columns) else self.columns.items():
            for rule in () if is_hole(column) else column.rules():
                rules.append(functools.partial(_in_column, name, rule))
            if not is_hole(column):
                check = functools.partial(standardize.problems, column)
                rules.append(functools.partial(_in_column, name, check))
                constant = functools.partial(_constant_formula_problems, column)
                rules.append(functools.partial(_in_column, name, constant))
            rules.append(functools.partial(self._references_of, name, readable))
        rules += [
            functools.partial(self._label_problems, readable),
            self._cycle_problems,
            self._correlation_problems,
            self._missing_problems,
        ]
        return rules

    def size_problems(self, samples: int, shard_size: int) -> Iterable[tuple[Any, ...]]:
        for name, column in self.columns.items():
            problem = _range_problem(column, samples)
            if problem is not None:
                at, message = problem
                yield (("generator", "columns", name, *at), message)
        numbers = 1 + len(self.columns) + (2 if self.label else 0)
        problem = table_shard_problem(min(samples, shard_size), numbers, SHARD_MEMORY_FACTOR)
        if problem is not None:
            yield problem
        pilot = [name for name, column in self.columns.items() if standardize.needs_pilot(column)]
        need = standardize.PILOT_ROWS * numbers * NUMBER_BYTES * SHARD_MEMORY_FACTOR
        if pilot and need > limits.MAX_BATCH_BYTES:
            yield (
                ("generator", "columns", pilot[0], "standardize"),
                f"the pilot sample of standardize ({standardize.PILOT_ROWS:,} rows x {numbers:,} "
                f"values) needs about {size(need)}, over the limit of "
                f"{size(limits.MAX_BATCH_BYTES)} (synthc.limits.MAX_BATCH_BYTES): standardise "
                "only columns with closed-form moments, or use fewer columns",
            )

    # -- derived facts -------------------------------------------------------------------

    def expr_kinds(self) -> dict[str, str]:
        # A column that failed validation stays a hole: a formula that reads it is not judged.
        return {
            name: HOLE if is_hole(column) else column.expr_kind()
            for name, column in self.columns.items()
        }

    def categories(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for name, column in self.columns.items():
            if is_hole(column) or is_hole(getattr(column, "values", None)):
                result[name] = HOLE
            elif isinstance(column, Categorical):
                result[name] = list(column.values)
            elif isinstance(column, Constant) and isinstance(column.value, str):
                result[name] = [column.value]  # a constant string is a one-category column
        return result

    def dependencies(self, name: str) -> list[str]:
        column = self.columns[name]
        if isinstance(column, Derived):
            try:
                return [ref.name for ref in expr.names(expr.parse(column.expr))]
            except expr.ExprError:
                return []
        return column.depends_on()

    def order(self) -> list[str]:
        """Columns in an order where each comes after what it depends on (declaration order
        otherwise). Assumes no cycles (checked by ``semantic_problems``)."""
        done: list[str] = []
        placed: set[str] = set()
        for root in self.columns:  # depth first, each column after its dependencies
            if root in placed:
                continue
            path = {root}  # the columns being placed: a dependency on one of them is a cycle
            work = [(root, iter(self.dependencies(root)))]  # no recursion: chains may be long
            while work:
                name, deps = work[-1]
                dep = next(deps, None)
                if dep is not None:
                    if dep not in placed and dep in self.columns and dep not in path:
                        path.add(dep)
                        work.append((dep, iter(self.dependencies(dep))))
                    continue
                work.pop()
                path.discard(name)
                placed.add(name)
                done.append(name)
        return done

    def copula_columns(self) -> list[str]:
        involved = set(self.correlation)
        for row in self.correlation.values():
            involved.update(row)
        return [name for name in self.columns if name in involved]

    # -- checks ----------------------------------------------------------------------------

    def _name_problems(self) -> Iterable[tuple[Any, ...]]:
        for name in self.columns:
            if not NAME.match(name) or name in RESERVED:
                yield (
                    ("columns", name),
                    f"column name {name!r} must be an identifier ([A-Za-z_][A-Za-z0-9_]*) "
                    "and not index, and, or, not",
                )
        if self.label is not None:
            label = self.label.name
            for taken in (label, f"{label}_true"):
                if taken in self.columns:
                    yield (("label", "name"), f"{taken!r} is already a column")
            if not NAME.match(label) or label in RESERVED:
                yield (
                    ("label", "name"),
                    f"label name {label!r} must be an identifier ([A-Za-z_][A-Za-z0-9_]*) "
                    "and not index, and, or, not",
                )

    def _references_of(self, name: str, readable: Readable) -> Iterable[tuple[Any, ...]]:
        column = self.columns[name]
        if isinstance(column, Derived):
            kinds, categories = readable()
            yield from _formula_problems(("columns", name, "expr"), column.expr, kinds, categories)
        if not isinstance(column, Derived):
            for at, text in column.formula_paths().items():
                kinds, categories = readable()
                yield from _formula_problems(("columns", name, *at), text, kinds, categories)
        given = getattr(column, "given", None)
        if given is not None:
            yield from self._given_problems(name, given)

    def _label_problems(self, readable: Readable) -> Iterable[tuple[Any, ...]]:
        if self.label is not None:
            kinds, categories = readable()
            yield from _formula_problems(
                ("label", "formula"), self.label.formula, kinds, categories, intercept=True
            )
            spread = self.label.noise * Z_MAX
            top = FLOAT_MAX["float64"]  # the label is stored as float64
            if self.label.kind == "linear" and not spread <= top:
                yield (
                    ("label", "noise"),
                    f"the label reaches formula + {Z_MAX:.4g} x noise, which alone is "
                    f"{spread:.4g}, beyond the largest float64 ({top:.4g}): use a noise of "
                    f"at most {top / Z_MAX:.4g}",
                )
            if self.label.kind != "linear" and self.label.noise > 0.5:
                yield (("label", "noise"), "a flip rate above 0.5 inverts the label: use <= 0.5")

    def _given_problems(self, name: str, given: str) -> Iterable[tuple[Any, ...]]:
        parent = self.columns.get(given)
        if parent is None:
            hint = _hint(given, list(self.columns))
            yield (("columns", name, "given"), f"unknown column {given!r}{hint}")
            return
        values = getattr(parent, "values", None)
        if values is None:
            yield (("columns", name, "given"), f"{given!r} is not a categorical column")
            return
        weights = getattr(self.columns[name], "weights", None)
        if isinstance(weights, dict):
            for key in weights:
                if key not in values:
                    yield (
                        ("columns", name, "weights", key),
                        f"{key!r} is not a value of {given}{_hint(key, values)}",
                    )
            for value in values:
                if value not in weights:
                    yield (("columns", name, "weights"), f"no weights for {given} = {value!r}")

    def _cycle_problems(self) -> Iterable[tuple[Any, ...]]:
        graph = {
            name: [dep for dep in dict.fromkeys(self.dependencies(name)) if dep in self.columns]
            for name in self.columns
        }
        cyclic = _on_cycles(graph)
        reported: set[frozenset[str]] = set()
        for start in self.columns:
            cycle = _shortest_cycle(graph, start) if start in cyclic else []
            if cycle and frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                path = " -> ".join([*cycle, cycle[0]])
                column = self.columns[start]
                where = (
                    "expr"
                    if isinstance(column, Derived)
                    else next(iter(column.formula_paths()), ("given",))[0]
                )
                yield (("columns", start, where), f"dependency cycle: {path}")

    def _correlation_problems(self) -> Iterable[tuple[Any, ...]]:
        ok = True
        seen: dict[frozenset[str], float] = {}
        checked: set[str] = set()
        for a, row in self.correlation.items():
            for b, r in row.items():
                for name, at in ((a, ("correlation", a)), (b, ("correlation", a, b))):
                    if name in checked:
                        continue
                    checked.add(name)
                    problem = self._copula_member_problem(name)
                    if problem is not None:
                        ok = False
                        yield (at, problem, "key")
                if a == b:
                    ok = False
                    yield (("correlation", a, b), "a column's correlation with itself is 1")
                    continue
                if not -1 < r < 1:
                    ok = False
                    yield (("correlation", a, b), "must be strictly between -1 and 1")
                pair = frozenset((a, b))
                if pair in seen and seen[pair] != r:
                    ok = False
                    yield (("correlation", a, b), f"conflicts with {b}: {{{a}: {seen[pair]:g}}}")
                seen[pair] = r
        if ok and self.correlation:
            names = self.copula_columns()
            bad = (
                None
                if clearly_positive_definite(names, self.correlation)
                else not_positive_definite(correlation_matrix(names, self.correlation))
            )
            if bad is not None:
                smallest, culprits = bad
                listed = ", ".join(names[i] for i in culprits)
                yield (
                    ("correlation",),
                    f"the correlation matrix is not positive definite (smallest eigenvalue "
                    f"{smallest:.3g}): the correlations among {listed} are inconsistent",
                )

    def _copula_member_problem(self, name: str) -> str | None:
        column = self.columns.get(name)
        if column is None:
            return f"unknown column {name!r}{_hint(name, list(self.columns))}"
        if not column.copula_ok:
            return (
                f"{name} ({_dist(column)}) cannot join the copula: it has no quantile function "
                "here; use normal, uniform, lognormal, exponential, poisson, binomial, "
                "bernoulli, integer, date or timestamp"
            )
        return column.formula_copula_problem()

    def _missing_problems(self) -> Iterable[tuple[Any, ...]]:
        label = self.label.name if self.label else None
        for name, rate in self.missing.items():
            if name not in self.columns:
                hint = _hint(name, list(self.columns))
                message = (
                    "the label cannot have missing values"
                    if name in (label, f"{label}_true")
                    else f"unknown column {name!r}{hint}"
                )
                yield (("missing", name), message)
            if not 0 <= rate < 1:
                yield (("missing", name), "a missing rate must be in [0, 1)")


def _in_column(name: str, rule: Callable[[], Iterable[tuple[Path, str]]]) -> Iterable[Any]:
    for path, message in rule():
        yield (("columns", name, *path), message)


def _constant_formula_problems(column: ColumnBase) -> Iterable[tuple[Path, str]]:
    """A parameter formula that reads no column has one value for every row: it is judged at
    validate time as that number would be (its bounds, and the column's rules on the numbers,
    such as uniform's low < high), where the build refused it at its first row."""
    if isinstance(column, Derived):
        return  # a derived column's value is stored as it is (inf and NaN too)
    for at, (text, value) in column.constant_formulas().items():
        need = broken_bounds(value, column.formula_bounds(at))
        if need is not None:
            yield (
                at,
                f"the formula {text!r} reads no column and is always {value:g}; it must be "
                f"{need}: write a number that is",
            )
    numbers = column.folded()
    if numbers is not None:
        for at, message in numbers.problems():
            yield (at, f"{message} (its formulas read no column, so they are judged as numbers)")


def _range_problem(column: ColumnBase, samples: int) -> tuple[Path, str] | None:
    """Values of an integer-stored column outside its dtype's range over every sample index
    (numpy would wrap them silently; polars would fail mid-build)."""
    dtype = column.out_dtype()
    bounds = column.value_bounds(samples)
    if bounds is None or dtype not in DTYPE_RANGES:
        return None
    at, drawn_low, drawn_high = bounds
    low, high = drawn_low, drawn_high
    clip = getattr(column, "clip", None)
    if clip is not None:
        low, high = min(max(low, clip[0]), clip[1]), max(min(high, clip[1]), clip[0])
    least, most = DTYPE_RANGES[dtype]
    if least <= low and high <= most:
        return None
    value = high if high > most else low
    if value != (drawn_high if high > most else drawn_low):
        at = ("clip",)  # the clip moved the values there, not the parameter
    shown = (
        f"about 10^{len(str(abs(value))) - 1}"
        if isinstance(value, int) and abs(value) >= 10**30
        else f"{value:,}"
        if isinstance(value, int)
        else f"{value:g}"
    )
    over = f" over {samples:,} samples" if at == ("step",) else ""
    return (
        at,
        f"values reach {shown}{over}, outside the range of {dtype} ({least:,} to {most:,})"
        if dtype.startswith("int")
        else f"values reach {shown}{over}, outside the finite range of {dtype}",
    )


def _on_cycles(graph: dict[str, list[str]]) -> set[str]:
    """The nodes of ``graph`` (node -> the nodes it depends on) that lie on a cycle: those of
    its strongly connected components with more than one node or a self-loop (Tarjan's
    algorithm, without recursion: a chain of thousands of columns is a valid spec)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[str] = set()
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, deps = work[-1]
            dep = next(deps, None)
            if dep is not None:
                if dep not in index:
                    index[dep] = low[dep] = len(index)
                    stack.append(dep)
                    on_stack.add(dep)
                    work.append((dep, iter(graph[dep])))
                elif dep in on_stack:
                    low[node] = min(low[node], index[dep])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.update(component)
    return found


def _shortest_cycle(graph: dict[str, list[str]], start: str) -> list[str]:
    """A shortest cycle through ``start`` (its nodes from ``start`` on), found breadth first
    in dependency order; [] if there is none."""
    parent: dict[str, str] = {}
    queue = [start]
    for node in queue:  # the queue grows as it is read
        for dep in graph[node]:
            if dep == start:
                trail = [node]
                while trail[-1] != start:
                    trail.append(parent[trail[-1]])
                return trail[::-1]
            if dep not in parent:
                parent[dep] = node
                queue.append(dep)
    return []


#: what a formula may read: the config's column kinds and categories
Readable = Callable[[], tuple[dict[str, str], dict[str, list[str]]]]


def _formula_problems(
    at: Path,
    text: str,
    kinds: dict[str, str],
    categories: dict[str, list[str]],
    intercept: bool = False,
) -> Iterable[tuple[Any, ...]]:
    try:
        node = expr.parse(text)
    except expr.ExprError as error:
        yield (at, error.message, error.offset)
        return
    checked = list(expr.check(node, kinds, categories))
    for problem in checked:
        yield (at, problem.message, problem.offset)
    if not checked:
        yield from _recordable_problems(at, node, intercept)


def _recordable_problems(at: Path, node: expr.Node, intercept: bool) -> Iterable[tuple[Any, ...]]:
    """The manifest records a formula's coefficients (the causal graph's edges; a label's
    intercept too) as JSON numbers: one that overflows to inf or NaN is refused here, where
    the build refused the whole spec as it wrote the facts."""
    constant, terms = expr.affine(node)
    parts = [("its constant part", constant)] if intercept else []
    parts += [(f"the coefficient of {feature}", value) for feature, value in terms.items()]
    for what, value in parts:
        if not math.isfinite(value):
            yield (
                at,
                f"{what} is {value:g}, which the manifest cannot record (it records "
                "a formula's coefficients as numbers): keep the formula's numbers within the "
                "range of a double",
            )
            return


def _dist(column: ColumnBase) -> str:
    return getattr(column, "dist", "expr")


def _hint(word: str, choices: list[str]) -> str:
    return did_you_mean(word, choices)
