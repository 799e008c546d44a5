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

One module per job, in the order a formula flows through them: :mod:`.tokens` (text to tokens),
:mod:`.parser` (tokens to a tree of :mod:`.nodes`, with :mod:`.grammar`'s operators and
functions), :mod:`.checks` (the tree against the columns), :mod:`.compile` (to polars),
:mod:`.text` (back to text) and :mod:`.decomposition` (intercept and coefficients); every problem
is an :class:`~.errors.ExprError`.
"""

from __future__ import annotations

from synthc.generators.tabular.expr.checks import check
from synthc.generators.tabular.expr.compile import to_polars
from synthc.generators.tabular.expr.decomposition import affine
from synthc.generators.tabular.expr.errors import ExprError
from synthc.generators.tabular.expr.grammar import FUNCTIONS
from synthc.generators.tabular.expr.nodes import Binary, Call, Name, Node, Num, Str, Unary, names
from synthc.generators.tabular.expr.parser import parse
from synthc.generators.tabular.expr.text import to_text

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
