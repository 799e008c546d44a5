"""The tokenizer: formula text in, a list of tokens (ending with an "end" token) out."""

from __future__ import annotations

import string
from dataclasses import dataclass

from synthc.generators.tabular.expr.errors import ExprError
from synthc.generators.tabular.expr.grammar import KEYWORDS

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
class Token:
    """One token: its kind, its text as written, where it starts and its literal value."""

    kind: str  # "num" | "str" | "name" | "kw" | "op" | "end"
    text: str
    offset: int
    value: float | str | None = None

    def is_op(self, *texts: str) -> bool:
        """Whether this is one of the operators ``texts``."""
        return self.kind == "op" and self.text in texts

    def describe(self) -> str:
        """The token as an error message names it."""
        if self.kind == "end":
            return "the end of the formula"
        if self.kind == "num":
            return f"number {self.text}"
        if self.kind == "str":
            return f"string {self.text}"
        if self.kind == "name":
            return f"name '{self.text}'"
        return f"'{self.text}'"


def _number(text: str, start: int) -> Token:
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
    return Token("num", text[start:end], start, float(text[start:end]))


#: the prefix by which a child table's formula names a column of its parent row
PARENT = "parent"


def _dotted_end(text: str, start: int) -> int:
    if text[start] not in _NAME_START:
        raise ExprError("expected a column name after 'parent.'", start)
    end = start + 1
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    return end


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``; raises :class:`ExprError` at a character the language lacks."""
    tokens: list[Token] = []
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
            token = Token("str", text[i : end + 1], i, text[i + 1 : end])
        elif c in _NAME_START:
            end = i + 1
            while end < n and text[end] in _NAME_CHARS:
                end += 1
            if text[i:end] == PARENT and text[end : end + 1] == "." and end + 1 < n:
                end = _dotted_end(text, end + 1)  # parent.col: a parent table's column
            word = text[i:end]
            token = Token("kw" if word in KEYWORDS else "name", word, i)
        elif text[i : i + 2] in _OPERATORS_2:
            token = Token("op", text[i : i + 2], i)
        elif c in _OPERATORS_1:
            token = Token("op", c, i)
        elif c in _MISTAKES:
            raise ExprError(f"unexpected '{c}'; {_MISTAKES[c]}", i)
        else:
            raise ExprError(f"unexpected character {c!r}", i)
        tokens.append(token)
        i = token.offset + len(token.text)
    tokens.append(Token("end", "", n))
    return tokens
