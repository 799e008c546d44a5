"""Prove a dataset reproduces: rebuild it from what its output directory records and compare.

In: a built output directory. The recorded spec copy (``spec.yaml``) is compiled with the
recorded vars as if it stood where the spec stood at build time (outputs/origin.py finds that
place), so its includes and the files it names resolve as they did; before building, every
recorded input whose file changed since is named. The rebuild goes to a temporary directory.
Out: a :class:`Reproduction`: each field of the manifest that describes the data and differs
from the rebuild's (:func:`compare_fields`), each shard whose rebuilt sha256, or whose file in the
output directory, differs from the manifest, and the content hash when it differs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthc.building import Progress
from synthc.building import build as _build
from synthc.compiler.compiling import compile_spec
from synthc.compiler.planning import plan as _plan
from synthc.compiler.planning import shaping_libraries
from synthc.compiler.variables import RecordedVars
from synthc.diffing.fields import ABSENT, FieldChange, changed_fields
from synthc.dir_target import DirectoryTarget
from synthc.errors import OutputError, counted, one_line
from synthc.executors.base import Executor
from synthc.executors.local import LocalExecutor
from synthc.hints import MAX_LISTED
from synthc.limits import MAX_MANIFEST_BYTES, MAX_SPEC_BYTES
from synthc.outputs.confine import Confiner
from synthc.outputs.manifest import MANIFEST_FILE, identity, iter_shards, read_manifest
from synthc.outputs.origin import (
    SPEC_COPY,
    InputChange,
    SpecLocation,
    changed_inputs,
    library_changes,
    locate_spec,
    read_provenance,
    recorded_vars,
    spec_copy,
)
from synthc.outputs.shard_scratch import scratch_folder
from synthc.outputs.store import Store
from synthc.outputs.verify import regular_state
from synthc.provenance import InputRecord


@dataclass(frozen=True)
class Difference:
    """A shard (or ``content_sha256``) that the rebuild does not reproduce."""

    path: str
    message: str
    #: only the output's own file (or its listing) is not the manifest's: the rebuild is
    output_only: bool = False

    def __str__(self) -> str:
        return one_line(f"{self.path}: {self.message}")


@dataclass(frozen=True)
class Reproduction:
    """The outcome of reproducing a dataset: what changed around it, and what differs."""

    #: the output directory, or the URL of an object-store prefix
    out: Path | str
    #: where the recorded spec was compiled as if it stood
    spec: Path
    #: how the spec was located (a fallback, another commit, a dirty build), one line each
    notes: tuple[str, ...]
    #: recorded inputs whose files are missing or changed since the build
    inputs: tuple[InputChange, ...]
    #: ``name: X at the build, Y now`` for each version that differs
    libraries: tuple[str, ...]
    #: shards (and the content hash) that differ; empty when the dataset reproduces
    differences: tuple[Difference, ...]
    #: shards the manifest lists
    shards: int
    content_sha256: str
    #: fields of the manifest (dotted paths) that differ from the rebuild's manifest
    fields: tuple[Difference, ...] = ()

    @property
    def input_lines(self) -> list[str]:
        """The changed inputs, one line each, bounded as :func:`input_lines` bounds them."""
        return input_lines(self.inputs)

    @property
    def unexplained(self) -> bool:
        """Whether shards differ though nothing recorded did: the same synthc and library
        versions, inputs and task keys (every field), so the generator made other bytes from
        the same ``(seed, config, i)``."""
        rebuilt = any(not d.output_only for d in self.differences)
        return rebuilt and not (self.inputs or self.libraries or self.fields)

    @property
    def output_only(self) -> bool:
        """Whether the rebuild matches the manifest and only files of the output do not (a
        damaged, missing or replaced shard: ``synthc verify`` names them)."""
        return bool(self.differences) and all(d.output_only for d in self.differences)

    @property
    def identical(self) -> bool:
        """Whether every shard, the content hash and every field that describes the data
        match the manifest."""
        return not self.differences and not self.fields


def reproduce(
    out: Path | Store,
    *,
    root: Path | None = None,
    executor: Executor | None = None,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> Reproduction:
    """Rebuild the dataset in ``out`` from its recorded spec, vars and inputs and compare.

    ``root``: the spec repository's root (default: the git work tree holding the current
    directory, else the current directory). ``log`` receives, before the build, how the spec
    was located, each changed input and each library version that differs.
    """
    if isinstance(out, Store):
        with scratch_folder("reproduce-copy") as copy:
            # the manifest and spec copy fetched; the shards are read from the store
            limits = {
                MANIFEST_FILE: (MAX_MANIFEST_BYTES, "MAX_MANIFEST_BYTES"),
                SPEC_COPY: (MAX_SPEC_BYTES, "MAX_SPEC_BYTES"),
            }
            for name, (limit, limit_name) in limits.items():
                try:
                    data = out.read(name, limit, limit_name, OutputError)
                except FileNotFoundError:
                    if name == MANIFEST_FILE:
                        out.require_bucket()  # a mistyped bucket, said as a build says it
                    continue
                (Path(copy) / name).write_bytes(data)
            try:
                return _reproduce(
                    Path(copy), out, root, executor, allow_read, templates, progress, log
                )
            except OutputError as error:  # about a fetched copy: name its object instead
                raise type(error)(str(error).replace(copy, out.url)) from None
    return _reproduce(out, None, root, executor, allow_read, templates, progress, log)


def _reproduce(
    out: Path,
    store: Store | None,
    root: Path | None,
    executor: Executor | None,
    allow_read: Iterable[Path | str],
    templates: Path | str | None,
    progress: Progress | None,
    log: Callable[[str], None],
) -> Reproduction:
    manifest = read_manifest(out)
    text = spec_copy(out, manifest)
    variables = recorded_vars(out, manifest)
    provenance = read_provenance(out, manifest)
    location = locate_spec(out, manifest, provenance, root)
    for note in location.notes:
        log(note)
    inputs = changed_inputs(provenance, location) if provenance is not None else []
    for line in input_lines(inputs):
        log(line)
    libraries = library_changes(manifest)
    for line in libraries:
        log(f"version differs: {line}")

    # the text and the vars are the output directory's: problems in them are named so
    named = (lambda name: str(out / name)) if store is None else store.where
    compiled = compile_spec(
        location.path,
        RecordedVars(variables, named(MANIFEST_FILE)),
        allow_read,
        templates,
        text=text,
        text_display=named(SPEC_COPY),
    )
    plan = _plan(compiled.spec)
    _check_no_larger(named(MANIFEST_FILE), plan.samples, manifest["samples"])
    also_compare = getattr(executor, "compare_versions", None)
    if also_compare is not None:
        # made before the spec was compiled: an installed kind's package was not among them
        also_compare(shaping_libraries(compiled.spec))
    with scratch_folder("reproduce") as scratch:
        rebuilt_out = Path(scratch) / "out"
        _build(
            compiled,
            plan,
            DirectoryTarget(rebuilt_out),
            executor=executor or LocalExecutor(),
            progress=progress,
        )
        rebuilt = read_manifest(rebuilt_out)
    if provenance is not None:
        _spell_as_recorded(rebuilt, compiled.inputs, manifest, location)
    return Reproduction(
        out if store is None else store.url,
        location.path,
        location.notes,
        tuple(inputs),
        tuple(libraries),
        tuple(compare(out, manifest, rebuilt, store)),
        len(iter_shards(manifest)),
        str(manifest["content_sha256"]),
        tuple(compare_fields(manifest, rebuilt)),
    )


def input_lines(inputs: Iterable[InputChange]) -> list[str]:
    """``input PATH (ROLE): WHY`` for each changed input, at most ``hints.MAX_LISTED`` (a
    forged manifest may list 100,000),
    then one line counting the others."""
    changes = list(inputs)
    lines = [f"input {change}" for change in changes[:MAX_LISTED]]
    if len(changes) > MAX_LISTED:
        lines.append(f"and {len(changes) - MAX_LISTED} more recorded input(s) not as built")
    return lines


def _check_no_larger(where: str, planned: int, recorded: int) -> None:
    """OutputError, before anything is built, when the recorded spec and vars make more samples
    than the manifest records: that rebuild cannot reproduce the dataset, and a recorded var
    (``spec.vars``, untrusted like the rest) would make it build far more than the dataset."""
    if planned > recorded:
        raise OutputError(
            f"{where}: does not reproduce: the recorded spec and vars make "
            f"{counted(planned, 'sample', grouped=True)}, "
            f"the manifest records {recorded:,}; nothing was rebuilt"
        )


def compare(
    out: Path, manifest: dict[str, Any], rebuilt: dict[str, Any], store: Store | None = None
) -> list[Difference]:
    """Each shard of ``manifest`` whose rebuilt sha256 or whose file in ``out`` (or object in
    ``store``) differs from it, each shard only the rebuild made, and the content hash if the
    rebuild's differs."""
    fresh = {s["path"]: s for s in iter_shards(rebuilt)}
    confine = Confiner(out, MANIFEST_FILE)
    differences = []
    listed = set()
    for shard in iter_shards(manifest):
        path, recorded = shard["path"], shard["sha256"]
        if path in listed:  # its file is read once (a shard listed 20,000 times was hashed so)
            differences.append(Difference(path, "the manifest lists it twice", True))
            continue
        listed.add(path)
        clauses = []
        new = fresh.get(path)
        if new is None:
            clauses.append("the rebuild has no such shard")
        elif new["sha256"] != recorded:
            clauses.append(
                f"rebuilt with sha256 {_short(new['sha256'])}, the manifest records "
                f"{_short(recorded)}"
            )
        on_disk = (
            _disk_state(confine, path, recorded, shard["bytes"])
            if store is None
            else _store_state(store, path, recorded, shard["bytes"])
        )
        if on_disk is not None:
            clauses.append(on_disk)
        if clauses:
            only_file = on_disk is not None and len(clauses) == 1
            differences.append(Difference(path, "; ".join(clauses), only_file))
    for path in fresh:
        if path not in listed:
            differences.append(
                Difference(path, "the rebuild made it; the manifest lists no such shard")
            )
    if rebuilt["content_sha256"] != manifest["content_sha256"]:
        differences.append(
            Difference(
                "content_sha256",
                f"rebuilt {_short(rebuilt['content_sha256'])}, "
                f"the manifest records {_short(manifest['content_sha256'])}",
            )
        )
    return differences


#: differing fields named at most (a forged manifest may differ everywhere)
MAX_FIELD_DIFFERENCES = 50
#: characters of a value shown in a field difference
_SHOWN_CHARS = 60
#: characters of a field's dotted path shown
_SHOWN_PATH_CHARS = len("generator.config.rotate") + 90


def compare_fields(manifest: dict[str, Any], rebuilt: dict[str, Any]) -> list[Difference]:
    """Each field (dotted path) of ``manifest`` that describes the data and differs from the
    rebuilt manifest's, ``recorded X, rebuilt Y`` (values clipped to one short line); at most
    :data:`MAX_FIELD_DIFFERENCES`, then one saying how many more.

    Compared: the manifest's :func:`identity` (everything but ``build`` and
    ``provenance.git``, facts of the build that differ from machine to machine) without
    ``synthc_version`` and ``libraries`` (versions here may differ; they are reported before the
    build), ``spec.source`` (the spec's path as the command line named it) and the shards'
    ``sha256``, their paths and ``content_sha256`` (:func:`compare` names those). Shard fields
    are keyed by path (``splits.train.shards[train/x.parquet].bytes``). A manifest without
    ``provenance`` (an older synthc) is not compared on it.
    """
    recorded, fresh = _described(manifest), _described(rebuilt)
    if "provenance" not in recorded:  # an older synthc: reproduce said its inputs go unchecked
        fresh.pop("provenance", None)
    _shared_shards(recorded, fresh)
    changes = changed_fields(recorded, fresh, named=_keyed_by_path)
    if not any(change.path.startswith("provenance.inputs") for change in changes):
        before, after = _input_paths(manifest), _input_paths(rebuilt)
        if before is not None and after is not None and before != after:
            changes.append(FieldChange("provenance.inputs", before, after))  # reordered, repeated
    found: list[Difference] = []
    more = 0
    for change in changes:
        path, before, after = change.path, change.old, change.new
        if len(found) >= MAX_FIELD_DIFFERENCES:
            more += 1
            continue
        if len(path) > _SHOWN_PATH_CHARS:  # keys and nesting are the manifest's to choose
            path = path[:_SHOWN_PATH_CHARS] + "…"
        found.append(Difference(path, f"recorded {_shown(before)}, rebuilt {_shown(after)}"))
    if more:
        found.append(Difference("…", f"and {more} more field(s) differ"))
    return found


def _keyed_by_path(path: str) -> bool:
    """Whether the mapping at ``path`` (of :func:`_described`) is keyed by file paths."""
    return path.endswith(".shards") or path == "provenance.inputs"


def _shared_shards(recorded: dict[str, Any], rebuilt: dict[str, Any]) -> None:
    """Leave out of both the shards only one side lists (:func:`compare` names them)."""
    before, after = recorded.get("splits"), rebuilt.get("splits")
    if not isinstance(before, dict) or not isinstance(after, dict):
        return
    for name in before.keys() & after.keys():
        old, new = before[name], after[name]
        if not isinstance(old, dict) or not isinstance(new, dict):
            continue
        shards_old, shards_new = old.get("shards"), new.get("shards")
        if isinstance(shards_old, dict) and isinstance(shards_new, dict):
            both = shards_old.keys() & shards_new.keys()
            old["shards"] = {k: v for k, v in shards_old.items() if k in both}
            new["shards"] = {k: v for k, v in shards_new.items() if k in both}


def _described(manifest: dict[str, Any]) -> dict[str, Any]:
    """What of ``manifest`` describes the data (see :func:`compare_fields`), a shallow copy."""
    found = identity(manifest)
    for key in ("synthc_version", "libraries", "content_sha256"):
        found.pop(key, None)
    spec = found.get("spec")
    if isinstance(spec, dict):
        found["spec"] = {k: v for k, v in spec.items() if k != "source"}
    provenance = found.get("provenance")
    if isinstance(provenance, dict) and isinstance(provenance.get("inputs"), list):
        # keyed by path, so one input too many or too few is named alone
        inputs: dict[str, Any] = {}
        for entry in provenance["inputs"]:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                inputs.setdefault(entry["path"], {k: v for k, v in entry.items() if k != "path"})
        found["provenance"] = {**provenance, "inputs": inputs}
    splits = found.get("splits")
    if isinstance(splits, dict):  # shape-checked by read_manifest: shards are objects
        found["splits"] = {
            name: {
                **split,
                "shards": {
                    s["path"]: {k: v for k, v in s.items() if k not in ("path", "sha256")}
                    for s in split["shards"]
                },
            }
            for name, split in splits.items()
        }
    return found


def _input_paths(manifest: dict[str, Any]) -> list[Any] | None:
    """The paths ``provenance.inputs`` lists, in order (None without them)."""
    provenance = manifest.get("provenance")
    if not isinstance(provenance, dict) or not isinstance(provenance.get("inputs"), list):
        return None
    return [e.get("path") if isinstance(e, dict) else e for e in provenance["inputs"]]


def _shown(value: Any) -> str:
    """``value`` as compact JSON on one line, at most :data:`_SHOWN_CHARS` characters."""
    if value is ABSENT:
        return "(absent)"
    text = _compact(value, _SHOWN_CHARS + 1)
    return one_line(text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…")


def _compact(value: Any, budget: int) -> str:
    """Compact JSON of ``value``, cut off once it is longer than ``budget`` (so a deep or
    large value costs no more than its first characters)."""
    parts: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack and size <= budget:
        item = stack.pop()
        if isinstance(item, _Token):
            text = item.text
        elif isinstance(item, dict):
            text = "{"
            entries: list[Any] = []
            for index, (key, inner) in enumerate(item.items()):
                if index:
                    entries.append(_Token(", "))
                entries += [_Token(f"{_scalar(key)}: "), inner]
            stack += [_Token("}"), *reversed(entries)]
        elif isinstance(item, list):
            text = "["
            entries = []
            for index, inner in enumerate(item):
                if index:
                    entries.append(_Token(", "))
                entries.append(inner)
            stack += [_Token("]"), *reversed(entries)]
        else:
            text = _scalar(item)
        parts.append(text)
        size += len(text)
    return "".join(parts)


@dataclass(frozen=True)
class _Token:
    text: str


def _scalar(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _spell_as_recorded(
    rebuilt: dict[str, Any],
    inputs: tuple[InputRecord, ...],
    manifest: dict[str, Any],
    location: SpecLocation,
) -> None:
    """Spell each rebuilt input as the manifest does when both name the same file.

    Outside git, recorded paths are spelt as the build's command line reached them (relative
    to the directory it ran in); the rebuild reaches the same files through where the spec is
    placed now (an absolute path with ``--root``). A recorded path is resolved under the
    location's base, then the spec's folder, as :func:`changed_inputs` looks it up.
    """
    section = rebuilt.get("provenance")
    recorded = manifest.get("provenance")
    if not isinstance(section, dict) or not isinstance(recorded, dict):
        return
    entries = section.get("inputs")
    if not isinstance(entries, list) or len(entries) != len(inputs):
        return
    spelt = {e.get("path") for e in recorded.get("inputs", []) if isinstance(e, dict)}
    unmatched = {
        os.path.realpath(record.real): index
        for index, record in enumerate(inputs)
        if record.path not in spelt
    }
    places = (location.base, location.path.parent)
    for name in spelt:
        if not unmatched:
            break
        if not isinstance(name, str):
            continue
        for place in places:
            try:
                real = os.path.realpath(place / name)
            except (OSError, ValueError):
                continue
            index = unmatched.pop(real, None)
            if index is not None:
                entries[index] = {**entries[index], "path": name}
                break


def _disk_state(confine: Confiner, path: str, recorded: str, size: int) -> str | None:
    """What is wrong with the shard's file in the output directory, or None if it matches; a
    file whose size is not the manifest's ``size`` is said so without being read."""
    try:
        target = confine(path)
    except OutputError as error:
        return str(error)
    state = regular_state(target, size)
    if isinstance(state, str):
        return f"its file in the output directory: {state}"
    found, digest = state
    if digest is None:
        return f"its file in the output directory has {found} bytes, the manifest says {size}"
    if digest != recorded:
        return f"its file in the output directory has sha256 {_short(digest)}, not the manifest's"
    return None


def _store_state(store: Store, path: str, recorded: str, size: object) -> str | None:
    """What is wrong with the shard's object in the store, or None if it matches; an object
    whose size is not the manifest's ``size`` is said so without being read."""
    try:
        store.key(path, store.where(MANIFEST_FILE))
        info = store.info(path)
        if info is None:
            return "its object in the store is missing"
        if info["size"] != size:
            return f"its object in the store has {info['size']} bytes, the manifest says {size}"
        digest = hashlib.sha256()
        with store.open(path, info["size"]) as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OutputError as error:
        return str(error)
    found = digest.hexdigest()
    if found != recorded:
        return f"its object in the store has sha256 {_short(found)}, not the manifest's"
    return None


def _short(digest: object) -> str:
    return f"{str(digest)[:16]}…"
