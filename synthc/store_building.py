"""Builds into an object store (``-o s3://bucket/prefix``): decide, execute, finish, as
building.py does for a directory, with the same guarantees.

Workers write each shard to a local temporary file and put it whole at its final key
(shard.py), so a shard appears complete or not at all. The build state is one small object,
``.synthc/state.json``, rewritten as shards finish (synthc.checkpoint), so a killed build
resumes; a shard is kept while its object has the size and ETag recorded when it was uploaded.
The manifest is retracted before anything changes and written last. A lock object,
``.synthc/lock``, written with a conditional PUT, keeps two builds from writing one prefix (see
docs/storage.md).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthc import generators
from synthc.building import (
    Actions,
    BuildResult,
    Progress,
    _finisher,
    _iso,
    _SampleCounter,
    _takes_report,
    count_unit,
)
from synthc.checkpoint import Checkpoint
from synthc.compile_notice import compile_notice
from synthc.compiler.compiling import CompiledSpec
from synthc.compiler.planning import Plan, ShardTask
from synthc.errors import BuildError, OutputError, SynthcError, UsageError
from synthc.executors.base import Executor, TaskFailed
from synthc.executors.local import LocalExecutor
from synthc.git_state import GitState
from synthc.outputs.card import dataset_card
from synthc.outputs.finish import CARD_FILE, PREVIEW_FILE, Finisher
from synthc.outputs.manifest import MANIFEST_FILE, encode_manifest, identity, read_store_manifest
from synthc.outputs.preview import Caption, default_samples, preview_of_shards
from synthc.outputs.preview_process import PreviewProcess
from synthc.outputs.records import ShardRecord
from synthc.outputs.state import BadState, BuildState
from synthc.outputs.store import LOCK_NAME, Store, lock_body, stale_lock
from synthc.outputs.store_state import (
    STATE_NAME,
    current_shard,
    load_state,
    record_shard,
    save_state,
)
from synthc.shard import run_task


def decide_store(
    plan: Plan, state: BuildState, listing: dict[str, dict[str, Any]], force: bool
) -> Actions:
    """Which planned shards need building, which are current, which owned shards are stale."""
    actions = Actions()
    planned = {task.path for task in plan.tasks}
    for task in plan.tasks:
        current = None if force else current_shard(state, listing, task.path, task.key)
        if current is None:
            actions.build.append(task)
        else:
            actions.keep[task.path] = current
    actions.remove = sorted(path for path in state.shards if path not in planned)
    return actions


def pending_store(
    compiled: CompiledSpec, plan: Plan, store: Store, force: bool = False
) -> tuple[Actions, BuildState]:
    """What building ``plan`` into ``store`` would do, and the state that decision read;
    writes nothing (the decision of ``build_to_store(dry_run=True)``)."""
    listing = store.listing()
    state = _adopt(store, listing, force, lambda message: None, compiled.spec.name)[0]
    return decide_store(plan, state, listing, force), state


def build_to_store(
    compiled: CompiledSpec,
    plan: Plan,
    store: Store,
    *,
    executor: Executor | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda message: None,
    git: GitState | None = None,
) -> BuildResult:
    """Build ``plan`` into ``store``; see the module docstring."""
    started = time.time()
    name = compiled.spec.name
    if dry_run:
        actions, _ = pending_store(compiled, plan, store, force)
        up_to_date = not actions.build and not actions.remove
        counts = len(actions.build), len(actions.keep), len(actions.remove)
        return BuildResult(store.url, plan, *counts, 0.0, up_to_date, dry_run=True)

    executor = executor or LocalExecutor()
    progress = progress or Progress()
    notice = compile_notice(compiled.spec.generator.kind)
    if notice is not None:
        progress.note(notice)
    finisher = _finisher(compiled, plan, git)
    _take_lock(store, log)
    early: _EarlyPreview | None = None
    try:
        listing = store.listing()
        state, new = _adopt(store, listing, force, log, name)
        if new or state.dataset != name:
            state.dataset = name
            save_state(store, state)
        actions = decide_store(plan, state, listing, force)
        if not actions.build and not actions.remove:
            kept = [ShardRecord.from_json(actions.keep[task.path]) for task in plan.tasks]
            if _manifest_current(store, state, listing, finisher.manifest(kept, {})):
                return BuildResult(
                    store.url, plan, 0, len(actions.keep), 0, time.time() - started, True
                )

        # drawn by a child process from local copies, fetched as the shards it reads are put
        early = _EarlyPreview.start(finisher, plan, store, set(actions.keep))
        if MANIFEST_FILE in state.files:  # no manifest of the old state survives a failure
            store.delete(MANIFEST_FILE)
            del state.files[MANIFEST_FILE]
            save_state(store, state)
        for path in actions.remove:
            store.delete(path)
            del state.shards[path]
            save_state(store, state)
        if actions.remove:
            log(f"removed {len(actions.remove)} shard(s) no longer in the plan")

        gil_free = generators.get(compiled.spec.generator.kind).gil_free
        written = early.written if early is not None else None
        built = _run(executor, actions.build, store, state, progress, gil_free, compiled, written)
        records = [
            ShardRecord.from_json(built.get(task.path) or actions.keep[task.path])
            for task in plan.tasks
        ]
        finished = time.time()
        build_facts = {
            "started": _iso(started),
            "finished": _iso(finished),
            "seconds": round(finished - started, 3),
            "executor": executor.name,
            "workers": executor.workers,
            "shards_built": len(built),
            "shards_kept": len(actions.keep),
            "shards_removed": len(actions.remove),
            "output": store.url,
        }
        _finish(finisher, store, state, records, build_facts, store.listing(), early)
    finally:
        if early is not None:
            early.close()
        store.delete(LOCK_NAME)
    return BuildResult(
        store.url,
        plan,
        len(built),
        len(actions.keep),
        len(actions.remove),
        finished - started,
        up_to_date=False,
    )


def _take_lock(store: Store, log: Callable[[str], None]) -> None:
    """Write the lock object unless one exists; take over the lock of a killed build on this
    host; otherwise UsageError saying who holds it and how to clear it."""
    if store.create(LOCK_NAME, lock_body()):
        return
    try:
        body = store.read(LOCK_NAME, 4096, "MAX_STATE_BYTES", OutputError)
    except (FileNotFoundError, OutputError):
        body = b""
    if stale_lock(body):
        log(f"{store.where(LOCK_NAME)}: the build that held it is gone (killed); taking it over")
        store.write(LOCK_NAME, lock_body())
        return
    holder = body.decode("utf-8", "replace")[:200] if body else "unreadable"
    raise UsageError(
        f"{store.url}: another synthc build is writing this prefix (lock {holder}); if none "
        f"is (it was killed on another machine), delete {store.where(LOCK_NAME)} and rerun"
    )


def _adopt(
    store: Store,
    listing: dict[str, dict[str, Any]],
    force: bool,
    log: Callable[[str], None],
    dataset: str,
) -> tuple[BuildState, bool]:
    """The state to build from, and whether it is new. A prefix with objects but no state
    (or one synthc cannot trust) is refused unless ``force``; another dataset's too."""
    try:
        state = load_state(store)
    except BadState as error:
        if not force:
            raise BadState(
                f"{error}; synthc deleted nothing. Rerun with --force to set it aside (synthc "
                "then overwrites only the keys it writes)"
            ) from None
        log(f"{error}: set aside (--force)")
        return BuildState(), True
    if state is not None:
        if state.dataset is not None and state.dataset != dataset:
            if not force:
                raise UsageError(
                    f"{store.url}: holds the dataset {state.dataset!r}, not {dataset!r} (the "
                    "spec's name); rerun with --force to replace it, or choose another -o"
                )
            log(f"{store.url}: replacing the dataset {state.dataset!r} with {dataset!r} (--force)")
        return state, False
    others = [name for name in listing if name not in (LOCK_NAME, STATE_NAME)]
    if others and not force:
        raise UsageError(
            f"{store.url}: not empty ({len(others)} object(s)) and holds no synthc build state; "
            "rerun with --force to write beside them (synthc overwrites only the keys it "
            "writes), or choose another prefix with -o"
        )
    if others:
        log(f"{store.url}: no build state; writing beside {len(others)} object(s) (--force)")
    return BuildState(), True


def _run(
    executor: Executor,
    tasks: list[ShardTask],
    store: Store,
    state: BuildState,
    progress: Progress,
    gil_free: bool,
    compiled: CompiledSpec,
    written: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    built: dict[str, dict[str, Any]] = {}
    if not tasks:
        return built
    for task in tasks:
        store.key(task.path)  # every key confined before any worker writes
    progress.counting(count_unit(tasks))
    progress.start(len(tasks), sum(t.samples for t in tasks))
    counter = _SampleCounter(progress, [t.samples for t in tasks])
    roots = compiled.read_roots
    checkpoint = Checkpoint(lambda: save_state(store, state))
    try:
        items = [t.to_json() for t in tasks]
        # the URL as given: workers open the store themselves (credentials from their env)
        if _takes_report(executor):
            runs = executor.run(
                run_task, items, store.given, roots, gil_free=gil_free, report=counter.moved
            )
        else:
            runs = executor.run(run_task, items, store.given, roots, gil_free=gil_free)
        for index, record in runs:
            record_shard(store, state, record)
            checkpoint.changed()  # a killed build resumes from the last save
            built[record["path"]] = record
            if written is not None:
                written(record["path"])
            counter.finished(index)
            progress.advance(record)
    except TaskFailed as failure:
        task = tasks[failure.index]
        error = failure.error
        detail = (
            str(error) if isinstance(error, SynthcError) else f"{type(error).__name__}: {error}"
        )
        raise BuildError(
            f"{task.path}: building samples [{task.start}, {task.stop}) failed: {detail}"
        ) from error
    finally:
        progress.close()
        checkpoint.close()  # every shard that finished, also when another failed
    return built


def _manifest_current(
    store: Store, state: BuildState, listing: dict[str, dict[str, Any]], wanted: dict[str, Any]
) -> bool:
    try:
        existing = read_store_manifest(store)
    except OutputError:
        return False
    if identity(existing) != identity(wanted):
        return False
    return all(name in listing for name in state.files)


def _finish(
    finisher: Finisher,
    store: Store,
    state: BuildState,
    records: list[ShardRecord],
    build: dict[str, Any],
    listing: dict[str, dict[str, Any]],
    early: _EarlyPreview | None = None,
) -> None:
    """The files beside the shards, each owned in the state as it is written, then the
    manifest last (owned before it exists, so a later build can retract it)."""
    manifest = finisher.manifest(records, build)

    def owned(name: str, data: bytes) -> None:
        # written unless the store already holds exactly these bytes (as write_if_changed)
        found = listing.get(name)
        if found is None or found["size"] != len(data) or _held(store, name, len(data)) != data:
            store.write(name, data)
        state.files[name] = hashlib.sha256(data).hexdigest()
        save_state(store, state)

    for name, data in {**finisher.spec_copies, **finisher.extras}.items():
        owned(name, data)
    owned(CARD_FILE, dataset_card(manifest).encode())
    if finisher.preview is not None:
        png = early.drawn(finisher, records) if early is not None else None
        owned(PREVIEW_FILE, png if png is not None else _preview(finisher, store, records))
    data = encode_manifest(manifest)
    state.files[MANIFEST_FILE] = hashlib.sha256(data).hexdigest()
    save_state(store, state)
    store.write(MANIFEST_FILE, data)


def _held(store: Store, name: str, size: int) -> bytes | None:
    """The bytes of object ``name`` if it has at most ``size``, else None."""
    try:
        return store.read(name, size, "MAX_FACT_BYTES", OutputError)
    except (FileNotFoundError, OutputError):
        return None


def _preview(finisher: Finisher, store: Store, records: list[ShardRecord]) -> bytes:
    """preview.png from the first shards, downloaded as far as the preview needs."""
    assert finisher.preview is not None
    needed = default_samples(finisher.preview)
    records = finisher.previewed(records)
    with tempfile.TemporaryDirectory(prefix="synthc-preview-") as scratch:
        shards: list[Path] = []
        have = 0
        for index, record in enumerate(r for r in records if r.samples):
            if have >= needed:
                break
            local = Path(scratch) / f"{index}{Path(record.path).suffix}"
            store.download(record.path, local)
            shards.append(local)
            have += record.samples
        total = sum(r.samples for r in records)
        caption = Caption.of(finisher.spec.name, total, finisher.columns)
        return preview_of_shards(finisher.preview, shards, caption)


#: the prefix of the scratch directories of store builds' preview processes: then the pid
_SCRATCH = "synthc-preview-"


def _remove_dead_scratch() -> None:
    """Remove the scratch directories (``synthc-preview-<pid>-*``, ours) that builds killed
    before they could remove them left in the temporary directory."""
    for path in Path(tempfile.gettempdir()).glob(f"{_SCRATCH}*-*"):
        pid = path.name[len(_SCRATCH) :].partition("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if path.lstat().st_uid != os.getuid() or not path.is_dir() or path.is_symlink():
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:  # alive under another user, or gone from under us
            continue


class _EarlyPreview:
    """preview.png drawn by a child process (outputs/preview_process.py) from local copies of
    the shards it reads, each downloaded as soon as it is in the store, into a scratch
    directory named as ``_preview`` names them (so the drawing is the same)."""

    def __init__(self, store: Store, scratch: Path, wanted: dict[str, str]) -> None:
        self.store, self.scratch, self.wanted = store, scratch, wanted
        self.drawer: PreviewProcess | None = None

    @classmethod
    def start(
        cls, finisher: Finisher, plan: Plan, store: Store, kept: set[str]
    ) -> _EarlyPreview | None:
        """Start the child (None when there is no points or table preview, or no child)."""
        if finisher.preview is None:
            return None
        paths, caption = finisher.preview_reads(plan.tasks)
        local = {path: f"{i}{Path(path).suffix}" for i, path in enumerate(paths)}
        _remove_dead_scratch()
        scratch = Path(tempfile.mkdtemp(prefix=f"{_SCRATCH}{os.getpid()}-"))
        early = cls(store, scratch, local)
        names = list(local.values())
        early.drawer = PreviewProcess.start(scratch, finisher.preview, names, caption)
        if early.drawer is None:
            early.close()
            return None
        for path in paths:
            if path in kept:
                early.written(path)
        return early

    def written(self, path: str) -> None:
        """Shard ``path`` is in the store: fetch it if the preview reads it."""
        name = self.wanted.get(path)
        if name is None or self.drawer is None:
            return
        try:
            self.store.download(path, self.scratch / name)
        except SynthcError:  # the finisher downloads again, and says what is wrong
            self.drawer.close()
            self.drawer = None
            return
        self.drawer.written(name)

    def drawn(self, finisher: Finisher, records: list[ShardRecord]) -> bytes | None:
        """The child's PNG of the preview the finisher would draw from ``records``, or None."""
        if self.drawer is None or finisher.preview is None:
            return None
        paths, caption = finisher.preview_reads(records)
        if any(path not in self.wanted for path in paths):
            return None
        names = [self.wanted[path] for path in paths]
        return self.drawer.drawn(finisher.preview, names, caption)

    def close(self) -> None:
        """Stop the child and remove the local copies."""
        if self.drawer is not None:
            self.drawer.close()
            self.drawer = None
        shutil.rmtree(self.scratch, ignore_errors=True)
