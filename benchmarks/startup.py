"""Start-up times of the command line, per example spec, printed as a table.

    python benchmarks/startup.py [--before DIR] [--repeat 5] [--specs NAME ...] [--validate-only]
                                 [--python EXE]

For every spec in specs/, each a fresh `python -m synthc` process timed by its wall clock:

1. `synthc validate SPEC`: median of --repeat runs (goal <= 0.3 s).
2. A warm build of about 1,000 samples into a fresh output directory, one worker, the Numba
   cache already filled: median of --repeat runs (goal <= 0.6 s). Specs that take
   `var('samples')` get `samples=1000`, fractal specs `classes=10, instances=100`; a spec with
   a fixed count is copied with `samples: 1000`, except when its generator fixes the count
   (fractal_small.yaml: 200 images); the table says how many samples each build made.
   A fixed count given per split is scaled to the same shares.
   (--validate-only measures step 1 alone.)
3. A cold build of the same: one run with NUMBA_CACHE_DIR and XDG_CACHE_HOME empty
   directories, so every kernel the spec needs is compiled and synthc's own caches (fonts'
   checks, input digests, pilot scales) are filled (goal for fractal_small.yaml <= 5 s); once
   with one worker, as the warm build (which then uses those caches), and once with the
   default workers (every core), as a user's first build runs: there a second process
   compiles the kernels the build calls last while the build compiles its first ones
   (synthc.compile_ahead).

With --before DIR (a checkout of an earlier commit, e.g. `git worktree add ../before COMMIT`),
each figure is measured on that code too and printed as before -> after. The code measured is
chosen with PYTHONPATH (and `python -P`, so the working directory does not come first), so both
must be importable with the same installed libraries. The
machine's load (os.getloadavg) is printed: on a busy machine every figure grows.

Below the table, the same interpreter's start with nothing but the libraries a command cannot
do without (median of --repeat): Python alone; pydantic with one model, PyYAML and Jinja2 (what
parsing and checking any spec loads); and those with Numba, NumPy and polars (what a build that
runs kernels and writes Parquet loads, before any kernel). They tell how fast the machine is
for this work: on a machine where they take most of a goal, no change to synthc meets it.

With --python EXE, synthc runs under that interpreter: e.g. a venv made with `pip install .`
alone, as a user's is; a spec that needs an extra that venv lacks (ocr_lines.yaml needs
`synthc[ocr]`) gets a row saying so. The test venv has SciPy (for the tests): Numba checks
for SciPy's BLAS when it starts, which `synthc` does without importing scipy.linalg
(synthc.numba_blas), about 0.02 s instead of 0.1-0.2 s of every build that runs a kernel.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).parent))
from _measure import compile_bytecode  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VALIDATE_GOAL = 0.3
WARM_GOAL = 0.6
COLD_GOAL = {"fractal_small": 5.0}
SAMPLES = 1000


class Time(NamedTuple):
    """Seconds of one run: wall clock, and CPU (user + system) of the process and its children,
    which a busy machine inflates less."""

    wall: float
    cpu: float


def small(spec: Path, workdir: Path) -> tuple[Path, list[str], str]:
    """The spec (or a copy) and --var arguments for a build of about SAMPLES samples, and what
    the table says of its size."""
    text = spec.read_text()
    if "var('classes'" in text:
        return spec, ["--var", "classes=10", "--var", "instances=100"], "1,000"
    if "var('samples'" in text:
        return spec, ["--var", f"samples={SAMPLES}"], "1,000"
    fixed = re.search(r"^samples: (\d+)", text, re.M)
    if fixed is None or "kind: fractal" in text:  # classes x instances fix the count
        count = f"{int(fixed[1]):,}" if fixed else "?"
        return spec, [], count
    text = text.replace(fixed[0], f"samples: {SAMPLES}")
    splits = re.search(r"^splits: \{(.*)\}$", text, re.M)
    counts = dict(re.findall(r"(\w+): (\d+)\b(?!\.)", splits[1])) if splits else {}
    if counts:  # splits given as counts: the same shares of SAMPLES
        total = sum(int(v) for v in counts.values())
        scaled = {k: int(v) * SAMPLES // total for k, v in counts.items()}
        first = next(iter(scaled))
        scaled[first] += SAMPLES - sum(scaled.values())
        shown = ", ".join(f"{k}: {v}" for k, v in scaled.items())
        text = text.replace(splits[0], f"splits: {{{shown}}}")
    copy = workdir / spec.name
    copy.write_text(text)
    return copy, [], "1,000"


#: how synthc says a spec needs an extra that is not installed
MISSING_EXTRA = re.compile(r"pip install '(synthc\[\w+\])'")


class NeedsExtra(Exception):
    """The spec needs an extra (its argument) that the interpreter's environment lacks."""


#: the interpreter synthc runs under (--python)
PYTHON = [sys.executable]


def seconds(tree: Path, args: list[str], env: dict[str, str] | None = None) -> Time:
    """Wall and CPU seconds of `python -m synthc ARGS` running the code of ``tree``."""
    environment = {**os.environ, "PYTHONPATH": str(tree), **(env or {})}
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [PYTHON[0], "-P", "-m", "synthc", *args],
        env=environment,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        extra = MISSING_EXTRA.search(result.stderr)
        if extra:
            raise NeedsExtra(extra[1])
        raise SystemExit(f"synthc {' '.join(args)} failed:\n{result.stderr}")
    cpu = now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime
    return Time(elapsed, cpu)


#: what the floors below the table import: (label, Python source run with ``-c``)
SPEC_LIBRARIES = (
    "import yaml, jinja2\n"
    "from pydantic import BaseModel\n"
    "class Spec(BaseModel):\n"
    "    name: str\n"
    "Spec(name='x')"
)
FLOORS = (
    ("python alone", "pass"),
    ("pydantic (one model), yaml, jinja2", SPEC_LIBRARIES),
    ("those, numba, numpy, polars", SPEC_LIBRARIES + "\nimport numba, numpy, polars"),
)


def floor(code: str, repeat: int) -> Time:
    """Median wall and CPU seconds of ``python -c code`` under the interpreter synthc runs on."""
    times = []
    for _ in range(repeat):
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([PYTHON[0], "-c", code], check=True)
        elapsed = time.perf_counter() - start
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(Time(elapsed, now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime))
    return median(times)


def median(times: list[Time]) -> Time:
    return Time(statistics.median(t.wall for t in times), statistics.median(t.cpu for t in times))


def measure(
    tree: Path, spec: Path, repeat: int, work: Path, builds: bool = True
) -> dict[str, Time]:
    """Validate, warm and cold build seconds of ``spec`` with the code of ``tree`` (validate
    alone without ``builds``)."""
    target, variables, _ = small(spec, work)
    validate = median([seconds(tree, ["validate", str(target)]) for _ in range(repeat)])
    if not builds:
        return {"validate": validate}
    build = ["build", str(target), *variables, "--workers", "1", "-q"]
    # empty caches for the cold builds: Numba's, and synthc's own (fonts' checks, input
    # digests, pilot scales); the warm builds then use what the one-worker cold build kept
    caches = {"NUMBA_CACHE_DIR": str(work / "numba-cold"), "XDG_CACHE_HOME": str(work / "xdg")}
    cold = seconds(tree, [*build, "-o", str(work / "cold")], caches)
    cores = ["build", str(target), *variables, "-q", "-o", str(work / "cold-cores")]
    cold_cores = seconds(
        tree,
        cores,
        {
            "NUMBA_CACHE_DIR": str(work / "numba-cold-cores"),
            "XDG_CACHE_HOME": str(work / "xdg-cores"),
        },
    )
    warm = median(
        [seconds(tree, [*build, "-o", str(work / f"warm-{k}")], caches) for k in range(repeat)]
    )
    return {"validate": validate, "warm": warm, "cold": cold, "cold_cores": cold_cores}


def cell(after: Time | None, before: Time | None, goal: float | None) -> str:
    """``wall (cpu)``, or ``before -> after`` of both, and whether the wall time meets ``goal``
    (``-`` for a figure not measured)."""
    if after is None:
        return "-"
    text = f"{after.wall:.2f} ({after.cpu:.2f})"
    if before is not None:
        text = f"{before.wall:.2f} ({before.cpu:.2f}) -> {text}"
    if goal is not None:
        text += " ok" if after.wall <= goal else f" (goal {goal})"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--specs", nargs="*", help="spec names (default: every one in specs/)")
    parser.add_argument(
        "--validate-only", action="store_true", help="time `synthc validate` alone, no builds"
    )
    parser.add_argument("--python", help="the interpreter to run synthc with (default: this one)")
    args = parser.parse_args()
    if args.python:
        PYTHON[0] = args.python
    specs = sorted((ROOT / "specs").glob("*.yaml"))
    if args.specs:
        specs = [s for s in specs if s.stem in args.specs]
    trees = {"after": ROOT} | ({"before": args.before.resolve()} if args.before else {})
    for tree in trees.values():  # as installed: no run compiles synthc's source
        compile_bytecode(tree, PYTHON[0])
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    for spec in specs:
        figures: dict[str, dict[str, Time]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            samples = small(spec, Path(tmp))[2]
        try:
            for name, tree in trees.items():
                with tempfile.TemporaryDirectory() as tmp:
                    figures[name] = measure(
                        tree, spec, args.repeat, Path(tmp), not args.validate_only
                    )
        except NeedsExtra as missing:
            rows.append((spec.stem, samples, f"needs {missing}", "-", "-", "-"))
            print(f"  {spec.stem}: needs {missing}, not installed here", file=sys.stderr)
            continue
        before = figures.get("before", {})
        after = figures["after"]
        rows.append(
            (
                spec.stem,
                samples,
                cell(after["validate"], before.get("validate"), VALIDATE_GOAL),
                cell(after.get("warm"), before.get("warm"), WARM_GOAL),
                cell(after.get("cold"), before.get("cold"), COLD_GOAL.get(spec.stem)),
                cell(after.get("cold_cores"), before.get("cold_cores"), COLD_GOAL.get(spec.stem)),
            )
        )
        print(f"  {spec.stem} done", file=sys.stderr, flush=True)
    repeat = f"median of {args.repeat}"
    head = (
        "spec",
        "samples",
        f"validate s ({repeat})",
        f"warm build s ({repeat})",
        "cold s",
        "cold s, every core",
    )
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
    print(f"the libraries alone, wall s (CPU s), median of {args.repeat}:")
    for label, code in FLOORS:
        alone = floor(code, args.repeat)
        print(f"  {label}: {alone.wall:.2f} ({alone.cpu:.2f})")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("each cell: wall seconds (CPU seconds); goals are on the wall clock")
    print(
        f"goals: validate <= {VALIDATE_GOAL} s, warm build <= {WARM_GOAL} s, cold "
        + ", ".join(f"{k} <= {v} s" for k, v in COLD_GOAL.items())
        + (" (before -> after)" if args.before else "")
    )


if __name__ == "__main__":
    main()
