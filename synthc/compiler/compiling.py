"""Spec file to validated Spec: the load and validate phases together."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthc import generators
from synthc.compiler.loading import Loaded, load_spec, yaml_reading_hint
from synthc.compiler.models import Spec
from synthc.compiler.paths import format_path
from synthc.compiler.templating import check_mapping
from synthc.compiler.validation import NAME_NOT_TEXT, validate_data
from synthc.compiler.variables import check_recordable
from synthc.errors import Problem, SpecError, UsageError
from synthc.inputs import FileProblem, InputError, Reader
from synthc.provenance import InputRecord, ordered, spell, spell_spec


@dataclass(frozen=True)
class CompiledSpec:
    """A validated spec with the loaded text it came from."""

    spec: Spec
    loaded: Loaded
    variables: dict[str, Any]
    #: directories the spec's files were read from, by root kind: workers look files up there
    read_roots: dict[str, list[str]] = field(default_factory=dict)
    #: every file the compile read and the build will read, in a stable order (provenance)
    inputs: tuple[InputRecord, ...] = ()
    #: the directories whose files the spec takes (``fonts.dir``, ...), as :meth:`Reader.listed`
    directories: tuple[Path, ...] = ()

    @property
    def depended_on(self) -> list[Path]:
        """What a depfile names: each input as resolved and as opened, then each directory
        listed (a file added there changes the data, though no listed file did)."""
        return [*(p for r in self.inputs for p in r.local_paths), *self.directories]

    @property
    def source_name(self) -> str:
        """The spec file as the user named it ("" for an empty spec)."""
        if self.loaded.rendered.reads:  # not the line map: its first line may be an include's
            return self.loaded.rendered.reads[0].display
        line_map = self.loaded.rendered.line_map
        return str(line_map[0][0]) if line_map else ""

    @property
    def written_text(self) -> str:
        """The spec's text as the user wrote it (CRLF line endings kept: the copy a build
        writes is the file's bytes, whose sha256 the provenance records)."""
        rendered = self.loaded.rendered
        return rendered.source_text if rendered.written_text is None else rendered.written_text

    @property
    def rendered_text(self) -> str:
        """The spec's text after templating, as it was parsed."""
        return self.loaded.rendered.text


def compile_spec(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
    *,
    text: str | None = None,
    text_display: str | None = None,
) -> CompiledSpec:
    """Render, parse and validate the spec at ``path``; SpecError lists every problem.

    Files the spec names are read only from the allowed roots (synthc.inputs): the spec's
    directory, its repository, trdg's data and the directories in ``allow_read``. Templates
    are searched in the spec's directory, then ``templates`` (default: the repository root).
    ``CompiledSpec.inputs`` records every file read (synthc.provenance). ``text`` compiles that
    source as if it stood at ``path`` (its includes and files resolve there); positions in it
    name ``text_display`` (default: ``path``).
    """
    refuse_url(path)
    check_mapping(variables)
    given = variables if variables is not None else {}
    variables = dict(given)
    try:
        reader = Reader(Path(path).parent, allow_read)
    except InputError as error:
        raise UsageError(str(error)) from None
    where = Path(templates) if templates is not None else None
    loaded = load_spec(
        Path(path),
        given,
        display_path=str(path),
        templates=where,
        text=text,
        text_display=text_display,
    )
    # reported with the spec's other problems
    unused = [*loaded.rendered.var_problems, *loaded.duplicates]
    try:
        spec = _validated(loaded)
        spec = _with_files(spec, loaded, reader)
    except SpecError as error:
        raise SpecError(unused + error.problems) from None
    if unused:
        raise SpecError(unused)
    # after the spec's own checks: a NaN in a number field is an error there, with its place
    check_recordable(given)
    inputs = _inputs(loaded, reader)
    _recordable(path, inputs)
    return CompiledSpec(spec, loaded, variables, reader.portable_roots(), inputs, reader.listed())


def refuse_url(path: Path | str) -> None:
    """UsageError if ``path`` is a URL (``s3://bucket/spec.yaml``), said without its user
    info, query or fragment: a spec is a file of this machine (as a path, the URL became
    ``s3:/bucket/spec.yaml``, said to be missing)."""
    scheme, sep, rest = os.fspath(path).partition("://")
    if not sep or not scheme:
        return
    host, slash, tail = rest.partition("/")
    shown = f"{scheme}://{host.rpartition('@')[2]}{slash}{tail}".split("?")[0].split("#")[0]
    raise UsageError(
        f"{shown}: a spec is a file on this machine, not a URL (copy it here first); a "
        "dataset built to a store is read by synthc verify, diff, reproduce or synthc.open"
    )


def _inputs(loaded: Loaded, reader: Reader) -> tuple[InputRecord, ...]:
    """The spec, the templates and the generator's files as provenance records."""
    first, *read = loaded.rendered.reads
    spec = InputRecord(
        spell_spec(first.real, reader.repository), "spec", first.sha256, first.real, first.opened
    )
    templates = [
        InputRecord(
            spell(r.real, reader.repository, reader.spec_root),
            "template",
            r.sha256,
            r.real,
            r.opened,
        )
        for r in read
    ]
    return ordered(spec, templates, reader.inputs())


#: characters a manifest's recorded paths may not hold (synthc verify refuses them)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _recordable(path: Path | str, inputs: Iterable[InputRecord]) -> None:
    """UsageError naming the first path the manifest could not record: one whose name holds
    bytes that are not UTF-8 (JSON holds text; the build failed after its last shard), or a
    control character such as a line break (the build wrote a manifest verify refuses)."""
    for spelt in (str(path), *(record.path for record in inputs)):
        if _CONTROL.search(spelt):
            raise UsageError(
                f"{ascii(spelt)}: a file name holding a control character (a line break, a "
                "tab) cannot be recorded in the manifest; rename it"
            )
        try:
            spelt.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"{ascii(spelt)}: a file name that is not UTF-8 cannot be recorded in the "
                "manifest; rename it"
            ) from None


def _validated(loaded: Loaded) -> Spec:
    """validate_data on the loaded spec, with a YAML typing hint on each type error."""

    def locate(path: Any, prefer_key: bool, offset: int | None) -> Any:
        return loaded.position_of(path, prefer_key=prefer_key, offset=offset)

    try:
        return validate_data(loaded.data, locate)
    except SpecError as error:
        raise SpecError([_with_yaml_hint(p, loaded) for p in error.problems]) from None


#: pydantic's type errors (lower-cased first letter) -> the kind of value the field expected
_EXPECTED = {
    "input should be a valid string": "text",
    "input should be a valid number": "number",
    "input should be a valid integer": "integer",
    "input should be a finite number": "number",
    "input should be a valid boolean": "boolean",
}


def _with_yaml_hint(problem: Problem, loaded: Loaded) -> Problem:
    """``problem`` with what YAML read there, when a type error comes from YAML's typing."""
    expected = next((v for k, v in _EXPECTED.items() if problem.message.startswith(k)), None)
    keys_only = problem.message == NAME_NOT_TEXT  # about the key, whatever its value is
    expected = "text" if keys_only else expected
    if expected is None:
        return problem
    paths = {}
    for p in (*loaded.scalars, *loaded.key_scalars):
        paths[format_path(p)] = p
        # pydantic names a boolean mapping key by its number (weights[1] for `true:`)
        paths.setdefault(format_path([int(k) if isinstance(k, bool) else k for k in p]), p)
    path = paths.get(problem.path)
    hint = yaml_reading_hint(loaded, path, expected, keys_only) if path is not None else ""
    if not hint:
        return problem
    return Problem(problem.position, problem.path, f"{problem.message}; {hint}")


def _with_files(spec: Spec, loaded: Loaded, reader: Reader) -> Spec:
    """Read the files the generator names into its config (errors at the naming field)."""
    generator = generators.get(spec.generator.kind)
    try:
        config = generator.resolve_files(spec.generator, reader)
    except FileProblem as problem:
        at = ("generator", *problem.field)
        raise SpecError(
            [Problem(loaded.position_of(at), format_path(at), m) for m in problem.messages]
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        at = ("generator", *generator.file_field)
        raise SpecError(
            Problem(loaded.position_of(at), format_path(at), f"cannot read: {error}")
        ) from None
    if config is spec.generator:
        return spec
    return spec.model_copy(update={"generator": config})
