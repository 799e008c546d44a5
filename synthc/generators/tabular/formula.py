"""The formula language of ``expr`` columns and labels: parsed by hand, compiled to polars.

Grammar, loosest first: ``or``; ``and``; ``not``; comparisons ``== != < <= > >=`` (not chained);
``+ -``; ``* /``; unary ``- +``; ``**`` (right-associative, so ``-2**2`` is -4); atoms: numbers,
quoted strings, column names, calls, parentheses. Comparisons and logic give 1.0 or 0.0. Nothing
is ever passed to Python's ``eval``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

#: function -> (min args, max args or None for any)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "log": (1, 1),
    "exp": (1, 1),
    "sqrt": (1, 1),
    "abs": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "tanh": (1, 1),
    "floor": (1, 1),
    "ceil": (1, 1),
    "sigmoid": (1, 1),
    "min": (2, None),
    "max": (2, None),
    "clip": (3, 3),
    "where": (3, 3),
}
KEYWORDS = {"and", "or", "not"}
COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


class FormulaError(Exception):
    """A problem in a formula, at character ``offset`` (0-based)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Str:
    value: str
    offset: int


@dataclass(frozen=True)
class Name:
    name: str
    offset: int


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Node, ...]
    offset: int


@dataclass(frozen=True)
class Unary:
    op: str  # "-", "+", "not"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    offset: int


Node = Num | Str | Name | Call | Unary | Binary

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<str>'[^']*'|\"[^\"]*\")"
    r"|(?P<op>\*\*|==|!=|<=|>=|[-+*/<>(),]))"
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            at = pos + len(text[pos:]) - len(text[pos:].lstrip())
            char = text[at]
            if char in "'\"":
                raise FormulaError("unterminated string", at)
            raise FormulaError(f"unexpected character {char!r}", at)
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def accept(self, value: str) -> tuple[str, str, int] | None:
        kind, text, _ = self.peek()
        if text == value and kind in ("op", "name"):
            return self.take()
        return None

    def expect(self, value: str) -> None:
        if self.accept(value) is None:
            kind, text, offset = self.peek()
            found = "the end of the formula" if kind == "end" else repr(text)
            raise FormulaError(f"expected {value!r}, found {found}", offset)

    def parse(self) -> Node:
        node = self.logic_or()
        kind, text, offset = self.peek()
        if kind != "end":
            raise FormulaError(f"unexpected {text!r} after a complete formula", offset)
        return node

    def logic_or(self) -> Node:
        node = self.logic_and()
        while (token := self.accept("or")) is not None:
            node = Binary("or", node, self.logic_and(), token[2])
        return node

    def logic_and(self) -> Node:
        node = self.logic_not()
        while (token := self.accept("and")) is not None:
            node = Binary("and", node, self.logic_not(), token[2])
        return node

    def logic_not(self) -> Node:
        if self.accept("not") is not None:
            return Unary("not", self.logic_not())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        kind, text, offset = self.peek()
        if kind == "op" and text in COMPARISONS:
            self.take()
            node = Binary(text, node, self.additive(), offset)
            kind, text, offset = self.peek()
            if kind == "op" and text in COMPARISONS:
                raise FormulaError("comparisons cannot be chained; use 'and'", offset)
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while True:
            kind, text, offset = self.peek()
            if kind == "op" and text in ("+", "-"):
                self.take()
                node = Binary(text, node, self.multiplicative(), offset)
            else:
                return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while True:
            kind, text, offset = self.peek()
            if kind == "op" and text in ("*", "/"):
                self.take()
                node = Binary(text, node, self.unary(), offset)
            else:
                return node

    def unary(self) -> Node:
        kind, text, _ = self.peek()
        if kind == "op" and text in ("-", "+"):
            self.take()
            return Unary(text, self.unary())
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        kind, text, offset = self.peek()
        if kind == "op" and text == "**":
            self.take()
            node = Binary("**", node, self.unary(), offset)
        return node

    def atom(self) -> Node:
        kind, text, offset = self.take()
        if kind == "num":
            return Num(float(text))
        if kind == "str":
            return Str(text[1:-1], offset)
        if kind == "name" and text not in KEYWORDS:
            if self.accept("(") is None:
                return Name(text, offset)
            return self.call(text, offset)
        if kind == "op" and text == "(":
            node = self.logic_or()
            self.expect(")")
            return node
        found = "the end of the formula" if kind == "end" else repr(text)
        raise FormulaError(f"expected a number, column, call or '(', found {found}", offset)

    def call(self, func: str, offset: int) -> Node:
        args: list[Node] = []
        if self.accept(")") is None:
            args.append(self.logic_or())
            while self.accept(",") is not None:
                args.append(self.logic_or())
            self.expect(")")
        if func not in FUNCTIONS:
            raise FormulaError(f"unknown function {func!r}{_hint(func, FUNCTIONS)}", offset)
        low, high = FUNCTIONS[func]
        if len(args) < low or (high is not None and len(args) > high):
            wanted = f"{low}" if low == high else f"at least {low}"
            raise FormulaError(f"{func}() takes {wanted} argument(s), got {len(args)}", offset)
        return Call(func, tuple(args), offset)


def parse(text: str) -> Node:
    """Parse a formula; raise FormulaError at the offending character."""
    if not text.strip():
        raise FormulaError("empty formula", 0)
    return _Parser(text).parse()


def names(node: Node) -> list[Name]:
    """Every column reference, in source order (repeats kept)."""
    if isinstance(node, Name):
        return [node]
    if isinstance(node, Call):
        return [ref for arg in node.args for ref in names(arg)]
    if isinstance(node, Unary):
        return names(node.operand)
    if isinstance(node, Binary):
        return names(node.left) + names(node.right)
    return []


def check(
    node: Node, kinds: Mapping[str, str], categories: Mapping[str, Sequence[str]]
) -> list[FormulaError]:
    """Every problem of ``node`` against the columns: unknown names, misused strings and
    categorical columns (``kinds``: name -> numeric | categorical | date | timestamp)."""
    problems: list[FormulaError] = []

    def visit(n: Node) -> None:
        if isinstance(n, Name):
            if n.name not in kinds:
                hint = _hint(n.name, kinds)
                problems.append(FormulaError(f"unknown column {n.name!r}{hint}", n.offset))
            elif kinds[n.name] == "categorical":
                problems.append(
                    FormulaError(
                        f"{n.name} is categorical: compare it with a value, as in "
                        f"({n.name} == '{(categories.get(n.name) or ['value'])[0]}')",
                        n.offset,
                    )
                )
        elif isinstance(n, Str):
            problems.append(
                FormulaError(
                    "a string can only be compared (== or !=) with a categorical column", n.offset
                )
            )
        elif isinstance(n, Binary) and n.op in ("==", "!=") and _category_test(n) is not None:
            column, value = _category_test(n)  # type: ignore[misc]
            if column.name not in kinds:
                visit(column)
            elif kinds[column.name] != "categorical":
                problems.append(
                    FormulaError(
                        f"{column.name} is not categorical: compare it with a number", value.offset
                    )
                )
            elif value.value not in categories.get(column.name, ()):
                known = list(categories.get(column.name, ()))
                problems.append(
                    FormulaError(
                        f"{value.value!r} is not a value of {column.name}"
                        f"{_hint(value.value, known)} (values: {', '.join(known)})",
                        value.offset,
                    )
                )
        elif isinstance(n, Call):
            for arg in n.args:
                visit(arg)
        elif isinstance(n, Unary):
            visit(n.operand)
        elif isinstance(n, Binary):
            visit(n.left)
            visit(n.right)

    visit(node)
    return problems


def _category_test(node: Binary) -> tuple[Name, Str] | None:
    if isinstance(node.left, Name) and isinstance(node.right, Str):
        return node.left, node.right
    if isinstance(node.left, Str) and isinstance(node.right, Name):
        return node.right, node.left
    return None


def to_polars(node: Node, kinds: Mapping[str, str]) -> pl.Expr:
    """A Float64 polars expression computing ``node`` element-wise (IEEE: no errors on NaN/inf)."""
    if isinstance(node, Num):
        return pl.lit(node.value, dtype=pl.Float64)
    if isinstance(node, Name):
        column = pl.col(node.name)
        kind = kinds.get(node.name, "numeric")
        if kind == "date":
            return column.cast(pl.Int32).cast(pl.Float64)
        if kind == "timestamp":
            return column.dt.cast_time_unit("us").cast(pl.Int64).cast(pl.Float64) / 1e6
        return column.cast(pl.Float64)
    if isinstance(node, Unary):
        inner = to_polars(node.operand, kinds)
        if node.op == "-":
            return -inner
        if node.op == "not":
            return (inner == 0).cast(pl.Float64)
        return inner
    if isinstance(node, Binary):
        if node.op in ("==", "!=") and (test := _category_test(node)) is not None:
            column, value = test
            same = pl.col(column.name).cast(pl.String) == pl.lit(value.value)
            return (same if node.op == "==" else ~same).cast(pl.Float64)
        left, right = to_polars(node.left, kinds), to_polars(node.right, kinds)
        return _binary(node.op, left, right)
    if isinstance(node, Call):
        args = [to_polars(arg, kinds) for arg in node.args]
        return _call(node.func, args)
    raise TypeError(f"cannot compile {node!r}")  # a Str outside a comparison: check() rejects it


def _binary(op: str, left: pl.Expr, right: pl.Expr) -> pl.Expr:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right
    if op == "**":
        return left.pow(right)
    if op == "and":
        return ((left != 0) & (right != 0)).cast(pl.Float64)
    if op == "or":
        return ((left != 0) | (right != 0)).cast(pl.Float64)
    compare = {
        "==": left.eq,
        "!=": left.ne,
        "<": left.lt,
        "<=": left.le,
        ">": left.gt,
        ">=": left.ge,
    }[op]
    return compare(right).cast(pl.Float64)


def _call(func: str, args: list[pl.Expr]) -> pl.Expr:
    x = args[0]
    unary = {
        "log": lambda: x.log(),
        "exp": lambda: x.exp(),
        "sqrt": lambda: x.sqrt(),
        "abs": lambda: x.abs(),
        "sin": lambda: x.sin(),
        "cos": lambda: x.cos(),
        "tanh": lambda: x.tanh(),
        "floor": lambda: x.floor(),
        "ceil": lambda: x.ceil(),
        "sigmoid": lambda: 1.0 / (1.0 + (-x).exp()),
    }
    if func in unary:
        return unary[func]()
    if func == "min":
        return pl.min_horizontal(args)
    if func == "max":
        return pl.max_horizontal(args)
    if func == "clip":
        return pl.min_horizontal(pl.max_horizontal(x, args[1]), args[2])
    if func == "where":
        return pl.when(x != 0).then(args[1]).otherwise(args[2])
    raise FormulaError(f"unknown function {func!r}", 0)  # pragma: no cover - parse() checks


_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "not": 3,
    **dict.fromkeys(COMPARISONS, 4),
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "neg": 7,
    "**": 8,
}


def to_text(node: Node) -> str:
    """Canonical text of ``node`` with only the parentheses it needs."""
    return _text(node)[0]


def _text(node: Node) -> tuple[str, int]:
    if isinstance(node, Num):
        value = node.value
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
        return text, 9
    if isinstance(node, Str):
        quote = "'" if "'" not in node.value else '"'
        return f"{quote}{node.value}{quote}", 9
    if isinstance(node, Name):
        return node.name, 9
    if isinstance(node, Call):
        return f"{node.func}({', '.join(to_text(arg) for arg in node.args)})", 9
    if isinstance(node, Unary):
        level = _PRECEDENCE["not"] if node.op == "not" else _PRECEDENCE["neg"]
        inner, inner_level = _text(node.operand)
        if inner_level < level:
            inner = f"({inner})"
        return (f"not {inner}" if node.op == "not" else f"{node.op}{inner}"), level
    level = _PRECEDENCE[node.op]
    left, left_level = _text(node.left)
    right, right_level = _text(node.right)
    if node.op == "**":  # right-associative; a unary minus on the left needs parentheses
        left_wrap, right_wrap = left_level <= level, right_level < _PRECEDENCE["neg"]
    elif node.op in COMPARISONS:
        left_wrap, right_wrap = left_level <= level, right_level <= level
    else:
        left_wrap, right_wrap = left_level < level, right_level <= level
    left = f"({left})" if left_wrap else left
    right = f"({right})" if right_wrap else right
    return f"{left} {node.op} {right}", level


def affine(node: Node) -> tuple[float, dict[str, float]]:
    """``node`` as intercept + sum(coefficient * feature); a feature is any sub-formula that is
    not a sum, a difference, a negation or a product/quotient with a constant, named by its
    canonical text. Equal features add up."""
    intercept, terms = _affine(node)
    return intercept, {k: v for k, v in terms.items() if v != 0.0}


def _affine(node: Node) -> tuple[float, dict[str, float]]:
    if isinstance(node, Num):
        return node.value, {}
    if isinstance(node, Unary) and node.op in ("-", "+"):
        c, terms = _affine(node.operand)
        sign = -1.0 if node.op == "-" else 1.0
        return sign * c, {k: sign * v for k, v in terms.items()}
    if isinstance(node, Binary) and node.op in ("+", "-"):
        c1, t1 = _affine(node.left)
        c2, t2 = _affine(node.right)
        sign = 1.0 if node.op == "+" else -1.0
        merged = dict(t1)
        for k, v in t2.items():
            merged[k] = merged.get(k, 0.0) + sign * v
        return c1 + sign * c2, merged
    if isinstance(node, Binary) and node.op in ("*", "/"):
        c1, t1 = _affine(node.left)
        c2, t2 = _affine(node.right)
        if node.op == "*" and not t1:
            return c1 * c2, {k: c1 * v for k, v in t2.items()}
        if not t2:
            factor = c2 if node.op == "*" else 1.0 / c2 if c2 != 0 else None
            if factor is not None:
                return c1 * factor, {k: factor * v for k, v in t1.items()}
    return 0.0, {to_text(node): 1.0}


def _hint(word: str, choices: Mapping[str, object] | Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
