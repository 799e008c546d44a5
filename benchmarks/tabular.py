"""synthc vs scikit-learn's make_classification vs Snowfakery on a 5-feature labelled table.

    python benchmarks/tabular.py [--samples N] [--workers 2] [--repeat 3] [--snowfakery-rows N]

synthc builds 5 normal columns joined by a Gaussian copula plus a logistic label and its true
probability, end to end to Parquet (process start, generate, encode, hash, write, manifest), in a
fresh process with a warm Numba cache. scikit-learn's make_classification (5 features) is timed
in memory in this process, for the same n. Snowfakery 4.2.1 runs an equivalent recipe (5 normal
fields, the same logistic formula; it has no copula) to CSV at a smaller n, from its own venv
under ~/.cache/synthc/bench (created on first use; it needs numpy and setuptools < 80 to run).
Each timing is the median of --repeat runs. Needs `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import run_measured, synthc_build  # noqa: E402

FORMULA = "-1 + 0.8 * x0 - 0.5 * x1 + 0.3 * x2 + 0.2 * x3 - 0.4 * x4"

SPEC = f"""\
synthc: 1
name: bench-tabular
seed: 7
samples: {{{{ var('samples') }}}}
generator:
  kind: tabular
  columns:
    x0: {{dist: normal, mean: 0, std: 1}}
    x1: {{dist: normal, mean: 0, std: 1}}
    x2: {{dist: normal, mean: 0, std: 1}}
    x3: {{dist: normal, mean: 0, std: 1}}
    x4: {{dist: normal, mean: 0, std: 1}}
  correlation:
    x0: {{x1: 0.5, x2: 0.2}}
    x3: {{x4: -0.3}}
  label: {{name: y, kind: logistic, formula: "{FORMULA}"}}
output: {{shard_size: 500000}}
"""

_NORMAL = "${{StatisticalDistributions.normal(loc=0, scale=1)}}"
RECIPE = (
    "- snowfakery_version: 3\n"
    "- plugin: snowfakery.standard_plugins.statistical_distributions.StatisticalDistributions\n"
    "- plugin: snowfakery.standard_plugins._math.Math\n"
    "- option: nrows\n"
    "  default: 1000\n"
    "- object: Row\n"
    "  count: ${{nrows}}\n"
    "  fields:\n"
    + "".join(f"    x{k}: {_NORMAL}\n" for k in range(5))
    + f"    y_true: ${{{{ 1 / (1 + Math.exp(-({FORMULA}))) }}}}\n"
    + "    y: ${{ 1 if random_number(min=0, max=999999) / 1000000 < y_true else 0 }}\n"
)

SNOWFAKERY = "snowfakery==4.2.1"


def build(spec: Path, out: Path, samples: int, workers: int) -> float:
    return synthc_build(spec, out, workers, "--var", f"samples={samples}")[0]


def make_classification_seconds(samples: int) -> float:
    from sklearn.datasets import make_classification

    start = time.perf_counter()
    make_classification(samples, n_features=5, n_informative=3, n_redundant=1, random_state=0)
    return time.perf_counter() - start


def snowfakery_venv() -> Path | None:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    venv = cache / "synthc" / "bench" / SNOWFAKERY.replace("==", "-")
    tool = venv / "bin" / "snowfakery"
    if tool.exists():
        return tool
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "-q", SNOWFAKERY, "numpy", "setuptools<80"]
        subprocess.run(pip, check=True)
    except subprocess.CalledProcessError as error:
        print(f"Snowfakery skipped: could not install it ({error})")
        return None
    return tool


def snowfakery_seconds(tool: Path, recipe: Path, out: Path, rows: int) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [str(tool), str(recipe), "--option", "nrows", str(rows)]
    command += ["--output-format", "csv", "--output-folder", str(out)]
    seconds = run_measured(command)[0]
    written = sum(1 for _ in (out / "Row.csv").open()) - 1
    if written != rows:
        raise SystemExit(f"Snowfakery wrote {written} rows, not {rows}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--snowfakery-rows", type=int, default=20_000)
    args = parser.parse_args()

    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = root / "tabular.yaml"
        spec.write_text(SPEC)
        build(spec, root / "warm", 10_000, args.workers)  # fill the Numba cache
        runs = [build(spec, root / "big", args.samples, args.workers) for _ in range(args.repeat)]
        rows.append(
            (
                f"synthc build, {args.workers} workers (Parquet)",
                args.samples,
                statistics.median(runs),
            )
        )
        tool = snowfakery_venv()
        if tool is not None:
            recipe = root / "recipe.yml"
            recipe.write_text(RECIPE)
            n = args.snowfakery_rows
            runs = [snowfakery_seconds(tool, recipe, root / "sf", n) for _ in range(args.repeat)]
            rows.append(
                (f"Snowfakery {SNOWFAKERY[12:]} (CSV, 1 process)", n, statistics.median(runs))
            )
    runs = [make_classification_seconds(args.samples) for _ in range(args.repeat)]
    rows.append(("sklearn make_classification (in memory)", args.samples, statistics.median(runs)))

    print(f"5 features + label; median of {args.repeat} runs each")
    print(f"{'':<46} {'rows':>12} {'seconds':>9} {'rows/s':>14}")
    for name, n, seconds in rows:
        print(f"{name:<46} {n:>12,} {seconds:>9.2f} {n / seconds:>14,.0f}")
    synthc_rate = rows[0][1] / rows[0][2]
    sk_rate = rows[-1][1] / rows[-1][2]
    print(f"synthc per core: {synthc_rate / args.workers:,.0f} rows/s (goal >= 5,000,000)")
    print(f"synthc / make_classification: {synthc_rate / sk_rate:.2f}x (goal >= 2.0)")
    if tool is not None:
        print(f"synthc / Snowfakery: {synthc_rate / (rows[1][1] / rows[1][2]):,.0f}x")


if __name__ == "__main__":
    main()
