"""Printing a tree back as canonical formula text, with the fewest parentheses."""

from __future__ import annotations

import math

from synthc.generators.tabular.expr.grammar import ATOM, BINARY, COMPARISONS, NOT, UNARY
from synthc.generators.tabular.expr.nodes import Binary, Call, Name, Node, Num, Str, Unary


def _power(node: Node) -> int:
    if isinstance(node, Binary):
        return BINARY[node.op]
    if isinstance(node, Unary):
        return NOT if node.op == "not" else UNARY
    return ATOM


def _number_text(value: float) -> str:
    value = float(value)
    if math.isnan(value):
        raise ValueError("NaN has no literal")
    if math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def _quote(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ValueError(f"a string with both kinds of quote has no literal: {value!r}")


def _wrapped(node: Node, min_power: int) -> str:
    text = to_text(node)
    return f"({text})" if _power(node) < min_power else text


def to_text(node: Node) -> str:
    """Canonical text with the fewest parentheses; ``parse(to_text(n)) == n`` for parsed trees."""
    if isinstance(node, Num):
        return _number_text(node.value)
    if isinstance(node, Str):
        return _quote(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        return f"{node.func}({', '.join(to_text(arg) for arg in node.args)})"
    if isinstance(node, Unary):
        if node.op == "not":
            return f"not {_wrapped(node.operand, NOT)}"
        return f"{node.op}{_wrapped(node.operand, UNARY)}"
    power = BINARY[node.op]
    if node.op == "**":
        left, right = ATOM, UNARY
    elif node.op in COMPARISONS:
        left = right = power + 1
    else:
        left, right = power, power + 1
    return f"{_wrapped(node.left, left)} {node.op} {_wrapped(node.right, right)}"
