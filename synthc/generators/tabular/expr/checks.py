"""Checking a tree against a spec's columns: every problem at once, each at its offset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from synthc.generators.tabular.expr.errors import ExprError
from synthc.generators.tabular.expr.nodes import Binary, Name, Node, Str, children
from synthc.hints import did_you_mean


def categorical_pair(node: Binary) -> tuple[Name, Str] | None:
    """The column and the string of ``column == 'value'`` (either way round), else None."""
    if node.op in ("==", "!="):
        if isinstance(node.left, Name) and isinstance(node.right, Str):
            return node.left, node.right
        if isinstance(node.left, Str) and isinstance(node.right, Name):
            return node.right, node.left
    return None


def check(
    node: Node, kinds: Mapping[str, str], categories: Mapping[str, Sequence[str]]
) -> list[ExprError]:
    """Every problem of ``node`` against the columns, sorted by offset; never raises.

    ``kinds`` maps each column to "numeric", "categorical", "date" or "timestamp";
    ``categories`` maps categorical columns to their values (a column missing from it accepts any
    string). Reported: unknown columns, strings outside ``categorical == 'value'`` (or ``!=``),
    strings that are not a category of their column, and categorical columns used otherwise.
    """
    errors: list[ExprError] = []

    def unknown(column: Name) -> None:
        hint = did_you_mean(column.name, kinds)
        errors.append(ExprError(f"unknown column '{column.name}'{hint}", column.offset))

    def visit(node: Node) -> None:
        pair = categorical_pair(node) if isinstance(node, Binary) else None
        if pair is not None:
            column, literal = pair
            kind = kinds.get(column.name)
            allowed = categories.get(column.name)
            if kind is None:
                unknown(column)
            elif kind != "categorical":
                message = (
                    f"'{literal.value}' cannot be compared with {kind} column '{column.name}'; "
                    "strings can only be compared with categorical columns"
                )
                errors.append(ExprError(message, literal.offset))
            elif allowed is not None and literal.value not in allowed:
                hint = did_you_mean(literal.value, allowed)
                message = f"'{literal.value}' is not a category of column '{column.name}'{hint}"
                errors.append(ExprError(message, literal.offset))
            return
        if isinstance(node, Str):
            message = (
                f"misplaced string '{node.value}': strings can only be compared "
                "(== or !=) with a categorical column"
            )
            errors.append(ExprError(message, node.offset))
        elif isinstance(node, Name):
            kind = kinds.get(node.name)
            if kind is None:
                unknown(node)
            elif kind == "categorical":
                example = next(iter(categories.get(node.name) or ["value"]))
                message = (
                    f"categorical column '{node.name}' can only be compared with == or != "
                    f"to a string, e.g. ({node.name} == '{example}')"
                )
                errors.append(ExprError(message, node.offset))
        for child in children(node):
            visit(child)

    visit(node)
    errors.sort(key=lambda error: error.offset)
    return errors
