"""A build into an object store (``-o s3://bucket/prefix``): the
:class:`~synthc.build_target.Target` of an fsspec URL, with a directory's guarantees.

Workers write each shard to a local temporary file and put it whole at its final key
(shard.py), so a shard appears complete or not at all. The build state is one small object,
``.synthc/state.json``, rewritten as shards finish (synthc.checkpoint), so a killed build
resumes; a shard is kept while its object has the size and ETag recorded when it was uploaded.
The manifest is retracted before anything changes and written last. A lock object,
``.synthc/lock``, written with a conditional PUT, keeps two builds from writing one prefix (see
docs/storage.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from synthc.compiler.planning import Plan, ShardTask
from synthc.deadline import NoAnswer, interrupted, within_stop
from synthc.digest import handle_sha256
from synthc.errors import BuildError, OutputError, UsageError, one_line
from synthc.generators.base import PreviewKind
from synthc.outputs.manifest import MANIFEST_FILE, identity, read_store_manifest
from synthc.outputs.preview import Caption, preview_of_shards
from synthc.outputs.shard_scratch import scratch_folder
from synthc.outputs.state import BadState, BuildState, CopiedState
from synthc.outputs.store import (
    LOCK_NAME,
    MAX_LOCK_BYTES,
    RUNS_HERE,
    Store,
    StoreError,
    lock_body,
    lock_token,
    new_lock_token,
    says_missing,
    why_held,
)
from synthc.outputs.store_abort import abort_requests
from synthc.outputs.store_state import (
    STATE_NAME,
    current_shard,
    load_state,
    record_shard,
    save_state,
    state_from_manifest,
)


class StoreTarget:
    """The prefix of ``store`` (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.location: Path | str = store.url
        #: the objects under the prefix, as last listed
        self.listing: dict[str, dict[str, Any]] = {}
        #: what the lock object holds while this build holds it (outputs.store.lock_body)
        self.token: str | None = None

    def check(self) -> None:
        pass  # a prefix needs nothing before it is listed

    @contextlib.contextmanager
    def session(self, log: Callable[[str], None]) -> Iterator[None]:
        token = _take_lock(self.store, log)
        self.token = token
        try:
            aborted = self.store.abort_unfinished_uploads()
            if aborted:
                log(
                    f"{self.store.url}: aborted {aborted} unfinished shard upload(s) a killed "
                    "build left (S3 keeps their parts until then)"
                )
            yield
        except BaseException:
            # the build's own error is the one to tell: a store gone mid-build fails the
            # lock's release too. A lock left here is taken over by the next build on this
            # host, in this PID namespace (its process is gone).
            stop = interrupted()
            if stop is None:
                with contextlib.suppress(Exception):
                    _release_lock(self.store, token)
                raise
            try:  # stopped: bounded, as the command must stop
                within_stop(lambda: _release_lock(self.store, token), self.abort_io)
            except NoAnswer:
                stop.add_note(
                    f"{self.store.url}: did not answer: its lock was not removed (the next "
                    "build on this host takes it over)"
                )
            except Exception:  # noqa: BLE001, S110 - the interrupt is what to tell
                pass
            raise
        finally:
            self.token = None
        _release_lock(self.store, token)

    def adopt(
        self, will_write: Iterable[str], force: bool, log: Callable[[str], None], dataset: str
    ) -> tuple[BuildState, bool]:
        self.listing = self.store.listing()
        if not self.listing:  # a build has its lock here: a dry run or plan, or no bucket
            self.store.require_bucket()
        _check_prefix(self.store)
        return _adopt(self.store, self.listing, list(will_write), force, log, dataset)

    def save(self, state: BuildState) -> None:
        save_state(self.store, state)  # each shard was put whole before it was recorded

    def abort_io(self) -> None:
        abort_requests(self.store.fs)

    def unmark(self) -> None:
        """Delete the state a failed first build saved, unless another object was put under
        the prefix meanwhile (a Dask worker's shard, before its result came back)."""
        with contextlib.suppress(Exception):  # a store gone: the build's error is told
            if set(self.store.listing()) <= {STATE_NAME, LOCK_NAME}:
                self.store.delete(STATE_NAME)

    def current_shard(self, state: BuildState, path: str, key: str) -> dict[str, Any] | None:
        return current_shard(state, self.listing, path, key)

    def replaced_shards(self, state: BuildState, kept: dict[str, dict[str, Any]]) -> set[str]:
        replaced = set()
        for path, entry in kept.items():  # each was listed with the entry's size
            try:
                with self.store.open(path, entry["bytes"]) as handle:
                    if handle_sha256(handle) != entry["sha256"]:
                        replaced.add(path)
            except (OSError, OutputError):
                replaced.add(path)
        return replaced

    def current_manifest(self, state: BuildState, wanted: dict[str, Any]) -> dict[str, Any] | None:
        try:
            existing = read_store_manifest(self.store)
        except OutputError:
            return None
        if identity(existing) != identity(wanted):
            return None
        return existing if all(name in self.listing for name in state.files) else None

    def check_obstacles(self, names: Iterable[str]) -> None:
        pass  # a key is written over whatever it held, and a "folder" is only a prefix

    def retract_manifest(self, state: BuildState) -> None:
        if MANIFEST_FILE in state.files:  # no manifest of the old state survives a failure
            self.store.delete(MANIFEST_FILE)
            del state.files[MANIFEST_FILE]
            self.save(state)

    def discard_partials(self, plan: Plan, state: BuildState) -> None:
        pass  # an object is put whole at its key: there are no partial objects

    def remove_owned(self, state: BuildState, path: str) -> None:
        self.store.delete(path)  # confined when the state was loaded
        del state.shards[path]
        self.save(state)

    def discard_unrecorded(self, state: BuildState) -> int:
        unrecorded = state.unrecorded()
        present = set(self.store.listing()) if unrecorded else set()
        removed = [path for path in unrecorded if path in present]
        for path in removed:
            self.store.delete(path)  # confined when the state was loaded
        state.building = []
        return len(removed)

    def worker_location(self, tasks: list[ShardTask]) -> str:
        for task in tasks:
            self.store.key(task.path)  # every key confined before any worker writes
        # the URL as given: workers open the store themselves (credentials from their env)
        return self.store.given

    def record_shard(self, state: BuildState, record: dict[str, Any]) -> None:
        record_shard(self.store, state, record)

    def settle(self, plan: Plan, state: BuildState) -> None:
        self.listing = self.store.listing()  # what the finishing files are compared with

    def build_facts(self) -> dict[str, Any]:
        return {"output": self.store.url}

    def write(self, name: str, data: bytes) -> None:
        # written unless the store already holds exactly these bytes (as write_if_changed)
        found = self.listing.get(name)
        held = found is not None and found["size"] == len(data)
        if not held or _held(self.store, name, len(data)) != data:
            self.store.write(name, data)

    def confirm_lock(self) -> None:
        if self.token is None:
            raise BuildError(f"{self.store.url}: this build holds no lock on it")
        _confirm_lock(self.store, self.token)

    def draw(self, kind: PreviewKind, shards: list[str], caption: Caption) -> bytes:
        # the shards, downloaded as far as the preview reads them
        with scratch_folder("preview") as scratch:
            local: list[Path] = []
            for index, path in enumerate(shards):
                local.append(Path(scratch) / f"{index}{Path(path).suffix}")
                self.store.download(path, local[-1])
            return preview_of_shards(kind, local, caption, names=shards)


def _check_prefix(store: Store) -> None:
    """UsageError when the prefix is an object, or lies under one (``-o s3://b/a/manifest.json``),
    as ``-o`` naming a file is refused for a directory (state.check_output_dir)."""
    found = store.object_in_the_way()
    if found is None:
        return
    where = "is an object" if found == store.url else f"{found} is an object"
    raise UsageError(
        f"{store.url}: {where}, not a prefix; -o takes the prefix a dataset's objects go "
        "under (as in s3://bucket/datasets/name), never one of its files"
    )


def _take_lock(store: Store, log: Callable[[str], None]) -> str:
    """Write the lock object unless one exists; take over the lock of a killed build (see
    outputs.store.why_held); otherwise UsageError saying who holds it and how to clear it.
    Returns the token the lock holds while it is this build's."""
    token = new_lock_token()
    ours = lock_body(token)
    try:
        created = store.create(LOCK_NAME, ours)
    except StoreError as error:
        # the write may have stored the object before it failed (adlfs did, then failed to
        # parse the key): a lock holding this build's token is deleted where it can be (not
        # from a store that did not answer, which would keep the build waiting twice as long)
        if not error.unanswered():
            with contextlib.suppress(Exception):
                _release_lock(store, token)
        if says_missing(str(error)):
            store.require_bucket()  # said as a dry run says it
        raise
    if created:
        return token
    body = _read_lock(store)
    reason = why_held(body)
    if reason is None:
        store.write(LOCK_NAME, ours)  # no conditional replace on every store: read it back
        found = _read_lock(store)
        if found == ours:  # two reruns that both judged it stale: the last writer holds it
            log(f"{store.where(LOCK_NAME)}: the build that held it is gone (killed); took it over")
            return token
        body = found
        reason = why_held(body) or "another rerun took it over at the same time"
    # the body is the store's, untrusted: one line, however it is made
    holder = one_line(body.decode("utf-8", "replace")[:300]) if body else "unreadable"
    if reason.endswith(RUNS_HERE):  # a build that is running: its lock is no one's to delete
        advice = "rerun once it has finished (or stop it: its finished shards are kept)"
    else:
        advice = (
            "if none is (it was killed on another machine, in another container or PID "
            f"namespace, or before a reboot), delete {store.where(LOCK_NAME)} and rerun"
        )
    raise UsageError(
        f"{store.url}: another synthc build is writing this prefix (lock {holder}: "
        f"{reason}); {advice}"
    )


class _NotALock(OutputError):
    """The lock object is too big to be one synthc wrote."""


def _lock_object(store: Store) -> bytes | None:
    """The lock object's bytes; None if there is none, empty if it is too big to be one
    synthc wrote (another store error passes through). (_NotALock is always caught here, so
    the limit name it would print is never shown.)"""
    try:
        return store.read(LOCK_NAME, MAX_LOCK_BYTES, "MAX_STATE_BYTES", _NotALock)
    except FileNotFoundError:
        return None
    except _NotALock:
        return b""


def _read_lock(store: Store) -> bytes:
    """The lock object's bytes; empty if there is none, one too big to be synthc's, or the
    store cannot be read."""
    try:
        return _lock_object(store) or b""
    except OutputError:
        return b""


def _confirm_lock(store: Store, token: str) -> None:
    """BuildError unless the lock object still holds ``token``: another build took the lock
    over (or it was deleted) while this one ran, and this one must not commit (a store that
    cannot be read fails the build)."""
    body = _lock_object(store)
    if body is not None and lock_token(body) == token:
        return
    found = "it is gone" if body is None else "it is now another build's"
    raise BuildError(
        f"{store.url}: another build took over this build's lock while it ran "
        f"({store.where(LOCK_NAME)}: {found}); no manifest was written: rerun once no other "
        "build writes this prefix"
    )


def _release_lock(store: Store, token: str) -> None:
    """Delete the lock object if it is still this build's (another build's is left to it)."""
    body = _lock_object(store)
    if body and lock_token(body) == token:
        store.delete(LOCK_NAME)


def _adopt(
    store: Store,
    listing: dict[str, dict[str, Any]],
    will_write: list[str],
    force: bool,
    log: Callable[[str], None],
    dataset: str,
) -> tuple[BuildState, bool]:
    """The state to build from, and whether it is new. A prefix with objects but no state
    (or one synthc cannot trust) is refused unless ``force``; another dataset's too. As for
    a directory (outputs/adopt.py), a state rebuilt from a verifying manifest is taken unless
    the build would write over objects the manifest does not list (other objects, such as
    another dataset's under this prefix, are left alone)."""
    try:
        state = load_state(store)
    except CopiedState as error:  # as if it were lost: the manifest says what is synthc's
        log(f"{error}; set aside")
        state = None
    except BadState as error:
        if not force:
            raise BadState(
                f"{error}; synthc deleted nothing. Rerun with --force to set it aside (synthc "
                "then overwrites only the keys it writes)"
            ) from None
        log(f"{error}: set aside (--force)")
        return BuildState(), True
    if state is not None:
        _check_dataset(store, state, dataset, force, log)
        return state, False
    others = [name for name in listing if name not in (LOCK_NAME, STATE_NAME)]
    recovered = state_from_manifest(store, listing) if others else None
    if recovered is not None:  # the state was lost: the manifest says what is synthc's
        owned = recovered.shards.keys() | recovered.files.keys()
        taken = [name for name in will_write if name in listing and name not in owned]
        if not taken or force:
            _check_dataset(store, recovered, dataset, force, log)
            log(f"{store.url}: no build state; rebuilt it from {MANIFEST_FILE}, which verifies")
            if taken:
                log(f"{store.url}: took over {len(taken)} object(s) synthc writes (--force)")
            return recovered, True
    if others and not force:
        raise UsageError(
            f"{store.url}: not empty ({len(others)} object(s)) and holds no synthc build state; "
            "rerun with --force to write beside them (synthc overwrites only the keys it "
            "writes), or choose another prefix with -o"
        )
    if others:
        log(f"{store.url}: no build state; writing beside {len(others)} object(s) (--force)")
    return BuildState(), True


def _check_dataset(
    store: Store, state: BuildState, dataset: str, force: bool, log: Callable[[str], None]
) -> None:
    """UsageError when ``state`` is another dataset's than ``dataset``, unless ``force``."""
    if state.dataset is None or state.dataset == dataset:
        return
    if not force:
        raise UsageError(
            f"{store.url}: holds the dataset {state.dataset!r}, not {dataset!r} (the spec's "
            "name); rerun with --force to replace it, or choose another -o"
        )
    log(f"{store.url}: replacing the dataset {state.dataset!r} with {dataset!r} (--force)")


def _held(store: Store, name: str, size: int) -> bytes | None:
    """The bytes of object ``name`` if it has at most ``size``, else None."""
    try:
        return store.read(name, size, "MAX_FACT_BYTES", OutputError)
    except (FileNotFoundError, OutputError):
        return None
