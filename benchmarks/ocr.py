"""synthc's OCR lines against trdg 1.8.0 itself, in one run, at equal settings.

    python benchmarks/ocr.py [--images 1000] [--build-images 4000] [--workers 2] [--repeat 3]
                             [--lines 500] [--only speed|readback]

Both draw 32 px lines of 1-3 English dictionary words on Gaussian-noise backgrounds with trdg's
Latin fonts: (a) no effects, (b) blur (random radius up to 2), skew (random up to 5 degrees)
and random distortion both ways, with ``min_contrast: 1`` (trdg keeps every line it draws, so
synthc re-draws none either; a last row gives (b) at synthc's default threshold). trdg runs
from its Python API in this process with its one-function compatibility patch for Pillow >= 10
(``get_text_height`` via ``getbbox``) and ``output_mask=True``, the mask it derives character
boxes from; it returns PIL images and encodes nothing. synthc's figure includes what trdg
skips: character, word and line boxes and polygons, PNG encoding and the JSON label. Rates
are images per CPU-second of one process (``time.process_time``), i.e. per core. The last row
is an end-to-end ``synthc build`` to tar shards with --workers.

Read-back: Tesseract (``--psm 7``) reads ``--lines`` lines of (1) synthc's example spec
``specs/ocr_lines.yaml`` (samples 0, 1, ...), (2) trdg 1.8.0 at its defaults
(``GeneratorFromDict``: one English word, 32 px, Gaussian noise, #282828; global ``random``
seeded first, as trdg draws its words from it) and (3) synthc at trdg's defaults; it prints the
exact-match rate and the mean character error rate of each (``_readback.py``).
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
from _readback import read_back  # noqa: E402

from synthc.compiler.compiling import compile_spec  # noqa: E402
from synthc.generators.ocr import drawing  # noqa: E402
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
TRDG_DEFAULTS = "  text: {source: dict, language: en, words: [1, 1]}\n  text_color: '#282828'\n"
EQUAL = "  min_contrast: 1\n"
EXAMPLE = Path(__file__).resolve().parents[1] / "specs" / "ocr_lines.yaml"
EFFECTS = "  blur: [0, 2]\n  skew: [-5, 5]\n  distortion: {kind: random, orientation: both}\n"


def trdg_class():  # noqa: ANN201
    """trdg's GeneratorFromDict with the Pillow >= 10 patch (its only incompatibility: its
    code imports on Pillow 13 but calls ``FreeTypeFont.getsize``, removed in Pillow 10)."""
    with contextlib.redirect_stdout(io.StringIO()):  # it prints about handwriting modules
        import trdg.computer_text_generator as ctg
        import trdg.utils as utils
        from trdg.generators import GeneratorFromDict

    def text_height(font, text):  # noqa: ANN001, ANN202
        return font.getbbox(text)[3]

    utils.get_text_height = text_height
    ctg.get_text_height = text_height
    return GeneratorFromDict


def trdg_generator(count: int, effects: bool):  # noqa: ANN201
    """trdg's GeneratorFromDict (patched) at the benchmark's settings."""
    generator_class = trdg_class()
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
    return generator_class(**options)


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


def synthc_lines(spec: Path, count: int, variables: dict[str, str] | None = None) -> list:
    """Samples 0..count-1 of ``spec`` as (image, text)."""
    compiled = compile_spec(spec, variables).spec
    stats = {"glyph_resamples": 0, "visibility_resamples": 0}
    return [
        (image, label["text"])
        for image, label in (
            drawing.sample(compiled.generator, compiled.seed, i, stats) for i in range(count)
        )
    ]


def trdg_lines(count: int) -> list:
    """``count`` lines of trdg at its defaults, its global random state seeded first."""
    import random

    import numpy as np

    random.seed(0)
    np.random.seed(0)
    generator = trdg_class()(count=count)
    return [(image, text) for image, text in generator if image is not None]


def readback(root: Path, count: int, workers: int) -> None:
    spec = root / "trdg-defaults.yaml"
    spec.write_text(
        SPEC.format(samples=count, effects=TRDG_DEFAULTS).replace(
            "  text: {source: dict, language: en, words: [1, 3]}\n", "", 1
        )
    )
    rows = [
        ("synthc, specs/ocr_lines.yaml", synthc_lines(EXAMPLE, count, {"samples": str(count)})),
        ("trdg 1.8.0 at its defaults", trdg_lines(count)),
        ("synthc at trdg's defaults", synthc_lines(spec, count)),
    ]
    print(f"Tesseract read-back (--psm 7) of {count:,} lines each")
    print(f"{'lines':<32} {'exact match':>11} {'CER':>7}")
    for name, lines in rows:
        exact, cer, n = read_back(lines, workers)
        print(f"{name:<32} {exact:>10.1%} {cer:>7.3f}" + ("" if n == count else f"  ({n} lines)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--build-images", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="batches; the median counts")
    parser.add_argument("--lines", type=int, default=500, help="lines Tesseract reads back")
    parser.add_argument("--only", choices=["speed", "readback"], help="run one part")
    args = parser.parse_args()
    if args.only != "speed":
        with tempfile.TemporaryDirectory() as tmp:
            readback(Path(tmp), args.lines, os.cpu_count() or 1)
    if args.only != "readback":
        speed(args)


def speed(args: argparse.Namespace) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, effects in (("(a) no effects", ""), ("(b) blur + skew + distortion", EFFECTS)):
            spec = root / f"{name[1]}.yaml"
            # trdg keeps every line it draws: min_contrast 1 asks synthc for the same work
            spec.write_text(SPEC.format(samples=args.build_images, effects=effects + EQUAL))
            ours = synthc_rate(spec, args.images, args.repeat)
            theirs = trdg_rate(args.images, bool(effects), args.repeat)
            rows.append((name, ours, theirs))
        legible = root / "legible.yaml"  # (b) at synthc's default: illegible lines re-drawn
        legible.write_text(SPEC.format(samples=args.build_images, effects=EFFECTS))
        rows.append(("(b), default min_contrast 3", synthc_rate(legible, args.images, 1), 0.0))
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
        if theirs:
            print(f"{name:<32} {ours:>9,.0f} {theirs:>11,.0f} {ours / theirs:>6.1f}x")
        else:
            print(f"{name:<32} {ours:>9,.0f} {'':>11} {'':>7}")
    n = args.build_images
    print(
        f"synthc build (a), {args.workers} workers, {n:,} images to tar: {seconds:.2f} s, "
        f"{n / seconds:,.0f} img/s, {n / seconds / args.workers:,.0f} per core"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
