"""Compiling a tree to one Float64 polars expression, with the language's IEEE and null rules."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from synthc.generators.tabular.expr.checks import categorical_pair, check
from synthc.generators.tabular.expr.errors import ExprError
from synthc.generators.tabular.expr.grammar import BINARY, CMP
from synthc.generators.tabular.expr.nodes import Binary, Call, Name, Node, Num, Unary

if TYPE_CHECKING:
    import polars as pl

_UNARY_FUNCTIONS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "log": lambda x: x.log(),
    "exp": lambda x: x.exp(),
    "sqrt": lambda x: x.sqrt(),
    "abs": lambda x: x.abs(),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "tanh": lambda x: x.tanh(),
    "floor": lambda x: x.floor(),
    "ceil": lambda x: x.ceil(),
    "sigmoid": lambda x: 1.0 / (1.0 + (-x).exp()),
}


def _flag(condition: pl.Expr) -> pl.Expr:
    import polars as pl

    return condition.cast(pl.Float64)


def _may_be_nan(node: Node, kinds: Mapping[str, str]) -> bool:
    """False when ``node`` can never evaluate to NaN (so a comparison needs no NaN guard)."""
    if isinstance(node, Num):
        return math.isnan(node.value)
    if isinstance(node, Name):
        return kinds.get(node.name) == "numeric"
    if isinstance(node, Unary):
        return node.op != "not" and _may_be_nan(node.operand, kinds)
    if isinstance(node, Binary):
        return BINARY[node.op] > CMP
    return True


def _compare(op: str, a: pl.Expr, b: pl.Expr, a_nan: bool, b_nan: bool) -> pl.Expr:
    """IEEE comparison: polars orders NaN above everything and equal to itself; undo that."""
    if op == "==":
        result = a == b
        return result & a.is_not_nan() if a_nan and b_nan else result
    if op == "!=":
        result = a != b
        return result | a.is_nan() if a_nan and b_nan else result
    if op == "<":
        result = a < b
        return result & b.is_not_nan() if b_nan else result
    if op == "<=":
        result = a <= b
        return result & b.is_not_nan() if b_nan else result
    if op == ">":
        result = a > b
        return result & a.is_not_nan() if a_nan else result
    result = a >= b
    return result & a.is_not_nan() if a_nan else result


def _nan_poisoned(args: list[pl.Expr], nodes: Sequence[Node], value: pl.Expr) -> pl.Expr:
    """``value`` (built from polars' NaN- and null-skipping horizontal min/max) made to give NaN
    when an argument is NaN and null when one is null, like the rest of the language."""
    import polars as pl

    guarded = [arg.is_nan() for arg, node in zip(args, nodes, strict=True) if _guard(node)]
    if not guarded:
        return value
    nans = pl.sum_horizontal(*guarded, ignore_nulls=False)
    return pl.when(nans == 0).then(value).when(nans > 0).then(pl.lit(math.nan, pl.Float64))


def _guard(node: Node) -> bool:
    return not (isinstance(node, Num) and not math.isnan(node.value))


def _column(name: str, kind: str) -> pl.Expr:
    import polars as pl

    if kind == "numeric":
        return pl.col(name).cast(pl.Float64)
    if kind == "date":
        return pl.col(name).dt.epoch("d").cast(pl.Float64)
    if kind == "timestamp":
        micros = pl.col(name).dt.epoch("us")
        # polars divides by a scalar as a product with its reciprocal, which can be an ulp off;
        # a full-length divisor gets a true, correctly rounded division.
        return micros.cast(pl.Float64) / (micros * 0 + 1_000_000).cast(pl.Float64)
    raise ValueError(f"column {name!r} has kind {kind!r}, which has no numeric value")


def _compile(node: Node, kinds: Mapping[str, str]) -> pl.Expr:
    import polars as pl

    if isinstance(node, Num):
        return pl.lit(float(node.value), pl.Float64)
    if isinstance(node, Name):
        return _column(node.name, kinds[node.name])
    if isinstance(node, Unary):
        x = _compile(node.operand, kinds)
        if node.op == "-":
            return -x
        return x if node.op == "+" else _flag(x == 0)
    if isinstance(node, Binary):
        pair = categorical_pair(node)
        if pair is not None:
            column, value = pl.col(pair[0].name), pair[1].value
            return _flag(column == value if node.op == "==" else column != value)
        a, b = _compile(node.left, kinds), _compile(node.right, kinds)
        op = node.op
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op == "**":
            return a.pow(b)
        if op == "and":
            return _flag((a != 0) & (b != 0))
        if op == "or":
            return _flag((a != 0) | (b != 0))
        a_nan, b_nan = _may_be_nan(node.left, kinds), _may_be_nan(node.right, kinds)
        return _flag(_compare(op, a, b, a_nan, b_nan))
    if isinstance(node, Call):
        args = [_compile(arg, kinds) for arg in node.args]
        if node.func in _UNARY_FUNCTIONS:
            return _UNARY_FUNCTIONS[node.func](args[0])
        if node.func == "min":
            return _nan_poisoned(args, node.args, pl.min_horizontal(*args))
        if node.func == "max":
            return _nan_poisoned(args, node.args, pl.max_horizontal(*args))
        if node.func == "clip":  # min(max(x, lo), hi), as numpy.clip
            x, lo, hi = args
            clipped = pl.min_horizontal(pl.max_horizontal(x, lo), hi)
            return _nan_poisoned(args, node.args, clipped)
        if node.func == "where":  # a null condition gives null
            condition, yes, no = args
            return pl.when(condition != 0).then(yes).when(condition == 0).then(no)
    raise ExprError(f"cannot compile {node!r}", getattr(node, "offset", 0))


def to_polars(node: Node, kinds: Mapping[str, str]) -> pl.Expr:
    """A Float64 polars expression computing ``node`` element-wise.

    numeric columns are cast to Float64, date columns count days and timestamp columns seconds
    since 1970-01-01; ``column == 'value'`` compares a categorical (Enum or String) column with
    the literal. Comparisons and logic give 1.0/0.0; arithmetic follows IEEE (``log(-1)`` is NaN,
    ``1 / 0`` is inf) and never raises; nulls propagate. A formula without columns gives a
    literal, which broadcasts. Raises the first problem :func:`check` finds (categories are not
    checked here) and ValueError for a column kind outside the four above.
    """
    problems = check(node, kinds, {})
    if problems:
        raise problems[0]
    return _compile(node, kinds)
