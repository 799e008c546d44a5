"""The Python API: what the command line calls, and what users script against.

>>> from synthc import api
>>> result = api.build("specs/swiss_roll.yaml", variables={"samples": 10_000})
>>> api.verify(result.out)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from synthc import generators
from synthc.building import BuildResult, Progress
from synthc.building import build as _build
from synthc.compiler.compiling import CompiledSpec, compile_spec
from synthc.compiler.models import Spec
from synthc.compiler.planning import Plan
from synthc.compiler.planning import plan as _plan
from synthc.errors import OutputError, UsageError
from synthc.executors.base import Executor
from synthc.executors.local import LocalExecutor
from synthc.outputs.manifest import read_manifest
from synthc.outputs.preview import preview_of_samples
from synthc.outputs.verify import repair_hint, verify_dataset

DEFAULT_OUTPUT_ROOT = Path("outputs")

__all__ = [
    "BuildResult",
    "Progress",
    "build",
    "compile_spec",
    "default_output",
    "load_manifest",
    "plan",
    "preview",
    "schema",
    "validate",
    "verify",
]


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


def _preview_png(compiled: CompiledSpec, samples: int) -> bytes:
    """The spec's first ``samples`` samples generated in memory and drawn."""
    spec = compiled.spec
    generator = generators.get(spec.generator.kind)
    generated = generator.generate(spec.generator, spec.seed, 0, min(samples, spec.samples))
    return preview_of_samples(generator.preview, generated)


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
    force: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    allow_read: Iterable[Path | str] = (),
    log: Callable[[str], None] = lambda message: None,
) -> BuildResult:
    """Build the dataset of the spec at ``path`` (incrementally) and return what was done.

    ``log`` receives notes a user should see (a state rebuilt from the manifest, files taken
    over with ``force``)."""
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
    base = Spec.model_json_schema()
    defs = base.setdefault("$defs", {})
    variants = []
    for kind in generators.kinds():
        sub = TypeAdapter(generators.get(kind).Config).json_schema(ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        variants.append(sub)
    base["properties"]["generator"] = {
        "description": "The generator; `kind` chooses its fields.",
        "oneOf": variants,
    }
    base["title"] = "synthc spec, format 1"
    return base
