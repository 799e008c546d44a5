"""Parse rendered spec YAML into plain data, keeping each node's position in a side table.

In: :class:`Rendered` text. Out: :class:`Loaded`, the data (dicts, lists, scalars typed by the
YAML 1.2 core schema, see :class:`_CoreLoader`) and, per data path, where its value and its key
start in the file the user wrote. Positions are never injected into the data.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

try:  # libyaml's event parser, in PyYAML's wheels
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - a PyYAML built without libyaml

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


from synthc import limits
from synthc.compiler.paths import format_path
from synthc.compiler.positions import Span, printed_vars
from synthc.compiler.templating import Rendered, render_spec
from synthc.errors import Position, Problem, SpecError, clipped

DataPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Loaded:
    """Spec data with the position of every value and mapping key."""

    data: Any
    rendered: Rendered
    value_positions: Mapping[DataPath, Position]
    key_positions: Mapping[DataPath, Position]
    #: single-line string scalars: rendered (line, column of the first character of the value)
    text_starts: Mapping[DataPath, tuple[int, int]] = dataclasses.field(default_factory=dict)
    #: every scalar value and mapping key: (its YAML tag's short name, its source text)
    scalars: Mapping[DataPath, tuple[str, str]] = dataclasses.field(default_factory=dict)
    #: the same for each mapping key, by the path of the entry it names
    key_scalars: Mapping[DataPath, tuple[str, str]] = dataclasses.field(default_factory=dict)
    #: each key written twice in a mapping (the later entry is in ``data``, as in YAML): the
    #: compiler reports them with the spec's other problems, which it can still find
    duplicates: tuple[Problem, ...] = ()

    def position_of(
        self, path: Sequence[Any], prefer_key: bool = False, offset: int | None = None
    ) -> Position:
        """Where ``path`` is (its key if ``prefer_key``), else its nearest known ancestor.

        With ``offset``, the position of that character inside a one-line string value.
        """
        path = tuple(path)
        start = self.text_starts.get(path)
        if offset is not None and start is not None:
            return self.rendered.position(start[0], start[1] + offset)
        if prefer_key and path in self.key_positions:
            return self.key_positions[path]
        while path:
            if path in self.value_positions:
                return self.value_positions[path]
            path = path[:-1]
        return (
            self.rendered.position(0, 0)
            if self.data is None
            else self.value_positions.get((), self.rendered.position(0, 0))
        )

    def var_origin(self, path: Sequence[Any]) -> str | None:
        """``--var NAME=VALUE`` when the value at ``path`` was printed from a ``--var``."""
        return self.position_of(path).origin


def load_spec(
    path: Path,
    variables: Mapping[str, Any] | None = None,
    display_path: str | None = None,
    templates: Path | None = None,
    text: str | None = None,
    text_display: str | None = None,
) -> Loaded:
    """Render the spec at ``path`` (or ``text`` as if it stood there) with Jinja2, then parse
    it as YAML with positions; ``templates`` is where includes are searched after the spec's
    directory (default: the spec repository's root); ``text_display`` names ``text`` in
    positions."""
    return parse_yaml(render_spec(path, variables, display_path, templates, text, text_display))


def parse_yaml(rendered: Rendered) -> Loaded:
    """Parse rendered YAML; SpecError with a position for syntax errors and duplicate keys.

    Depth and size are bounded while parsing (limits.MAX_YAML_DEPTH, limits.MAX_YAML_NODES,
    an alias counting every node it repeats), so a small file cannot expand into a huge one.
    """
    printed = printed_vars(rendered.marks) if rendered.marks is not None else []
    try:
        return _parse_with(_BoundedLoader, rendered, printed)
    except _SyntaxErrorSeen:
        pass
    # Parsed again by PyYAML's own parser, for its words and limits: its messages name what
    # it found ("found character '\t'"), and libyaml scans ahead, so it stops at its own
    # depth (1000) before the composer meets the spec's. Only a spec that is no YAML pays.
    try:
        return _parse_with(_PureBoundedLoader, rendered, printed)
    except _YamlSyntaxError as error:
        raise _blame_printed_var(error, rendered, printed) from None


class _SyntaxErrorSeen(Exception):
    """libyaml found a syntax error (or passed its own nesting limit)."""


def _parse_with(
    kind: type[_BoundedLoader], rendered: Rendered, printed: list[tuple[int, int, Span]]
) -> Loaded:
    loader = kind(rendered.text)
    builder = _Builder(loader, rendered, keep_scalars=bool(printed))
    try:
        node = loader.get_single_node()
        data = builder.build(node, ()) if node is not None else None
    except _LimitExceeded as error:
        position = rendered.position(error.mark.line, error.mark.column)
        raise SpecError(Problem(position, "", str(error))) from None
    except yaml.MarkedYAMLError as error:
        if kind is _BoundedLoader:
            raise _SyntaxErrorSeen from None
        mark = error.problem_mark or error.context_mark
        at = rendered.position(mark.line, mark.column) if mark else None
        problem = error.problem or error.context or "invalid YAML"
        shown = problem
        if "'\\t'" in problem:  # a tab where YAML wants indentation or a value
            shown += " (YAML indents with spaces only: replace the tab with spaces)"
        found = _YamlSyntaxError(Problem(at, "", f"YAML syntax error: {shown}"))
        found.problem, found.index = problem, mark.index if mark else None
        raise found from None
    except yaml.YAMLError as error:
        raise _YamlSyntaxError(
            Problem(rendered.position(0, 0), "", f"YAML error: {error}")
        ) from None
    finally:
        loader.dispose()
    if printed:
        builder.problems.extend(_printed_var_problems(rendered, printed, builder.scalar_nodes))
    if builder.problems:
        raise SpecError(sorted([*builder.problems, *builder.duplicates], key=_where))
    return Loaded(
        data,
        rendered,
        builder.values,
        builder.keys,
        builder.text_starts,
        builder.scalars,
        builder.key_scalars,
        tuple(builder.duplicates),
    )


def _where(problem: Problem) -> tuple[int, int]:
    """A problem's place in the text, for listing problems found in two passes in order."""
    at = problem.position
    return (at.line, at.col) if at is not None else (0, 0)


def load_value(text: str, name: str) -> Any:
    """A ``--var`` value typed as YAML, under the spec's bounds; text that is not YAML as is.

    SpecError (naming the value as the file ``name``) when a bound is broken or an alias
    refers to itself.
    """
    rendered = Rendered(text, (), text, {name: tuple(text.splitlines())})
    try:
        loaded = parse_yaml(rendered)
    except _YamlSyntaxError:
        return text  # not YAML: take the text as written
    if loaded.duplicates:
        raise SpecError(list(loaded.duplicates))
    return loaded.data


_KINDS = {"int": "a number", "float": "a number", "bool": "a boolean", "null": "null (no value)"}


def yaml_reading_hint(
    loaded: Loaded, path: DataPath, expected: str, keys_only: bool = False
) -> str:
    """What YAML read at ``path`` (its value, else its key; with ``keys_only`` its key) and how
    to write it as ``expected``.

    ``expected`` is "text", "number", "integer" or "boolean"; "" when YAML read that kind, or
    when the path is not a scalar (nothing about YAML's typing to explain).
    """
    tables = (loaded.key_scalars,) if keys_only else (loaded.scalars, loaded.key_scalars)
    for table in tables:
        tag, source = table.get(tuple(path), ("", ""))
        if not tag:
            continue  # not a value scalar: the problem may be about a mapping key
        if table is loaded.key_scalars and expected != "text":
            return ""  # a list or mapping where a number was expected: its key is not at fault
        source = clipped(source, _HINT_CHARS)
        if expected == "text" and tag != "str":
            kind = _KINDS.get(tag, f"a {tag}")
            if not source:
                return "YAML read an empty value as null; write '' for empty text"
            quote = '"' if "'" in source else "'"
            return f"YAML read {source} as {kind}; write {quote}{source}{quote} in quotes for text"
        if expected in ("number", "integer") and tag == "bool":
            return f"YAML read {source} as a boolean; write {_NUMBERS[expected]}"
        if expected == "integer" and tag == "float":
            return (
                f"YAML read {source} as a float; write an integer, without a decimal point or "
                "exponent (1000, not 1000.0 or 1e3)"
            )
        if expected in ("number", "integer", "boolean") and tag == "str":
            if source[:1] in ("'", '"') and expected == "integer":
                return (
                    f"YAML read {source} as text because of its quotes; write an integer "
                    "without quotes (1000)"
                )
            if source[:1] in ("'", '"'):
                return f"YAML read {source} as text because of its quotes; write it without quotes"
            if expected == "boolean":
                return f"YAML 1.2 reads {source} as text, not a boolean; write true or false"
            if expected == "integer":
                return f"YAML 1.2 reads {source} as text, not an integer (integers: 1000, 0x1F)"
            return f"YAML 1.2 reads {source} as text, not a number (numbers: 1000, 1.5, 1e3, 0x1F)"
        return ""  # YAML read the kind expected: the value itself is wrong, not its typing
    return ""


#: what to write for a number field given a boolean
_NUMBERS = {"number": "a number (1000, 1.5, 1e3)", "integer": "an integer (1000)"}

#: characters of a value a hint quotes at most (a 100,000-character --var made one line of it)
_HINT_CHARS = 60


class _YamlSyntaxError(SpecError):
    """The text is not YAML (as opposed to YAML that breaks a bound)."""

    problem = ""  # what the parser said
    index: int | None = None  # where in the rendered text


def _tojson_hint(span: Span) -> str:
    name = span.printed.name if span.printed else "NAME"
    return f"write {{{{ var('{name}') | tojson }}}} to print a --var as one value"


#: what ends a line in YAML (a --var printed in a comment must not)
_LINE_BREAK = re.compile("[\n\r\x85\u2028\u2029]")


class _Scalars:
    """The scalar nodes of a parsed document (values and keys), by where they stand."""

    def __init__(self, nodes: Mapping[int, tuple[ScalarNode, DataPath]]) -> None:
        self.nodes = sorted(nodes.values(), key=lambda item: item[0].start_mark.index)
        self.starts = [node.start_mark.index for node, _ in self.nodes]
        self.ends = [node.end_mark.index for node, _ in self.nodes]

    def overlapping(self, start: int, end: int) -> list[tuple[ScalarNode, DataPath]]:
        """The scalars with text in [start, end) (scalars never overlap: ends ascend too)."""
        return self.nodes[
            bisect.bisect_right(self.ends, start) : bisect.bisect_left(self.starts, end)
        ]

    def in_comment(self, text: str, start: int) -> bool:
        """Whether ``start`` is inside a comment begun earlier on its line."""
        line_start = text.rfind("\n", 0, start) + 1
        hash_at = text.find("#", line_start, start)
        while hash_at >= 0:
            if (hash_at == line_start or text[hash_at - 1] in " \t") and not self.overlapping(
                hash_at, hash_at + 1
            ):
                return True
            hash_at = text.find("#", hash_at + 1, start)
        return False


def _printed_var_problems(
    rendered: Rendered,
    printed: list[tuple[int, int, Span]],
    nodes: Mapping[int, tuple[ScalarNode, DataPath]],
) -> list[Problem]:
    """A problem for each text a ``--var`` printed that YAML does not read back within one
    scalar: it made structure (a key, an item, an alias, a comment) or lost characters.

    Read back means: inside one scalar whose value holds the printed text (or the --var's own
    text, which ``| tojson`` prints quoted), or inside a comment begun before it on one line.
    """
    scalars = _Scalars(nodes)
    problems = []
    for start, end, span in printed:
        text = rendered.text[start:end]
        found = scalars.overlapping(start, end)
        path: DataPath = ()
        if len(found) == 1:
            node, path = found[0]
            own = span.printed.value if span.printed else ""
            inside = node.start_mark.index <= start and end <= node.end_mark.index
            if inside and (text in node.value or (own and own in node.value)):
                continue
            what = f"YAML reads {_excerpt(text)}, printed here, as {_excerpt(node.value)}"
        elif found:
            what = f"YAML reads {_excerpt(text)}, printed here, as {len(found)} values, not one"
        elif scalars.in_comment(rendered.text, start) and not _LINE_BREAK.search(text):
            continue
        else:
            what = f"YAML does not read {_excerpt(text)}, printed here, as text"
        position = Position(span.file, span.line, span.col, span.origin)
        problems.append(Problem(position, format_path(path), f"{what}; {_tojson_hint(span)}"))
    return problems


def _blame_printed_var(
    error: _YamlSyntaxError, rendered: Rendered, printed: list[tuple[int, int, Span]]
) -> _YamlSyntaxError:
    """``error``, or the same syntax error put on the --var text that caused it: the text
    parses with each printed --var replaced by a plain word."""
    if not printed:
        return error
    pieces, previous = [], 0
    for start, end, _ in printed:
        text = rendered.text[start:end]
        pieces += [rendered.text[previous:start], text if not text.strip() else "x"]
        previous = end
    pieces.append(rendered.text[previous:])
    loader = _BoundedLoader("".join(pieces))
    try:
        loader.get_single_node()
    except (yaml.YAMLError, _LimitExceeded):
        return error  # not the --var's text (or not only)
    finally:
        loader.dispose()
    at = error.index if error.index is not None else len(rendered.text)
    before = [item for item in printed if item[0] <= at]
    start, end, span = before[-1] if before else printed[0]
    text = _excerpt(rendered.text[start:end])
    message = f"YAML syntax error: {error.problem}, in {text} printed here; {_tojson_hint(span)}"
    position = Position(span.file, span.line, span.col, span.origin)
    return _YamlSyntaxError(Problem(position, "", message))


class _LimitExceeded(Exception):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.mark = mark


#: the tags a mapping or a list may carry (written or not)
_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
#: a UTF-16 surrogate on its own: YAML's \u escapes can write one
_SURROGATE = re.compile("[\ud800-\udfff]")
_DEPTH = (
    f"nested deeper than the limit of {limits.MAX_YAML_DEPTH} levels (synthc.limits.MAX_YAML_DEPTH)"
)
_NODES = (
    f"more than the limit of {limits.MAX_YAML_NODES:,} YAML nodes, counting every node an alias "
    "repeats (synthc.limits.MAX_YAML_NODES)"
)


def _core_int(loader: SafeConstructor, node: ScalarNode) -> int:
    """An integer as YAML 1.2 core writes it: decimal (leading zeros allowed), 0o octal, 0x hex."""
    text = str(loader.construct_scalar(node))
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits[:2] in ("0o", "0x"):
        return sign * int(digits[2:], 8 if digits[1] == "o" else 16)
    return sign * int(digits, 10)


class _CoreLoader(Composer, _Parser, SafeConstructor, Resolver):
    """A SafeLoader resolving plain scalars by the YAML 1.2 core schema, not YAML 1.1.

    Only true/false (any case as written: true, True, TRUE) are booleans, so yes, no, on, off,
    y and n stay text; 1e3 is a float, 0o17 octal, 012 the decimal 12; 1:30 and 1_000 are text;
    there are no implicit timestamps (a date is text; fields that take dates parse it).

    Events come from libyaml's parser when PyYAML has it (eight times as fast as PyYAML's own:
    a spec at the node limit parses in about a second, not ten); nodes are composed in Python,
    where :class:`_BoundedLoader` counts them.
    """

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}

    def __init__(self, stream: str) -> None:
        self._start_parser(stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)

    def _start_parser(self, stream: str) -> None:
        _Parser.__init__(self, stream)


def _resolve(tag: str, pattern: str, first: str) -> None:
    # PyYAML picks resolvers by a scalar's first character; "" is the empty scalar's.
    starts = [*first, ""] if tag == "null" else list(first)
    _CoreLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{tag}", re.compile(f"^(?:{pattern})$"), starts
    )


_resolve("null", "~|null|Null|NULL|", "~nN")
_resolve("bool", "true|True|TRUE|false|False|FALSE", "tTfF")
_resolve("int", "[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789")
_resolve(
    "float",
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
    "-+0123456789.",
)
_resolve("merge", "<<", "<")
_CoreLoader.add_constructor("tag:yaml.org,2002:int", _core_int)


class _BoundedLoader(_CoreLoader):
    """A SafeLoader whose composer counts depth and nodes, an alias as the nodes it repeats."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0
        self.sizes: dict[int, int] = {}  # id(anchored node) -> nodes it stands for

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            # An alias to a node still being composed (a recursive alias) counts as one.
            self._count(self.sizes.get(id(node), 1), event.start_mark)
            return node
        collection = isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent)
        if collection and self.depth >= limits.MAX_YAML_DEPTH:
            raise _LimitExceeded(_DEPTH, event.start_mark)
        before = self.nodes
        self._count(1, event.start_mark)
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if getattr(event, "anchor", None) is not None:
            self.sizes[id(node)] = self.nodes - before
        return node

    def _count(self, nodes: int, mark: Any) -> None:
        self.nodes += nodes
        if self.nodes > limits.MAX_YAML_NODES:
            raise _LimitExceeded(_NODES, mark)


class _PureBoundedLoader(Reader, Scanner, Parser, _BoundedLoader):
    """:class:`_BoundedLoader` on PyYAML's own reader, scanner and parser (no read-ahead)."""

    def __init__(self, stream: str) -> None:  # not Reader's, first in the method order
        _BoundedLoader.__init__(self, stream)

    def _start_parser(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


class _Builder:
    def __init__(self, loader: _CoreLoader, rendered: Rendered, keep_scalars: bool) -> None:
        self.loader = loader
        self.keep_scalars = keep_scalars
        #: with ``keep_scalars``: every scalar node (values and keys) and its path, by id
        self.scalar_nodes: dict[int, tuple[ScalarNode, DataPath]] = {}
        self.rendered = rendered
        self.text = rendered.text
        self.values: dict[DataPath, Position] = {}
        self.keys: dict[DataPath, Position] = {}
        self.text_starts: dict[DataPath, tuple[int, int]] = {}
        self.scalars: dict[DataPath, tuple[str, str]] = {}
        self.key_scalars: dict[DataPath, tuple[str, str]] = {}
        self.problems: list[Problem] = []
        self.duplicates: list[Problem] = []  # keys written twice (Loaded.duplicates)
        self.active: set[int] = set()

    def position(self, node: Node) -> Position:
        return self.rendered.position(node.start_mark.line, node.start_mark.column)

    def build(self, node: Node, path: DataPath) -> Any:
        self.values.setdefault(path, self.position(node))
        if id(node) in self.active:
            self.problems.append(Problem(self.position(node), format_path(path), "recursive alias"))
            return None
        if len(path) >= limits.MAX_YAML_DEPTH and not isinstance(node, ScalarNode):
            # Aliases inside anchored nodes can nest deeper than the text does.
            raise _LimitExceeded(_DEPTH, node.start_mark)
        self.active.add(id(node))
        try:
            if not isinstance(node, ScalarNode) and node.tag not in _COLLECTION_TAGS:
                # a scalar's unknown tag fails its constructor; a collection's was ignored
                shown = node.tag.replace("tag:yaml.org,2002:", "!!", 1)
                message = f"the tag {shown} is not allowed: a spec holds plain mappings and lists"
                self.problems.append(Problem(self.position(node), format_path(path), message))
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, ScalarNode)
            value = self._scalar(node, path)
            self.scalars[path] = _reading(self.text, node)
            if self.keep_scalars:
                self.scalar_nodes.setdefault(id(node), (node, path))
            if isinstance(value, str) and node.start_mark.line == node.end_mark.line:
                # Plain and single-quoted-without-escapes scalars map characters 1:1.
                quoted = node.style in ("'", '"')
                if not quoted or (node.style == "'" and "''" not in _source(self.text, node)):
                    column = node.start_mark.column + (1 if quoted else 0)
                    self.text_starts[path] = (node.start_mark.line, column)
                elif node.style == '"' and "\\" not in _source(self.text, node):
                    self.text_starts[path] = (node.start_mark.line, node.start_mark.column + 1)
            return value
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: ScalarNode, path: DataPath) -> Any:
        """The typed value; a Problem (and None) for values YAML's types cannot hold."""
        try:
            value = self.loader.construct_object(node, deep=True)
            lone = _SURROGATE.search(value) if isinstance(value, str) else None
            if lone is None:
                return value
            # a "\ud800" escape: Python holds it, but no UTF-8 file (card, manifest) can
            message = f"{ascii(lone[0])[1:-1]} is half of a surrogate pair, not a character"
        except yaml.MarkedYAMLError as error:
            message = error.problem or error.context or "invalid value"
        except Exception as error:  # a constructor's failure is the value's fault
            # e.g. a date 2020-13-45, an integer of more digits than Python converts, a tag
            # forced onto text it does not fit (`!!timestamp name`)
            kind = node.tag.rpartition(":")[2] or "value"
            reason = str(error) if isinstance(error, ValueError) else f"not a valid {kind}"
            if "integer string conversion" in reason:
                reason = f"more than {sys.get_int_max_str_digits():,} digits"
            message = f"invalid {kind} {_excerpt(node.value)}: {reason}"
        self.problems.append(Problem(self.position(node), format_path(path), message))
        return None

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[Any, Any]:
        explicit = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        self.loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Node] = {}
        for key_node, value_node in node.value:
            # Only a scalar can be a key (others are unhashable); never expand one.
            key: Any = self._scalar(key_node, path) if isinstance(key_node, ScalarNode) else []
            try:
                hash(key)
            except TypeError:
                self.problems.append(
                    Problem(
                        self.position(key_node), format_path(path), "a mapping key must be a scalar"
                    )
                )
                continue
            previous = first_seen.get(key)
            if previous is not None and id(previous) in explicit and id(key_node) in explicit:
                self.duplicates.append(
                    Problem(
                        self.position(key_node),
                        format_path((*path, key)),
                        self._duplicate(previous, key_node, key),
                    )
                )
            first_seen[key] = key_node
            child = (*path, key)
            self.keys[child] = self.position(key_node)
            if isinstance(key_node, ScalarNode):
                self.key_scalars[child] = _reading(self.text, key_node)
                if self.keep_scalars:
                    self.scalar_nodes.setdefault(id(key_node), (key_node, child))
            self.values.pop(child, None)  # a later (explicit) entry wins, as in YAML merges
            result[key] = self.build(value_node, child)
        return result

    def _duplicate(self, first: Node, again: Node, key: Any) -> str:
        """The message of a key written twice: as the user wrote both when they differ (``1``
        and ``true`` are one key to Python), with where the first stands."""
        at = self.position(first)
        here = self.position(again)
        where = f"line {at.line}" + (f", column {at.col}" if at.line == here.line else "")
        wrote = _excerpt(_source(self.text, again).strip()) if isinstance(again, ScalarNode) else ""
        earlier = (
            _excerpt(_source(self.text, first).strip()) if isinstance(first, ScalarNode) else ""
        )
        if not wrote or wrote == earlier:
            return f"duplicate key {_excerpt(str(key))} (first at {where})"
        return (
            f"duplicate key: {wrote} and {earlier} (at {where}) are one key, YAML reads them as "
            "equal values; write each key once (in quotes, each is text of its own)"
        )


def _reading(text: str, node: ScalarNode) -> tuple[str, str]:
    """A scalar's tag (short name) and its text as written in ``text``, quotes included."""
    return node.tag.rpartition(":")[2], _source(text, node) if node.style else node.value


def _excerpt(text: str, width: int = 40) -> str:
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _source(text: str, node: ScalarNode) -> str:
    """The characters of ``text`` (the YAML parsed) that wrote ``node``."""
    return text[node.start_mark.index : node.end_mark.index]
