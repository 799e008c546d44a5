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
from synthc.digest import handle_sha256
from synthc.errors import BuildError, OutputError
from synthc.json_bounds import loads_bounded
from synthc.outputs.adopt import shard_entries, verified_manifest
from synthc.outputs.manifest import MANIFEST_FILE, read_store_manifest
from synthc.outputs.state import (
    STATE_DIR,
    STATE_FILE,
    STORE_SHARD_KEYS,
    BadState,
    BuildState,
)
from synthc.outputs.store import UPLOADED, Store
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
    data = state.to_json()
    try:
        store.write(STATE_NAME, json.dumps(data, separators=(",", ":"), allow_nan=False).encode())
    except OutputError as error:
        raise BuildError(f"cannot write the build state: {error}") from None


def record_shard(store: Store, state: BuildState, record: dict[str, Any]) -> None:
    """Remember an uploaded shard with the stamp that says it is still ours and unchanged.

    BuildError unless the object this process sees is the one the worker put: of the record's
    size, and with the stamp the worker's store gave it (or, where they differ, the record's
    sha256: a store whose ETag changes at every write of the same bytes). A Dask worker with
    other credentials or another endpoint puts the shard in another store, and the object
    here, missing or an older build's, must not be recorded as the new shard."""
    path = record["path"]
    entry = {key: value for key, value in record.items() if key != UPLOADED}
    info = store.info(path)
    uploaded, size = record.get(UPLOADED), record["bytes"]
    if info is None:
        seen = "the store this machine reads has no object there"
    elif info["size"] != size:
        seen = f"the object this machine reads there has {info['size']} bytes, not {size}"
    elif uploaded is not None and info["stamp"] != uploaded and not _holds(store, path, record):
        seen = "the object this machine reads there holds other bytes"
    else:
        state.shards[path] = {**entry, "stamp": info["stamp"]}
        return
    raise BuildError(
        f"{store.where(path)}: a worker uploaded this shard, but {seen}: the workers must reach "
        "the same store as this machine (the same endpoint and credentials: AWS_ENDPOINT_URL, "
        "AWS_PROFILE, fsspec's configuration; docs/storage.md), and nothing else may write "
        "this prefix while the build runs"
    )


def _holds(store: Store, path: str, record: dict[str, Any]) -> bool:
    """True if object ``path`` holds the bytes of ``record`` (its sha256)."""
    try:
        with store.open(path, record["bytes"]) as handle:
            return bool(handle_sha256(handle) == record["sha256"])
    except (OSError, OutputError):
        return False


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
