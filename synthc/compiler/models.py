"""The spec's top-level pydantic models (format 1); generator configs live with their kind."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_serializer,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from synthc import generators, limits

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _a_number_not_text_or_boolean(value: Any) -> Any:
    # YAML's true is no 1 and "10" no 10 (Python would take both as integers); a whole float is
    # its integer (samples: 1e6) while a float holds every integer up to 2**53 exactly: past
    # that, a seed written 12345678901234567890.0 would silently be another seed (pydantic says
    # a fractional float has a fractional part, and a NaN is no finite number)
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    if isinstance(value, float) and math.isfinite(value) and abs(value) > _EXACT_FLOATS:
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


#: the largest magnitude up to which a float holds every integer
_EXACT_FLOATS = 2.0**53


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_printable_line(text: str) -> str:
    found = _UNPRINTABLE.search(text)
    if found:
        raise ValueError(
            f"must be one line of printable text; it holds {ascii(found[0])} at character "
            f"{found.start() + 1}"
        )
    return text


#: checks a whole number (1e6 too, up to 2**53), never text or a boolean, before the field's rules
_A_NUMBER = BeforeValidator(_a_number_not_text_or_boolean)
#: an integer field of the spec's top level. An optional one (``int | None``) puts its bounds
#: inside: ``Annotated[int, Field(gt=0), _A_NUMBER] | None``, so the JSON Schema states them as
#: exclusiveMinimum and the like (bounds outside the validator came out as pydantic's own
#: ``gt`` and ``lt``, which no JSON Schema reader knows)
Integer = Annotated[int, _A_NUMBER]


class OutputConfig(_Strict):
    """How shards are written."""

    format: Literal["parquet", "webdataset"] | None = Field(
        None,
        description="Shard file format: parquet for tables and point clouds, webdataset (tar) "
        "for images; default: the generator's own.",
    )
    shard_size: Annotated[int, Field(gt=0), _A_NUMBER] | None = Field(
        None,
        description="Samples per shard; the last shard of a split may be smaller. Default: per "
        "split, from the generator's estimate of a sample's bytes: shards of at most 256 MiB, "
        "at least 8 shards per split while each holds at least 8 MiB, evened out "
        "(docs/outputs.md, synthc.compiler.shard_sizing).",
    )
    compression: Literal["lz4", "zstd", "snappy", "uncompressed"] = Field(
        "lz4",
        description="Parquet codec. lz4 by default: random floats barely compress (72 -> 68 "
        "bytes/row) and lz4 encodes twice as fast as zstd level 1 (62 bytes/row).",
    )
    compression_level: Annotated[int, Field(ge=1, le=22), _A_NUMBER] | None = Field(
        None, description="zstd level (default: the writer's); other codecs ignore it."
    )
    columns: tuple[StrictStr, ...] | None = Field(
        None,
        min_length=1,
        description="Table generators: keep only these columns in the shards, the manifest's "
        "schema and the card (in the generator's order; `index` is a column too), e.g. leave "
        "out clean_* columns nobody reads. Default: every column.",
    )

    @model_serializer(mode="wrap")
    def _columns_only_when_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Without output.columns the dump is what it was before the option existed, so task
        # keys, manifests and diffs of existing specs stay the same.
        data: dict[str, Any] = handler(self)
        if data.get("columns") is None:
            data.pop("columns", None)
        return data

    @property
    def chosen_format(self) -> Literal["parquet", "webdataset"]:
        """``format`` once validated: as written, or the generator's default."""
        if self.format is None:
            raise ValueError("output.format is known only once the spec is validated")
        return self.format


#: Names synthc (or a generator's extra files) uses at the top of an output directory.
RESERVED_SPLIT_NAMES = ("facts",)
#: A split name ending in one of these could collide with a file synthc writes at the top of an
#: output (manifest.json, spec.yaml, spec.rendered.yaml, README.md, preview.png, catalog.json,
#: graph.csv, and any file a generator adds later), or with a temporary of one (.partial).
RESERVED_SPLIT_SUFFIXES = (
    ".json",
    ".yaml",
    ".yml",
    ".md",
    ".png",
    ".npy",
    ".txt",
    ".csv",
    ".partial",
)


def _split_name_problem(name: str) -> str | None:
    """What is wrong with the split name ``name`` on its own, or None: a split is a folder."""
    if len(name) > limits.MAX_FOLDER_NAME:
        # the build found a name over 255 bytes only as it planned its files
        return (
            f"a split name of {len(name):,} characters: at most {limits.MAX_FOLDER_NAME} "
            "(synthc.limits.MAX_FOLDER_NAME; each split is a folder, and names its shard files)"
        )
    if not _valid_split_name(name):
        return f"split name {name!r} must match {NAME_PATTERN}"
    lowered = name.lower()
    if lowered in RESERVED_SPLIT_NAMES or lowered.endswith(RESERVED_SPLIT_SUFFIXES):
        return (
            f"split name {name!r} is reserved: a split is a folder at the top of the output, "
            "beside the files synthc writes there, so it may not be "
            f"{' or '.join(RESERVED_SPLIT_NAMES)} or end in {', '.join(RESERVED_SPLIT_SUFFIXES)} "
            "(compared case-insensitively)"
        )
    return None


#: a problem of the splits field: its place below ``splits`` (``(name, "[key]")`` for a name,
#: ``(name,)`` for its value, ``()`` for the whole field) and its message
_SplitProblem = tuple[tuple[Any, ...], str]


def _split_entry_problems(splits: dict[Any, Any]) -> list[_SplitProblem]:
    """Every problem of each split's name and value on its own (names that are no text are
    pydantic's to report; a value that is no number is one problem here, not pydantic's two),
    and every name that differs from an earlier one only in case, each at its own entry, in
    spec order."""
    problems: list[_SplitProblem] = []
    folded: dict[str, str] = {}
    for name, value in splits.items():
        if not isinstance(name, str):
            continue
        problem = _split_name_problem(name)
        if problem is not None:
            problems.append(((name, "[key]"), problem))
        else:  # folders: one would take the other's place on macOS or Windows
            other = folded.setdefault(name.casefold(), name)
            if other != name:
                problems.append(
                    (
                        (name, "[key]"),
                        f"split names {other!r} and {name!r} differ only in case; each split is "
                        "a folder, and a file system that ignores case holds them as one",
                    )
                )
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and (value < 0 or not math.isfinite(value)):
            problems.append(((name,), f"split {name!r}: must be a finite number >= 0"))
        elif not number:  # one problem, not one per member of int | float
            problems.append(((name,), _not_a_split_value(value)))
    return problems


def _not_a_split_value(value: Any) -> str:
    """The problem of a split's value that is no number (compiling adds what YAML read, for
    text)."""
    if isinstance(value, bool):
        return (
            f"YAML read {str(value).lower()} as a boolean; write a fraction of the samples "
            "(0.8) or a count of them (800)"
        )
    if value is None:
        return (
            "the value is empty (YAML reads it as null); write a fraction of the samples (0.8) "
            "or a count of them (800)"
        )
    return "input should be a valid number"


def _split_field_problems(splits: dict[str, int | float]) -> list[str]:
    """What is wrong with the splits as a whole (their values all numbers >= 0)."""
    if not splits:
        return ["at least one split is needed"]
    kinds = {type(v) for v in splits.values()}
    if len(kinds) > 1:
        return ["give every split as a fraction or every split as a count, not both"]
    if float in kinds and not math.isclose(sum(splits.values()), 1.0, abs_tol=1e-9):
        # 12 digits: :g printed 1.00000001 as "1"; repr prints 0.8 + 0.1 as 0.9000000000000001
        return [f"split fractions sum to {sum(splits.values()):.12g}, not 1"]
    return []


def _split_problems_error(
    problems: list[_SplitProblem], found: ValidationError | None
) -> ValidationError:
    """One ValidationError holding ``problems`` and the errors pydantic ``found`` in the field,
    each at its own place (raised in a validator, its errors take the field's place as prefix),
    so every problem of the splits is reported at once."""
    details: list[InitErrorDetails] = []
    if found is not None:
        judged = {place[0] for place, _ in problems if len(place) == 1}
        for item in found.errors(include_url=False):
            if item["loc"][:1] and item["loc"][0] in judged and item["loc"][1:2] != ("[key]",):
                continue  # a value already reported as one problem
            detail = InitErrorDetails(type=item["type"], loc=item["loc"], input=item["input"])
            if "ctx" in item:
                detail["ctx"] = item["ctx"]
            details.append(detail)
    for loc, message in problems:
        error = ValueError(message)
        details.append(
            InitErrorDetails(type="value_error", loc=loc, input=None, ctx={"error": error})
        )
    try:
        return ValidationError.from_exception_data("splits", details)
    except (KeyError, TypeError, ValueError):  # an error type pydantic cannot rebuild
        if found is not None:
            return found
        raise


class Spec(_Strict):
    """A dataset spec. ``generator`` is checked against its kind's model in a second pass."""

    synthc: Literal[1] = Field(description="Spec format version.")
    name: str = Field(pattern=NAME_PATTERN, max_length=128, description="Dataset name.")
    version: Annotated[str, AfterValidator(_one_printable_line)] = Field(
        "0.0.0",
        min_length=1,
        max_length=128,
        description="Dataset version, recorded as given (one line of printable text).",
    )
    description: str = Field("", description="What this dataset is, for the dataset card.")
    seed: Integer = Field(ge=0, lt=2**63, description="Root seed; every sample derives from it.")
    samples: Annotated[int, Field(gt=0, lt=2**53), _A_NUMBER] | None = Field(
        None,
        description="Total samples over all splits; may be omitted where the generator implies "
        "it (fractal: classes x instances).",
    )
    splits: dict[str, StrictInt | StrictFloat] = Field(
        default_factory=lambda: {"train": 1.0},
        description="Split name -> fraction (summing to 1) or integer count (summing to samples). "
        "Splits take consecutive sample ranges in the order written.",
    )
    # A mapping while the top level is validated; the validator then replaces it with the
    # generator kind's own config model (see compiler/validation.py).
    generator: Any = Field(description="The generator; `kind` chooses its model.")
    output: OutputConfig = Field(default_factory=lambda: OutputConfig.model_validate({}))

    @property
    def sample_count(self) -> int:
        """``samples`` once validated: as written, or implied by the generator."""
        if self.samples is None:
            raise ValueError("samples is known only once the spec is validated")
        return self.samples

    @field_validator("synthc", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: Any) -> Any:
        if isinstance(value, bool):  # equal to 1 in Python, so Literal[1] takes it
            raise ValueError(f"input should be 1, not the boolean {str(value).lower()}")
        return value

    @field_validator("splits", mode="wrap")
    @classmethod
    def _check_splits(
        cls, raw: Any, handler: ValidatorFunctionWrapHandler
    ) -> dict[str, int | float]:
        # Every problem of every entry at once, at the entry (a split name at its key): a spec
        # with several bad names hears of each in one run, beside pydantic's own findings.
        problems = _split_entry_problems(raw) if isinstance(raw, dict) else []
        try:
            splits: dict[str, int | float] = handler(raw)
        except ValidationError as error:
            if not problems:
                raise
            raise _split_problems_error(problems, error) from None
        if not any(len(place) == 1 for place, _ in problems):  # every value is a count >= 0
            problems += [((), message) for message in _split_field_problems(splits)]
        if problems:
            raise _split_problems_error(problems, None)
        return splits


def _valid_split_name(name: str) -> bool:
    return isinstance(name, str) and re.match(NAME_PATTERN, name) is not None


def generator_kinds() -> list[str]:
    """The kinds the spec's ``generator`` may have: the registry's (synthc.generators)."""
    return generators.kinds()


def usable_kinds() -> list[str]:
    """The kinds whose generator loads: an installed kind that cannot be used
    (generators.KindError) is left out of hints about the other kinds."""
    usable = []
    for kind in generator_kinds():
        try:
            generators.get(kind)
        except generators.KindError:
            continue
        usable.append(kind)
    return usable


def generator_config(kind: str) -> Any:
    """The config model of ``kind``, one member of the spec's ``generator`` union; only that
    kind's module is imported. KeyError for a kind not in the registry."""
    return generators.get(kind).Config


def generator_configs() -> dict[str, Any]:
    """The spec's whole ``generator`` union: kind -> config model."""
    return {kind: generator_config(kind) for kind in generator_kinds()}


def spec_schema() -> dict[str, Any]:
    """JSON Schema of the spec format, the ``generator`` union built from the registry;
    generators.KindError for an installed kind that cannot be used."""
    base = Spec.model_json_schema()
    defs = base.setdefault("$defs", {})
    variants = []
    for config in generator_configs().values():
        sub = TypeAdapter(config).json_schema(ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        variants.append(sub)
    base["properties"]["generator"] = {
        "description": "The generator; `kind` chooses its fields.",
        "oneOf": variants,
    }
    base["title"] = "synthc spec, format 1"
    return base
