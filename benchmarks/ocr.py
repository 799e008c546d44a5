"""synthc's OCR lines against trdg 1.8.0 itself, in one run, at equal settings.

    python benchmarks/ocr.py [--images 1000] [--build-images 4000] [--workers 2] [--repeat 3]

Both draw 32 px lines of 1-3 English dictionary words on Gaussian-noise backgrounds with trdg's
Latin fonts: (a) no effects, (b) blur (random radius up to 2), skew (random up to 5 degrees)
and random distortion both ways. trdg runs from its Python API in this process with its
one-function compatibility patch for Pillow >= 10 (``get_text_height`` via ``getbbox``) and
``output_mask=True``, the mask it derives character boxes from; it returns PIL images and
encodes nothing. synthc's figure includes what trdg skips: character boxes, PNG encoding and
the JSON label. Rates are images per CPU-second of one process (``time.process_time``), i.e.
per core. The last row is an end-to-end ``synthc build`` to tar shards with --workers.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import synthc_build  # noqa: E402

from synthc.compiler.compiling import compile_spec  # noqa: E402
from synthc.generators.ocr.generator import GENERATOR  # noqa: E402

SPEC = """\
synthc: 1
name: bench-ocr
seed: 1
samples: {samples}
generator:
  kind: ocr_text
  text: {{source: dict, language: en, words: [1, 3]}}
  fonts: {{language: latin}}
  size: 32
  background: {{kinds: [gaussian_noise]}}
{effects}
output: {{format: webdataset, shard_size: 1000}}
"""
EFFECTS = "  blur: [0, 2]\n  skew: [-5, 5]\n  distortion: {kind: random, orientation: both}\n"


def trdg_generator(count: int, effects: bool):  # noqa: ANN201
    """trdg's GeneratorFromDict with the Pillow >= 10 patch (its only incompatibility)."""
    with contextlib.redirect_stdout(io.StringIO()):  # it prints about handwriting modules
        import trdg.computer_text_generator as ctg
        import trdg.utils as utils
        from trdg.generators import GeneratorFromDict

    def text_height(font, text):  # noqa: ANN001, ANN202
        return font.getbbox(text)[3]

    utils.get_text_height = text_height
    ctg.get_text_height = text_height
    options = {
        "count": count,
        "length": 3,
        "allow_variable": True,
        "language": "en",
        "size": 32,
        "background_type": 0,
        "output_mask": True,
    }
    if effects:
        options.update(
            blur=2,
            random_blur=True,
            skewing_angle=5,
            random_skew=True,
            distorsion_type=3,
            distorsion_orientation=2,
        )
    return GeneratorFromDict(**options)


def trdg_rate(images: int, effects: bool, repeat: int) -> float:
    generator = trdg_generator(20 + images * repeat, effects)
    for _ in range(20):  # warm-up: font loading
        next(generator)
    rates = []
    for _ in range(repeat):
        start = time.process_time()
        made = 0
        for _ in range(images):
            (image, _mask), _label = next(generator)
            made += image is not None
        rates.append(made / (time.process_time() - start))
    return statistics.median(rates)


def synthc_rate(spec: Path, images: int, repeat: int) -> float:
    config = compile_spec(spec).spec.generator
    list(GENERATOR.generate(config, 1, 0, 20))  # warm-up: fonts, dictionary
    rates = []
    for r in range(repeat):
        first = 20 + r * images
        start = time.process_time()
        list(GENERATOR.generate(config, 1, first, first + images))  # a stream: read it
        rates.append(images / (time.process_time() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--build-images", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="batches; the median counts")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, effects in (("(a) no effects", ""), ("(b) blur + skew + distortion", EFFECTS)):
            spec = root / f"{name[1]}.yaml"
            spec.write_text(SPEC.format(samples=args.build_images, effects=effects))
            ours = synthc_rate(spec, args.images, args.repeat)
            theirs = trdg_rate(args.images, bool(effects), args.repeat)
            rows.append((name, ours, theirs))
        warm = root / "warm.yaml"  # fills the Numba cache in a build too small to time
        warm.write_text(SPEC.format(samples=20, effects=""))
        synthc_build(warm, root / "warm", args.workers)
        seconds, _ = synthc_build(root / "a.yaml", root / "out", args.workers)
    print(
        "32 px English dictionary lines, Gaussian-noise background; images per CPU-second, "
        f"median of {args.repeat} batches of {args.images:,}"
    )
    print(f"{'configuration':<32} {'synthc':>9} {'trdg 1.8.0':>11} {'ratio':>7}  (goal >= 4x)")
    for name, ours, theirs in rows:
        print(f"{name:<32} {ours:>9,.0f} {theirs:>11,.0f} {ours / theirs:>6.1f}x")
    n = args.build_images
    print(
        f"synthc build (a), {args.workers} workers, {n:,} images to tar: {seconds:.2f} s, "
        f"{n / seconds:,.0f} img/s, {n / seconds / args.workers:,.0f} per core"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
