"""synthc vs scikit-learn on a noisy 3-D swiss roll, in one run; prints rows/s, ratios, peak RSS.

    python benchmarks/manifold.py [--samples N] [--workers 2] [--shard-size N] [--repeat 3]

synthc is timed end to end (start-up, generate, encode Parquet, hash, write, manifest) as a
user runs it: `synthc build` in a fresh process with a warm Numba cache, once with every column
(x, clean_x, u: 9 with the index) and once with `output.columns: [x0, x1, x2, u0]`.
scikit-learn's `make_swiss_roll` is timed twice for the same n: in memory, in this process; and
as what users do instead of synthc, end to end in a fresh process: `make_swiss_roll`, then the
same columns (X as x0..x2 and t as u0) written with polars' `write_parquet` to one file, with
synthc's codec (lz4) (goal: synthc end to end >= 2x that). Each is run ``--repeat`` times and
the median is reported (single runs vary by a third on a shared 2-core VM); the three
end-to-end runs take turns (one of each per round), and dirty pages of earlier runs are flushed
(``os.sync``) before each so it pays only its own.
Needs `pip install -e '.[bench]'` (scikit-learn).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import run_measured, synthc_build  # noqa: E402

SPEC = """\
synthc: 1
name: bench-swiss-roll
seed: 7
samples: {{{{ var('samples') }}}}
generator: {{kind: manifold, shape: swiss_roll, noise: 0.05, ambient_dim: 3}}
output: {{format: parquet, shard_size: {shard_size}{columns}}}
"""

#: the columns scikit-learn's make_swiss_roll returns, by synthc's names (X -> x0..x2, t -> u0)
SKLEARN_COLUMNS = ", columns: [x0, x1, x2, u0]"

#: what a user runs instead of synthc: make_swiss_roll, then the same columns to Parquet
USER_SCRIPT = """\
import sys
import polars as pl
from sklearn.datasets import make_swiss_roll

X, t = make_swiss_roll(int(sys.argv[1]), noise=0.05, random_state=0)
frame = pl.DataFrame({"x0": X[:, 0], "x1": X[:, 1], "x2": X[:, 2], "u0": t})
frame.write_parquet(sys.argv[2], compression="lz4", statistics=True)
"""


def build(spec: Path, out: Path, samples: int, workers: int) -> tuple[float, int]:
    """`synthc build` of ``samples`` samples in a fresh process: (seconds, peak RSS bytes)."""
    return synthc_build(spec, out, workers, "--var", f"samples={samples}")


def sklearn_swiss_roll(samples: int) -> float:
    from sklearn.datasets import make_swiss_roll

    start = time.perf_counter()
    make_swiss_roll(samples, noise=0.05, random_state=0)
    return time.perf_counter() - start


def sklearn_to_parquet(script: Path, samples: int, target: Path) -> tuple[float, int]:
    """The user's script in a fresh process: (wall seconds, peak RSS bytes)."""
    target.unlink(missing_ok=True)
    os.sync()
    return run_measured([sys.executable, str(script), str(samples), str(target)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--small", type=int, default=1_000_000, help="the RSS comparison size")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shard-size", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median counts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = root / "swiss.yaml"
        spec.write_text(SPEC.format(shard_size=args.shard_size, columns=""))
        kept = root / "swiss-kept.yaml"
        kept.write_text(SPEC.format(shard_size=args.shard_size, columns=SKLEARN_COLUMNS))
        script = root / "sklearn_to_parquet.py"
        script.write_text(USER_SCRIPT)
        build(spec, root / "warm", 10_000, args.workers)  # fill the Numba cache
        small_s, small_rss = build(spec, root / "small", args.small, args.workers)
        big_runs, kept_runs, user_runs = [], [], []
        for _ in range(args.repeat):  # in turns, so a machine whose speed drifts weighs on each
            big_runs.append(build(spec, root / "big", args.samples, args.workers))
            kept_runs.append(build(kept, root / "kept", args.samples, args.workers))
            user_runs.append(sklearn_to_parquet(script, args.samples, root / "sklearn.parquet"))
        bytes_written = sum(p.stat().st_size for p in (root / "big").rglob("*.parquet"))
        kept_bytes = sum(p.stat().st_size for p in (root / "kept").rglob("*.parquet"))
        user_bytes = (root / "sklearn.parquet").stat().st_size
    kept_s = statistics.median(seconds for seconds, _ in kept_runs)
    user_s = statistics.median(seconds for seconds, _ in user_runs)
    user_rss = max(rss for _, rss in user_runs)
    big_s = statistics.median(seconds for seconds, _ in big_runs)
    big_rss = max(rss for _, rss in big_runs)
    sk_runs = [sklearn_swiss_roll(args.samples) for _ in range(args.repeat)]
    sk_s = statistics.median(sk_runs)

    synthc_rate, sk_rate = args.samples / big_s, args.samples / sk_s
    print(
        f"noisy 3-D swiss roll, n = {args.samples:,}, synthc workers = {args.workers}, "
        f"shard_size = {args.shard_size:,}"
    )
    print(f"median of {args.repeat} runs each")
    print(f"{'':<44} {'seconds':>9} {'rows/s':>14}")
    print(f"{'synthc build (end to end, Parquet lz4)':<44} {big_s:>9.2f} {synthc_rate:>14,.0f}")
    print(f"{'sklearn make_swiss_roll (in memory)':<44} {sk_s:>9.2f} {sk_rate:>14,.0f}")
    print(f"ratio synthc / sklearn rows/s: {synthc_rate / sk_rate:.2f}x (goal >= 1.0)")
    print(f"written: {bytes_written / 1e6:,.0f} MB of Parquet")
    print()
    print("end to end, fresh processes: what users run instead (sklearn + polars write_parquet)")
    kept_rate, user_rate = args.samples / kept_s, args.samples / user_s
    print(f"{'':<44} {'seconds':>9} {'rows/s':>14} {'MB':>7}")
    print(
        f"{'synthc build, every column (9)':<44} {big_s:>9.2f} {synthc_rate:>14,.0f} "
        f"{bytes_written / 1e6:>7,.0f}"
    )
    print(
        f"{'synthc build, output.columns x0-x2, u0':<44} {kept_s:>9.2f} {kept_rate:>14,.0f} "
        f"{kept_bytes / 1e6:>7,.0f}"
    )
    print(
        f"{'make_swiss_roll + polars write_parquet (4)':<44} {user_s:>9.2f} {user_rate:>14,.0f} "
        f"{user_bytes / 1e6:>7,.0f}"
    )
    print(
        f"ratio synthc / (sklearn + polars) rows/s: every column {synthc_rate / user_rate:.2f}x, "
        f"output.columns {kept_rate / user_rate:.2f}x (goal >= 2.0)"
    )
    print(f"peak RSS of sklearn + polars: {user_rss / 2**20:,.0f} MiB")
    print(
        f"peak RSS (process tree): {args.small:,} samples {small_rss / 2**20:,.0f} MiB; "
        f"{args.samples:,} samples {big_rss / 2**20:,.0f} MiB; "
        f"ratio {big_rss / small_rss:.2f} (goal <= 1.2)"
    )


if __name__ == "__main__":
    main()
