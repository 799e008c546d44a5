"""Backgrounds of text lines (trdg's four kinds), drawn with the sample's own generator."""

from __future__ import annotations

import functools
import math

import numpy as np
from PIL import Image

from synthc import inputs, limits
from synthc.generators.ocr.images import decode_image
from synthc.generators.ocr.legibility import NOISE_MEAN, NOISE_STD, QUASI_BASE, QUASI_SPAN, WHITE


def background(
    kind: str, width: int, height: int, rng: np.random.Generator, images: list[dict[str, str]]
) -> tuple[Image.Image, dict[str, object]]:
    """An RGB background and the parameters that made it (its levels: legibility.py)."""
    if kind == "plain":
        return Image.new("RGB", (width, height), (WHITE, WHITE, WHITE)), {"kind": kind}
    if kind == "gaussian_noise":
        noise = rng.normal(NOISE_MEAN, NOISE_STD, size=(height, width))
        gray = np.clip(noise, 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2), "RGB"), {
            "kind": kind,
            "mean": int(NOISE_MEAN),
            "std": int(NOISE_STD),
        }
    if kind == "quasicrystal":
        return _quasicrystal(width, height, rng)
    entry = images[int(rng.integers(0, len(images)))]
    picture = _image(entry["root"], entry["file"], entry["sha256"])
    scale = max(width / picture.width, height / picture.height, 1.0)
    size = (picture.width, picture.height)
    if scale > 1.0:
        size = (math.ceil(picture.width * scale), math.ceil(picture.height * scale))
    x = int(rng.integers(0, size[0] - width + 1))
    y = int(rng.integers(0, size[1] - height + 1))
    box = (x, y, x + width, y + height)
    meta: dict[str, object] = {"kind": "image", "image": entry["name"], "crop": list(box)}
    if size[0] * size[1] * 3 > limits.MAX_SAMPLE_BYTES:
        # A line far wider than the picture (a 100,000 px line scaled a 960 x 640 picture to
        # 100,000 x 66,667 px, 20 GB): only the crop is resized from the picture's matching
        # box. Below the limit the whole picture is scaled and cropped, as always (the two
        # differ in resampling by a few levels, and a dataset's bytes must not change).
        sx, sy = size[0] / picture.width, size[1] / picture.height
        where = (x / sx, y / sy, (x + width) / sx, (y + height) / sy)
        return picture.resize((width, height), box=where), meta
    if scale > 1.0:
        picture = picture.resize(size)
    return picture.crop(box), meta


@functools.lru_cache(maxsize=16)
def _image(root: str, file: str, sha256: str) -> Image.Image:
    entry = {"root": root, "file": file, "sha256": sha256}
    data = inputs.read_regular(inputs.locate(entry, "image"), "image", file)
    return decode_image(data, file)


def _quasicrystal(
    width: int, height: int, rng: np.random.Generator
) -> tuple[Image.Image, dict[str, object]]:
    """A sum of plane waves at evenly turned angles (vectorised; trdg loops per pixel)."""
    frequency = float(rng.uniform(0.05, 0.15)) * 2 * math.pi
    phase = float(rng.uniform(0, 2 * math.pi))
    rotations = int(rng.integers(2, 8))
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    total = np.zeros((height, width))
    for r in range(rotations):
        angle = math.pi * r / rotations
        total += np.cos((x * math.cos(angle) + y * math.sin(angle)) * frequency + phase)
    level = (np.cos(total * math.pi / 2) + 1) / 2  # fold into [0, 1]
    gray = (QUASI_BASE + QUASI_SPAN * level).astype(np.uint8)
    return Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2), "RGB"), {
        "kind": "quasicrystal",
        "frequency": frequency,
        "phase": phase,
        "rotations": rotations,
    }
