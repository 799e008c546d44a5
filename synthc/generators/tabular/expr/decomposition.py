"""Affine decomposition: a tree as an intercept plus coefficients of features (constant parts
folded with the IEEE semantics the polars compiler uses)."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import reduce

from synthc.generators.tabular.expr.nodes import Binary, Call, Node, Num, Unary
from synthc.generators.tabular.expr.text import to_text


def _fold_unary(op: str, x: float) -> float:
    if op == "-":
        return -x
    return x if op == "+" else float(x == 0)


def _fold_binary(op: str, a: float, b: float) -> float:
    import numpy as np

    with np.errstate(all="ignore"):
        x, y = np.float64(a), np.float64(b)
        results = {
            "+": lambda: x + y,
            "-": lambda: x - y,
            "*": lambda: x * y,
            "/": lambda: x / y,
            "**": lambda: np.power(x, y),
            "==": lambda: a == b,
            "!=": lambda: a != b,
            "<": lambda: a < b,
            "<=": lambda: a <= b,
            ">": lambda: a > b,
            ">=": lambda: a >= b,
            "and": lambda: a != 0 and b != 0,
            "or": lambda: a != 0 or b != 0,
        }
        return float(results[op]())


def _fold_call(func: str, values: list[float]) -> float:
    import numpy as np

    with np.errstate(all="ignore"):
        x = np.float64(values[0])
        if func == "sigmoid":
            return float(1.0 / (1.0 + np.exp(-x)))
        if func in ("log", "exp", "sqrt", "abs", "sin", "cos", "tanh", "floor", "ceil"):
            return float(getattr(np, func)(x))
        if func == "min":
            return float(reduce(np.minimum, values[1:], x))
        if func == "max":
            return float(reduce(np.maximum, values[1:], x))
        if func == "clip":
            return float(np.minimum(np.maximum(x, values[1]), values[2]))
        return values[1] if values[0] != 0 else values[2]  # where


Affine = tuple[float, dict[str, float]]


def _scaled(intercept: float, terms: dict[str, float], scale: Callable[[float], float]) -> Affine:
    return scale(intercept), {key: scale(value) for key, value in terms.items()}


def _affine(node: Node) -> Affine:
    """Intercept and terms; the terms are empty exactly when ``node`` is constant."""
    if isinstance(node, Num):
        return float(node.value), {}
    if isinstance(node, Unary):
        intercept, terms = _affine(node.operand)
        if not terms:
            return _fold_unary(node.op, intercept), {}
        if node.op == "+":
            return intercept, terms
        if node.op == "-":
            return _scaled(intercept, terms, lambda v: -v)
    elif isinstance(node, Binary):
        left, left_terms = _affine(node.left)
        right, right_terms = _affine(node.right)
        op = node.op
        if not left_terms and not right_terms:
            return _fold_binary(op, left, right), {}
        if op in ("+", "-"):
            sign = 1.0 if op == "+" else -1.0
            terms = dict(left_terms)
            for key, value in right_terms.items():
                terms[key] = terms.get(key, 0.0) + sign * value
            return left + sign * right, terms
        if op == "*" and not left_terms and math.isfinite(left):
            return _scaled(right, right_terms, lambda v: left * v)
        if op == "*" and not right_terms and math.isfinite(right):
            return _scaled(left, left_terms, lambda v: v * right)
        if op == "/" and not right_terms and math.isfinite(right) and right != 0:
            return _scaled(left, left_terms, lambda v: v / right)
    elif isinstance(node, Call):
        parts = [_affine(arg) for arg in node.args]
        if not any(terms for _, terms in parts):
            return _fold_call(node.func, [value for value, _ in parts]), {}
    return 0.0, {to_text(node): 1.0}


def affine(node: Node) -> Affine:
    """``node`` as intercept + sum(coefficient * feature), features keyed by their ``to_text``.

    Constant sub-expressions fold (with the IEEE semantics of ``to_polars``); sums,
    differences and negations distribute; products with, and quotients by, a finite constant
    scale. Anything else that involves a column (a product of two non-constants, a function call,
    a comparison, a power, ...) is one feature. Equal features add up; features keep the order of
    their first appearance, and a feature whose coefficients cancel stays with 0.0.
    """
    intercept, terms = _affine(node)
    return intercept + 0.0, {key: value + 0.0 for key, value in terms.items()}
