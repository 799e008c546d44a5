"""Incremental, resumable builds: decide what to (re)build, execute it, finish the dataset.

One driver for every output: it works through a :class:`~synthc.build_target.Target`, a local
directory (dir_target.py) or an object-store prefix (store_target.py). A shard is kept when the
build state says it was written from the same task key and the target says it is untouched
since. Shards that left the plan are removed, but only if the state says synthc wrote them. An
unchanged spec writes nothing at all. The finisher (outputs/finish.py) writes the files beside
the shards and the manifest, last.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synthc import compile_ahead, generators, limits
from synthc.build_target import Target
from synthc.checkpoint import Checkpoint
from synthc.compile_notice import compile_notice
from synthc.compiler.compiling import CompiledSpec
from synthc.compiler.planning import Plan, ShardTask
from synthc.deadline import NoAnswer, interrupted, within_stop
from synthc.errors import BuildError, SynthcError, UsageError
from synthc.executors.base import Executor, TaskFailed
from synthc.executors.local import LocalExecutor
from synthc.generator_output import GeneratorSlip
from synthc.generators.base import PreviewKind
from synthc.git_state import GitState
from synthc.hints import listed
from synthc.outputs.finish import SPEC_FILE, Finisher, SpecText, prepare
from synthc.outputs.manifest import MANIFEST_FILE, encode_manifest
from synthc.outputs.preview import load_drawing
from synthc.outputs.records import ShardRecord
from synthc.outputs.state import STATE_DIR, BuildState
from synthc.plain_first import PlainFirst, plain_seconds, worth_plain
from synthc.progress import Progress
from synthc.shard import related_table_columns, run_task, table_columns


@dataclass
class Actions:
    """What a build will do: shards to build and to keep, owned files to remove."""

    build: list[ShardTask] = field(default_factory=list)
    keep: dict[str, dict[str, Any]] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BuildResult:
    """The outcome of a build."""

    #: the output directory, or the URL of an object-store prefix (without credentials)
    out: Path | str
    plan: Plan
    built: int
    kept: int
    removed: int
    seconds: float
    up_to_date: bool
    dry_run: bool = False


def count_unit(tasks: list[ShardTask]) -> str:
    """What a build's progress counts: rows when its shards are tables of related tables (a
    child table's shard holds rows, not samples), else samples."""
    return "rows" if any(task.table is not None for task in tasks) else "samples"


def decide(plan: Plan, state: BuildState, target: Target, force: bool) -> Actions:
    """Which planned shards need building, which are current, which owned shards are stale."""
    actions = Actions()
    planned = {task.path for task in plan.tasks}
    for task in plan.tasks:
        current = None if force else target.current_shard(state, task.path, task.key)
        if current is None or not _describes(current, task):
            actions.build.append(task)
        else:
            actions.keep[task.path] = current
    actions.remove = sorted(path for path in state.shards if path not in planned)
    return actions


def _describes(entry: dict[str, Any], task: ShardTask) -> bool:
    """True if a state entry says of its shard what the plan says: a kept shard's entry goes
    into the manifest, and the state is untrusted (a planted count made a build keep every
    shard and write a manifest that verify refuses)."""
    recorded = (entry["split"], entry["shard"], entry["first_sample"], entry["samples"])
    return recorded == (task.split, task.shard, task.start, task.samples) and (
        entry.get("table") == task.table
    )


def pending(
    compiled: CompiledSpec, plan: Plan, target: Target, force: bool = False
) -> tuple[Actions, BuildState]:
    """What building ``plan`` into ``target`` would do, and the state that decision read;
    writes nothing. The same decision as ``build(dry_run=True)``, the untrusted state read the
    same way (a state synthc cannot trust, or another dataset's output, is an error)."""
    target.check()
    finisher = _finisher(compiled, plan, None)  # the file names do not depend on git
    _no_input_written(compiled, target, _will_write(plan, finisher))
    state, _ = target.adopt(
        _will_write(plan, finisher), force, lambda message: None, compiled.spec.name
    )
    return decide(plan, state, target, force), state


def build(
    compiled: CompiledSpec,
    plan: Plan,
    target: Target,
    *,
    executor: Executor | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda message: None,
    git: GitState | None = None,
    require_clean: bool = False,
) -> BuildResult:
    """Build ``plan`` into ``target``: decide what to (re)build, execute it, finish the
    dataset. See the module docstring for what is kept and removed. ``log`` receives notes a
    user should see (a state rebuilt from the manifest, files taken over, shards removed).
    ``git``: the spec repository's state, recorded in the manifest's provenance.
    ``require_clean``: ``git`` is clean and the build certifies it: an up-to-date output whose
    manifest records a dirty state or none gets ``git`` recorded instead (no shard touched)."""
    started = time.time()
    where = target.location
    if dry_run:
        actions, _ = pending(compiled, plan, target, force)
        return BuildResult(
            where,
            plan,
            len(actions.build),
            len(actions.keep),
            len(actions.remove),
            0.0,
            not actions.build and not actions.remove,
            dry_run=True,
        )

    target.check()
    executor = executor or LocalExecutor()
    progress = progress or Progress()
    generator = generators.get(compiled.spec.generator.kind)
    # a tiny table build tries its kernels as plain Python first (plain_first.py): the notice
    # that they compile is said only if they do
    plain = worth_plain(generator, executor, plan.tasks)
    # said before anything runs a kernel: the generator's facts (for the finisher) may be first
    notice = compile_notice(compiled.spec.generator.kind)
    if notice is not None and not plain:
        progress.note(notice)
    name = compiled.spec.name
    cold = notice is not None and not plain
    with (
        _compiling_ahead(compiled, executor, cold),
        target.session(log),
        contextlib.ExitStack() as undo,
    ):
        finisher = _finisher(compiled, plan, git)  # may run kernels (the generator's facts)
        _no_input_written(compiled, target, _will_write(plan, finisher))
        state, new = target.adopt(_will_write(plan, finisher), force, log, name)
        if new or state.dataset != name:
            # mark the output as ours (and this dataset's) at once, so a failed build can rerun
            # and another spec's build cannot take it over silently
            state.dataset = name
            target.save(state)
        if new:
            undo.push(_unmark_if_untouched(target, state))
        actions = decide(plan, state, target, force)
        certifying = False
        if not actions.build and not actions.remove:
            kept = [ShardRecord.from_json(actions.keep[task.path]) for task in plan.tasks]
            existing = target.current_manifest(state, finisher.manifest(kept, {}))
            clean = require_clean and git is not None and not git.dirty
            certifying = existing is not None and clean and _uncertified(existing)
            if existing is not None and not certifying:
                # up to date: the manifest stays as it is, judged as make judges (stat only)
                seconds = time.time() - started
                return BuildResult(where, plan, 0, len(actions.keep), 0, seconds, True)
        # a manifest written (or rewritten to certify a clean commit) takes each kept shard's
        # sha256 from the untrusted state: those not known to hold it are hashed first
        _rebuild_replaced(plan, state, actions, target, log)
        if certifying and not actions.build:
            assert existing is not None and git is not None
            _certify(target, state, existing, git, log)
            seconds = time.time() - started
            return BuildResult(where, plan, 0, len(actions.keep), 0, seconds, True)

        # Whatever changes, a manifest describing the old state must not survive a build that
        # fails half-way; its absence also tells make that the dataset is not built.
        # what is in the way of a file this build writes, and temporaries that are not
        # synthc's, stop the build first, with the dataset whole
        target.check_obstacles(
            [*(task.path for task in actions.build), *finisher.names, MANIFEST_FILE]
        )
        target.discard_partials(plan, state)
        if state.building:
            left = target.discard_unrecorded(state)
            target.save(state)
            if left:
                log(f"removed {left} shard(s) that a stopped build's workers left unrecorded")
        target.retract_manifest(state)
        for path in actions.remove:
            target.remove_owned(state, path)
        if actions.remove:
            log(f"removed {len(actions.remove)} shard(s) no longer in the plan")

        runner: Callable[..., Any] = run_task
        if plain and actions.build:
            executor = LocalExecutor(1)  # in this thread, where the kernels run plain
            runner = PlainFirst(
                run_task,
                seconds=plain_seconds(cold=notice is not None),
                on_compiled=lambda: _say(progress, notice),
            )
        # while the shards are made in other processes (a Dask cluster, spawned workers), this
        # one imports what drawing the preview needs
        elsewhere = not (isinstance(executor, LocalExecutor) and generator.gil_free)
        loading = None
        if finisher.preview and actions.build and elsewhere:
            loading = _loading(finisher.preview)
        built = _run(
            executor,
            runner,
            actions.build,
            target,
            state,
            progress,
            generator.gil_free,
            compiled.read_roots,
        )
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
            **target.build_facts(),
        }
        target.settle(plan, state)
        if loading is not None:
            loading.join()
        finisher.finish(target, state, records, build_facts)
    return BuildResult(
        where,
        plan,
        len(built),
        len(actions.keep),
        len(actions.remove),
        finished - started,
        up_to_date=False,
    )


def _rebuild_replaced(
    plan: Plan, state: BuildState, actions: Actions, target: Target, log: Callable[[str], None]
) -> None:
    """Move the kept shards whose bytes are not the ones their state entry records (size and
    sha256) to ``actions.build``. A kept shard's entry goes into the manifest this build
    writes; the state is untrusted, and a file replaced with its size and mtime kept (``cp
    -p``, ``rsync -a``, a planted entry) passed as current: the manifest listed a sha256 that
    its bytes do not have."""
    if not actions.keep:
        return
    replaced = target.replaced_shards(state, actions.keep)
    if not replaced:
        return
    for path in replaced:
        del actions.keep[path]
    building = {task.path for task in actions.build} | replaced
    actions.build = [task for task in plan.tasks if task.path in building]
    shown = sorted(replaced)
    log(
        f"{len(shown)} kept shard(s) do not hold the bytes the build state records for them "
        f"(their size and time match, their sha256 does not); rebuilding them: "
        f"{listed(shown, limit=3)}"
    )


def _uncertified(manifest: dict[str, Any]) -> bool:
    """True if ``manifest`` records a dirty git state or none (see :func:`_certify`)."""
    provenance = manifest.get("provenance")
    if not isinstance(provenance, dict):
        return False
    recorded = provenance.get("git")
    return recorded is None or bool(recorded["dirty"])


def _certify(
    target: Target,
    state: BuildState,
    manifest: dict[str, Any],
    git: GitState,
    log: Callable[[str], None],
) -> None:
    """Record the clean state ``git`` in the up-to-date ``manifest`` when it records a dirty
    state or none: the same inputs, now committed, made the data, and a release built with
    --require-clean must not certify a manifest saying otherwise. Only ``provenance.git``
    changes; a clean recorded state is kept (the commit of the build that made the data)."""
    if not _uncertified(manifest):
        return
    provenance = manifest["provenance"]
    recorded = provenance.get("git")
    data = encode_manifest({**manifest, "provenance": {**provenance, "git": git.to_json()}})
    state.files[MANIFEST_FILE] = hashlib.sha256(data).hexdigest()
    target.save(state)
    target.confirm_lock()
    target.write(MANIFEST_FILE, data)
    was = "uncommitted inputs" if recorded is not None else "no git state"
    log(
        f"{MANIFEST_FILE}: provenance.git now records commit {git.commit[:12]}, clean (it "
        f"recorded {was}; the inputs are the same, now committed; no shard rebuilt)"
    )


@contextlib.contextmanager
def _compiling_ahead(compiled: CompiledSpec, executor: Executor, cold: bool) -> Iterator[None]:
    """While the block runs, a helper process compiles the generator's late kernels as the
    build compiles its first ones (synthc.compile_ahead): when the kernels are not cached
    (``cold``), the generator has such kernels, and the build runs here with a worker that
    would wait for Numba meanwhile."""
    config = compiled.spec.generator
    here = (
        isinstance(executor, LocalExecutor) and executor.workers >= 2 and limits.usable_cpus() >= 2
    )
    ahead = None
    if cold and here and generators.get(config.kind).compiles_ahead():
        ahead = compile_ahead.start(config.kind, config)
    try:
        yield
    finally:
        if ahead is not None:
            ahead.stop()


def _will_write(plan: Plan, finisher: Finisher) -> list[str]:
    """Every file a build of ``plan`` writes (a directory without a state may hold them)."""
    return [*(t.path for t in plan.tasks), *finisher.names, MANIFEST_FILE]


def _unmark_if_untouched(target: Target, state: BuildState) -> Callable[..., bool]:
    """An exit callback for a new output: when the build fails (an unreachable scheduler, a
    version mismatch, an interrupt) before its state names any file, the state it saved is
    removed, so a failed first build leaves none of its own behind."""

    def unmark(kind: type[BaseException] | None, *rest: object) -> bool:
        if kind is not None and not state.shards and not state.files:
            if not issubclass(kind, KeyboardInterrupt):
                target.unmark()
            else:  # stopped: an output that does not answer may not hold the command
                with contextlib.suppress(Exception):
                    within_stop(target.unmark, target.abort_io)
        return False

    return unmark


def _no_input_written(compiled: CompiledSpec, target: Target, names: list[str]) -> None:
    """UsageError when a file the spec reads is one the build writes in its output directory
    (``names``, or its state): a fractal's catalog.json imported back from its own output was
    rewritten under the build, whose dataset then named an input it no longer had. The spec
    may be the output's copy ``spec.yaml``, which the build writes byte for byte."""
    out = getattr(target, "out", None)  # a directory (an object store holds no input)
    if out is None:
        return
    place = Path(os.path.realpath(out))
    written = {place / name for name in names if name != SPEC_FILE}
    for record in compiled.inputs:
        inside = record.real.is_relative_to(place / STATE_DIR)
        if (
            record.real in written
            or inside
            or (record.real == place / SPEC_FILE and record.role != "spec")
        ):
            raise UsageError(
                f"{out}: holds {record.path}, a file the spec reads ({record.role}), which "
                "this build writes: copy it out of the output directory and name the copy, or "
                "build into another directory with -o"
            )


def _finisher(compiled: CompiledSpec, plan: Plan, git: GitState | None) -> Finisher:
    """What the dataset's files beside the shards will be, from the spec and its generator."""
    spec = compiled.spec
    generator = generators.get(spec.generator.kind)
    # the spec as its provenance names it: never an absolute path of this machine
    source = compiled.inputs[0].path if compiled.inputs else compiled.source_name
    text = SpecText(source, compiled.written_text, compiled.rendered_text, compiled.variables)
    schema = table_columns(spec.generator.kind, spec.generator, spec.output.columns)
    columns = [c.to_json() for c in schema]
    tables = related_table_columns(spec.generator.kind, spec.generator)
    has_samples = any(task.samples for task in plan.tasks)
    return prepare(
        spec,
        text,
        generator.facts(spec.generator, spec.seed),
        generator.extra_files(spec.generator, spec.seed),
        columns,
        plan.splits,
        generator.preview if has_samples else None,
        provenance={
            "inputs": [record.to_json() for record in compiled.inputs],
            "git": git.to_json() if git is not None else None,
        },
        tables={name: [c.to_json() for c in cols] for name, cols in tables.items()},
    )


def _run(
    executor: Executor,
    runner: Callable[..., Any],
    tasks: list[ShardTask],
    target: Target,
    state: BuildState,
    progress: Progress,
    gil_free: bool,
    read_roots: dict[str, list[str]],
) -> dict[str, dict[str, Any]]:
    """Run ``tasks`` with ``runner`` (shard.run_task, or it wrapped), recording each finished
    shard in ``state``."""
    built: dict[str, dict[str, Any]] = {}
    if not tasks:
        return built
    where = target.worker_location(tasks)
    reach = getattr(executor, "reach", None)  # a remote executor's check, before "building"
    if reach is not None:
        reach()
    progress.counting(count_unit(tasks))
    progress.start(len(tasks), sum(t.samples for t in tasks))
    counter = _SampleCounter(progress, [t.samples for t in tasks], executor)
    checkpoint = Checkpoint(
        lambda: target.save(state),
        stopping=lambda: within_stop(lambda: target.save(state), target.abort_io),
        where=target.location,
    )
    runs: Iterator[tuple[int, Any]] | None = None
    # saved before any worker starts: a build killed before its workers' shards come back
    # leaves them unrecorded, and the next build deletes them (BuildState.building)
    state.building = [t.path for t in tasks]
    target.save(state)
    try:
        items = [t.to_json() for t in tasks]
        # the spec's read roots tell workers where the files it names are (synthc.inputs)
        if _takes_report(executor):
            runs = executor.run(
                runner, items, where, read_roots, gil_free=gil_free, report=counter.moved
            )
        else:  # an executor written before progress counted samples
            runs = executor.run(runner, items, where, read_roots, gil_free=gil_free)
        for index, record in runs:
            target.record_shard(state, record)
            built[record["path"]] = record
            checkpoint.unsaved()  # saved at close, also when a stop comes before changed()
            # counted once recorded: a Ctrl-C during the save below keeps it (finally)
            counter.finished(index)
            progress.advance(record)
            checkpoint.changed()  # a killed build resumes from the last save
        state.building = []  # every shard came back
        checkpoint.unsaved()
    except TaskFailed as failure:
        task = tasks[failure.index]
        error = failure.error
        detail = (
            str(error) if isinstance(error, SynthcError) else f"{type(error).__name__}: {error}"
        )
        package = generators.package(task.kind)
        if package is not None and not isinstance(error, SynthcError | GeneratorSlip):
            # an installed kind's code failed (or handed the writer what it cannot write)
            detail += f" (generator {task.kind!r} of package {package})"
        where = f" on {failure.where}" if failure.where else ""
        failed = BuildError(
            f"{task.path}: building samples [{task.start}, {task.stop}) failed{where}: {detail}"
        )
        failed.worker_traceback = failure.worker_traceback  # shown by --debug
        raise failed from error
    finally:
        if isinstance(runs, Generator):
            # the executor stops its tasks now (a Dask run waits for its running ones), not
            # when the generator is collected: nothing of this build lands after it returns
            with contextlib.suppress(Exception):
                runs.close()
        if interrupted() is not None:
            target.abort_io()  # a worker's write the output does not answer ends now
        for index, record in _record_stranded(executor, tasks, target, state, built):
            counter.finished(index)
            progress.advance(record)
            checkpoint.unsaved()  # saved at close, within the stop's bound if stopped
        progress.close()
        checkpoint.close()  # every shard that finished, also when another failed
    return built


def _record_stranded(
    executor: Executor,
    tasks: list[ShardTask],
    target: Target,
    state: BuildState,
    built: dict[str, dict[str, Any]],
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Record the shards of a stopped run that finished but never came back (the executor's
    ``stranded``): in place, and unrecorded, a rebuild with a smaller plan never removed them
    and ``verify`` failed on them for good. Yields ``(index, record)`` of each one recorded,
    for the progress to count (the rerun keeps it)."""
    for index, record in getattr(executor, "stranded", ()):
        if not 0 <= index < len(tasks) or not isinstance(record, dict):
            continue
        if record.get("path") != tasks[index].path or record["path"] in built:
            continue
        try:
            if interrupted() is None:
                target.record_shard(state, record)
            else:  # stopped: an output that does not answer may not hold the command
                within_stop(functools.partial(target.record_shard, state, record), target.abort_io)
        except NoAnswer:  # the state save after says what was not saved
            return
        except (SynthcError, OSError):  # one that is not there stays unrecorded
            continue
        built[record["path"]] = record
        yield index, record


def _loading(kind: PreviewKind) -> threading.Thread:
    """A thread importing what drawing the preview needs (not a daemon: an import is never cut
    off at exit)."""
    thread = threading.Thread(target=load_drawing, args=(kind,), name="synthc-preview-imports")
    thread.start()
    return thread


def _say(progress: Progress, notice: str | None) -> None:
    if notice is not None:
        progress.note(notice)


class _SampleCounter:
    """Samples written so far: finished shards whole, running ones as their workers report
    (a report that arrives after its shard finished changes nothing); and what the executor's
    tasks wait for, when that changes."""

    def __init__(self, progress: Progress, sizes: list[int], executor: Executor) -> None:
        self.progress, self.sizes, self.executor = progress, sizes, executor
        self.awaited: str | None = None
        self.stopping: str | None = None
        self.running: dict[int, int] = {}
        self.done: set[int] = set()
        self.finished_samples = 0

    def moved(self, news: dict[int, int]) -> None:
        for index, count in news.items():
            if index not in self.done and 0 <= index < len(self.sizes):
                self.running[index] = min(max(count, self.running.get(index, 0)), self.sizes[index])
        self._tell()

    def finished(self, index: int) -> None:
        self.running.pop(index, None)
        if index not in self.done:
            self.done.add(index)
            self.finished_samples += self.sizes[index]
        self._tell()

    def _tell(self) -> None:
        awaited = getattr(self.executor, "waiting", None)
        if awaited != self.awaited:
            self.awaited = awaited
            self.progress.waiting(awaited)
        stopping = getattr(self.executor, "stopping", None)
        if stopping != self.stopping:
            self.stopping = stopping
            if stopping is not None:
                self.progress.note(stopping)
        self.progress.samples(self.finished_samples + sum(self.running.values()))


def _takes_report(executor: Executor) -> bool:
    try:
        parameters = inspect.signature(executor.run).parameters
    except (TypeError, ValueError):
        return False
    return "report" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
