"""Prove a dataset reproduces: rebuild it from what its output directory records and compare.

In: a built output directory. The recorded spec copy (``spec.yaml``) is compiled with the
recorded vars as if it stood where the spec stood at build time (outputs/origin.py finds that
place), so its includes and the files it names resolve as they did; before building, every
recorded input whose file changed since is named. The rebuild goes to a temporary directory.
Out: a :class:`Reproduction`: each shard whose rebuilt sha256, or whose file in the output
directory, differs from the manifest, and the content hash when it differs.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthc.building import Progress
from synthc.building import build as _build
from synthc.compiler.compiling import compile_spec
from synthc.compiler.planning import plan as _plan
from synthc.digest import file_sha256
from synthc.dir_target import DirectoryTarget
from synthc.errors import OutputError, one_line
from synthc.executors.base import Executor
from synthc.executors.local import LocalExecutor
from synthc.limits import MAX_MANIFEST_BYTES, MAX_SPEC_BYTES
from synthc.outputs.confine import Confiner
from synthc.outputs.manifest import MANIFEST_FILE, iter_shards, read_manifest
from synthc.outputs.origin import (
    SPEC_COPY,
    InputChange,
    changed_inputs,
    library_changes,
    locate_spec,
    read_provenance,
    recorded_vars,
    spec_copy,
)
from synthc.outputs.store import Store


@dataclass(frozen=True)
class Difference:
    """A shard (or ``content_sha256``) that the rebuild does not reproduce."""

    path: str
    message: str

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

    @property
    def identical(self) -> bool:
        """Whether every shard and the content hash match the manifest."""
        return not self.differences


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
        with tempfile.TemporaryDirectory(prefix="synthc-reproduce-copy-") as copy:
            # the manifest and spec copy fetched; the shards are read from the store
            limits = {
                MANIFEST_FILE: (MAX_MANIFEST_BYTES, "MAX_MANIFEST_BYTES"),
                SPEC_COPY: (MAX_SPEC_BYTES, "MAX_SPEC_BYTES"),
            }
            for name, (limit, limit_name) in limits.items():
                try:
                    data = out.read(name, limit, limit_name, OutputError)
                except FileNotFoundError:
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
    for change in inputs:
        log(f"input {change}")
    libraries = library_changes(manifest)
    for line in libraries:
        log(f"version differs: {line}")

    compiled = compile_spec(location.path, variables, allow_read, templates, text=text)
    with tempfile.TemporaryDirectory(prefix="synthc-reproduce-") as scratch:
        rebuilt_out = Path(scratch) / "out"
        _build(
            compiled,
            _plan(compiled.spec),
            DirectoryTarget(rebuilt_out),
            executor=executor or LocalExecutor(),
            progress=progress,
        )
        rebuilt = read_manifest(rebuilt_out)
    return Reproduction(
        out if store is None else store.url,
        location.path,
        location.notes,
        tuple(inputs),
        tuple(libraries),
        tuple(compare(out, manifest, rebuilt, store)),
        len(iter_shards(manifest)),
        str(manifest["content_sha256"]),
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
            _disk_state(confine, path, recorded)
            if store is None
            else _store_state(store, path, recorded, shard["bytes"])
        )
        if on_disk is not None:
            clauses.append(on_disk)
        if clauses:
            differences.append(Difference(path, "; ".join(clauses)))
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


def _disk_state(confine: Confiner, path: str, recorded: str) -> str | None:
    """What is wrong with the shard's file in the output directory, or None if it matches."""
    try:
        target = confine(path)
    except OutputError as error:
        return str(error)
    if not target.is_file():
        return "its file in the output directory is missing or not a regular file"
    try:
        digest = file_sha256(target)
    except OSError as error:
        return f"its file in the output directory is unreadable ({error.strerror or error})"
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
        with store.open(path) as handle:
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
