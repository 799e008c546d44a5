"""Scaling a 200-shard plan: 1 vs 2 local workers, local vs Dask, peak RSS at 1x and 10x samples.

    python benchmarks/scale.py [--samples N] [--shards 200] [--repeat 3] [--no-10x]

One noisy swiss-roll spec (Parquet, lz4) planned into ``--shards`` shards, built end to end as a
user runs it (`synthc build` in a fresh process, warm Numba cache):

- `--workers 1` vs `--workers 2`: the speed-up (goal >= 1.8x);
- `--workers 2` locally vs `--scheduler ADDRESS` on a Dask cluster of two single-threaded
  worker processes on loopback (a `dask scheduler` and two `dask worker` processes started here
  before the timing and warmed by one small build, as a cluster that is already up and has
  served builds): the overhead of Dask (goal <= 10%);
  `--executor dask` (which starts a LocalCluster inside the build) is printed beside it;
- the peak RSS of the whole process tree at ``--samples`` and 10x as many samples, same shard
  size, so 10x the shards (goal <= 1.2x).

Each build is timed end to end (process start to exit) and in build (the manifest's
``build.seconds``: running the shards, without the process start and the finishing files, which
do not scale with workers), and its CPU time (user + system of the build's process tree, and of
the Dask scheduler and workers while it runs) is divided by its wall time: the cores it kept
busy. A one-worker build that already keeps more than one core busy (polars encodes Parquet on
its own threads) caps what a second worker can add on a two-core machine; the table prints that
cap. Beside it, the shares of the machine's CPU time (all its CPUs, /proc/stat) left idle
and taken by the hypervisor for other guests (steal, on a VM) while each build ran: a core
the build leaves idle, or one the host takes, is a speed-up two workers cannot have. Each
timing is the median of ``--repeat`` runs. The one- and two-worker builds and the Dask
build take turns (one run of each, then the next round), all while the cluster is up, so a
machine whose speed drifts weighs on each alike; the 10x build runs last, so the writeback of its
gigabytes does not fall on the others (--no-10x leaves it out, for a --samples whose 10x would
not fit on the disk). About a second of a build is the same at any size and runs on one core:
the process start and imports, Numba's start at the first kernel, the finishing files. At the
default 10M samples that is a third of a one-worker build, which caps the 2 vs 1 speed-up near
1.5x on two cores; `--samples 50000000 --no-10x` measures the same 200-shard plan with shards
five times as big. To tell that fixed second from how the shards themselves scale, each build's
shards are also timed once running: the shards finished after the first one, over the seconds
from the first one's to the last one's (each shard file's mtime is when its encoding ended; the
rename into place keeps it). The ratio of those rates is the speed-up of the shards alone,
printed beside the goal, which is on the whole build. The load average is printed before and
after (a machine shared with other work makes every ratio noisier). Needs `distributed` (the
`dask` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).parent))
from _measure import run_measured, synthc_build  # noqa: E402

SPEC = """\
synthc: 1
name: bench-scale
seed: 7
samples: {{{{ var('samples') }}}}
splits: {{train: 1.0}}
generator: {{kind: manifold, shape: swiss_roll, noise: 0.05, ambient_dim: 3}}
output: {{format: parquet, shard_size: {shard_size}}}
"""


@contextmanager
def dask_cluster(root: Path, workers: int) -> Iterator[tuple[str, list[int]]]:
    """A `dask scheduler` and ``workers`` one-thread `dask worker` processes on loopback: its
    address and the processes' pids."""
    scheduler_file = root / "scheduler.json"
    log = open(root / "dask.log", "ab")  # noqa: SIM115 - closed below, after the processes
    # each worker's polars gets its share of the cores, as in synthc's local process pool
    env = {**os.environ, "POLARS_MAX_THREADS": str(max(1, (os.cpu_count() or 1) // workers))}

    def dask(*args: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "dask", *args]
        return subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)

    processes = [
        dask(
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(scheduler_file),
        )
    ]  # fmt: skip
    try:
        while not scheduler_file.exists():
            if processes[0].poll() is not None:
                raise SystemExit(f"dask scheduler failed: see {root / 'dask.log'}")
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for n in range(workers):
            processes.append(
                dask(
                    "worker", address, "--name", f"w{n}", "--nworkers", "1", "--nthreads", "1",
                    "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                    "--local-directory", str(root / f"w{n}"),
                )
            )  # fmt: skip
        from distributed import Client

        with Client(address, set_as_default=False, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, [process.pid for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the running processes ``pids`` have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def machine_ticks() -> tuple[int, int, int]:
    """The machine's CPU time so far, in clock ticks summed over its CPUs (Linux /proc/stat):
    (idle, stolen by the hypervisor for other guests, total)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    total = user + nice + system + idle + iowait + irq + softirq + steal
    return idle + iowait, steal, total


def children_cpu() -> float:
    """CPU seconds of this process's waited-for children (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Timing(NamedTuple):
    """Medians over the runs, and the peak RSS of any run."""

    wall: float
    inside: float
    cores: float
    rss: int
    idle: float
    stolen: float
    running: float


def running_rate(out: Path) -> float:
    """Shards per second once the build's shards run: those finished after the first one, over
    the seconds from the first one's mtime to the last one's."""
    finished = sorted(path.stat().st_mtime_ns for path in out.rglob("*.parquet"))
    if len(finished) < 2 or finished[-1] == finished[0]:
        return float("nan")
    return (len(finished) - 1) / ((finished[-1] - finished[0]) / 1e9)


Run = Callable[[], tuple[float, int]]


def interleaved(repeat: int, builds: list[tuple[Path, Run, list[int]]]) -> list[Timing]:
    """Each of ``builds`` (output directory, run, cluster pids) run ``repeat`` times, taking
    turns, so a machine that drifts (a VM's neighbours, writeback of earlier runs) weighs on
    each alike; per build, the medians of: wall seconds, seconds inside the build (the
    manifest's ``build.seconds``: deciding and running the shards, without the process start
    and the finishing files: card, preview, manifest), and cores kept busy (CPU seconds of the
    build's processes, and of its cluster's, over wall seconds), and the shares of the
    machine's CPU time left idle and taken by the hypervisor (steal), and the shards per second
    once running (:func:`running_rate`); with the peak RSS bytes."""
    runs: list[list[tuple[float, float, float, int, float, float, float]]] = [[] for _ in builds]
    for _ in range(repeat):
        for (out, run, cluster), done in zip(builds, runs, strict=True):
            cpu = children_cpu() + process_cpu(cluster)
            idle, steal, total = machine_ticks()
            wall, rss = run()
            cpu = children_cpu() + process_cpu(cluster) - cpu
            idle_after, steal_after, total_after = machine_ticks()
            ticks = max(1, total_after - total)
            inside = json.loads((out / "manifest.json").read_text())["build"]["seconds"]
            shares = ((idle_after - idle) / ticks, (steal_after - steal) / ticks)
            done.append((wall, inside, cpu / wall, rss, *shares, running_rate(out)))
    return [
        Timing(
            statistics.median(r[0] for r in done),
            statistics.median(r[1] for r in done),
            statistics.median(r[2] for r in done),
            max(r[3] for r in done),
            statistics.median(r[4] for r in done),
            statistics.median(r[5] for r in done),
            statistics.median(r[6] for r in done),
        )
        for done in runs
    ]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--shards", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median counts")
    parser.add_argument("--no-10x", action="store_true", help="leave out the 10x peak-RSS build")
    args = parser.parse_args()
    shard_size = -(-args.samples // args.shards)
    print(f"load average before: {load()} ({os.cpu_count()} CPUs)")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = root / "scale.yaml"
        spec.write_text(SPEC.format(shard_size=shard_size))  # one split: equal shards
        samples = ("--var", f"samples={args.samples}")

        def build(out: str, workers: int, n: int = args.samples) -> Run:
            return lambda: synthc_build(spec, root / out, workers, "--var", f"samples={n}")

        def on_dask(out: str, *how: str) -> Run:
            """`synthc build` with ``how`` (no --workers): a fresh process, an empty ``out``."""

            def run() -> tuple[float, int]:
                shutil.rmtree(root / out, ignore_errors=True)
                os.sync()
                command = [
                    sys.executable,
                    "-m",
                    "synthc",
                    "build",
                    str(spec),
                    "-o",
                    str(root / out),
                ]
                return run_measured([*command, *samples, *how])

            return run

        synthc_build(spec, root / "warm", 1, "--var", "samples=10000")  # fill the Numba cache
        with dask_cluster(root, 2) as (address, pids):
            # a cluster that is up has served builds before: its workers have imported synthc
            # and loaded the kernels once (each local build pays that in its own processes)
            warm = ["--var", "samples=200000"]
            subprocess.run(
                [sys.executable, "-m", "synthc", "build", str(spec), "-o", str(root / "dwarm")]
                + [*warm, "--scheduler", address, "-q"],
                check=True,
            )
            # the local builds run beside the idle cluster too: all three in the same conditions
            one, two, dask = interleaved(
                args.repeat,
                [
                    (root / "one", build("one", 1), []),
                    (root / "two", build("two", 2), []),
                    (root / "dask", on_dask("dask", "--scheduler", address), pids),
                ],
            )
        shards = len(list((root / "two").rglob("*.parquet")))
        (local_dask,) = interleaved(
            args.repeat,
            [(root / "ldask", on_dask("ldask", "--executor", "dask", "--workers", "2"), [])],
        )
        # last: its gigabytes of Parquet must not be written back during the other runs
        big = None
        if not args.no_10x:
            (big,) = interleaved(1, [(root / "big", build("big", 2, n=10 * args.samples), [])])

    print(f"noisy 3-D swiss roll, {args.samples:,} samples in {shards} shards of {shard_size:,}")
    print(f"median of {args.repeat} runs each" + ("" if big is None else " (10x: one run)"))
    print("end to end: `synthc build` wall time; in build: the manifest's build.seconds")
    print("cores: CPU seconds of the build (and of the Dask cluster) per wall second")
    print("idle, stolen: shares of the machine's CPU time idle, and taken by the hypervisor")
    print("shards/s running: shards finished after the first one per second, until the last")
    print(
        f"{'':<52} {'seconds':>9} {'rows/s':>14} {'in build':>9} {'cores':>6} {'idle':>6} "
        f"{'stolen':>6} {'shards/s running':>16}"
    )
    rows = [
        ("local, --workers 1", one),
        ("local, --workers 2", two),
        ("Dask, --scheduler (2 worker processes, up already)", dask),
        ("Dask, --executor dask --workers 2 (LocalCluster)", local_dask),
    ]
    for name, timing in rows:
        print(
            f"{name:<52} {timing.wall:>9.2f} {args.samples / timing.wall:>14,.0f} "
            f"{timing.inside:>9.2f} {timing.cores:>6.2f} {timing.idle:>6.0%} {timing.stolen:>6.0%} "
            f"{timing.running:>16.1f}"
        )
    cpus = os.cpu_count() or 1
    print(
        f"speed-up 2 vs 1 local workers: {one.wall / two.wall:.2f}x end to end, "
        f"{one.inside / two.inside:.2f}x in build (goal >= 1.8); with one worker the build "
        f"already keeps {one.cores:.2f} cores busy, so {cpus} cores allow at most "
        f"{cpus / one.cores:.2f}x"
    )
    print(
        f"the shards alone, once running: {one.running:.1f} shards/s with one worker, "
        f"{two.running:.1f} with two: {two.running / one.running:.2f}x (the rest of a build, "
        "the same at any size, is what the end-to-end speed-up lacks)"
    )
    print(
        f"Dask overhead over local (2 workers each): {dask.wall / two.wall - 1:+.1%} end to end, "
        f"{dask.inside / two.inside - 1:+.1%} in build (goal <= 10%)"
    )
    print(
        f"--executor dask overhead over local: {local_dask.wall / two.wall - 1:+.1%} end to end "
        "(no goal: it starts a cluster)"
    )
    rss = f"peak RSS (process tree, 2 workers): {args.samples:,} samples {two.rss / 2**20:,.0f} MiB"
    if big is not None:
        rss += (
            f"; {10 * args.samples:,} samples ({big.wall:.1f} s) {big.rss / 2**20:,.0f} MiB; "
            f"ratio {big.rss / two.rss:.2f} (goal <= 1.2)"
        )
    print(rss)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
