"""Validate a model part by part, so one invalid field never hides another field's problem.

pydantic validates a model all or nothing, and stops at a discriminated union whose tag is
unknown. Here a model that fails is validated again field by field (each with the model's own
validator, so strictness and field validators apply); a nested model, a mapping or list of them,
and a union member chosen by its tag (or by the did-you-mean of a misspelt tag) are validated on
their own. What cannot be validated becomes a :data:`HOLE`; a rule that reads a hole raises
:class:`Unjudgeable` and stays silent (its inputs are wrong and already reported).
"""

from __future__ import annotations

import contextlib
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Union

from pydantic import BaseModel, Discriminator, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from synthc.compiler.hints import closest, field_hint, field_name, meant_field
from synthc.generators.holes import HOLE, Unjudgeable, is_hole

Path = tuple[str | int, ...]
#: report(path, message, prefer_key=False): one problem at a path of the data
Report = Callable[..., None]
#: report_pydantic(error, model type, data, path prefix): a pydantic error's problems
ReportPydantic = Callable[[ValidationError, Any, Any, Path], None]


def judge(rules: Iterable[Callable[[], Iterable[Any]]], holes: bool = True) -> list[Any]:
    """Every problem the rules yield; a rule that reads an invalid value stops there silently
    (what it yielded before stays: it was judged on valid inputs). With ``holes`` (some value
    failed validation) a TypeError counts as such a read too: C code such as ``re.match``
    rejects a hole by its type without calling any of its methods."""
    refused: tuple[type[Exception], ...] = (Unjudgeable, TypeError) if holes else (Unjudgeable,)
    found: list[Any] = []
    for rule in rules:
        try:
            for problem in rule():
                found.append(problem)
        except refused:
            continue
    return found


class Validator:
    """Validates data against an annotation part by part, reporting every problem."""

    def __init__(self, report: Report, report_pydantic: ReportPydantic) -> None:
        self.report = report
        self.report_pydantic = report_pydantic
        #: while data is judged as the member a misspelt tag most likely means: the fields of
        #: the other members, which the user may have meant instead (None: no guess)
        self._guess: set[str] | None = None

    @contextlib.contextmanager
    def guessing(self, others: Iterable[str]) -> Iterator[None]:
        """Judge data as a guessed member (a misspelt tag's closest): its written values are
        judged, but a field it lacks is not reported missing, nor a key ``others`` has unknown;
        the guess may be wrong, and the tag's own problem says what is allowed."""
        before = self._guess
        self._guess = set(others) | (before or set())
        try:
            yield
        finally:
            self._guess = before

    def value(self, annotation: Any, data: Any, path: Path) -> Any:
        """``data`` validated as ``annotation``, with HOLE in each part that is invalid."""
        try:
            return _adapter(annotation).validate_python(data)
        except ValidationError as error:
            return self._parts(annotation, data, path, error)

    def _parts(self, annotation: Any, data: Any, path: Path, error: ValidationError) -> Any:
        union = _discriminated(annotation) or _discriminated(_not_none(annotation))
        if union is not None and isinstance(data, dict):
            return self._member(*union, data, path)
        model = _model(annotation, data)
        if model is not None and isinstance(data, dict):
            return self.model(model, data, path)
        inner = _container(annotation)
        if inner is not None:
            kind, item = inner
            if kind is dict and isinstance(data, dict) and all(isinstance(k, str) for k in data):
                self._container_errors(annotation, data, path)
                return {key: self.value(item, value, (*path, key)) for key, value in data.items()}
            if kind is list and isinstance(data, list):
                self._container_errors(annotation, data, path)
                return [self.value(item, value, (*path, i)) for i, value in enumerate(data)]
        self.report_pydantic(error, annotation, data, path)
        return HOLE

    def _container_errors(self, annotation: Any, data: Any, path: Path) -> None:
        # Errors of the container itself (too few items); its items are judged one by one.
        try:
            _adapter(annotation).validate_python(data)
            return
        except ValidationError as own_error:
            own = [e for e in own_error.errors(include_url=False) if not e["loc"]]
        if own:
            self.report(path, _lower_first(own[0]["msg"]))

    def model(
        self,
        model: type[BaseModel],
        data: dict[str, Any],
        path: Path,
        elsewhere: dict[str, list[str]] | None = None,
    ) -> Any:
        """``data`` as ``model``: each field validated on its own, unknown keys reported
        (``elsewhere``: for a union member, field -> the other members' tags that have it)."""
        try:
            data = _before_validators(model, data)
        except (ValueError, AssertionError) as error:
            self.report(path, str(error))
            return HOLE
        try:
            return model.model_validate(data)
        except ValidationError:
            pass
        fields = model.model_fields
        meant: set[str] = set()  # fields an unknown key stands for: not also reported missing
        for key in data:
            if key not in fields and self._guess is not None and key in self._guess:
                meant.add(key)  # another member's field: the user may mean that member
            elif key not in fields:
                hint = field_hint(key, fields)
                if not hint and elsewhere and key in elsewhere:
                    hint = f"; it is a field of {' and '.join(elsewhere[key])}"
                meant.add(meant_field(key, fields) or "")
                self.report((*path, key), f"unknown field {field_name(key)}{hint}", True)
        values: dict[str, Any] = {}
        for name, field in fields.items():
            if name not in data:
                if field.is_required() and (name in meant or self._guess is not None):
                    values[name] = HOLE  # not missing: written under another name or member
                elif field.is_required():
                    self.report((*path, name), f"missing required field '{name}'", False, None)
                    values[name] = HOLE
                continue
            values[name] = self._field(model, name, field, data, path)
        return model.model_construct(**values)

    def _field(
        self, model: type[BaseModel], name: str, field: FieldInfo, data: dict[str, Any], path: Path
    ) -> Any:
        scratch = model.model_construct()
        try:
            model.__pydantic_validator__.validate_assignment(scratch, name, data[name])
            return scratch.__dict__[name]
        except ValidationError as error:
            if _has_models(field.annotation) and isinstance(data[name], dict | list):
                annotation: Any = field.annotation
                if field.metadata:  # the container's own constraints (min_length)
                    annotation = typing.Annotated[annotation, *field.metadata]
                return self._parts(annotation, data[name], (*path, name), error)
            self.report_pydantic(error, model, data, path)
            return HOLE

    def _member(
        self, members: dict[str, type[BaseModel]], tag_of: Any, data: dict, path: Path
    ) -> Any:
        tag_field, tag = tag_of(data)
        if tag is None and data.get(tag_field, "") is None:  # written, empty: YAML's null
            tagged = [name for name, model in members.items() if tag_field in model.model_fields]
            self.report(
                (*path, tag_field),
                f"the value is empty (YAML reads it as null); expected one of {', '.join(tagged)}",
            )
            chosen = None
        elif tag is None:
            self.report(path, f"missing required field '{tag_field}'")
            chosen = None
        elif not isinstance(tag, str) or tag not in members:
            tagged = [name for name, model in members.items() if tag_field in model.model_fields]
            keyed = [name for name in members if name not in tagged]  # a key instead of the tag
            chosen = closest(tag, tagged)  # never a tag value no spec may write
            hint = f"; did you mean '{chosen}'?" if chosen else ""
            expected = ", ".join(tagged) + "".join(
                f", or '{name}' in place of '{tag_field}'" for name in keyed
            )
            self.report(
                (*path, tag_field), f"unknown {tag_field} {tag!r}; expected one of {expected}{hint}"
            )
            if chosen is not None:
                # Judge the rest as the member the user most likely meant; the tag stays invalid.
                model = members[chosen]
                others = _elsewhere(members, tag_field, chosen)
                with self.guessing(others):
                    part = self.model(model, {**data, tag_field: chosen}, path, others)
                return part.model_copy(update={tag_field: HOLE}) if not is_hole(part) else part
        else:
            return self.model(members[tag], data, path, _elsewhere(members, tag_field, tag))
        self._common_fields(list(members.values()), tag_field, data, path)
        return HOLE

    def _common_fields(
        self, models: list[type[BaseModel]], tag_field: str, data: dict, path: Path
    ) -> None:
        """Without a member: the keys no member has, and the fields every member shares."""
        every = set.union(*(set(m.model_fields) for m in models))
        for key in data:
            if key not in every and key != tag_field:
                hint = field_hint(key, every)
                self.report((*path, key), f"unknown field {field_name(key)}{hint}", True)
        first = models[0]
        for name, field in first.model_fields.items():
            if name == tag_field or name not in data:
                continue
            shared = all(
                name in m.model_fields
                and m.model_fields[name].annotation == field.annotation
                and m.model_fields[name].metadata == field.metadata
                for m in models
            )
            if shared:
                self._field(first, name, field, data, path)


def _elsewhere(members: dict[str, type[BaseModel]], tag_field: str, tag: str) -> dict:
    """Field -> ``shape: torus``-style names of the other members that have it; a member
    chosen by a key of its own instead of the tag (a tabular ``expr`` column, which has no
    ``dist``; one table's ``columns`` against ``tables``) is named by that key, not as a
    ``dist: expr`` no spec may write."""
    own = members[tag].model_fields
    found: dict[str, list[str]] = {}
    for other, model in members.items():
        tagged = tag_field in model.model_fields
        named = f"{tag_field}: {other}" if tagged else f"one with '{other}'"
        for name in model.model_fields:
            if name not in own:
                found.setdefault(name, []).append(named)
    return found


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:] if message else message


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    key = repr(annotation)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(annotation)
    return _ADAPTERS[key]


def _before_validators(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    for name, decorator in model.__pydantic_decorators__.model_validators.items():
        if decorator.info.mode == "before":
            data = getattr(model, name)(data)
    return data


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        annotation, metadata = args[0], [*metadata, *args[1:]]
    return annotation, metadata


def _members(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return list(typing.get_args(annotation))
    return [annotation]


def _not_none(annotation: Any) -> Any:
    """The one member of an optional field's ``X | None`` other than None; else the annotation
    (a present value is never None's: its errors are the member's)."""
    options = [m for m in _members(_strip(annotation)[0]) if m is not type(None)]
    return options[0] if len(options) == 1 else annotation


def _discriminated(annotation: Any) -> tuple[dict[str, type[BaseModel]], Any] | None:
    """A discriminated union's members by tag and a function data -> (tag field, tag)."""
    inner, metadata = _strip(annotation)
    found = None
    for meta in metadata:
        if isinstance(meta, Discriminator | FieldInfo) and meta.discriminator is not None:
            found = meta.discriminator
    if found is None:
        return None
    members: dict[str, type[BaseModel]] = {}
    for member in _members(inner):
        model, meta = _strip(member)
        tags = [m.tag for m in meta if hasattr(m, "tag")]
        if not tags and isinstance(found, str):
            tags = list(typing.get_args(model.model_fields[found].annotation))
        for tag in tags:
            members[str(tag)] = model
    if callable(found):
        name = getattr(found, "__name__", "kind")
        return members, lambda data: (name, found(data))
    return members, lambda data: (found, data.get(found))


def _model(annotation: Any, data: Any) -> type[BaseModel] | None:
    inner, _ = _strip(annotation)
    models = [m for m in _members(inner) if isinstance(m, type) and issubclass(m, BaseModel)]
    others = [m for m in _members(inner) if m is not type(None) and m not in models]
    return models[0] if len(models) == 1 and not others else None


def _container(annotation: Any) -> tuple[type, Any] | None:
    inner, _ = _strip(annotation)
    options = [m for m in _members(inner) if m is not type(None)]
    if len(options) != 1:
        return None
    origin = typing.get_origin(options[0])
    args = typing.get_args(options[0])
    if origin is dict and len(args) == 2:
        return dict, args[1]
    if origin is list and len(args) == 1:
        return list, args[0]
    return None


def _has_models(annotation: Any) -> bool:
    inner, _ = _strip(annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return True
    return any(_has_models(arg) for arg in typing.get_args(inner) if arg is not Ellipsis)
