"""synthc vs scikit-learn's make_classification vs Snowfakery on a 5-feature labelled table,
and synthc vs Snowfakery on related tables (customers and their orders).

    python benchmarks/tabular.py [--samples N] [--workers 2] [--repeat 3] [--snowfakery-rows N]
                                 [--parents N] [--snowfakery-parents N] [--only flat|related]

synthc builds 5 normal columns joined by a Gaussian copula plus a logistic label and its true
probability, end to end to Parquet (process start, generate, encode, hash, write, manifest), in a
fresh process with a warm Numba cache. scikit-learn's make_classification (5 features) is timed
in memory in this process, for the same n. Snowfakery 4.2.1 runs an equivalent recipe (5 normal
fields, the same logistic formula; it has no copula) to CSV at a smaller n, from its own venv
under ~/.cache/synthc/bench (created on first use; it needs numpy and setuptools < 80 to run).
Each timing is the median of --repeat runs. Needs `pip install -e '.[bench]'`.

The related case builds customers (age, income, plan) and their orders (poisson 5 per customer;
amount lognormal with mu = 3 + 0.01 * parent.income, express bernoulli 0.1 + 0.3 [pro]) with
synthc for --parents customers (about 6 rows per customer in all) and runs the same recipe in
Snowfakery (friends with a poisson count, `reference: Customer`) for --snowfakery-parents
customers, as Snowfakery is too slow for a million; both rates count the rows of both tables.
"""

from __future__ import annotations

import argparse
import json
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

#: the parent/child case: customers and their orders (poisson 5), the order amount a formula of
#: the customer's income, express delivery more likely for pro customers
RELATED_SPEC = """\
synthc: 1
name: bench-related
seed: 7
samples: {{ var('samples') }}
generator:
  kind: tabular
  tables:
    customers:
      columns:
        age: {dist: normal, mean: 40, std: 12}
        income: {dist: lognormal, mu: 4, sigma: 0.5}
        plan: {dist: categorical, values: [basic, pro], weights: [0.7, 0.3]}
    orders:
      parent: customers
      rows_per_parent: {dist: poisson, lam: 5}
      columns:
        amount: {dist: lognormal, mu: "3 + 0.01 * parent.income", sigma: 0.4}
        express: {dist: bernoulli, p: "0.1 + 0.3 * (parent.plan == 'pro')"}
output: {shard_size: 250000}
"""

_DIST = "${{StatisticalDistributions."
RELATED_RECIPE = (
    "- snowfakery_version: 3\n"
    "- plugin: snowfakery.standard_plugins.statistical_distributions.StatisticalDistributions\n"
    "- option: nrows\n"
    "  default: 1000\n"
    "- object: Customer\n"
    "  count: ${{nrows}}\n"
    "  fields:\n"
    f"    age: {_DIST}normal(loc=40, scale=12)}}}}\n"
    f"    income: {_DIST}lognormal(mean=4, sigma=0.5)}}}}\n"
    "    plan:\n"
    "      random_choice:\n"
    "        basic: 70%\n"
    "        pro: 30%\n"
    "  friends:\n"
    "    - object: Order\n"
    f"      count: {_DIST}poisson(lam=5)}}}}\n"
    "      fields:\n"
    "        customer:\n"
    "          reference: Customer\n"
    f"        amount: {_DIST}lognormal(mean=3 + 0.01 * Customer.income, sigma=0.4)}}}}\n"
    "        express: ${{ 1 if random_number(min=0, max=999999) / 1000000 < "
    "0.1 + 0.3 * (Customer.plan == 'pro') else 0 }}\n"
)


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


def related_rows(out: Path) -> int:
    """Rows of every table of a built dataset of related tables (from its manifest)."""
    manifest = json.loads((out / "manifest.json").read_text())
    splits = manifest["splits"].values()
    return sum(rows["samples"] for split in splits for rows in split["tables"].values())


def snowfakery_related(tool: Path, recipe: Path, out: Path, parents: int) -> tuple[float, int]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [str(tool), str(recipe), "--option", "nrows", str(parents)]
    command += ["--output-format", "csv", "--output-folder", str(out)]
    seconds = run_measured(command)[0]
    rows = sum(sum(1 for _ in (out / f"{t}.csv").open()) - 1 for t in ("Customer", "Order"))
    return seconds, rows


def related_case(args: argparse.Namespace) -> None:
    """customers -> orders: synthc at --parents, Snowfakery at --snowfakery-parents; rows/s
    counts the rows of both tables."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = root / "related.yaml"
        spec.write_text(RELATED_SPEC)
        build(spec, root / "warm", 10_000, args.workers)  # fill the Numba cache
        runs = []
        for _ in range(args.repeat):
            runs.append(build(spec, root / "big", args.parents, args.workers))
        synthc_rows, synthc_s = related_rows(root / "big"), statistics.median(runs)
        print(f"customers -> orders (poisson 5, amount of parent.income); median of {args.repeat}")
        print(f"{'':<46} {'parents':>10} {'rows':>12} {'seconds':>9} {'rows/s':>14}")
        label = f"synthc build, {args.workers} workers (Parquet)"
        print(
            f"{label:<46} {args.parents:>10,} {synthc_rows:>12,} {synthc_s:>9.2f} "
            f"{synthc_rows / synthc_s:>14,.0f}"
        )
        tool = snowfakery_venv()
        if tool is None:
            return
        recipe = root / "related.yml"
        recipe.write_text(RELATED_RECIPE)
        n = args.snowfakery_parents
        timed = [snowfakery_related(tool, recipe, root / "sf", n) for _ in range(args.repeat)]
        sf_s, sf_rows = statistics.median(t[0] for t in timed), timed[-1][1]
        label = f"Snowfakery {SNOWFAKERY[12:]} (CSV, 1 process)"
        print(f"{label:<46} {n:>10,} {sf_rows:>12,} {sf_s:>9.2f} {sf_rows / sf_s:>14,.0f}")
        ratio = (synthc_rows / synthc_s) / (sf_rows / sf_s)
        print(f"synthc / Snowfakery (rows/s, Snowfakery at {n:,} parents): {ratio:,.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--snowfakery-rows", type=int, default=20_000)
    parser.add_argument("--parents", type=int, default=1_000_000, help="related: customers")
    parser.add_argument("--snowfakery-parents", type=int, default=20_000)
    parser.add_argument("--only", choices=["flat", "related"], help="run one case")
    args = parser.parse_args()
    if args.only != "flat":
        related_case(args)
    if args.only == "related":
        return

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
