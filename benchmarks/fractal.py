"""The fractal generator's figures in one run, printed as a table.

    python benchmarks/fractal.py [--images N] [--build-images N] [--workers 2] [--classes N]

1. Render only (one thread, images per CPU-second, median of 3 batches): 256 px, 100k points,
   binary; and colour per map + plasma background + jitter.
2. End to end: `synthc build` to WebDataset tar shards (binary, grayscale PNG at the default
   level) in a fresh process with a warm Numba cache; images/s and per core; and, measured in
   process, the share of time spent encoding (PNG + JSON + tar) rather than rendering.
3. Cold JIT compile (an empty Numba cache) and a warm `synthc build` of specs/fractal_small.yaml.
4. The fractaldb sampler's class search (filling rate >= 0.2) for --classes classes.
5. PNG zlib level and 1-bit storage: encode time against size.

The reference renderers cannot be run here (Anderson & Farrell's and FractalDB's code are GitHub
repositories, not packages, and this machine reaches only package registries), so their figures
are constants measured with their code on a machine of this class (2 vCPU): A&F 144 images
per CPU-second (README path, 256 px, 100k points, binary), FractalDB 13.8 images/s (point_gray,
256 px, 100k points) and about 4.8 s per accepted class in its search.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import synthc_build  # noqa: E402

from synthc.compiler.compiling import compile_spec  # noqa: E402
from synthc.generators.fractal import drawing  # noqa: E402
from synthc.generators.fractal.drawing import encode_png  # noqa: E402
from synthc.generators.fractal.generator import GENERATOR  # noqa: E402
from synthc.generators.fractal.systems import Search, class_system  # noqa: E402
from synthc.outputs.webdataset import write_tar_shard  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AF_IMAGES_PER_CPU_S = 144
FRACTALDB_SECONDS_PER_CLASS = 4.8

SPEC = """\
synthc: 1
name: bench-fractal
seed: 1
samples: {samples}
generator:
  kind: fractal
  classes: {classes}
  instances: {instances}
  system: {{sampler: {sampler}}}
  render: {render}
  instance: {instance}
output: {{format: webdataset, shard_size: 250}}
"""
BINARY = "{size: 256, points: 100000, mode: binary}"
COLOUR = "{size: 256, points: 100000, mode: binary, color: map, background: plasma}"


def write_spec(
    root: Path,
    name: str,
    classes: int,
    instances: int,
    render: str,
    instance: str = "{jitter: null, flip: false}",
    sampler: str = "sigma_factor",
) -> Path:
    path = root / f"{name}.yaml"
    path.write_text(
        SPEC.format(
            samples=classes * instances,
            classes=classes,
            instances=instances,
            sampler=sampler,
            render=render,
            instance=instance,
        )
    )
    return path


def render_rate(spec: Path, images: int, repeat: int = 3) -> float:
    """Images per CPU-second of drawing.render (one thread) after a warm-up batch: the median
    of ``repeat`` batches (single batches vary by a fifth on a shared VM)."""
    config = compile_spec(spec).spec.generator
    GENERATOR.facts(config, 1)  # the class search runs here, not in the timed renders
    drawing.render(config, 1, 0, 8)
    rates = []
    for r in range(repeat):
        first = 8 + r * images
        start = time.process_time()
        drawing.render(config, 1, first, first + images)
        rates.append(images / (time.process_time() - start))
    return statistics.median(rates)


def encoding_share(spec: Path, images: int, root: Path) -> float:
    """Share of one thread's time spent encoding PNG + JSON + tar, rather than rendering."""
    config = compile_spec(spec).spec.generator
    GENERATOR.facts(config, 1)
    list(GENERATOR.generate(config, 1, 0, 8))  # a stream: warm up by reading it
    t0 = time.perf_counter()
    arrays, labels = drawing.render(config, 1, 0, images)
    t1 = time.perf_counter()
    samples = [
        (
            f"{i:012d}",
            {
                "png": encode_png(arrays[i], config),
                "json": json.dumps(labels[i]).encode(),
                "cls": b"0",
            },
        )
        for i in range(images)
    ]
    write_tar_shard(samples, root / "share.tar")
    t2 = time.perf_counter()
    return (t2 - t1) / (t2 - t0)


def build_seconds(spec: Path, out: Path, workers: int, env: dict[str, str] | None = None) -> float:
    return synthc_build(spec, out, workers, env=env)[0]


def class_search(classes: int) -> tuple[float, int, int]:
    """Seconds, candidates tried and classes accepted for the fractaldb sampler."""
    config = compile_spec_text_system()
    search = Search()
    start = time.perf_counter()
    for k in range(classes):
        class_system(config, 1, k, search)
    seconds = time.perf_counter() - start
    return seconds, classes + sum(search.rejections.values()), classes


def compile_spec_text_system():  # noqa: ANN201
    from synthc.generators.fractal.config import SystemConfig

    return SystemConfig(sampler="fractaldb", fill_rate=0.2)


def png_levels(spec: Path, images: int) -> list[tuple[str, float, float]]:
    config = compile_spec(spec).spec.generator
    arrays, _ = drawing.render(config, 1, 0, images)
    rows = []
    for label, level, binary in [
        ("gray, level 0", 0, "gray"),
        ("gray, level 1", 1, "gray"),
        ("gray, level 3", 3, "gray"),
        ("gray, level 6", 6, "gray"),
        ("gray, level 9", 9, "gray"),
        ("1-bit, level 1", 1, "1bit"),
        ("1-bit, level 6", 6, "1bit"),
    ]:
        png = config.render.png.model_copy(update={"level": level, "binary": binary})
        variant = config.model_copy(
            update={"render": config.render.model_copy(update={"png": png})}
        )
        start = time.perf_counter()
        sizes = [len(encode_png(a, variant)) for a in arrays]
        rows.append((label, (time.perf_counter() - start) / images * 1e3, sum(sizes) / images))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="render-only batch size")
    parser.add_argument("--build-images", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--classes", type=int, default=1000, help="class search size")
    args = parser.parse_args()
    table: list[tuple[str, str, str]] = []

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        binary = write_spec(root, "binary", 100, 100, BINARY)
        colour = write_spec(root, "colour", 100, 100, COLOUR, "{jitter: [0.8, 1.1], flip: true}")
        rate = render_rate(binary, args.images)
        table.append(
            (
                "render only, binary 256 px 100k points",
                f"{rate:,.0f} img/CPU-s",
                f"{rate / AF_IMAGES_PER_CPU_S:.1f}x A&F (goal >= 1,500 img/CPU-s)",
            )
        )
        rate = render_rate(colour, args.images)
        table.append(("render only, colour + plasma + jitter", f"{rate:,.0f} img/CPU-s", ""))

        n = args.build_images
        big = write_spec(root, "build", n // 10, 10, BINARY)
        build_seconds(write_spec(root, "warm", 2, 2, BINARY), root / "warm", args.workers)
        seconds = build_seconds(big, root / "build", args.workers)
        per_core = n / seconds / args.workers
        share = encoding_share(binary, args.images, root)
        table.append(
            (
                f"build to tar, binary, {args.workers} workers, {n:,} images",
                f"{n / seconds:,.0f} img/s",
                f"{per_core:,.0f} per core (goal >= 500)",
            )
        )
        table.append(("  share of time encoding (PNG + JSON + tar)", f"{share:.0%}", ""))

        small = ROOT / "specs" / "fractal_small.yaml"
        cold_env = {"NUMBA_CACHE_DIR": str(root / "numba-cold")}
        cold = build_seconds(small, root / "cold", args.workers, cold_env)
        warm = build_seconds(small, root / "warm-small", args.workers, cold_env)
        table.append(
            (
                "build fractal_small.yaml, cold Numba cache",
                f"{cold:.2f} s",
                f"JIT compile about {cold - warm:.1f} s",
            )
        )
        table.append(("build fractal_small.yaml, warm", f"{warm:.2f} s", "goal < 2 s"))

    seconds, tried, accepted = class_search(args.classes)
    table.append(
        (
            f"fractaldb class search, {accepted:,} classes, fill >= 0.2",
            f"{seconds:.1f} s",
            f"{accepted / seconds:,.0f} classes/s, {tried / seconds:,.0f} candidates/s, "
            f"{accepted / tried:.1%} accepted; FractalDB about "
            f"{FRACTALDB_SECONDS_PER_CLASS * accepted / 60:,.0f} min",
        )
    )

    width = max(len(r[0]) for r in table) + 2
    print(f"{'figure':<{width}} {'value':>16}  note")
    for name, value, note in table:
        print(f"{name:<{width}} {value:>16}  {note}")
    print()
    print("PNG encoding of binary 256 px images (one thread)")
    print(f"{'storage':<18} {'ms/image':>9} {'bytes/image':>12}")
    for label, ms, size in png_levels(write_spec_tmp(), 100):
        print(f"{label:<18} {ms:>9.3f} {size:>12,.0f}")


def write_spec_tmp() -> Path:
    root = Path(tempfile.mkdtemp())
    return write_spec(root, "png", 100, 100, BINARY)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
