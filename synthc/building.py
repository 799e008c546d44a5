"""Incremental, resumable builds: decide what to (re)build, run it, then write the manifest last.

A shard is kept when the build state says it was written from the same task key and its file is
untouched since (same size and mtime, as make and ninja judge). Shards that left the plan are
removed, but only if the state says synthc wrote them. An unchanged spec writes nothing at all.
The state and manifest are untrusted (see outputs/adopt.py and outputs/confine.py); every
OSError while writing becomes a BuildError naming the file, and the manifest is written last.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synthc import generators
from synthc.atomic import partial_path, write_if_changed
from synthc.compiler.compiling import CompiledSpec
from synthc.compiler.planning import Plan, ShardTask
from synthc.errors import BuildError, OutputError, SynthcError
from synthc.executors.base import Executor, TaskFailed
from synthc.executors.local import LocalExecutor
from synthc.outputs.adopt import adopt_state
from synthc.outputs.card import dataset_card
from synthc.outputs.confine import confine
from synthc.outputs.fact_files import split_facts
from synthc.outputs.image_grid import decode_pngs, grid_png
from synthc.outputs.manifest import (
    MANIFEST_FILE,
    encode_manifest,
    identity,
    make_manifest,
    read_manifest,
)
from synthc.outputs.parquet import read_table_head
from synthc.outputs.preview import points_preview_png
from synthc.outputs.state import (
    BuildState,
    build_lock,
    check_output_dir,
    make_output_dir,
    state_path,
)
from synthc.outputs.table_preview import table_preview_png
from synthc.outputs.webdataset import read_tar_members
from synthc.shard import run_task, table_columns

SPEC_FILE = "spec.yaml"
RENDERED_SPEC_FILE = "spec.rendered.yaml"
CARD_FILE = "README.md"
PREVIEW_FILE = "preview.png"
PREVIEW_IMAGES = 16
PREVIEW_SAMPLES = 4000


@dataclass
class Actions:
    """What a build will do: shards to build and to keep, owned files to remove."""

    build: list[ShardTask] = field(default_factory=list)
    keep: dict[str, dict[str, Any]] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BuildResult:
    """The outcome of a build."""

    out: Path
    plan: Plan
    built: int
    kept: int
    removed: int
    seconds: float
    up_to_date: bool
    dry_run: bool = False


class Progress:
    """Callbacks a front end can give a build; the default does nothing."""

    def start(self, shards: int, samples: int) -> None: ...

    def advance(self, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def decide(plan: Plan, state: BuildState, out: Path, force: bool) -> Actions:
    """Which planned shards need building, which are current, which owned shards are stale."""
    actions = Actions()
    planned = {task.path for task in plan.tasks}
    for task in plan.tasks:
        current = None if force else state.current_shard(out, task.path, task.key)
        if current is None:
            actions.build.append(task)
        else:
            actions.keep[task.path] = current
    actions.remove = sorted(path for path in state.shards if path not in planned)
    return actions


def build(
    compiled: CompiledSpec,
    plan: Plan,
    out: Path,
    *,
    executor: Executor | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> BuildResult:
    """Build ``plan`` into ``out``; see the module docstring for what is kept and removed."""
    started = time.time()
    check_output_dir(out)
    executor = executor or LocalExecutor()
    progress = progress or Progress()
    generator = generators.get(compiled.spec.generator.kind)
    spec_files, spec_bytes = _spec_files(compiled)
    facts, fact_files = split_facts(generator.facts(compiled.spec.generator, compiled.spec.seed))
    extras = {**_extra_files(compiled), **fact_files}
    owned_files = [*spec_bytes, CARD_FILE, *extras]
    if any(task.samples for task in plan.tasks):
        owned_files.append(PREVIEW_FILE)
    will_write = [*(t.path for t in plan.tasks), *owned_files, MANIFEST_FILE]
    if dry_run:
        state, _ = adopt_state(out, will_write, force, lambda message: None, compiled.spec.name)
        actions = decide(plan, state, out, force)
        return BuildResult(
            out,
            plan,
            len(actions.build),
            len(actions.keep),
            len(actions.remove),
            0.0,
            not actions.build and not actions.remove,
            dry_run=True,
        )

    make_output_dir(out)
    try:
        with build_lock(out):
            state, new = adopt_state(out, will_write, force, log, compiled.spec.name)
            if new or state.dataset != compiled.spec.name:
                # mark the directory as ours (and this dataset's) at once, so a failed build can
                # rerun and another spec's build cannot take it over silently
                state.dataset = compiled.spec.name
                state.save(out)
            actions = decide(plan, state, out, force)
            columns = [
                c.to_json()
                for c in table_columns(compiled.spec.generator.kind, compiled.spec.generator)
            ]

            def manifest_for(records: list[dict[str, Any]], build_facts: dict[str, Any]) -> dict:
                return make_manifest(
                    spec=compiled.spec,
                    spec_files=spec_files,
                    facts=facts,
                    columns=columns,
                    split_ranges=plan.splits,
                    records=records,
                    build=build_facts,
                    files=owned_files,
                )

            if not actions.build and not actions.remove:
                records = [actions.keep[task.path] for task in plan.tasks]
                if _manifest_current(out, state, manifest_for(records, {})):
                    return BuildResult(
                        out, plan, 0, len(actions.keep), 0, time.time() - started, True
                    )

            # Whatever changes, a manifest describing the old state must not survive a build
            # that fails half-way; its absence also tells make that the dataset is not built.
            _retract_manifest(out, state)
            _discard_partials(out, plan, state)
            for path in actions.remove:
                _remove_owned(out, state, path)
            if actions.remove:
                log(f"removed {len(actions.remove)} shard(s) no longer in the plan")

            built = _run(
                executor, actions.build, out, state, progress, generator.gil_free, compiled
            )
            records = [built.get(task.path) or actions.keep[task.path] for task in plan.tasks]
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
            }
            manifest = manifest_for(records, build_facts)
            _write_extras(out, state, plan, manifest, {**spec_bytes, **extras})
            # Written strictly last, and owned before it exists: a later build can retract it.
            data = encode_manifest(manifest)
            state.files[MANIFEST_FILE] = hashlib.sha256(data).hexdigest()
            state.save(out)
            _write_file(out, MANIFEST_FILE, data)
    except OSError as error:
        raise BuildError(_os_message(out, error)) from None
    return BuildResult(
        out,
        plan,
        len(built),
        len(actions.keep),
        len(actions.remove),
        finished - started,
        up_to_date=False,
    )


def _os_message(out: Path, error: OSError) -> str:
    where = error.filename if error.filename is not None else out
    return f"{where}: {error.strerror or error}"


def _run(
    executor: Executor,
    tasks: list[ShardTask],
    out: Path,
    state: BuildState,
    progress: Progress,
    gil_free: bool,
    compiled: CompiledSpec,
) -> dict[str, dict[str, Any]]:
    built: dict[str, dict[str, Any]] = {}
    if not tasks:
        return built
    progress.start(len(tasks), sum(t.samples for t in tasks))
    try:
        items = [t.to_json() for t in tasks]
        # an absolute path: remote (Dask) workers do not share our working directory; the
        # spec's read roots tell workers where the files it names are (synthc.inputs)
        where = str(out.resolve())
        runs = executor.run(run_task, items, where, compiled.read_roots, gil_free=gil_free)
        for _, record in runs:
            state.record_shard(out, record)
            state.save(out)  # after every shard: a killed build resumes from here
            built[record["path"]] = record
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
    return built


def _spec_files(compiled: CompiledSpec) -> tuple[dict[str, Any], dict[str, bytes]]:
    written = compiled.loaded.rendered.source_text.encode()
    rendered = compiled.loaded.rendered.text.encode()
    info = {
        "source": str(compiled.loaded.rendered.line_map[0][0])
        if compiled.loaded.rendered.line_map
        else "",
        "file": SPEC_FILE,
        "sha256": hashlib.sha256(written).hexdigest(),
        "rendered_file": RENDERED_SPEC_FILE,
        "rendered_sha256": hashlib.sha256(rendered).hexdigest(),
        "vars": json.loads(json.dumps(compiled.variables, default=str)),
    }
    return info, {SPEC_FILE: written, RENDERED_SPEC_FILE: rendered}


def _manifest_current(out: Path, state: BuildState, wanted: dict[str, Any]) -> bool:
    try:
        existing = read_manifest(out)
    except OutputError:
        return False
    if identity(existing) != identity(wanted):
        return False
    return all((out / name).is_file() for name in state.files)


def _discard_partials(out: Path, plan: Plan, state: BuildState) -> None:
    """Remove temporaries a killed build left; only those named after synthc's own files."""
    names = {t.path for t in plan.tasks} | set(state.shards) | set(state.files)
    for name in names:
        partial_path(out / name).unlink(missing_ok=True)


def _retract_manifest(out: Path, state: BuildState) -> None:
    if MANIFEST_FILE in state.files:
        (out / MANIFEST_FILE).unlink(missing_ok=True)
        del state.files[MANIFEST_FILE]
        state.save(out)


def _remove_owned(out: Path, state: BuildState, path: str) -> None:
    # Confined when the state was loaded, and again now: a symlink may have appeared since.
    target = confine(out, path, str(state_path(out)))
    target.unlink(missing_ok=True)
    del state.shards[path]
    state.save(out)
    parent = target.parent
    if parent != out and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()


def _write_owned(out: Path, state: BuildState, name: str, data: bytes) -> None:
    _write_file(out, name, data)
    state.files[name] = hashlib.sha256(data).hexdigest()
    state.save(out)


def _write_file(out: Path, name: str, data: bytes) -> None:
    path = confine(out, name, "the build plan")
    try:
        write_if_changed(path, data)
    except OSError as error:
        raise BuildError(f"{path}: cannot write: {error.strerror or error}") from None


def _extra_files(compiled: CompiledSpec) -> dict[str, bytes]:
    generator = generators.get(compiled.spec.generator.kind)
    extra = getattr(generator, "extra_files", None)
    if extra is None:
        return {}
    return dict(extra(compiled.spec.generator, compiled.spec.seed))


def _write_extras(
    out: Path,
    state: BuildState,
    plan: Plan,
    manifest: dict[str, Any],
    files: dict[str, bytes],
) -> None:
    for name, data in files.items():
        _write_owned(out, state, name, data)
    _write_owned(out, state, CARD_FILE, dataset_card(manifest).encode())
    shards = [out / t.path for t in plan.tasks if t.samples]
    if shards:
        # The first shards hold the first samples: read them back rather than generate again.
        _write_owned(out, state, PREVIEW_FILE, _preview(shards))


def _preview(shards: list[Path]) -> bytes:
    if shards[0].suffix == ".tar":
        pngs: list[bytes] = []
        for shard in shards:
            pngs += read_tar_members(shard, PREVIEW_IMAGES - len(pngs))
            if len(pngs) >= PREVIEW_IMAGES:
                break
        return grid_png(decode_pngs(pngs))
    table = read_table_head(shards[0], PREVIEW_SAMPLES)
    draw = points_preview_png if "x0" in table else table_preview_png
    return draw(table)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
