"""The Python API: what the command line calls, and what users script against.

>>> from synthc import api
>>> result = api.build("specs/swiss_roll.yaml", variables={"samples": 10_000})
>>> api.verify(result.out)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthc import generators
from synthc.atomic import write_atomic
from synthc.building import BuildResult, Progress
from synthc.building import build as _build
from synthc.compiler.compiling import CompiledSpec, compile_spec
from synthc.compiler.models import Spec, spec_schema
from synthc.compiler.planning import Plan
from synthc.compiler.planning import plan as _plan
from synthc.compiler.variables import parse_var_assignments
from synthc.errors import OutputError, UsageError
from synthc.executors.base import Executor
from synthc.executors.dask import DaskExecutor
from synthc.executors.local import LocalExecutor
from synthc.outputs.manifest import read_manifest
from synthc.outputs.preview import Caption, default_samples, preview_of_samples
from synthc.outputs.state import is_synthc_output
from synthc.outputs.verify import repair_hint, verify_dataset

DEFAULT_OUTPUT_ROOT = Path("outputs")

__all__ = [
    "BuildResult",
    "PreviewResult",
    "Progress",
    "build",
    "compile_spec",
    "default_output",
    "default_preview",
    "load_manifest",
    "parse_vars",
    "plan",
    "preview",
    "schema",
    "validate",
    "verify",
    "write_preview",
]


def parse_vars(assignments: Iterable[str]) -> dict[str, Any]:
    """``["n=1000", "xs=[1, 2]"]`` (``--var`` values) -> ``{"n": 1000, "xs": [1, 2]}``, values
    typed as YAML; a bad assignment is a UsageError naming it."""
    return parse_var_assignments(list(assignments))


def validate(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    *,
    allow_read: Iterable[Path | str] = (),
) -> Spec:
    """Load and validate a spec; SpecError lists every problem with its position.

    ``allow_read``: directories the spec may read files from besides its own directory, its
    repository and trdg's data (docs/inputs.md); the same keyword on plan, preview and build.
    """
    return compile_spec(path, variables, allow_read).spec


def plan(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    *,
    allow_read: Iterable[Path | str] = (),
) -> Plan:
    """The shard tasks a spec compiles to."""
    return _plan(compile_spec(path, variables, allow_read).spec)


def preview(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    samples: int = 16,
    *,
    allow_read: Iterable[Path | str] = (),
) -> bytes:
    """PNG bytes previewing a spec's first ``samples`` samples, without building anything."""
    if samples < 1:
        raise UsageError("preview needs at least one sample")
    return _preview_png(compile_spec(path, variables, allow_read), samples)


@dataclass(frozen=True)
class PreviewResult:
    """Where a preview was written and how many samples it shows."""

    target: Path
    samples: int


def write_preview(
    path: Path | str,
    out: Path | str | None = None,
    variables: Mapping[str, Any] | None = None,
    samples: int | None = None,
    *,
    allow_read: Iterable[Path | str] = (),
) -> PreviewResult:
    """Draw a spec's first ``samples`` samples (default: as many as its preview kind shows,
    16 images or 4000 rows) into the PNG ``out`` (default :func:`default_preview`), compiling
    the spec once. A path inside a synthc output directory is refused: its files are the
    build's."""
    compiled = compile_spec(path, variables, allow_read)
    spec = compiled.spec
    kind = generators.get(spec.generator.kind).preview
    count = samples if samples is not None else default_samples(kind)
    target = Path(out) if out is not None else default_preview(spec)
    _check_preview_target(target)
    if count < 1:
        raise UsageError("preview needs at least one sample")
    data = _preview_png(compiled, count)
    try:
        write_atomic(target, data)
    except OSError as error:
        raise UsageError(f"{target}: cannot write the preview: {error.strerror or error}") from None
    return PreviewResult(target, min(count, spec.sample_count))


def _preview_png(compiled: CompiledSpec, samples: int) -> bytes:
    """The spec's first ``samples`` samples generated in memory and drawn."""
    spec = compiled.spec
    generator = generators.get(spec.generator.kind)
    generated = generator.generate(spec.generator, spec.seed, 0, min(samples, spec.sample_count))
    caption = Caption.of(
        spec.name, spec.sample_count, [c.to_json() for c in generator.columns(spec.generator)]
    )
    return preview_of_samples(generator.preview, generated, caption)


def _check_preview_target(target: Path) -> None:
    """Refuse a preview path inside a synthc output directory: its files are the build's."""
    if target.is_dir():
        raise UsageError(f"{target}: is a directory; give -o the PNG file to write")
    try:
        parents = [*target.absolute().parents, *target.resolve().parents]
    except (OSError, RuntimeError) as error:  # a symlink loop
        raise UsageError(f"{target}: cannot be resolved ({error}); choose another -o") from None
    for parent in parents:
        if is_synthc_output(parent) or _holds_manifest(parent):
            raise UsageError(
                f"{target}: is inside the output directory {parent}, whose files are the "
                "build's; choose a path outside it with -o"
            )


def _holds_manifest(directory: Path) -> bool:
    try:
        read_manifest(directory)
    except OutputError:
        return False  # no manifest, or someone else's manifest.json
    return True


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
    executor: Executor | None = None,
    scheduler: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    allow_read: Iterable[Path | str] = (),
    log: Callable[[str], None] = lambda message: None,
) -> BuildResult:
    """Build the dataset of the spec at ``path`` (incrementally) and return what was done.

    Shards run on ``executor``, else on the Dask ``scheduler`` at that address (for example
    ``tcp://host:8786``), else on a local pool of ``workers``. ``log`` receives notes a user
    should see (a state rebuilt from the manifest, files taken over with ``force``)."""
    if scheduler is not None:
        if executor is not None or workers is not None:
            raise UsageError("a Dask scheduler has its own workers: give no executor or workers")
        executor = DaskExecutor(scheduler)
    compiled: CompiledSpec = compile_spec(path, variables, allow_read)
    target = Path(out) if out is not None else default_output(compiled.spec)
    return _build(
        compiled,
        _plan(compiled.spec),
        target,
        executor=executor or LocalExecutor(workers),
        force=force,
        dry_run=dry_run,
        progress=progress,
        log=log,
    )


def verify(out: Path | str) -> int:
    """Check a built dataset: its manifest's own consistency, then every shard and file it lists
    (re-hashed and re-counted), and files in its split folders it does not list; raise
    OutputError naming each problem, one per line. Returns the number of shards checked."""
    checked, problems = verify_dataset(Path(out))
    if problems:
        lines = "\n".join(str(p) for p in problems)
        raise OutputError(
            f"{out}: {len(problems)} problem(s), {checked} shard(s) listed:\n{lines}"
            + ("\n" + repair_hint(out) if any(p.rebuild for p in problems) else "")
        )
    return checked


def load_manifest(out: Path | str) -> dict[str, Any]:
    """The manifest of a built dataset."""
    return read_manifest(Path(out))


def schema() -> dict[str, Any]:
    """JSON Schema of the spec format, every generator kind included (for editor completion)."""
    return spec_schema()
