"""Verify a dataset on an object store: the checks of outputs/verify.py, read through fsspec.

Each shard is downloaded to a temporary file, one at a time (its size checked against the
manifest first, so a swapped-in giant object is never fetched), then hashed and counted as a
local shard is; the other files are checked against the store's listing.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from synthc import limits
from synthc.errors import OutputError, counted
from synthc.outputs.confine import Confiner
from synthc.outputs.fact_files import fact_file_entries
from synthc.outputs.manifest import (
    MANIFEST_FILE,
    SHARD_SUFFIXES,
    iter_shards,
    read_store_manifest,
)
from synthc.outputs.shard_scratch import scratch_folder
from synthc.outputs.store import ReplacedObject, Store
from synthc.outputs.verify import (
    ShardProblem,
    _check_fact_files,
    _check_shard,
    first_entries,
    manifest_problems,
    shard_folders,
    spec_copy_problems,
)


def verify_store(
    store: Store, *, count: bool = True, manifest: dict[str, Any] | None = None
) -> tuple[int, list[ShardProblem]]:
    """Check the manifest of ``store`` (``manifest``, when already read) and every object it
    lists; (shards checked, problems)."""
    manifest = read_store_manifest(store) if manifest is None else manifest
    problems = [ShardProblem(MANIFEST_FILE, m) for m in manifest_problems(manifest)]
    listing = store.listing()
    shards = iter_shards(manifest)
    with scratch_folder("verify") as scratch:
        local = Confiner(Path(scratch), MANIFEST_FILE)
        for shard in first_entries(shards):
            problem = _check_store_shard(store, listing, local, shard, count, manifest)
            if problem is not None:
                problems.append(ShardProblem(str(shard["path"]), problem))
        for entry in fact_file_entries(manifest["generator"].get("facts", {})):
            name = entry.get("file")
            size = listing.get(name, {}).get("size", 0) if isinstance(name, str) else 0
            if size > limits.MAX_FACT_BYTES:  # not fetched: reported missing below as well
                problems.append(
                    ShardProblem(
                        str(name),
                        f"{size} bytes, over synthc.limits.MAX_FACT_BYTES "
                        f"({limits.MAX_FACT_BYTES})",
                    )
                )
                continue
            _fetched(store, listing, local, name)
        problems += _check_fact_files(local, manifest)
        problems += spec_copy_problems(
            manifest, lambda name: _fetched_copy(store, listing, local, name)
        )
    for name in manifest.get("files", []):
        try:
            store.key(name, store.where(MANIFEST_FILE))
        except OutputError as error:
            problems.append(ShardProblem(str(name), str(error)))
            continue
        if name not in listing:
            problems.append(ShardProblem(name, "missing"))
    problems += _unlisted(manifest, listing)
    return len(shards), problems


def _check_store_shard(
    store: Store,
    listing: dict[str, dict[str, Any]],
    local: Confiner,
    shard: dict[str, Any],
    count: bool,
    manifest: dict[str, Any],
) -> str | None:
    try:
        store.key(shard["path"], store.where(MANIFEST_FILE))
    except OutputError as error:
        return str(error)
    found = listing.get(shard["path"])
    if found is None:
        return "missing"
    if found["size"] != shard["bytes"]:
        return f"{counted(found['size'], 'byte')}, manifest says {shard['bytes']}"
    try:
        path = _fetch(store, listing, local, shard["path"])
    except ReplacedObject as error:
        return str(error)
    try:
        return _check_shard(local, shard, count, manifest.get("schema"))
    finally:
        if path is not None:
            path.unlink(missing_ok=True)


def _fetch(
    store: Store, listing: dict[str, dict[str, Any]], local: Confiner, name: object
) -> Path | None:
    """Download object ``name`` (a confined key the store lists) into the scratch folder;
    ReplacedObject if it is no longer of the listed size (never fetched past it)."""
    if not isinstance(name, str) or name not in listing:
        return None
    try:
        store.key(name, store.where(MANIFEST_FILE))
        path = local(name)
    except OutputError:
        return None
    store.download(name, path, listing[name]["size"])
    return path


def _fetched(
    store: Store, listing: dict[str, dict[str, Any]], local: Confiner, name: object
) -> Path | None:
    """:func:`_fetch`, None for an object replaced since it was listed (its check then says
    it is missing)."""
    try:
        return _fetch(store, listing, local, name)
    except ReplacedObject:
        return None


def _fetched_copy(
    store: Store, listing: dict[str, dict[str, Any]], local: Confiner, name: str
) -> bytes | None:
    """The bytes of a spec copy on the store (None: not listed; ``b""``: too big to be one,
    not fetched)."""
    found = listing.get(name)
    if found is None:
        return None
    if found.get("size", 0) > limits.MAX_RENDERED_BYTES:
        return b""
    path = _fetched(store, listing, local, name)
    if path is None:
        return None
    try:
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _unlisted(manifest: dict[str, Any], listing: dict[str, dict[str, Any]]) -> list[ShardProblem]:
    """Shard objects in the split folders (a related table's too: ``orders/train``) that the
    manifest does not list: keys a reader of the folder's prefix would see too
    (``train//x.parquet``, ``train/../x.parquet``, and ``./train/x.parquet``, which some tools
    normalise into it)."""
    listed = {s["path"] for s in iter_shards(manifest)}
    problems: list[ShardProblem] = []
    prefixes = tuple(f"{folder}/" for folder in shard_folders(manifest))
    for name in sorted(listing):
        in_folder = name.startswith(prefixes) or posixpath.normpath(name).startswith(prefixes)
        if in_folder and _in_subfolder(name, prefixes):
            continue  # another dataset's, built under this one (s3://b/x/train/y), as locally
        if in_folder and name.endswith(tuple(SHARD_SUFFIXES.values())) and name not in listed:
            problems.append(
                ShardProblem(name, "a shard file the manifest does not list", rebuild=False)
            )
    return problems


def _in_subfolder(name: str, prefixes: tuple[str, ...]) -> bool:
    """True if key ``name`` lies in a folder of a split folder (``train/y/train/x.parquet``,
    another dataset's), which a directory's check does not look into either (verify.py); a
    key that only some spelling puts there (``train//x``, ``train/../x``) is not."""
    for prefix in prefixes:
        if name.startswith(prefix):
            first, slash, _ = name[len(prefix) :].partition("/")
            return bool(slash) and first not in ("", ".", "..")
    return False
