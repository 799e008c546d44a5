"""The Python API: what the command line calls, and what users script against.

>>> from synthc import api
>>> result = api.build("specs/swiss_roll.yaml", variables={"samples": 10_000})
>>> api.verify(result.out)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from synthc import generators, limits
from synthc.atomic import write_atomic, writer_partial_path
from synthc.compiler.compiling import CompiledSpec
from synthc.compiler.compiling import compile_spec as _compile_spec
from synthc.compiler.models import Spec, spec_schema
from synthc.compiler.planning import Plan, known_shaping_libraries, shaping_libraries
from synthc.compiler.planning import plan as _plan
from synthc.compiler.splits import empty_splits_note
from synthc.compiler.templating import SPEC_SUFFIXES
from synthc.compiler.variables import parse_var_assignments
from synthc.depfile import DepfileError, depfile_rule, refresh_target, target_name
from synthc.errors import (
    BuildError,
    OutputError,
    OutputProblems,
    SpecError,
    UsageError,
    UsageProblems,
    one_line,
)
from synthc.generators.base import TableGenerator
from synthc.git_state import GitState, GitUnavailable, git_state
from synthc.hints import listed, sibling_hint
from synthc.inputs import repository_root
from synthc.lazy import lazy_module
from synthc.progress import Progress

# The driver's modules are imported on first use (synthc.lazy), so that a command that builds
# nothing (validate, schema) loads the compiler alone; mypy and the import-graph test read them
# here. Their names this module offers are resolved by __getattr__ (_REEXPORTED).
if TYPE_CHECKING:
    import polars as pl

    from synthc import building as _building
    from synthc import dir_target as _dir_target
    from synthc import one_sample as _one_sample
    from synthc import plan_status as _plan_status_of
    from synthc import reproducing as _reproducing
    from synthc import shard as _shard
    from synthc import store_target as _store_target
    from synthc import streaming as _streaming
    from synthc.build_target import Target
    from synthc.building import BuildResult
    from synthc.diffing import result as _diff_result
    from synthc.diffing import sides as _diff_sides
    from synthc.diffing import text as _diff_text
    from synthc.diffing.inputs import InputFile
    from synthc.diffing.result import DatasetDiff
    from synthc.diffing.sides import Side
    from synthc.diffing.text import diff_lines
    from synthc.executors import dask as _dask
    from synthc.executors import local as _local_executor
    from synthc.executors.base import Executor
    from synthc.executors.dask import shared_local_clusters
    from synthc.outputs import dataset as _dataset
    from synthc.outputs import enclosing as _enclosing
    from synthc.outputs import manifest as _manifest
    from synthc.outputs import preview as _preview
    from synthc.outputs import store as _store
    from synthc.outputs import store_verify as _store_verify
    from synthc.outputs import verify as _verify
    from synthc.outputs.dataset import Dataset, open_dataset
    from synthc.outputs.store import Store
    from synthc.plan_status import PlanStatus, ShardStatus
    from synthc.reproducing import Reproduction
    from synthc.streaming import Stream, stream
else:
    _building = lazy_module("synthc.building")
    _one_sample = lazy_module("synthc.one_sample")
    _reproducing = lazy_module("synthc.reproducing")
    _shard = lazy_module("synthc.shard")
    _dir_target = lazy_module("synthc.dir_target")
    _store_target = lazy_module("synthc.store_target")
    _streaming = lazy_module("synthc.streaming")
    _diff_result = lazy_module("synthc.diffing.result")
    _diff_sides = lazy_module("synthc.diffing.sides")
    _diff_text = lazy_module("synthc.diffing.text")
    _dask = lazy_module("synthc.executors.dask")
    _local_executor = lazy_module("synthc.executors.local")
    _dataset = lazy_module("synthc.outputs.dataset")
    _enclosing = lazy_module("synthc.outputs.enclosing")
    _manifest = lazy_module("synthc.outputs.manifest")
    _preview = lazy_module("synthc.outputs.preview")
    _store = lazy_module("synthc.outputs.store")
    _store_verify = lazy_module("synthc.outputs.store_verify")
    _verify = lazy_module("synthc.outputs.verify")
    _plan_status_of = lazy_module("synthc.plan_status")

DEFAULT_OUTPUT_ROOT = Path("outputs")

__all__ = [
    "BuildResult",
    "DatasetDiff",
    "Plan",
    "PlanStatus",
    "PreviewResult",
    "Progress",
    "ShardStatus",
    "Reproduction",
    "Dataset",
    "PreviewResult",
    "Progress",
    "SampleResult",
    "Stream",
    "build",
    "compile_spec",
    "default_output",
    "default_preview",
    "diff",
    "diff_lines",
    "load_manifest",
    "open_dataset",
    "parse_vars",
    "plan",
    "plan_status",
    "preview",
    "reproduce",
    "sample",
    "schema",
    "shared_local_clusters",
    "stream",
    "validate",
    "verify",
    "write_preview",
    "write_sample",
]

#: names this module offers from the driver's modules, read on first use (:func:`__getattr__`)
_REEXPORTED: dict[str, Any] = {
    **dict.fromkeys(["BuildResult"], _building),
    **dict.fromkeys(["DatasetDiff", "diff_sides"], _diff_result),
    **dict.fromkeys(["Side", "side_of_manifest", "side_of_spec"], _diff_sides),
    **dict.fromkeys(["diff_lines"], _diff_text),
    **dict.fromkeys(
        ["DaskExecutor", "check_address", "check_dask_installed", "shared_local_clusters"], _dask
    ),
    **dict.fromkeys(["LocalExecutor"], _local_executor),
    **dict.fromkeys(["Dataset", "open_dataset"], _dataset),
    **dict.fromkeys(["enclosing_output"], _enclosing),
    **dict.fromkeys(
        ["MANIFEST_FILE", "library_report", "read_manifest", "read_store_manifest"], _manifest
    ),
    **dict.fromkeys(["Caption", "default_samples", "preview_of_samples"], _preview),
    **dict.fromkeys(
        [
            "Store",
            "check_store_packages",
            "is_store_url",
            "local_path",
            "one_slash_url",
            "open_store",
            "public_url",
            "url_problem",
        ],
        _store,
    ),
    **dict.fromkeys(["verify_store"], _store_verify),
    **dict.fromkeys(["repair_hint", "verify_dataset"], _verify),
    **dict.fromkeys(["PlanStatus", "ShardStatus"], _plan_status_of),
    **dict.fromkeys(["Reproduction"], _reproducing),
    **dict.fromkeys(["Stream", "stream"], _streaming),
    **dict.fromkeys(
        ["check_target", "row_json", "sample_at", "sample_key", "write_files"], _one_sample
    ),
}


def __getattr__(name: str) -> Any:
    if name in _REEXPORTED:
        return getattr(_REEXPORTED[name], name)
    raise AttributeError(f"module 'synthc.api' has no attribute {name!r}")


def parse_vars(assignments: Iterable[str]) -> dict[str, Any]:
    """``["n=1000", "xs=[1, 2]"]`` (``--var`` values) -> ``{"n": 1000, "xs": [1, 2]}``, values
    typed as YAML; a bad assignment is a UsageError naming it."""
    return parse_var_assignments(list(assignments))


def compile_spec(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
    *,
    text: str | None = None,
    text_display: str | None = None,
) -> CompiledSpec:
    """Render, parse and validate the spec at ``path`` (see
    :func:`synthc.compiler.compiling.compile_spec`); a synthc manifest or output directory
    given instead of a spec is a UsageError that says to give the spec (or its copy)."""
    try:
        return _compile_spec(
            path, variables, allow_read, templates, text=text, text_display=text_display
        )
    except (SpecError, UsageError):  # checked only then: validate imports no output code
        _enclosing.refuse_output_as_spec(path if text is None else None)
        raise


def validate(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    *,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> Spec:
    """Load and validate a spec; SpecError lists every problem with its position.

    ``allow_read``: directories the spec may read files from besides its own directory, its
    repository and trdg's data (docs/inputs.md); ``templates``: where ``include``/``import``
    search after the spec's directory (default: the repository root); ``log`` receives
    warnings about a valid spec (a split its sample count leaves empty); the same keywords on
    plan, plan_status and build.
    """
    spec = compile_spec(path, variables, allow_read, templates).spec
    _warn(path, spec, log)
    return spec


def _warn(path: Path | str, spec: Spec, log: Callable[[str], None]) -> None:
    """Tell ``log`` what is valid but likely not meant: splits the sample count leaves empty
    (an empty split builds and opens, so it is no error)."""
    note = empty_splits_note(spec.splits, spec.sample_count)
    if note is not None:
        log(f"warning: {path}: {note}")


def plan(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    *,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> Plan:
    """The shard tasks a spec compiles to."""
    spec = compile_spec(path, variables, allow_read, templates).spec
    _warn(path, spec, log)
    return _plan(spec)


def preview(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    samples: int | None = None,
    *,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
) -> bytes:
    """PNG bytes previewing a spec's first ``samples`` samples, without building anything
    (default: as many as its preview kind shows, 16 images or 4000 rows, so the bytes are the
    build's ``preview.png``)."""
    compiled = compile_spec(path, variables, allow_read, templates)
    if samples is None:
        samples = _preview.default_samples(generators.get(compiled.spec.generator.kind).preview)
    if samples < 1:
        raise UsageError("preview needs at least one sample")
    return _preview_png(compiled, samples)


@dataclass(frozen=True)
class PreviewResult:
    """Where a preview was written and how many samples it shows."""

    target: Path
    samples: int


#: image formats a preview named so would claim to be, while its bytes are a PNG
_OTHER_IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".svg", ".pdf", ".avif", ".heic"}
)


def write_preview(
    path: Path | str,
    out: Path | str | None = None,
    variables: Mapping[str, Any] | None = None,
    samples: int | None = None,
    *,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
) -> PreviewResult:
    """Draw a spec's first ``samples`` samples (default: as many as its preview kind shows,
    16 images or 4000 rows) into the PNG ``out`` (default :func:`default_preview`), compiling
    the spec once. A path inside a synthc output directory is refused: its files are the
    build's."""
    compiled = compile_spec(path, variables, allow_read, templates)
    spec = compiled.spec
    kind = generators.get(spec.generator.kind).preview
    count = samples if samples is not None else _preview.default_samples(kind)
    if _slash_ended(out):
        raise UsageError(f"{out}: names a directory; give -o the PNG file to write")
    target = _local_file(out, "synthc preview") if out is not None else default_preview(spec)
    if target.suffix.lower() in _OTHER_IMAGE_SUFFIXES:
        raise UsageError(
            f"{target}: the preview is drawn as a PNG, not {target.suffix}; name it "
            f"{target.with_suffix('.png').name} (convert it afterwards if you need another format)"
        )
    _check_preview_target(target)
    _not_an_input(str(target), target, compiled, "give the preview a file of its own (FILE.png)")
    if count < 1:
        raise UsageError("preview needs at least one sample")
    data = _preview_png(compiled, count)
    try:
        write_atomic(target, data)
    except OSError as error:
        raise UsageError(f"{target}: cannot write the preview: {error.strerror or error}") from None
    return PreviewResult(target, min(count, spec.sample_count))


def _preview_png(compiled: CompiledSpec, samples: int) -> bytes:
    """The spec's first ``samples`` samples generated in memory and drawn: the rows and
    columns its shards hold (only ``output.columns`` when it names some), as a build draws."""
    spec = compiled.spec
    generator = generators.get(spec.generator.kind)
    stop = min(samples, spec.sample_count)
    if generator.preview == "images" and stop > limits.MAX_PREVIEW_IMAGES:
        raise UsageError(
            f"-n {samples:,}: a preview draws at most {limits.MAX_PREVIEW_IMAGES:,} images "
            "(synthc.limits.MAX_PREVIEW_IMAGES)"
        )
    # drawn at once, as one shard is: within the memory bound a shard is held to
    for at, message in spec.generator.size_problems(spec.sample_count, stop):
        if at[:1] == ("output",):  # a shard of this many samples: here, the preview's
            shown = message.replace("a shard of", "drawing").replace("output.shard_size", "-n")
            raise UsageError(f"-n {samples:,}: {shown}")
    keep = spec.output.columns
    generated = (
        _shard.table_rows(generator, spec.generator, spec.seed, 0, stop, keep)
        if isinstance(generator, TableGenerator)
        else generator.generate(spec.generator, spec.seed, 0, stop)
    )
    columns = _shard.table_columns(spec.generator.kind, spec.generator, keep)
    caption = _preview.Caption.of(spec.name, spec.sample_count, [c.to_json() for c in columns])
    return _preview.preview_of_samples(generator.preview, generated, caption)


def _local_file(out: Path | str, command: str) -> Path:
    """``out`` as a local path; UsageError for a URL (``command`` writes local files only),
    rather than a directory named after it."""
    if isinstance(out, str) and "://" in out:
        shown = _store.public_url(out)
        raise UsageError(f"{shown}: {command} writes local files: give a path, not a URL")
    return Path(out)


def _check_preview_target(target: Path) -> None:
    """Refuse a preview path inside a synthc output directory: its files are the build's."""
    if target.is_dir():
        raise UsageError(f"{target}: is a directory; give -o the PNG file to write")
    for parent in target.parents:  # before drawing, which may take seconds: a file on the way
        if os.path.lexists(parent):
            if not parent.is_dir():
                raise UsageError(
                    f"{target}: {parent} is not a directory; give -o a PNG file in a directory"
                )
            break
    place = _enclosing.enclosing_output(target)
    if place is not None:
        raise UsageError(
            f"{target}: is inside the output directory {place}, whose files are the "
            "build's; choose a path outside it with -o"
        )


def default_output(spec: Spec) -> Path:
    """Where a build lands without ``-o``: ``outputs/<name>`` under the working directory."""
    return DEFAULT_OUTPUT_ROOT / spec.name


def default_preview(spec: Spec) -> Path:
    """Where ``preview`` writes without ``-o``: ``outputs/<name>.preview.png``, beside the
    default build directory and never inside it (its ``preview.png`` is the build's)."""
    return DEFAULT_OUTPUT_ROOT / f"{spec.name}.preview.png"


def build(
    path: Path | str,
    out: Path | str | None = None,
    *,
    variables: Mapping[str, Any] | None = None,
    workers: int | None = None,
    executor: Executor | ExecutorName | None = None,
    scheduler: str | None = None,
    worker_wait: float | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    allow_read: Iterable[Path | str] = (),
    log: Callable[[str], None] = lambda message: None,
    require_clean: bool = False,
    templates: Path | str | None = None,
    depfile: Path | str | None = None,
    restat: bool = False,
) -> BuildResult:
    """Build the dataset of the spec at ``path`` (incrementally) and return what was done.

    ``out``: a directory, or an object-store URL such as ``"s3://bucket/prefix"`` (any
    fsspec URL; docs/storage.md). Shards run on ``executor``, else on the Dask ``scheduler`` at
    that address (for example ``tcp://host:8786``), else on a local pool of ``workers``.
    ``executor="dask"`` without a scheduler starts a Dask LocalCluster of ``workers`` processes
    for this build (docs/dask.md); ``"local"`` is the default. ``worker_wait``: how many
    seconds a Dask build waits while its cluster has no worker before it gives up (default 600;
    ``math.inf``: no limit). ``log`` receives notes a user should see (a state rebuilt from the
    manifest, files taken over with ``force``, splits the sample count leaves empty).

    The manifest records every input file and the spec repository's git state
    (``provenance``); ``require_clean`` refuses (UsageError, before anything is written) to
    build from an input that is not committed, or outside git, and records the clean commit in
    an up-to-date manifest that recorded uncommitted inputs. ``templates``: where includes
    are searched after the spec's directory. ``depfile``: write a Make rule naming every input
    there (not on a dry run); an up-to-date build then brings ``manifest.json``'s time past
    every input's, so make stops re-running the rule, unless ``restat`` (ninja's ``restat =
    1`` remembers the check itself, and a time moved forward rebuilds what depends on the
    dataset); see docs/outputs.md."""
    if scheduler is not None or executor == "dask":
        _dask.check_dask_installed()  # before compiling: nothing is done without the extra
    if scheduler is not None:
        if (executor is not None and executor != "dask") or workers is not None:
            raise UsageError("a Dask scheduler has its own workers: give no executor or workers")
        _dask.check_address(scheduler)  # before compiling: a typo is refused at once
    if worker_wait is not None:
        if scheduler is None and executor != "dask":
            raise UsageError(
                "--worker-wait bounds a Dask build's wait for workers: give it with --scheduler "
                "or --executor dask (or to a DaskExecutor)"
            )
        _dask.check_worker_wait(worker_wait)
    compiled: CompiledSpec = compile_spec(path, variables, allow_read, templates)
    _warn(path, compiled.spec, log)
    given_out = out if out is not None else default_output(compiled.spec)
    store = _store_of(given_out)
    if store is not None and depfile is not None:
        raise UsageError(
            f"--depfile: {store.url}: an object-store output has no local manifest for "
            "make to check; build into a directory to use --depfile"
        )
    git = _git_for_build(Path(path), compiled, require_clean, log)
    plan = _plan(compiled.spec)
    runner = _executor(executor, scheduler, workers, shaping_libraries(compiled.spec), worker_wait)
    target: Target
    rule = None
    if store is not None:
        target = _store_target.StoreTarget(store)
    else:
        local = _local(given_out)
        target = _dir_target.DirectoryTarget(local)
        a_url = isinstance(given_out, str) and _store.is_store_url(given_out)  # file://...
        spelt = local if a_url else given_out
        rule = _depfile_rule(depfile, spelt, compiled) if depfile is not None else None
    result = _building.build(
        compiled,
        plan,
        target,
        executor=runner,
        force=force,
        dry_run=dry_run,
        progress=progress,
        log=log,
        git=git,
        require_clean=require_clean,
    )
    if store is None and not dry_run:
        _after_build(result, compiled, depfile, rule, log, refresh=not restat)
    return result


#: what ``--executor`` names
ExecutorName = Literal["local", "dask"]


def _executor(
    executor: Executor | str | None,
    scheduler: str | None,
    workers: int | None,
    libraries: Iterable[str],
    worker_wait: float | None = None,
    throwaway: bool = False,
) -> Executor:
    """The executor a build or reproduction runs on: the one given, or the one named
    (``libraries``: whose versions Dask workers must share with this process; ``worker_wait``:
    how long a Dask one waits while its cluster has no worker, None for its default;
    ``throwaway``: reproduce's rebuild, discarded after the comparison)."""
    if workers is not None and workers < 1:
        raise UsageError("workers must be >= 1")
    if workers is not None and workers > limits.max_workers():
        raise UsageError(
            f"workers={workers:,}: at most {limits.max_workers():,} (synthc.limits.MAX_WORKERS, "
            f"or {limits.WORKERS_PER_CPU} per CPU on a larger machine): each is a thread or process"
        )
    if scheduler is not None or executor == "dask":
        wait = {} if worker_wait is None else {"worker_wait": worker_wait}
        return _dask.DaskExecutor(
            scheduler, workers=workers, libraries=libraries, throwaway=throwaway, **wait
        )
    if executor is None or executor == "local":
        return _local_executor.LocalExecutor(workers)
    if isinstance(executor, str):
        raise UsageError(f"unknown executor {executor!r}; expected local or dask")
    return executor


# -- provenance and depfiles (issue 12 §1-§2) ----------------------------------------------
def _git_for_build(
    spec: Path, compiled: CompiledSpec, require_clean: bool, log: Callable[[str], None]
) -> GitState | None:
    """The spec repository's git state (None outside git); with ``require_clean``, UsageError
    naming every input that is not committed, or saying why there is no git state. A spec in
    a repository (a ``.git`` above it) whose state git cannot give is warned about to ``log``:
    the manifest records none."""
    try:
        state = git_state(spec, compiled.inputs, compiled.directories)
    except GitUnavailable as error:
        if require_clean:
            raise UsageError(
                f"--require-clean: {spec}: no git commit to build from ({error}); a release "
                "dataset is built from a committed spec repository"
            ) from None
        repository = repository_root(Path(os.path.realpath(spec.parent)))
        if repository is not None:
            log(
                f"warning: {spec}: the manifest records no git state (provenance.git: null): "
                f"{error}"
            )
        return None
    if require_clean and state.dirty:
        lines = "\n".join(one_line(f"  {path}: {what}") for path, what in state.uncommitted)
        raise UsageProblems(
            f"--require-clean: {len(state.uncommitted)} input(s) of {spec} are not committed "
            f"(HEAD {state.commit[:12]}); commit them or build without --require-clean:\n{lines}"
        )
    return state


def _depfile_rule(depfile: Path | str, out: Path | str, compiled: CompiledSpec) -> str:
    """The Make rule for ``out``'s manifest, checked before anything is written: UsageError for
    a depfile inside the output that is not a top-level ``*.d`` file or is the folder of a
    split or table (``splits: {x.d: 1.0}``), or a path Make cannot spell."""
    file, target = Path(depfile), Path(out)
    if _slash_ended(depfile):
        raise UsageError(f"--depfile {depfile}: names a directory; give the file to write")
    if file.is_dir():
        raise UsageError(f"--depfile {depfile}: is a directory; give the file to write")
    _depfile_folder_writable(depfile, file)
    real_file, real_out = Path(os.path.realpath(file)), Path(os.path.realpath(target))
    _not_an_input(
        f"--depfile {depfile}",
        real_file,
        compiled,
        "give the depfile a name of its own, such as the output's with .d",
    )
    if real_file.is_relative_to(real_out) and (
        real_file.parent != real_out or not real_file.name.endswith(".d")
    ):
        raise UsageError(
            f"--depfile {depfile}: inside the output directory only a top-level *.d file may "
            "be written (the other names are the build's)"
        )
    tables = compiled.spec.generator.table_names()
    kind, folders = ("table", tables) if tables else ("split", compiled.spec.splits)
    # by case too: x.D and the split x.d are one folder on macOS or Windows
    folder = {name.casefold(): name for name in folders}.get(real_file.name.casefold())
    if real_file.parent == real_out and folder is not None:
        raise UsageError(
            f"--depfile {depfile}: is the folder of the {kind} {folder} this build writes"
            f"{'' if folder == real_file.name else ' (on a file system that ignores case)'}; "
            "choose another name"
        )
    try:
        return depfile_rule(
            target_name(os.fspath(out), _manifest.MANIFEST_FILE),
            compiled.depended_on,
        )
    except DepfileError as error:
        raise UsageError(f"--depfile {depfile}: {error}") from None
    except FileNotFoundError:  # Path.cwd()
        raise UsageError(
            f"--depfile {depfile}: the current directory was removed, and a depfile spells "
            "paths from it: run the build from an existing directory"
        ) from None


def _slash_ended(given: Path | str | None) -> bool:
    """Whether a file to write was typed ending in a slash, naming a directory (the command
    line keeps such a name as text: Path() would drop the slash)."""
    return isinstance(given, str) and given.endswith(("/", os.sep))


def _not_an_input(option: str, target: Path | str, compiled: CompiledSpec, instead: str) -> None:
    """UsageError when ``target``, a file a command writes, is one the spec reads, by its path
    or, for a hard link, its inode (``--depfile $<`` in a Makefile would overwrite the spec
    with the rule); ``instead`` says what to give."""
    real = Path(os.path.realpath(target))
    if not os.path.exists(real):
        return  # no such file yet: no input either
    for record in compiled.inputs:
        try:
            same = record.real == real or os.path.samefile(record.real, real)
        except OSError:
            same = False
        if same:
            raise UsageError(
                f"{option}: is {record.path}, a file the spec reads ({record.role}); writing "
                f"there would replace it: {instead}"
            )


def _depfile_folder_writable(depfile: Path | str, file: Path) -> None:
    """UsageError, before the build, when the depfile could not be written after it: its nearest
    existing folder is not a directory, or a file cannot be created in it. Tried, not asked
    (``os.access`` lets root "write" in /proc): a temporary named as the atomic writer's is
    created there and removed at once."""
    folder = Path(os.path.abspath(file)).parent
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"--depfile {depfile}: cannot write: {folder} is not a directory")
    probe = writer_partial_path(folder / file.name)
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as error:
        raise UsageError(
            f"--depfile {depfile}: cannot create a file in {folder}: {error.strerror or error}"
        ) from None


def _after_build(
    result: BuildResult,
    compiled: CompiledSpec,
    depfile: Path | str | None,
    rule: str | None,
    log: Callable[[str], None],
    refresh: bool = True,
) -> None:
    """Write the depfile; when the build was up to date (and ``refresh``), bring the manifest's
    time past every input's (bytes unchanged), so make stops re-running the rule."""
    if depfile is not None and rule is not None:
        try:
            write_atomic(Path(depfile), rule.encode("utf-8", "surrogateescape"))
        except OSError as error:
            raise BuildError(
                f"--depfile {depfile}: cannot write: {error.strerror or error}"
            ) from None
    if result.up_to_date and refresh:
        manifest = Path(result.out) / _manifest.MANIFEST_FILE
        try:
            refresh_target(manifest, compiled.depended_on)
        except OSError as error:
            log(
                f"{manifest}: cannot update its time ({error.strerror or error}); make may "
                "run this rule again"
            )


def verify(out: Path | str, *, manifest: dict[str, Any] | None = None) -> int:
    """Check a built dataset (a directory or an object-store URL): its manifest's own
    consistency, then every shard and file it lists (re-hashed and re-counted; the spec
    copies against the sha256 it records), and files in its split folders it does not list;
    raise OutputError naming each problem, one per line. Returns the number of shards checked.
    ``manifest``: the dataset's manifest, already read with :func:`load_manifest`."""
    store = _store_of(out)
    manifest = load_manifest(out) if manifest is None else manifest
    checked, problems = (
        _store_verify.verify_store(store, manifest=manifest)
        if store is not None
        else _verify.verify_dataset(_local(out), manifest=manifest)
    )
    if problems:
        lines = "\n".join(str(p) for p in problems)
        hint = _verify.repair_hint(out, manifest)
        # a build refuses to write over these (it deletes only files it wrote): removed first
        odd = [p.path for p in problems if p.message.startswith("is not a regular file")]
        if odd:
            shown = listed((one_line(f"{out}/{p}") for p in odd), limit=3)
            hint = hint.replace(
                "to repair: run",
                f"to repair: remove {shown} (not a regular file; synthc deletes only files it "
                "wrote), then run",
                1,
            )
        raise OutputProblems(
            one_line(f"{out}: {len(problems)} problem(s), {checked} shard(s) listed:")
            + f"\n{lines}"
            + ("\n" + one_line(hint) if any(p.rebuild for p in problems) else "")
        )
    return checked


def reproduce(
    out: Path | str,
    *,
    workers: int | None = None,
    executor: ExecutorName = "local",
    worker_wait: float | None = None,
    root: Path | str | None = None,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> Reproduction:
    """Rebuild the dataset in ``out`` (a directory or an object-store URL) into a temporary
    directory from its recorded spec copy, vars and inputs, and compare every shard's sha256,
    the content hash and every field that describes the data with its manifest
    (``result.identical``; ``result.fields`` names each field, ``result.differences`` each
    shard that differs).

    The spec is compiled as if it stood where it stood at build time: under ``root``, by
    default the git work tree holding the current directory (else the current directory).
    ``log`` receives, before the build, each recorded input whose file changed since and
    each library version that differs. ``executor="dask"`` rebuilds on a Dask LocalCluster
    of ``workers`` processes, waiting at most ``worker_wait`` seconds while it has no worker,
    as :func:`build` does (default 600; ``math.inf``: no limit)."""
    if executor == "dask":
        _dask.check_dask_installed()
    if worker_wait is not None:
        if executor != "dask":
            raise UsageError(
                "--worker-wait bounds a Dask build's wait for workers: give it with --executor dask"
            )
        _dask.check_worker_wait(worker_wait)
    # the recorded spec is compiled later: Dask workers must match every byte-shaping library
    libraries = known_shaping_libraries() if executor == "dask" else ()
    return _reproducing.reproduce(
        _store_of(out) or _local(out),
        root=Path(root) if root is not None else None,
        executor=_executor(executor, None, workers, libraries, worker_wait, throwaway=True),
        allow_read=allow_read,
        templates=templates,
        progress=progress,
        log=log,
    )


def load_manifest(out: Path | str) -> dict[str, Any]:
    """The manifest of a built dataset (a directory or an object-store URL)."""
    store = _store_of(out)
    return (
        _manifest.read_store_manifest(store)
        if store is not None
        else _manifest.read_manifest(_local(out))
    )


def _store_of(out: Path | str) -> Store | None:
    """The object store an output URL names (``s3://bucket/prefix``), or None for a local
    directory (a path, or a ``file://`` URL). UsageError when the URL's file system is not
    installed."""
    if isinstance(out, str) and _store.is_store_url(out) and _store.local_path(out) is None:
        return _store.open_store(out)
    return None


def _local(out: Path | str) -> Path:
    """The directory ``out`` names (a ``file://`` URL is its path); UsageError for text that
    is a URL typed wrong (store.url_problem), not a directory."""
    problem = _store.url_problem(out)
    if problem is not None:
        raise UsageError(problem)
    if isinstance(out, str) and _store.is_store_url(out):
        directory = _store.local_path(out)
        if directory is not None:
            return _utf8_named(directory)
    return _utf8_named(Path(out))


def _utf8_named(directory: Path) -> Path:
    """``directory``, or UsageError when its name holds bytes that are not UTF-8 (polars takes
    only text paths: the build failed at its first shard with a TypeError)."""
    try:
        os.fspath(directory).encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{ascii(os.fspath(directory))}: the output directory's name is not UTF-8; "
            "give one that is"
        ) from None
    return directory


def schema() -> dict[str, Any]:
    """JSON Schema of the spec format, every generator kind included (for editor completion)."""
    return spec_schema()


def plan_status(
    path: Path | str,
    out: Path | str,
    variables: Mapping[str, Any] | None = None,
    *,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
    force: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> PlanStatus:
    """The plan of a spec with, per shard, what building it into ``out`` would do: ``keep``,
    ``build`` or ``remove`` (the decision of ``build(dry_run=True)``; nothing is written)."""
    compiled = compile_spec(path, variables, allow_read, templates)
    _warn(path, compiled.spec, log)
    planned = _plan(compiled.spec)
    store = _store_of(out)
    if store is not None:
        target = _store_target.StoreTarget(store)
        actions, state = _building.pending(compiled, planned, target, force)
        return _plan_status_of.plan_status(planned, store.url, actions, state)
    local = _dir_target.DirectoryTarget(_local(out))
    actions, state = _building.pending(compiled, planned, local, force)
    return _plan_status_of.plan_status(planned, local.out, actions, state)


def diff(
    old: Path | str,
    new: Path | str,
    variables: Mapping[str, Any] | None = None,
    *,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
) -> DatasetDiff:
    """What changes from ``old`` to ``new``, each a built output directory or store URL (its
    manifest is read) or a spec file (compiled with ``variables`` and ``allow_read`` and
    planned, never built): changed fields, seed, vars, input files, library versions, and per
    split the shards unchanged, changed, added and removed. A side that is neither is a
    UsageError."""
    sides = (
        _diff_side(old, variables, allow_read, templates),
        _diff_side(new, variables, allow_read, templates),
    )
    if all(side.kind == "output" for side in sides) and (variables or allow_read or templates):
        # nothing is compiled: the options would be ignored, and the result look like theirs
        raise UsageError(
            "--var, --allow-read and --templates shape a spec side; both sides are built datasets"
        )
    return _diff_result.diff_sides(*sides)


def _diff_side(
    path: Path | str,
    variables: Mapping[str, Any] | None,
    allow_read: Iterable[Path | str],
    templates: Path | str | None,
) -> Side:
    if isinstance(path, str) and "://" in path:  # a dataset on a store, or a file:// URL
        try:
            manifest = load_manifest(path)
        except OutputError as error:
            raise UsageError(str(error)) from None
        return _diff_sides.side_of_manifest(_store.public_url(path), manifest)
    path = Path(path)
    if path.is_dir() or path.name == _manifest.MANIFEST_FILE:  # a manifest for its directory
        try:
            manifest = _manifest.read_manifest(path)
        except OutputError as error:  # not a dataset to compare: a usage error, as diff says
            raise UsageError(str(error)) from None
        return _diff_sides.side_of_manifest(str(path), manifest)
    if not os.path.lexists(path):  # anything else there (a FIFO, a loop): the reader names it
        output, spec = sibling_hint(str(path), folders=True), sibling_hint(str(path), SPEC_SUFFIXES)
        hint = (spec or output) if str(path).endswith(SPEC_SUFFIXES) else (output or spec)
        raise UsageError(
            f"{path}: no such file or directory; give an output directory or a spec{hint}"
        )
    compiled = compile_spec(path, variables, allow_read, templates)
    inputs: list[InputFile] = [
        {"path": i.path, "role": i.role, "sha256": i.sha256} for i in compiled.inputs
    ]
    return _diff_sides.side_of_spec(
        str(path),
        compiled.spec,
        _plan(compiled.spec),
        compiled.variables,
        inputs,
        _manifest.library_report(),
    )


# -- one sample alone (synthc sample) ------------------------------------------------------


def sample(
    path: Path | str,
    index: int,
    *,
    variables: Mapping[str, Any] | None = None,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
) -> dict[str, Any] | pl.DataFrame:
    """Sample ``index`` (global, ``0 <= index < samples``) of the spec at ``path``, generated
    alone, byte for byte the built one: ``{"__key__": key, extension: bytes}`` for file
    generators, a one-row polars DataFrame (led by ``index``) for tables. An index outside the
    spec's samples is a UsageError."""
    return _one_sample.sample_at(compile_spec(path, variables, allow_read, templates), index)


@dataclass(frozen=True)
class SampleResult:
    """What ``synthc sample`` made: the files written, and a table's row as JSON."""

    index: int
    key: str
    files: tuple[Path, ...]
    #: the row as one line of JSON (table generators), else None
    row: str | None


def write_sample(
    path: Path | str,
    index: int,
    out: Path | str | None = None,
    *,
    variables: Mapping[str, Any] | None = None,
    allow_read: Iterable[Path | str] = (),
    templates: Path | str | None = None,
    force: bool = False,
) -> SampleResult:
    """Generate sample ``index`` of the spec and write its files into ``out`` (default: the
    working directory) as ``<key>.<extension>``; a table's row is returned as JSON, and written
    to ``out/<key>.json`` only when ``out`` is given. ``out`` may not be inside a synthc output
    directory. A file already there of one of those names is refused (UsageError naming it)
    unless it holds the sample's bytes, or ``force``."""
    import polars as pl

    compiled = compile_spec(path, variables, allow_read, templates)
    table = isinstance(generators.get(compiled.spec.generator.kind), TableGenerator)
    target = _local_file(out, "synthc sample") if out is not None else Path(".")
    if out is not None or not table:
        _one_sample.check_target(target)  # before the work: a refused place costs nothing
    made = _one_sample.sample_at(compiled, index)
    key = _one_sample.sample_key(index)
    if isinstance(made, pl.DataFrame):
        row = _one_sample.row_json(made)
        files: tuple[Path, ...] = ()
        if out is not None:
            data = (row + "\n").encode()
            if not force:
                _one_sample.check_free(target / f"{key}.json", data)
            files = (_one_sample.write_file(target / f"{key}.json", data),)
        return SampleResult(index, key, files, row)
    return SampleResult(index, key, tuple(_one_sample.write_files(made, target, force)), None)
