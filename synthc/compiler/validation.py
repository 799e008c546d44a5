"""Validate parsed spec data into a Spec, reporting every problem at once with its position.

In: plain data from the YAML loader and a function that turns a data path into a position.
Out: a :class:`Spec` whose ``generator`` is the kind's config model, or a SpecError listing every
problem as ``FILE:LINE:COL: field.path: message``.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Union, cast

from pydantic import BaseModel, ValidationError

from synthc import generators, limits
from synthc.compiler.hints import closest, did_you_mean, field_hint, field_name
from synthc.compiler.models import Spec, generator_config, usable_kinds
from synthc.compiler.partial import HOLE, Validator, is_hole, judge
from synthc.compiler.paths import format_path
from synthc.compiler.shard_sizing import split_shard_sizes
from synthc.compiler.splits import split_counts
from synthc.errors import Position, Problem, SpecError
from synthc.generators.base import TableGenerator

Path = tuple[str | int, ...]
#: how pydantic names a union member in a loc: a type with parameters (``list[float]``,
#: ``dict[str,list[float]]``); a plain name could be a user's key, so it is not matched
_TYPE_NAME = re.compile(r"^[A-Za-z_]\w*\[.*\]$")
Locate = Callable[[Sequence[str | int], bool, int | None], Position | None]


def validate_data(data: Any, locate: Locate) -> Spec:
    """Validate ``data`` as a spec; raise SpecError with every problem found.

    Each field is validated on its own (synthc.compiler.partial), and each cross-field rule is
    judged as far as the fields it reads are valid, so one run reports every independent problem.
    """
    problems: list[Problem] = []

    def report(
        path: Path, message: str, prefer_key: bool = False, offset: int | None = None
    ) -> None:
        problems.append(Problem(locate(path, prefer_key, offset), format_path(path), message))

    if not isinstance(data, dict):
        report((), "a spec must be a mapping of fields (synthc, name, seed, samples, ...)")
        raise SpecError(problems)

    def report_pydantic(error: ValidationError, root: Any, raw: Any, prefix: Path) -> None:
        _report_pydantic(error, root, raw, prefix, report)

    parts = Validator(report, report_pydantic)
    spec: Any = parts.model(Spec, data, ())
    config = _validate_generator(data.get("generator"), "generator" in data, report, parts)
    consistent = not is_hole(config)

    if not is_hole(spec):
        given = "samples" in data  # written, but empty (YAML's null): not missing
        spec = _with_samples(spec, config, report, bool(problems), given)
        rules = [
            lambda: _check_split_counts(spec),
            lambda: _check_samples(spec, config),
            lambda: _check_format(spec, config),
            lambda: _check_columns(spec, config),
        ]
        for path, message in judge(rules, bool(problems)):
            report(path, message)
    if not is_hole(config):
        judged = judge([lambda: [config.semantic_rules()]], bool(problems))
        for problem in judge(judged[0] if judged else [], bool(problems)):
            if not _problem_shaped(problem):
                report(
                    ("generator", "kind"),
                    f"generator {config.kind!r}: its config's semantic_problems() yielded "
                    f"{problem!r:.80}; each problem is a tuple (path, message), the path a "
                    "tuple of field names and indices, with an optional third item",
                )
                consistent = False
                continue
            rel_path, message, *where = problem
            # An optional third item: "key" to point at the key, or a character offset into a
            # one-line string value (a formula).
            detail = where[0] if where else None
            offset = detail if isinstance(detail, int) else None
            report(("generator", *rel_path), message, detail == "key", offset)
            consistent = False
    # Sizes and memory are estimated, before anything is planned, only when no cross-field
    # rule failed (a [low, high] pair has two items, a list source has items, ...); an estimate
    # that reads an invalid field stays silent. The plan size is checked in any case, except
    # that the default shard size reads the generator config: only one that passed its rules.
    sized = config if consistent else HOLE
    if not is_hole(spec) and _plan_size_ok(spec, sized, report, bool(problems)) and consistent:
        samples, shard_size = spec.samples, _largest_shard(spec, config)
        holes = bool(problems)
        for path, message in judge([lambda: config.size_problems(samples, shard_size)], holes):
            report(path, message)
    if problems:
        raise SpecError(sorted(problems, key=_problem_order))
    output = spec.output
    if output.format is None:
        output = output.model_copy(update={"format": generators.get(config.kind).formats[0]})
    return spec.model_copy(update={"generator": config, "output": output})


def _problem_shaped(problem: Any) -> bool:
    """Whether a config's cross-field problem is ``(path, message)`` with an optional third
    item, the path a tuple (or list) of field names and indices, the message text."""
    return (
        isinstance(problem, tuple | list)
        and len(problem) in (2, 3)
        and isinstance(problem[0], tuple | list)
        and all(isinstance(part, str | int) for part in problem[0])
        and isinstance(problem[1], str)
    )


def _validate_generator(
    raw: Any, given: bool, report: Callable[..., None], parts: Validator
) -> Any:
    if raw is None and not given:
        return HOLE  # the top-level pass already reported the missing field
    if not isinstance(raw, dict):
        report(("generator",), "must be a mapping with a 'kind' field")
        return HOLE
    kind = raw.get("kind")
    if isinstance(kind, str) and generators.known(kind):  # read no entry points for a built-in
        try:
            model = generator_config(kind)
        except generators.KindError as error:  # an installed kind that cannot be used
            report(("generator", "kind"), str(error))
            return HOLE
        config = parts.value(model, raw, ("generator",))
        shadowed = generators.shadowed(kind) if is_hole(config) else ()
        if shadowed:  # read only for a built-in kind's spec that fails: a plugin author's?
            report(
                ("generator", "kind"),
                f"{kind!r} is a built-in kind, which synthc uses; "
                + " and ".join(c.describe(kind) for c in shadowed)
                + " also claims it and is not used: give the package's kind another name",
            )
        return config
    known = usable_kinds()
    if kind is None and isinstance(raw, dict) and "kind" in raw:  # written, empty
        report(
            ("generator", "kind"),
            f"the value is empty (YAML reads it as null); one of: {', '.join(known)}",
        )
        return HOLE
    if kind is None:
        report(("generator",), f"missing field 'kind'; one of: {', '.join(known)}")
        return HOLE
    hint = did_you_mean(kind, known)
    listed = hint or (
        f"; the kinds here: {', '.join(known)} (a package adds one through the entry point "
        f"group {generators.ENTRY_POINT_GROUP}: is it installed in this environment?)"
    )
    report(("generator", "kind"), f"unknown generator kind {kind!r}{listed}")
    meant = closest(kind, known)
    if not hint or meant is None:
        _unknown_to_every_kind(raw, known, report)
        return HOLE
    # Judge the rest as the kind the user most likely meant; the kind itself stays invalid,
    # and a field that kind lacks is neither missing nor unknown if another kind has it.
    with parts.guessing(_fields_of_kinds(known)):
        config = parts.value(generator_config(meant), {**raw, "kind": meant}, ("generator",))
    return config if is_hole(config) else config.model_copy(update={"kind": HOLE})


def _fields_of_kinds(known: Sequence[str]) -> set[str]:
    """Every top-level field name of the generator kinds ``known``."""
    return {name for k in known for m in _models_of(generator_config(k)) for name in m.model_fields}


def _unknown_to_every_kind(raw: dict, known: Sequence[str], report: Callable[..., None]) -> None:
    """Without a kind, the keys that no generator kind has are still wrong."""
    every = _fields_of_kinds(known)
    for key in raw:
        if key not in every:
            report(
                ("generator", key), f"unknown field {field_name(key)}{field_hint(key, every)}", True
            )


def _with_samples(
    spec: Any, config: Any, report: Callable[..., None], holes: bool, given: bool = False
) -> Any:
    """The spec with ``samples`` derived from the generator where it implies one and the spec
    does not say; a spec that omits it otherwise is missing a field (``given``: it is written
    with an empty value)."""
    if spec.samples is not None:
        return spec
    derived = judge([lambda: [config.expected_samples()]], holes)
    if derived == [None] and given:
        report(("samples",), "the value is empty (YAML reads it as null); give a whole number")
    elif derived == [None]:
        report(("samples",), "missing required field 'samples'")
    samples = derived[0] if derived and derived[0] is not None else HOLE
    return spec.model_copy(update={"samples": samples})


def _check_samples(spec: Any, config: Any) -> Iterable[tuple[Path, str]]:
    expected = config.expected_samples()
    if expected is not None and expected != spec.samples:
        yield (("samples",), f"must be {expected:,} for this generator (classes x instances)")


def _check_format(spec: Any, config: Any) -> Iterable[tuple[Path, str]]:
    """The output format must be one the generator writes."""
    formats = generators.get(config.kind).formats
    if spec.output.format is not None and spec.output.format not in formats:
        yield (
            ("output", "format"),
            f"the {config.kind} generator writes {' or '.join(formats)}, not {spec.output.format}",
        )


#: column names an unknown-column message lists at most
_LISTED_COLUMNS = 12


def _check_columns(spec: Any, config: Any) -> Iterable[tuple[Path, str]]:
    """output.columns names columns the table generator writes, each once."""
    keep = spec.output.columns
    if keep is None:
        return
    generator = generators.get(config.kind)
    if not isinstance(generator, TableGenerator):
        yield (
            ("output", "columns"),
            f"the {config.kind} generator writes files per sample, not table columns; "
            "output.columns keeps columns of table generators only",
        )
        return
    if config.table_names():
        yield (
            ("output", "columns"),
            "output.columns keeps columns of a spec of one table; with related tables "
            "(generator.tables) every table is written whole",
        )
        return
    known = generator.written_names(config)
    listed = ", ".join(known[:_LISTED_COLUMNS]) + (", ..." if len(known) > _LISTED_COLUMNS else "")
    seen: set[str] = set()
    for position, name in enumerate(keep):
        if name not in known:
            yield (
                ("output", "columns", position),
                f"unknown column {name!r}{did_you_mean(name, known)} (the {config.kind} "
                f"generator's columns: {listed})",
            )
        elif name in seen:
            yield (("output", "columns", position), f"column {name!r} is listed twice")
        seen.add(name)


def _plan_size_ok(spec: Any, config: Any, report: Callable[..., None], holes: bool) -> bool:
    return judge([lambda: [_check_plan_size(spec, config, report)]], holes) == [True]


def _shard_sizes(spec: Spec, config: Any) -> dict[str, int]:
    """Samples per shard of each split: output.shard_size, or the default (read from the
    generator config, so a rule that reads an invalid one stays silent)."""
    output = spec.output
    return split_shard_sizes(
        spec.splits, spec.sample_count, output.shard_size, config, output.columns
    )


def _largest_shard(spec: Spec, config: Any) -> int:
    return max(_shard_sizes(spec, config).values())


def _check_plan_size(spec: Spec, config: Any, report: Callable[..., None]) -> bool:
    """Refuse a sample or shard count no build could finish, before anything is planned;
    True when the plan is a reasonable size."""
    samples = spec.sample_count
    if samples > limits.MAX_SAMPLES:
        report(
            ("samples",),
            f"{samples:,} samples exceed the limit of {limits.MAX_SAMPLES:,} "
            "(synthc.limits.MAX_SAMPLES)",
        )
        return False
    sizes = _shard_sizes(spec, config)
    counts = split_counts(spec.splits, samples)
    shards = sum(-(-count // sizes[name]) for name, count in counts.items())
    if shards > limits.MAX_SHARDS:
        shard_size = max(sizes.values())
        report(
            ("output", "shard_size"),
            f"{samples:,} samples in shards of {shard_size:,} make {shards:,} shards, over "
            f"the limit of {limits.MAX_SHARDS:,} (synthc.limits.MAX_SHARDS); use a larger "
            "output.shard_size",
        )
        return False
    return True


def _check_split_counts(spec: Spec) -> Iterable[tuple[Path, str]]:
    values = list(spec.splits.values())
    if values and all(isinstance(v, int) for v in values) and sum(values) != spec.samples:
        yield (("splits",), f"split counts sum to {sum(values)}, but samples is {spec.samples}")


def _report_pydantic(
    error: ValidationError, root: Any, data: Any, prefix: Path, report: Callable[..., None]
) -> None:
    items = [(item, *_data_path(data, item["loc"])) for item in error.errors(include_url=False)]
    for item, path, leftover in items:
        if _shadowed(item, path, items):
            continue
        kind = item["type"]
        ctx = item.get("ctx") or {}
        full = prefix + path
        if kind == "extra_forbidden":
            allowed = _fields_at(root, data, path[:-1])
            named = field_name(path[-1])
            report(full, f"unknown field {named}{field_hint(path[-1], allowed)}", True)
        elif kind == "missing":
            report(full, f"missing required field '{leftover[0] if leftover else path[-1]}'")
        elif kind == "union_tag_invalid":
            tag_field = _tag_field(ctx)
            expected = _quoted(str(ctx.get("expected_tags", "")))
            tag = ctx.get("tag")
            hint = did_you_mean(tag, expected)
            report(
                (*full, tag_field),
                f"unknown {tag_field} {tag!r}; expected one of {', '.join(expected)}{hint}",
            )
        elif kind == "union_tag_not_found":
            tag_field = _tag_field(ctx)
            report(full, f"missing required field '{tag_field}'")
        elif kind == "literal_error":
            expected = _quoted(str(ctx.get("expected", "")))
            value = _value_at(data, path)
            report(full, _lower_first(item["msg"]) + did_you_mean(value, expected))
        elif kind == "value_error" and "error" in ctx:
            # a validator's own words, without pydantic's prefix; one about a mapping's key (a
            # split name) points at the key
            report(full, str(ctx["error"]), leftover == ("[key]",))
        elif kind == "string_type" and leftover == ("[key]",):
            # a mapping's key (a split or column name YAML read as a number): at the key
            report(full, NAME_NOT_TEXT, True)
        else:
            report(full, _plain_words(kind, ctx) or _lower_first(item["msg"]))


#: the problem of a mapping key that is not text (compiling adds what YAML read it as)
NAME_NOT_TEXT = "a name must be text"

_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "greater than or equal to"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "less than or equal to"),
}


def _plain_words(kind: str, ctx: dict[str, Any]) -> str | None:
    """pydantic's message in a spec's terms, where its own names Python types or prints a
    bound of 1e100 digit by digit; None to keep pydantic's."""
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        bound = ctx.get(key)
        if bound is None:  # a rule of synthc's own that words it differently
            return None
        if isinstance(bound, float) and bound.is_integer() and abs(bound) < 1e16:
            bound = int(bound)
        shown = f"{bound:g}" if isinstance(bound, float) else str(bound)
        return f"input should be {words} {shown}"
    if kind in ("too_short", "too_long"):
        least = kind == "too_short"
        count = ctx.get("min_length" if least else "max_length")
        items = "item" if count == 1 else "items"
        return (
            f"should have {'at least' if least else 'at most'} {count} {items}, "
            f"not {ctx.get('actual_length')}"
        )
    if kind in ("tuple_type", "list_type"):
        return "input should be a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "input should be a mapping (name: value)"
    return None


def _tag_field(ctx: dict[str, Any]) -> str:
    # A field discriminator arrives quoted ('shape'); a callable one as its name with "()".
    return str(ctx.get("discriminator", "")).strip("'\"").removesuffix("()")


def _shadowed(item: Any, path: Path, items: list[tuple[Any, Path, Path]]) -> bool:
    """A type error on a value that another union branch explains more precisely, deeper in
    (a validator's own words about the whole value, such as the splits' sum, stand)."""
    if item["type"] in ("missing", "extra_forbidden", "value_error"):
        return False
    return any(len(other) > len(path) and other[: len(path)] == path for _, other, _ in items)


def _data_path(data: Any, loc: Sequence[str | int]) -> tuple[Path, Path]:
    """Split a pydantic loc into the part that names real data and the rest.

    pydantic puts union tags and type names (``'swiss_roll'``, ``'int'``) into locs; they are
    not keys of the user's data, so they are dropped while walking the data.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if part == "[key]":  # pydantic's step to a mapping's key: not a key of the data
            return tuple(path), tuple(loc[i:])
        part = _null_key(node, part)
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict:
            # pydantic names a boolean key by its number (1 for `true:`): keep the real key
            key = next((k for k in node if k == part and type(k) is type(part)), None)
            if key is None:
                key = next(k for k in node if k == part)
            path.append(key)
            node = node[key]
        elif in_list:
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and part in node.values():
            continue  # a discriminator's value used as a loc step
        elif isinstance(part, str) and (
            isinstance(node, list) or (isinstance(node, dict) and _TYPE_NAME.match(part))
        ):
            continue  # a union member's name, e.g. 'list[list[float]]'
        elif isinstance(node, dict) and i + 1 < len(loc) and _null_key(node, loc[i + 1]) in node:
            continue  # a union member's name before a real key
        elif isinstance(node, dict):
            # A key that is not there (missing) or that pydantic rejects (extra) ends the path.
            return (*path, part), tuple(loc[i:])
        else:
            return tuple(path), tuple(loc[i:])
    return tuple(path), ()


def _null_key(node: Any, part: Any) -> Any:
    """``part`` of a pydantic loc as a key of ``node``: pydantic names a null mapping key
    (YAML's ``null:`` or ``~:``) by the text 'None', which is not a key of the data."""
    if part == "None" and isinstance(node, dict) and "None" not in node and None in node:
        return None
    return part


def _value_at(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _fields_at(root: Any, data: Any, path: Path) -> list[str]:
    """Field names allowed by the model found at ``path`` below ``root`` (for did-you-mean)."""
    candidates = _models_of(root)
    node: Any = data
    for part in path:
        # a list indexed by a name raises, as a bad path always has
        node = cast(Any, node)[part] if isinstance(node, dict | list) else None
        chosen = _matching(candidates, node)
        if isinstance(part, int) or not chosen:
            return []
        field = chosen[0].model_fields.get(str(part))
        if field is None:
            return []
        candidates = _models_of(field.annotation)
    chosen = _matching(candidates, node)
    return sorted(chosen[0].model_fields) if chosen else []


def _models_of(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_of(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models_of(arg)]
    return []


def _matching(models: list[type[BaseModel]], node: Any) -> list[type[BaseModel]]:
    """The models whose Literal fields (discriminators) agree with the data."""
    if len(models) <= 1 or not isinstance(node, dict):
        return models
    chosen = []
    for model in models:
        ok = True
        for name, field in model.model_fields.items():
            if typing.get_origin(field.annotation) is typing.Literal and name in node:
                ok = ok and node[name] in typing.get_args(field.annotation)
        if ok:
            chosen.append(model)
    return chosen or models


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:] if message else message


def _problem_order(problem: Problem) -> tuple[str, int, int]:
    pos = problem.position
    return (pos.file, pos.line, pos.col) if pos else ("", 0, 0)
