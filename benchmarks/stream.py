"""Fractal images on the fly through ``synthc.stream``, decoded, against the reference figures.

    python benchmarks/stream.py [--images N] [--quick]

In one run, for 256 px binary fractals of 100,000 points (64 classes):

1. ``synthc.stream`` into a consumer loop that decodes every sample as a training loop would
   (the PNG to a NumPy array with Pillow, the JSON parsed, the class as an int), in 1 and 2
   spawned worker processes, each taking its share with ``worker``/``num_workers`` as a
   DataLoader worker does, after a two-image warm-up stream that loads the kernels;
2. the same images built to 8 tar shards with ``synthc build --workers 2`` (the default's count
   for 8,192 images, set explicitly so that ``--quick`` has 8 too), then read back with the
   ``webdataset`` library and decoded the same way, in 1 and 2 processes, each reading every
   second shard;
3. Anderson & Farrell's on-the-fly renderer: their code (github catalys1/fractal-pretraining at
   b87adf2; WACV 2022, arXiv 2110.03091) is a repository, not a package, so it cannot be
   installed here. Its figure is a constant, 144 images per CPU-second for their README path
   (``iterate(sys, 100000)`` then ``render(..., 256, binary=True)``), measured in a venv of its
   own on this 2-vCPU machine class. It makes arrays, so it neither encodes nor decodes a PNG.

Printed: images/s (wall, from the moment every worker starts its loop to the last one's end),
images per CPU-second (the workers' CPU time in their loops, all threads), and the ratios: to
A&F's images per CPU-second, and to reading the built tars with as many workers.

Measured on the 2-vCPU development VM while other sessions kept a load of about 2 (so a second
worker found little free CPU; the build's two workers did not scale either):

    8,192 images (default), 46 s in all; build: 8 shards, 11.9 s (691 img/s)
    consumer                                 img/s  img/CPU-s   vs A&F   vs wds
    synthc.stream -> decode, 1 worker          680        689     4.8x    0.23x
    synthc.stream -> decode, 2 workers         752        663     4.6x    0.20x
    webdataset tars -> decode, 1 worker      2,913      2,998        -        -
    webdataset tars -> decode, 2 workers     3,748      2,860        -        -

    --quick, 512 images, 9 s in all
    synthc.stream -> decode, 1 worker          675        678     4.7x    0.24x
    synthc.stream -> decode, 2 workers         786        617     4.3x    0.29x
    webdataset tars -> decode, 1 worker      2,772      2,798        -        -
    webdataset tars -> decode, 2 workers     2,720      2,569        -        -

So the stream renders, encodes and decodes at about 4.7 times A&F's render-only rate per CPU,
and a built dataset reads about 4 times faster than the stream generates it: stream when
storage or flexibility (fresh epochs) matters, build once when the same images are read for
many epochs.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: Anderson & Farrell's on-the-fly figure (see the module docstring): images per CPU-second
AF_IMAGES_PER_CPU_S = 144
#: the classes of the benchmark spec; instances make up the image count
CLASSES = 64

SPEC = """\
synthc: 1
name: bench-stream
seed: 1
samples: {samples}
splits: {{train: 1.0}}
generator:
  kind: fractal
  classes: {classes}
  instances: {instances}
  system: {{sampler: sigma_factor}}
  render: {{size: 256, points: 100000, mode: binary}}
output: {{shard_size: {shard_size}}}
"""


def decode(sample: dict[str, Any]) -> int:
    """What a training loop does with a sample: the image as an array, the label as an int."""
    image = np.asarray(Image.open(io.BytesIO(sample["png"])))
    json.loads(sample["json"])
    return int(sample["cls"]) + int(image.shape[0] > 0)


def stream_worker(spec: str, warm: str, worker: int, workers: int, ready: Any, out: Any) -> None:
    """Consume this worker's share of the stream, after a tiny warm-up stream that loads the
    kernels (a DataLoader worker lives for many epochs); report (images, start, end, CPU s)."""
    import synthc

    sum(1 for sample in synthc.stream(warm) if decode(sample) >= 0)
    samples = synthc.stream(spec, worker=worker, num_workers=workers)
    ready.wait()  # every worker starts its loop together, imports and warm-up done
    start, cpu = time.time(), time.process_time()
    count = sum(1 for sample in samples if decode(sample) >= 0)
    out.put((count, start, time.time(), time.process_time() - cpu))


def tar_worker(shards: list[str], worker: int, workers: int, ready: Any, out: Any) -> None:
    """Read every ``workers``-th shard from ``worker`` with the webdataset library, decoded."""
    import webdataset as wds

    mine = shards[worker::workers]
    ready.wait()
    start, cpu = time.time(), time.process_time()
    count = 0
    if mine:
        dataset = wds.WebDataset(mine, shardshuffle=False, empty_check=False)
        count = sum(1 for sample in dataset if decode(sample) >= 0)
    out.put((count, start, time.time(), time.process_time() - cpu))


def run(target: Any, args: tuple[Any, ...], workers: int) -> tuple[int, float, float]:
    """Run ``target`` in ``workers`` spawned processes; (images, wall seconds, CPU seconds)."""
    context = multiprocessing.get_context("spawn")
    out, ready = context.Queue(), context.Barrier(workers)
    processes = [
        context.Process(target=target, args=(*args, w, workers, ready, out)) for w in range(workers)
    ]
    for process in processes:
        process.start()
    reports = [out.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a worker failed with exit code {process.exitcode}")
    images = sum(r[0] for r in reports)
    wall = max(r[2] for r in reports) - min(r[1] for r in reports)
    return images, wall, sum(r[3] for r in reports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8192, help="images in the split")
    parser.add_argument("--quick", action="store_true", help="512 images: under a minute")
    args = parser.parse_args()
    images = 512 if args.quick else args.images
    instances = max(1, images // CLASSES)
    from synthc import api

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        spec = root / "stream.yaml"
        n = CLASSES * instances
        # Eight shards, as the default gives 8,192 images, so that --quick's two tar readers
        # each get shards too (the default keeps 512 images of 9 KB in one shard).
        shard_size = -(-n // 8)
        spec.write_text(
            SPEC.format(samples=n, classes=CLASSES, instances=instances, shard_size=shard_size)
        )
        warm = root / "warm.yaml"  # loads (or compiles) the kernels into the Numba cache
        warm.write_text(SPEC.format(samples=2, classes=2, instances=1, shard_size=2))
        run(stream_worker, (str(warm), str(warm)), 1)

        rows: list[tuple[str, int, float, float]] = []
        for workers in (1, 2):
            count, wall, cpu = run(stream_worker, (str(spec), str(warm)), workers)
            rows.append((f"synthc.stream -> decode, {workers} worker(s)", count, wall, cpu))

        start = time.perf_counter()
        result = api.build(spec, root / "out", workers=2)
        build_wall = time.perf_counter() - start
        shards = [str(p) for p in sorted((root / "out").rglob("*.tar"))]
        for workers in (1, 2):
            count, wall, cpu = run(tar_worker, (shards,), workers)
            rows.append((f"webdataset tars -> decode, {workers} worker(s)", count, wall, cpu))

    print(f"{n:,} fractal images, 256 px, 100k points, binary; {os.cpu_count()} CPUs")
    print(
        f"build first: synthc build --workers 2, {len(result.plan.tasks)} shards, "
        f"{build_wall:.1f} s ({n / build_wall:,.0f} img/s)"
    )
    reads = {name.split(",")[1]: count / wall for name, count, wall, _ in rows if "tars" in name}
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'consumer':<{width}} {'img/s':>8} {'img/CPU-s':>10} {'vs A&F':>8} {'vs wds':>8}")
    for name, count, wall, cpu in rows:
        if count != n:
            raise SystemExit(f"{name}: {count} images, not {n}")
        per_cpu = count / cpu
        rate = count / wall
        ratios = "-".rjust(8) + " " + "-".rjust(8)
        if "stream" in name:  # the tar readers neither render nor encode: no A&F ratio
            versus = rate / reads[name.split(",")[1]]
            ratios = f"{per_cpu / AF_IMAGES_PER_CPU_S:>7.1f}x {versus:>7.2f}x"
        print(f"{name:<{width}} {rate:>8,.0f} {per_cpu:>10,.0f} {ratios}")
    print(
        f"{'A&F on the fly (quoted: not installable here)':<{width}} {'':>8} "
        f"{AF_IMAGES_PER_CPU_S:>10,} {1:>7.1f}x {'':>8}"
    )
    print(
        "vs A&F: images per CPU-second over their 144 (they render arrays: no PNG encode or "
        "decode); vs wds: images/s over reading the built tars with as many workers"
    )


if __name__ == "__main__":
    main()
