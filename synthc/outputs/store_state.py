"""The build state of an output on an object store: ``<prefix>/.synthc/state.json``.

The same :class:`~synthc.outputs.state.BuildState` as a local directory's, kept as one small
object rewritten (one PUT) as shards finish (synthc.checkpoint), so a killed build resumes. A
shard entry records its object's ``stamp`` (the ETag on S3) where a local entry records its
mtime: a shard is kept when its object still has the size and stamp synthc saw after uploading
it. The state is untrusted: its size, shape and every key in it are checked (no ``..``, nothing
absolute).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from synthc import limits
from synthc.errors import BuildError, OutputError
from synthc.json_bounds import loads_bounded
from synthc.outputs.adopt import shard_entries, verified_manifest
from synthc.outputs.manifest import MANIFEST_FILE, read_store_manifest
from synthc.outputs.state import (
    STATE_DIR,
    STATE_FILE,
    STATE_FORMAT,
    STORE_SHARD_KEYS,
    BadState,
    BuildState,
)
from synthc.outputs.store import Store
from synthc.outputs.store_verify import verify_store

STATE_NAME = f"{STATE_DIR}/{STATE_FILE}"


def load_state(store: Store) -> BuildState | None:
    """The state of ``store``, or None if there is none; BadState if it cannot be trusted
    (CopiedState if it is a local directory's)."""
    where = store.where(STATE_NAME)
    try:
        text = store.read(STATE_NAME, limits.MAX_STATE_BYTES, "MAX_STATE_BYTES", BadState)
    except FileNotFoundError:
        return None
    data = loads_bounded(text, where, BadState, "build state")

    def confiner(name: object) -> object:
        return store.key(name, where)

    return BuildState.from_json(data, Path(), where, confiner, STORE_SHARD_KEYS)


def save_state(store: Store, state: BuildState) -> None:
    """Write the state object whole; BuildError naming it if the store refuses."""
    data: dict[str, Any] = {"format": STATE_FORMAT}
    if state.dataset is not None:
        data["dataset"] = state.dataset
    data.update(shards=state.shards, files=state.files)
    try:
        store.write(STATE_NAME, json.dumps(data, separators=(",", ":"), allow_nan=False).encode())
    except OutputError as error:
        raise BuildError(f"cannot write the build state: {error}") from None


def record_shard(store: Store, state: BuildState, record: dict[str, Any]) -> None:
    """Remember an uploaded shard with the stamp that says it is still ours and unchanged."""
    info = store.info(record["path"])
    if info is None:
        raise BuildError(f"{store.where(record['path'])}: uploaded, yet the store has no object")
    state.shards[record["path"]] = {**record, "stamp": info["stamp"]}


def current_shard(
    state: BuildState, listing: dict[str, dict[str, Any]], path: str, key: str
) -> dict[str, Any] | None:
    """The record of ``path`` if it was built from ``key`` and its object is untouched since."""
    entry = state.shards.get(path)
    if entry is None or entry["task_key"] != key:
        return None
    found = listing.get(path)
    if found is None or found["size"] != entry["bytes"] or found["stamp"] != entry["stamp"]:
        return None
    return {k: v for k, v in entry.items() if k != "stamp"}


def state_from_manifest(store: Store, listing: dict[str, dict[str, Any]]) -> BuildState | None:
    """The state a verifying manifest of ``store`` implies (its shards, with their objects'
    stamps in ``listing``, its files and the dataset's name), or None: as a directory's state
    is rebuilt when it was lost (synthc.outputs.adopt). Verifying fetches every shard."""
    manifest = verified_manifest(
        lambda: read_store_manifest(store), lambda: verify_store(store, count=False)[1]
    )
    if manifest is None:
        return None
    state = BuildState()
    for path, entry in shard_entries(manifest).items():
        if path not in listing:
            return None
        state.shards[path] = {**entry, "stamp": listing[path]["stamp"]}
    for name in [*manifest["files"], MANIFEST_FILE]:
        try:
            data = store.read(name, limits.MAX_FACT_BYTES, "MAX_FACT_BYTES", OutputError)
        except (FileNotFoundError, OutputError):
            return None
        state.files[name] = hashlib.sha256(data).hexdigest()
    dataset = manifest.get("dataset")
    name = dataset.get("name") if isinstance(dataset, dict) else None
    state.dataset = name if isinstance(name, str) else None
    return state
