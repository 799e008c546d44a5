"""Where each character of a rendered spec came from: marks put into the template, read back after.

Before rendering, the template source is rewritten at the token level (Jinja's own lexer says
what is literal text): every line piece of literal text that survives whitespace control starts
with a marker naming its file, line and column, and every ``{{ expr }}`` prints its value between
an "expression at LINE:COL" marker and an "expression ends" marker. Markers are never whitespace,
so ``{%-``/``-%}`` trim exactly what they trimmed before and never a marker. After rendering the
markers are stripped and remembered by their offset in the clean text, so a rendered character
maps exactly to literal source text, or to the start of the expression that printed it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from typing import Any

OPEN, CLOSE = "\x02", "\x03"
#: a marker; its number indexes the span table (a forged one names at worst a wrong span)
MARK = re.compile("\x02(\\d{1,9})\x03")
#: template globals the rewritten ``{{ }}`` call (names a spec is unlikely to use)
AT_NAME = "_synthc_at"
READS_NAME = "_synthc_reads"

TEXT, EXPR, END = "text", "expr", "end"


@dataclass(frozen=True)
class Span:
    """What a marker stands for: literal text, an expression's output, or the end of one."""

    kind: str
    file: str
    line: int
    col: int  # 1-based
    #: TEXT: how many characters of literal text follow on that source line
    length: int = 0
    #: EXPR: "--var NAME=VALUE" when the printed value came from a --var
    origin: str | None = None
    #: EXPR: the --var whose text this expression printed (YAML must read it as one value)
    printed: VarText | None = None


@dataclass(frozen=True)
class VarText:
    """Text an expression printed from the text ``--var`` ``name`` (``value`` as given): YAML
    must read it back within one scalar, else it made or broke structure."""

    name: str
    value: str


class SpanTable:
    """The spans markers refer to, by index; the render adds spans for expression values."""

    def __init__(self) -> None:
        self.spans: list[Span] = []

    def add(self, span: Span) -> int:
        """Store ``span``; its index."""
        self.spans.append(span)
        return len(self.spans) - 1

    def marker(self, index: int) -> str:
        """The marker text for span ``index``."""
        return f"{OPEN}{index}{CLOSE}"


def mark_source(env: Any, text: str, file: str, table: SpanTable) -> str:
    """``text`` with markers for ``file`` put in; unmarked if it does not lex or parse.

    Text inside ``{% set %}...{% endset %}`` stays unmarked: a template treats it as data
    (compares it, converts it), and where it is printed its ``{{ }}`` marks it. A macro body
    is marked only at the start of its second and later lines, and its ``{{ }}`` not at all, so
    a one-line macro returns exactly its text; what it prints maps to the ``{{ }}`` calling it.
    """
    from jinja2 import TemplateSyntaxError

    try:
        env.parse(text)  # a syntax error is reported from the text as the user wrote it
        tokens = list(env.lex(text))
    except TemplateSyntaxError:
        return text
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def where(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    inserts: list[tuple[int, str]] = []
    cursor = 0
    quiet = 0  # depth of {% set %} blocks
    macros = 0  # depth of {% macro %} bodies
    for index, (_lineno, kind, value) in enumerate(tokens):
        at = text.find(value, cursor)
        if at < 0:
            return text  # the lexer changed the text (it never should): positions say unknown
        cursor = at + len(value)
        if kind == "block_begin":
            tag, assigns = _tag(tokens, index)
            quiet = max(0, quiet + (tag == "set" and not assigns) - (tag == "endset"))
            macros = max(0, macros + (tag == "macro") - (tag == "endmacro"))
        if quiet:
            continue
        if kind == "data":
            offset = at
            pieces = value.split("\n")
            for number, piece in enumerate(pieces):
                if macros and number == 0:
                    pass  # a one-line macro returns exactly its text, marks only after newlines
                elif piece or number < len(pieces) - 1:
                    line, col = where(offset)
                    span = table.add(Span(TEXT, file, line, col, len(piece)))
                    inserts.append((offset, table.marker(span)))
                offset += len(piece) + 1
        elif kind == "variable_begin" and not macros:
            line, col = where(at)
            start = table.add(Span(EXPR, file, line, col))
            table.add(Span(END, file, line, col))
            inserts.append((cursor, f" {AT_NAME}({start}, {READS_NAME}(), ("))
        elif kind == "variable_end" and not macros:
            inserts.append((at, ")) "))
    out: list[str] = []
    previous = 0
    for offset, insert in inserts:
        out.append(text[previous:offset])
        out.append(insert)
        previous = offset
    out.append(text[previous:])
    return "".join(out)


def _tag(tokens: list[tuple[int, str, str]], index: int) -> tuple[str, bool]:
    """The name of the tag starting at ``index`` and whether it assigns (``set x = ...``)."""
    names = []
    for _, kind, value in tokens[index + 1 :]:
        if kind == "block_end":
            break
        if kind != "whitespace":
            names.append((kind, value))
    name = names[0][1] if names and names[0][0] == "name" else ""
    return name, ("operator", "=") in names


@dataclass(frozen=True)
class MarkedText:
    """Rendered text without markers, and where each marker stood in it."""

    text: str
    offsets: tuple[int, ...]  # ascending offsets in text
    spans: tuple[Span, ...]  # the span of the marker at the same index
    #: the expression a value printed here is reported at (None: not inside one)
    outer: tuple[Span | None, ...] = ()


def strip_marks(marked: str, table: SpanTable) -> MarkedText:
    """Remove every marker, remembering where it stood; forged markers are dropped."""
    parts = MARK.split(marked)  # text, index, text, index, ..., text
    spans_of = table.spans
    offsets: list[int] = []
    spans: list[Span] = []
    outer: list[Span | None] = []
    open_exprs: list[Span] = []
    reported: Span | None = None
    size = len(parts[0])
    for number in range(1, len(parts), 2):
        index = int(parts[number])
        if index < len(spans_of):
            span = spans_of[index]
            if span.kind == EXPR:
                open_exprs.append(span)
                reported = _reported(open_exprs)
            elif span.kind == END and open_exprs:
                open_exprs.pop()
                reported = _reported(open_exprs)
            offsets.append(size)
            spans.append(span)
            outer.append(reported)
        size += len(parts[number + 1])
    text = "".join(parts[0::2])
    return MarkedText(text, tuple(offsets), tuple(spans), tuple(outer))


def printed_vars(marked: MarkedText) -> list[tuple[int, int, Span]]:
    """(start, end, span) in ``marked.text`` of each non-empty text an expression printed from
    a ``--var`` (its EXPR ``span`` has ``printed``), in order."""
    found: list[tuple[int, int, Span]] = []
    open_exprs: list[tuple[int, Span]] = []
    for offset, span in zip(marked.offsets, marked.spans, strict=True):
        if span.kind == EXPR:
            open_exprs.append((offset, span))
        elif span.kind == END and open_exprs:
            start, opened = open_exprs.pop()
            if opened.printed is not None and offset > start:
                found.append((start, offset, opened))
    found.sort(key=lambda item: item[0])
    return found


def _reported(open_exprs: list[Span]) -> Span | None:
    """The innermost expression printing here, with the innermost ``--var`` origin known."""
    if not open_exprs:
        return None
    innermost = open_exprs[-1]
    if innermost.origin or len(open_exprs) == 1:
        return innermost
    origin = next((s.origin for s in reversed(open_exprs) if s.origin), None)
    return replace(innermost, origin=origin) if origin else innermost


#: a position that no marker explains
UNKNOWN = None


def locate(marked: MarkedText, line_starts: tuple[int, ...], line0: int, col0: int) -> Any:
    """(span, column) for a 0-based rendered line and column, or UNKNOWN.

    Literal text maps character by character; anything else an expression printed (over any
    number of lines, through macros) to the start of the ``{{ }}`` that printed it;
    whitespace before the first mark of a line to the columns before that mark.
    """
    if not marked.offsets or not line_starts:
        return UNKNOWN
    line0 = min(max(line0, 0), len(line_starts) - 1)
    line_start = line_starts[line0]
    line_end = line_starts[line0 + 1] - 1 if line0 + 1 < len(line_starts) else len(marked.text)
    offset = min(line_start + max(col0, 0), line_end)
    at = bisect.bisect_right(marked.offsets, offset) - 1
    if at >= 0:
        span, start, outer = marked.spans[at], marked.offsets[at], marked.outer[at]
        distance = offset - start
        # the end of a piece is exact only where its line ends (else something else printed)
        ends = distance == span.length and marked.text[offset : offset + 1] in ("\n", "")
        empty = _printed_blank(marked, line_start, offset, line_end)
        if empty is not None:  # the empty value YAML reads there is an expression's doing
            return empty, empty.col
        if span.kind == TEXT and (distance < span.length or ends) and start >= line_start:
            return span, span.col + distance
        if outer is not None:
            return outer, outer.col
    following = at + 1
    if following < len(marked.offsets) and marked.offsets[following] <= line_end:
        span, start = marked.spans[following], marked.offsets[following]
        if marked.text[offset:start].strip() == "" and span.kind != END:
            return span, max(1, span.col - (start - offset))
    if marked.text[line_start:line_end].strip() == "":
        # A blank rendered line belongs to the next line that has content (at the end of the
        # text, to the last).
        for index in [*range(following, len(marked.offsets)), *range(at, -1, -1)]:
            if marked.spans[index].kind != END:
                return marked.spans[index], 1
    return UNKNOWN


def _value_at(text: str, offset: int) -> bool:
    """Whether a value is written at ``offset`` (not a blank, the line's end, a comment or
    what ends a flow item)."""
    return text[offset : offset + 1].strip() not in ("", ",", "]", "}", "#")


def _printed_blank(marked: MarkedText, line_start: int, offset: int, line_end: int) -> Span | None:
    """The expression (with its ``--var`` origin) that printed nothing but blanks at
    ``offset``, after text on its line: the empty value YAML reads there (``samples:`` from
    ``--var samples=``, before a comment, a ``,`` or a ``}``) is its doing, not that text's."""
    if not marked.text[line_start:offset].strip() or _value_at(marked.text, offset):
        return None
    index = bisect.bisect_left(marked.offsets, offset)
    while index < len(marked.offsets) and marked.spans[index].kind == TEXT:
        index += 1  # a piece of literal text that is empty here
    if index == len(marked.offsets) or marked.spans[index].kind != EXPR:
        return None
    start = marked.offsets[index]
    if start > line_end or marked.text[offset:start].strip():
        return None
    depth = 0
    for end, span in zip(marked.offsets[index:], marked.spans[index:], strict=True):
        depth += (span.kind == EXPR) - (span.kind == END)
        if depth == 0:
            return marked.outer[index] if not marked.text[start:end].strip() else None
    return None
