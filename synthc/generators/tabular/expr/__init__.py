"""A small, safe expression language for derived columns and label formulas.

A formula such as ``0.01 * income + 5 * (plan == 'pro')`` is read by a hand-written tokenizer and
recursive-descent parser (never by Python's ``eval``, ``compile`` or ``ast``) into a tree of frozen
nodes. The tree can be checked against a spec's columns (:func:`check`), compiled to a Float64
polars expression (:func:`to_polars`), printed back canonically (:func:`to_text`) and decomposed
into an intercept plus coefficients (:func:`affine`).

Grammar, lowest precedence first::

    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum]     # a < b < c is an error
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := ("-" | "+") unary | power
    power   := atom ["**" unary]                                     # -2**2 == -4, 2**3**2 == 512
    atom    := number | string | name | name "(" [or ("," or)*] ")" | "(" or ")"

Values are float64 throughout: comparisons and logic give 1.0 or 0.0, and any nonzero value
(NaN included) is true. Strings only appear in ``column == 'value'`` (or ``!=``) with a
categorical column.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import polars as pl

from synthc.hints import did_you_mean

__all__ = [
    "Binary",
    "Call",
    "ExprError",
    "FUNCTIONS",
    "Name",
    "Node",
    "Num",
    "Str",
    "Unary",
    "affine",
    "check",
    "names",
    "parse",
    "to_polars",
    "to_text",
]


class ExprError(Exception):
    """A problem in a formula: what is wrong (``message``) and where (``offset``, 0-based)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message, offset)  # the args rebuild the error when it is unpickled
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return f"{self.message} (at offset {self.offset})"


# -- the tree ----------------------------------------------------------------------------------
# Offsets are kept for error messages but take no part in ==, so trees compare structurally.


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
    """A call of one of :data:`FUNCTIONS`; ``offset`` is that of the function's name."""

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

#: function name -> (fewest, most) arguments; None: no upper limit.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    **{
        name: (1, 1)
        for name in ("log", "exp", "sqrt", "abs", "sin", "cos", "tanh", "floor", "ceil", "sigmoid")
    },
    "min": (2, None),
    "max": (2, None),
    "clip": (3, 3),
    "where": (3, 3),
}

# Binding powers, loosest first.
_OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 10)
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_BINARY: dict[str, int] = {
    "or": _OR,
    "and": _AND,
    **dict.fromkeys(_COMPARISONS, _CMP),
    "+": _SUM,
    "-": _SUM,
    "*": _PRODUCT,
    "/": _PRODUCT,
    "**": _POWER,
}
_KEYWORDS = frozenset({"and", "or", "not"})
_MAX_NESTING = 100  # parentheses and prefix operators: bounds the parser's recursion
_MAX_DEPTH = 200  # height of the tree: bounds the recursion of everything that walks it


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


# -- tokens ------------------------------------------------------------------------------------

_DIGITS = frozenset(string.digits)
_NAME_START = frozenset(string.ascii_letters + "_")
_NAME_CHARS = _NAME_START | _DIGITS
_SPACE = frozenset(" \t\r\n\f\v")
_OPERATORS_2 = frozenset({"**", "==", "!=", "<=", ">="})
_OPERATORS_1 = frozenset("<>+-*/(),")
_MISTAKES = {
    "=": "use '==' to compare",
    "!": "use 'not', or '!=' to compare",
    "&": "use 'and'",
    "|": "use 'or'",
    "^": "use '**' for powers",
}


@dataclass(frozen=True)
class _Token:
    kind: str  # "num" | "str" | "name" | "kw" | "op" | "end"
    text: str
    offset: int
    value: float | str | None = None

    def is_op(self, *texts: str) -> bool:
        return self.kind == "op" and self.text in texts

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the formula"
        if self.kind == "num":
            return f"number {self.text}"
        if self.kind == "str":
            return f"string {self.text}"
        if self.kind == "name":
            return f"name '{self.text}'"
        return f"'{self.text}'"


def _number(text: str, start: int) -> _Token:
    end, n = start, len(text)
    while end < n and text[end] in _DIGITS:
        end += 1
    if end < n and text[end] == ".":
        end += 1
        while end < n and text[end] in _DIGITS:
            end += 1
    if end < n and text[end] in "eE":
        end += 1
        if end < n and text[end] in "+-":
            end += 1
        if end >= n or text[end] not in _DIGITS:
            raise ExprError(
                f"malformed number '{text[start:end]}': the exponent needs digits", start
            )
        while end < n and text[end] in _DIGITS:
            end += 1
    return _Token("num", text[start:end], start, float(text[start:end]))


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
            continue
        if c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS):
            token = _number(text, i)
        elif c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                raise ExprError("unterminated string literal", i)
            token = _Token("str", text[i : end + 1], i, text[i + 1 : end])
        elif c in _NAME_START:
            end = i + 1
            while end < n and text[end] in _NAME_CHARS:
                end += 1
            word = text[i:end]
            token = _Token("kw" if word in _KEYWORDS else "name", word, i)
        elif text[i : i + 2] in _OPERATORS_2:
            token = _Token("op", text[i : i + 2], i)
        elif c in _OPERATORS_1:
            token = _Token("op", c, i)
        elif c in _MISTAKES:
            raise ExprError(f"unexpected '{c}'; {_MISTAKES[c]}", i)
        else:
            raise ExprError(f"unexpected character {c!r}", i)
        tokens.append(token)
        i = token.offset + len(token.text)
    tokens.append(_Token("end", "", n))
    return tokens


# -- parser ------------------------------------------------------------------------------------


class _Parser:
    """Precedence climbing over the token list; one method per kind of construct."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.nesting = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def formula(self) -> Node:
        if self.peek().kind == "end":
            raise ExprError("empty formula", 0)
        node = self.expression(_OR)
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
            power = _BINARY.get(token.text) if token.kind in ("op", "kw") else None
            if power is None or power < min_power:
                break
            self.take()
            # "**" is right associative and takes a signed exponent (2 ** -1); the rest go left.
            right = self.expression(_UNARY if token.text == "**" else power + 1)
            left = Binary(token.text, left, right, token.offset)
            if token.text in _COMPARISONS and self.peek().is_op(*_COMPARISONS):
                raise ExprError(
                    "comparisons cannot be chained; combine them with 'and'", self.peek().offset
                )
        self.nesting -= 1
        return left

    def prefix(self, min_power: int) -> Node:
        token = self.peek()
        if token.kind == "kw" and token.text == "not":
            if min_power > _NOT:
                raise ExprError("'not' needs parentheses here", token.offset)
            self.take()
            return Unary("not", self.expression(_NOT))
        if token.is_op("-", "+"):
            self.take()
            return Unary(token.text, self.expression(_UNARY))
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
            inner = self.expression(_OR)
            self.close(token, "expected ')' or an operator")
            return inner
        raise ExprError(f"expected a value, found {token.describe()}", token.offset)

    def call(self, name: _Token) -> Call:
        if name.text not in FUNCTIONS:
            hint = did_you_mean(name.text, FUNCTIONS)
            raise ExprError(f"unknown function '{name.text}'{hint}", name.offset)
        opening = self.take()
        args: list[Node] = []
        if not self.peek().is_op(")"):
            args.append(self.expression(_OR))
            while self.peek().is_op(","):
                self.take()
                args.append(self.expression(_OR))
        self.close(opening, f"expected ',' or ')' in the arguments of {name.text}()")
        fewest, most = FUNCTIONS[name.text]
        if len(args) < fewest or (most is not None and len(args) > most):
            plural = "" if fewest == 1 else "s"
            need = f"at least {fewest}" if most is None else f"exactly {fewest}"
            raise ExprError(
                f"{name.text}() takes {need} argument{plural}, got {len(args)}", name.offset
            )
        return Call(name.text, tuple(args), name.offset)

    def close(self, opening: _Token, expected: str) -> None:
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
        stack.extend((child, depth + 1, offset) for child in _children(node))


def parse(text: str) -> Node:
    """The tree of ``text``; raises :class:`ExprError` at the offending offset."""
    node = _Parser(text).formula()
    _check_depth(node)
    return node


def names(node: Node) -> list[Name]:
    """Every column reference in source order, duplicates kept."""
    found: list[Name] = []

    def visit(node: Node) -> None:
        if isinstance(node, Name):
            found.append(node)
        for child in _children(node):
            visit(child)

    visit(node)
    return found


# -- checking ----------------------------------------------------------------------------------


def _categorical_pair(node: Binary) -> tuple[Name, Str] | None:
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
        pair = _categorical_pair(node) if isinstance(node, Binary) else None
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
        for child in _children(node):
            visit(child)

    visit(node)
    errors.sort(key=lambda error: error.offset)
    return errors


# -- polars ------------------------------------------------------------------------------------

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
        return _BINARY[node.op] > _CMP
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
    guarded = [arg.is_nan() for arg, node in zip(args, nodes, strict=True) if _guard(node)]
    if not guarded:
        return value
    nans = pl.sum_horizontal(*guarded, ignore_nulls=False)
    return pl.when(nans == 0).then(value).when(nans > 0).then(pl.lit(math.nan, pl.Float64))


def _guard(node: Node) -> bool:
    return not (isinstance(node, Num) and not math.isnan(node.value))


def _column(name: str, kind: str) -> pl.Expr:
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
        pair = _categorical_pair(node)
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


# -- text --------------------------------------------------------------------------------------


def _power(node: Node) -> int:
    if isinstance(node, Binary):
        return _BINARY[node.op]
    if isinstance(node, Unary):
        return _NOT if node.op == "not" else _UNARY
    return _ATOM


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
    text = _text(node)
    return f"({text})" if _power(node) < min_power else text


def _text(node: Node) -> str:
    if isinstance(node, Num):
        return _number_text(node.value)
    if isinstance(node, Str):
        return _quote(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        return f"{node.func}({', '.join(_text(arg) for arg in node.args)})"
    if isinstance(node, Unary):
        if node.op == "not":
            return f"not {_wrapped(node.operand, _NOT)}"
        return f"{node.op}{_wrapped(node.operand, _UNARY)}"
    power = _BINARY[node.op]
    if node.op == "**":
        left, right = _ATOM, _UNARY
    elif node.op in _COMPARISONS:
        left = right = power + 1
    else:
        left, right = power, power + 1
    return f"{_wrapped(node.left, left)} {node.op} {_wrapped(node.right, right)}"


def to_text(node: Node) -> str:
    """Canonical text with the fewest parentheses; ``parse(to_text(n)) == n`` for parsed trees."""
    return _text(node)


# -- affine decomposition ----------------------------------------------------------------------


def _fold_unary(op: str, x: float) -> float:
    if op == "-":
        return -x
    return x if op == "+" else float(x == 0)


def _fold_binary(op: str, a: float, b: float) -> float:
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
    return 0.0, {_text(node): 1.0}


def affine(node: Node) -> tuple[float, dict[str, float]]:
    """``node`` as intercept + sum(coefficient * feature), features keyed by their :func:`to_text`.

    Constant sub-expressions fold (with the IEEE semantics of :func:`to_polars`); sums,
    differences and negations distribute; products with, and quotients by, a finite constant
    scale. Anything else that involves a column (a product of two non-constants, a function call,
    a comparison, a power, ...) is one feature. Equal features add up; features keep the order of
    their first appearance, and a feature whose coefficients cancel stays with 0.0.
    """
    intercept, terms = _affine(node)
    return intercept + 0.0, {key: value + 0.0 for key, value in terms.items()}
