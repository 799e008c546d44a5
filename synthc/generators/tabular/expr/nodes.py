"""The tree of a formula: frozen nodes, their children, and the column references they hold.

Offsets are kept for error messages but take no part in ==, so trees compare structurally.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Num:
    """A number literal; never negative when parsed (``-2`` is ``Unary('-', Num(2.0))``)."""

    value: float


@dataclass(frozen=True)
class Str:
    """A string literal, without its quotes."""

    value: str
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    """A reference to a column."""

    name: str
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A call of one of :data:`~synthc.generators.tabular.expr.grammar.FUNCTIONS`; ``offset`` is
    that of the function's name."""

    func: str
    args: tuple[Node, ...]
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Unary:
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    """An arithmetic, comparison or logical operator; ``offset`` is that of the operator."""

    op: str
    left: Node
    right: Node
    offset: int = field(default=0, compare=False)


Node = Num | Str | Name | Call | Unary | Binary


def children(node: Node) -> tuple[Node, ...]:
    """The direct operands of ``node``, left to right."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def names(node: Node) -> list[Name]:
    """Every column reference in source order, duplicates kept."""
    found: list[Name] = []

    def visit(node: Node) -> None:
        if isinstance(node, Name):
            found.append(node)
        for child in children(node):
            visit(child)

    visit(node)
    return found
