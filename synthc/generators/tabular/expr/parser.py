"""The parser: formula text in, a checked-height tree of :mod:`nodes` out (precedence climbing)."""

from __future__ import annotations

from synthc.generators.tabular.expr.errors import ExprError
from synthc.generators.tabular.expr.grammar import (
    BINARY,
    COMPARISONS,
    FUNCTIONS,
    NOT,
    OR,
    UNARY,
)
from synthc.generators.tabular.expr.nodes import (
    Binary,
    Call,
    Name,
    Node,
    Num,
    Str,
    Unary,
    children,
)
from synthc.generators.tabular.expr.tokens import Token, tokenize
from synthc.hints import did_you_mean

_MAX_NESTING = 100  # parentheses and prefix operators: bounds the parser's recursion
_MAX_DEPTH = 200  # height of the tree: bounds the recursion of everything that walks it


class _Parser:
    """Precedence climbing over the token list; one method per kind of construct."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.nesting = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def formula(self) -> Node:
        if self.peek().kind == "end":
            raise ExprError("empty formula", 0)
        node = self.expression(OR)
        token = self.peek()
        if token.is_op(")"):
            raise ExprError("unmatched ')'", token.offset)
        if token.kind != "end":
            raise ExprError(
                f"unexpected {token.describe()}; expected an operator or the end of the formula",
                token.offset,
            )
        return node

    def expression(self, min_power: int) -> Node:
        """Everything that binds at least as tightly as ``min_power``."""
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            raise ExprError(
                f"formula is nested too deeply (over {_MAX_NESTING} levels)", self.peek().offset
            )
        left = self.prefix(min_power)
        while True:
            token = self.peek()
            power = BINARY.get(token.text) if token.kind in ("op", "kw") else None
            if power is None or power < min_power:
                break
            self.take()
            # "**" is right associative and takes a signed exponent (2 ** -1); the rest go left.
            right = self.expression(UNARY if token.text == "**" else power + 1)
            left = Binary(token.text, left, right, token.offset)
            if token.text in COMPARISONS and self.peek().is_op(*COMPARISONS):
                raise ExprError(
                    "comparisons cannot be chained; combine them with 'and'", self.peek().offset
                )
        self.nesting -= 1
        return left

    def prefix(self, min_power: int) -> Node:
        token = self.peek()
        if token.kind == "kw" and token.text == "not":
            if min_power > NOT:
                raise ExprError("'not' needs parentheses here", token.offset)
            self.take()
            return Unary("not", self.expression(NOT))
        if token.is_op("-", "+"):
            self.take()
            return Unary(token.text, self.expression(UNARY))
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "num":
            assert isinstance(token.value, float)
            return Num(token.value)
        if token.kind == "str":
            assert isinstance(token.value, str)
            return Str(token.value, token.offset)
        if token.kind == "name":
            if self.peek().is_op("("):
                return self.call(token)
            return Name(token.text, token.offset)
        if token.is_op("("):
            inner = self.expression(OR)
            self.close(token, "expected ')' or an operator")
            return inner
        raise ExprError(f"expected a value, found {token.describe()}", token.offset)

    def call(self, name: Token) -> Call:
        if name.text not in FUNCTIONS:
            hint = did_you_mean(name.text, FUNCTIONS)
            raise ExprError(f"unknown function '{name.text}'{hint}", name.offset)
        opening = self.take()
        args: list[Node] = []
        if not self.peek().is_op(")"):
            args.append(self.expression(OR))
            while self.peek().is_op(","):
                self.take()
                args.append(self.expression(OR))
        self.close(opening, f"expected ',' or ')' in the arguments of {name.text}()")
        fewest, most = FUNCTIONS[name.text]
        if len(args) < fewest or (most is not None and len(args) > most):
            plural = "" if fewest == 1 else "s"
            need = f"at least {fewest}" if most is None else f"exactly {fewest}"
            raise ExprError(
                f"{name.text}() takes {need} argument{plural}, got {len(args)}", name.offset
            )
        return Call(name.text, tuple(args), name.offset)

    def close(self, opening: Token, expected: str) -> None:
        token = self.take()
        if token.is_op(")"):
            return
        if token.kind == "end":
            raise ExprError("'(' was never closed", opening.offset)
        raise ExprError(f"{expected}, found {token.describe()}", token.offset)


def _check_depth(root: Node) -> None:
    stack: list[tuple[Node, int, int]] = [(root, 1, 0)]
    while stack:
        node, depth, offset = stack.pop()
        offset = getattr(node, "offset", offset)
        if depth > _MAX_DEPTH:
            message = (
                f"formula has over {_MAX_DEPTH} levels of operations; split it into derived columns"
            )
            raise ExprError(message, offset)
        stack.extend((child, depth + 1, offset) for child in children(node))


def parse(text: str) -> Node:
    """The tree of ``text``; raises :class:`ExprError` at the offending offset."""
    node = _Parser(text).formula()
    _check_depth(node)
    return node
