"""Finish a dataset: the files beside the shards, then the manifest, strictly last.

In: a :class:`Finisher` made before the build (what will be written, so the build state can own
it) and, after the shards are written, their typed records in plan order. Out: the spec copies,
the generator's extra and fact files, the dataset card, ``preview.png`` and ``manifest.json``,
written through a :class:`FileSink` (the output directory or object-store prefix), each owned
in the build state before the next is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from synthc import generators
from synthc.atomic import write_if_changed
from synthc.compiler.variables import non_finite_at
from synthc.errors import BuildError, SpecError
from synthc.generators.base import PreviewKind
from synthc.outputs.card import dataset_card
from synthc.outputs.confine import confine
from synthc.outputs.fact_files import FACTS_DIR, split_facts, unrecordable_at
from synthc.outputs.manifest import (
    MANIFEST_FILE,
    RENDERED_SPEC_FILE,
    SPEC_FILE,
    encode_manifest,
    make_manifest,
)
from synthc.outputs.preview import Caption, default_samples
from synthc.outputs.records import ShardRecord
from synthc.outputs.state import BuildState

CARD_FILE = "README.md"
PREVIEW_FILE = "preview.png"


class PlannedShard(Protocol):
    """A shard as the preview sees it: a planned task or a finished record."""

    @property
    def path(self) -> str: ...
    @property
    def samples(self) -> int: ...
    @property
    def table(self) -> str | None: ...


Shard = TypeVar("Shard", bound=PlannedShard)


class FileSink(Protocol):
    """Where a finisher writes: the build's output directory or object-store prefix."""

    def write(self, name: str, data: bytes) -> None:
        """Put ``data`` at ``name`` (confined to the output) unless it already holds it."""

    def save(self, state: BuildState) -> None:
        """Make ``state`` durable, as the build state of the output."""

    def confirm_lock(self) -> None:
        """BuildError unless this build still holds the output's lock."""

    def draw(self, kind: PreviewKind, shards: list[str], caption: Caption) -> bytes:
        """preview.png drawn here from the shards at ``shards`` (output-relative paths)."""


@dataclass(frozen=True)
class SpecText:
    """The spec as the user wrote it and as rendered, with its source name and variables."""

    source: str
    written: str
    rendered: str
    variables: dict[str, Any]


@dataclass(frozen=True)
class Finisher:
    """Everything a dataset's files beside the shards are made of, known before the build."""

    spec: Any
    #: the manifest's ``spec`` section: where the spec came from, its copies and their sha256
    spec_info: dict[str, Any]
    facts: dict[str, Any]
    columns: list[dict[str, str]]
    splits: dict[str, tuple[int, int]]
    #: spec.yaml and spec.rendered.yaml (name -> bytes)
    spec_copies: dict[str, bytes]
    #: the generator's extra files, then the fact files (name -> bytes)
    extras: dict[str, bytes]
    #: how preview.png is drawn; None when the plan has no samples (no preview)
    preview: PreviewKind | None
    #: the manifest's ``provenance`` (the files read, the git state); None: not recorded
    provenance: dict[str, Any] | None = None
    #: with related tables: each table's columns, the root first (the root's are ``columns``)
    tables: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The files this finisher writes besides the manifest."""
        preview = [PREVIEW_FILE] if self.preview is not None else []
        return [*self.spec_copies, CARD_FILE, *self.extras, *preview]

    def previewed(self, records: Sequence[Shard]) -> list[Shard]:
        """The records (or tasks) preview.png draws from: all, or the root table's of related
        tables."""
        root = next(iter(self.tables), None)
        return [r for r in records if r.table == root]

    def preview_reads(self, shards: Sequence[PlannedShard]) -> tuple[list[str], Caption]:
        """The paths of the shards preview.png reads (the first previewed ones in plan order
        that hold ``default_samples`` samples; from tasks before the build, from records
        after: the same), and its caption."""
        assert self.preview is not None
        shown = self.previewed(shards)
        needed, have, paths = default_samples(self.preview), 0, []
        for shard in shown:
            if have >= needed:
                break
            if shard.samples:
                paths.append(shard.path)
                have += shard.samples
        total = sum(s.samples for s in shown)
        return paths, Caption.of(self.spec.name, total, self.columns)

    def manifest(self, records: Sequence[ShardRecord], build: dict[str, Any]) -> dict[str, Any]:
        """The manifest for ``records`` (in plan order) and the build facts ``build``."""
        return make_manifest(
            spec=self.spec,
            spec_files=self.spec_info,
            facts=self.facts,
            columns=self.columns,
            split_ranges=self.splits,
            records=[r.to_json() for r in records],
            build=build,
            files=self.names,
            provenance=self.provenance,
            tables=self.tables,
        )

    def finish(
        self,
        files: FileSink,
        state: BuildState,
        records: Sequence[ShardRecord],
        build: dict[str, Any],
    ) -> None:
        """Write the spec copies and extra files, the card and the preview into ``files``,
        then the manifest last, once ``files`` confirms this build still holds the output's
        lock; each is owned in ``state`` as it is written, the manifest before it exists (so
        a later build can retract it)."""
        manifest = self.manifest(records, build)

        def owned(name: str, data: bytes) -> None:
            files.write(name, data)
            state.files[name] = hashlib.sha256(data).hexdigest()
            files.save(state)

        for name, data in {**self.spec_copies, **self.extras}.items():
            owned(name, data)
        owned(CARD_FILE, dataset_card(manifest).encode())
        if self.preview is not None:
            # The first shards hold the first samples: read them back, not generated again.
            paths, caption = self.preview_reads(records)
            owned(PREVIEW_FILE, files.draw(self.preview, paths, caption))
        data = encode_manifest(manifest)
        state.files[MANIFEST_FILE] = hashlib.sha256(data).hexdigest()
        files.save(state)
        # the commit: only by the build that still holds the output (one whose lock another
        # build took over must not describe that build's shards with its own spec)
        files.confirm_lock()
        files.write(MANIFEST_FILE, data)


def prepare(
    spec: Any,
    text: SpecText,
    facts: dict[str, Any],
    extra_files: dict[str, bytes],
    columns: list[dict[str, str]],
    splits: dict[str, tuple[int, int]],
    preview: PreviewKind | None,
    provenance: dict[str, Any] | None = None,
    tables: dict[str, list[dict[str, str]]] | None = None,
) -> Finisher:
    """The finisher of a dataset of ``spec``; large facts go to files (outputs.fact_files).
    SpecError, before anything is built, for a fact the manifest cannot record (a label
    formula whose coefficients overflow to infinity); BuildError for facts a generator's
    facts() makes that JSON cannot hold (a set, an object; NaN from an installed kind)."""
    written, rendered = text.written.encode(), text.rendered.encode()
    spec_info = {
        "source": text.source,
        "file": SPEC_FILE,
        "sha256": hashlib.sha256(written).hexdigest(),
        "rendered_file": RENDERED_SPEC_FILE,
        "rendered_sha256": hashlib.sha256(rendered).hexdigest(),
        "vars": json.loads(json.dumps(text.variables, default=str)),
    }
    kind = spec.generator.kind
    if not isinstance(facts, dict):
        raise BuildError(
            f"generator {kind!r}: its facts() returned a {type(facts).__name__}; it must "
            "return a dict (an empty one when the kind has no facts)"
        )
    inline, fact_files = split_facts(facts)
    bad = unrecordable_at(inline, "generator.facts")
    if bad is not None:
        raise BuildError(
            f"{bad[0]}: generator {kind!r} made this fact a {bad[1]}, which the manifest "
            "(JSON) cannot record; its facts() must return dicts with text keys, lists, "
            "text, numbers, booleans and None (NumPy arrays and scalars are converted)"
        )
    at = non_finite_at(inline, "generator.facts")  # an array in a .npy file may hold one
    if at is not None and generators.package(kind) is not None:  # an installed kind
        raise BuildError(
            f"{at}: generator {kind!r} made this fact a NaN or infinite number, which the "
            "manifest (JSON) cannot record; its facts() must return finite numbers (or "
            "refuse, in its config's rules, the spec values that make them infinite)"
        )
    if at is not None:
        raise SpecError(
            f"{at}: the spec makes this fact a NaN or infinite number, which the manifest "
            "(JSON) cannot record; keep the spec's numbers within the range of a double"
        )
    _check_extra_files(extra_files, kind, splits)
    copies = {SPEC_FILE: written, RENDERED_SPEC_FILE: rendered}
    extras = {**extra_files, **fact_files}
    return Finisher(
        spec, spec_info, inline, columns, splits, copies, extras, preview, provenance, tables or {}
    )


#: the files at the top of an output that synthc writes itself
OWN_FILES = (SPEC_FILE, RENDERED_SPEC_FILE, CARD_FILE, PREVIEW_FILE, MANIFEST_FILE)


def _check_extra_files(extra_files: Any, kind: str, splits: dict[str, Any]) -> None:
    """BuildError, before anything is built, unless a generator's ``extra_files()`` is a dict
    of bytes under names of files at the top of the output that synthc does not write itself
    (a spec copy or the manifest was replaced, a str was an internal error once every shard
    was written)."""
    if not isinstance(extra_files, dict):
        raise BuildError(
            f"generator {kind!r}: its extra_files() returned a {type(extra_files).__name__}; "
            "it must return a dict of file names to bytes"
        )
    for name, data in extra_files.items():
        said = None
        if not isinstance(name, str) or not name:
            said = f"names a file {name!r:.80}; a name is non-empty text"
        elif "/" in name or "\\" in name or name.startswith("."):
            said = (
                f"names {name!r:.80}; its files are written at the top of the output, "
                "under names without '/' or '\\' that do not start with '.'"
            )
        elif name in OWN_FILES or name == FACTS_DIR or name in splits:
            said = f"names {name!r:.80}, which synthc writes itself; choose another name"
        elif not isinstance(data, bytes):
            said = f"made {name!r:.80} a {type(data).__name__}, not bytes"
        if said is not None:
            raise BuildError(f"generator {kind!r}: its extra_files() {said}")


def write_file(out: Path, name: str, data: bytes) -> None:
    """Write ``out/name`` (confined to ``out``) unless it already holds ``data``."""
    path = confine(out, name, "the build plan")
    try:
        write_if_changed(path, data)
    except OSError as error:
        raise BuildError(f"{path}: cannot write: {error.strerror or error}") from None
