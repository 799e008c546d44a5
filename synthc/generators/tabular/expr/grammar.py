"""The operators and functions of the language: binding powers, comparisons and arities, shared
by the parser, the printer and the polars compiler."""

from __future__ import annotations

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
OR, AND, NOT, CMP, SUM, PRODUCT, UNARY, POWER, ATOM = range(1, 10)
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
#: binary operator -> binding power
BINARY: dict[str, int] = {
    "or": OR,
    "and": AND,
    **dict.fromkeys(COMPARISONS, CMP),
    "+": SUM,
    "-": SUM,
    "*": PRODUCT,
    "/": PRODUCT,
    "**": POWER,
}
KEYWORDS = frozenset({"and", "or", "not"})
