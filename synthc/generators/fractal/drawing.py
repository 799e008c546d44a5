"""The fractal generator's kernel side: classes of IFS systems rendered by the chaos game, with
exact labels (NumPy and Numba; the config side is ``generator.py``).

Sample ``i`` shows class ``c = i % classes``, instance ``n = i // classes``, so every split holds
every class. With ``multi``, that class is the image's first and largest fractal; the others are
drawn at random.

Datasets nest: every random draw of an image comes from its image id ``2**20 n + c``
(:func:`image_id`), never from ``i`` or the class and instance counts, so image ``(c, n)`` is the
same, byte for byte, in every dataset of the same seed and settings that holds it (more classes,
more instances, other splits or shard sizes; a fresh epoch continues the instances). Per-image
choices (flip, jitter, colours, background, placement) come from Philox key ``fractal/instance``
at counter ``(image id, block)``; the chaos game of the image's ``k``-th fractal from key
``fractal/render`` at counter ``(image id, k)``. One exception: with ``multi``, the classes of the
fractals after the first are drawn from all ``classes``, so they change when classes are added.
"""

from __future__ import annotations

import colorsys
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthc.errors import BuildError
from synthc.generators.base import Samples
from synthc.generators.fractal import kernels
from synthc.generators.fractal.catalog import maps_to_json
from synthc.generators.fractal.config import FractalConfig
from synthc.generators.fractal.systems import (
    Search,
    System,
    class_system,
    given_problems,
    jittered,
)
from synthc.generators.rng import derive_key

#: low bits of an image id that hold its class (classes <= 1,000,000 < 2**20); the instance is
#: below MAX_SAMPLES = 10**12 < 2**44, so the id fits in Philox's 64-bit index
CLASS_BITS = 20
#: pixels rendered per batch: enough images to amortise a kernel call, few enough that a
#: shard of 4096 px images holds two of them, not a hundred
BATCH_BYTES = 64 << 20
CATALOG_FILE = "catalog.json"
_MODES = {
    "binary": kernels.MODE_BINARY,
    "density": kernels.MODE_DENSITY,
    "patch": kernels.MODE_PATCH,
}
#: the guarantee, as the manifest's facts state it
NESTING = (
    "image (class c, instance n) draws every random number from its image id 2**20 n + c alone: "
    "a dataset of the same seed and settings with more classes or instances holds this one's "
    "images byte for byte, wherever its splits put them"
)
MULTI_NESTING = "; multi: the classes of the fractals after the first are drawn from all classes"
_searches: dict[str, Search] = {}
_lock = threading.Lock()


def search_for(config: FractalConfig, seed: int) -> Search:
    """The per-process cache of class systems for ``(config.system, seed)``."""
    key = f"{seed}:{config.system.model_dump_json()}"
    with _lock:
        if key not in _searches:
            _searches.clear()
            _searches[key] = Search()
        return _searches[key]


def image_of(config: FractalConfig, i: int) -> tuple[int, int]:
    """Sample ``i``'s ``(class, instance)``: ``(i % classes, i // classes)``."""
    return i % config.classes, i // config.classes


def image_id(cls: int, instance: int) -> int:
    """The Philox index of image ``(cls, instance)``: ``2**20 instance + cls``, whatever the
    dataset's class and instance counts (so datasets that share an image draw it alike)."""
    if not (0 <= cls < 1 << CLASS_BITS and 0 <= instance < 1 << (64 - CLASS_BITS)):
        raise BuildError(f"image (class {cls}, instance {instance}) has no 64-bit image id")
    return (instance << CLASS_BITS) | cls


def base_system(config: FractalConfig, seed: int, k: int, search: Search | None = None) -> System:
    """Class ``k``'s system: from the catalog if the spec has one, else sampled (into
    ``search``, by default this process's cache for the config)."""
    if config.system.systems is not None:
        return System.from_json(config.system.systems[k].model_dump())
    return class_system(config.system, seed, k, search or search_for(config, seed))


@dataclass
class _Draw:
    """One fractal to render into an image: its class's system (``base``) and, after jitter,
    the one drawn (``system``)."""

    cls: int
    base: System
    system: System
    box: list[int]
    flip: bool
    jitter: dict[str, Any] | None
    colors: np.ndarray | None = None
    patch: np.ndarray = field(default_factory=lambda: np.ones((3, 3)))


def given_system_problems(
    maps: list[list[list[float]]], probabilities: list[float]
) -> list[tuple[tuple[str | int, ...], str]]:
    """What keeps a system a spec or catalog gives from being drawn (systems.given_problems),
    for files.py, which reaches the kernel side only when a spec gives systems."""
    return given_problems(maps, probabilities)


def extra_files(config: FractalConfig, seed: int) -> dict[str, bytes]:
    """catalog.json: every class's base system, importable as ``system.catalog``."""
    systems = [base_system(config, seed, k).to_json() for k in range(config.classes)]
    catalog = {"format": "synthc-fractal-catalog/1", "classes": systems}
    return {CATALOG_FILE: json.dumps(catalog, separators=(",", ":"), allow_nan=False).encode()}


def facts(config: FractalConfig, seed: int) -> dict[str, Any]:
    """The manifest's generator facts: the sampler, its rejections, how images nest."""
    for k in range(config.classes):  # the search fills the rejection counts
        base_system(config, seed, k)
    search = search_for(config, seed)
    return {
        "catalog_file": CATALOG_FILE,
        "classes": config.classes,
        "sampler": "catalog" if config.system.systems is not None else config.system.sampler,
        "rejections": dict(sorted(search.rejections.items())),
        "class_of_sample": "i % classes",
        "instance_of_sample": "i // classes",
        "nesting": NESTING + (MULTI_NESTING if config.multi is not None else ""),
        "window": "pixel (px, py) of an S-pixel image covers x in [x0 + px*side/S, "
        "x0 + (px+1)*side/S), y in [y0 + side - (py+1)*side/S, y0 + side - py*side/S), "
        "before a flip (px -> S-1-px)",
    }


def generate(config: FractalConfig, seed: int, start: int, stop: int) -> Samples:
    """Samples ``[start, stop)``, rendered a batch at a time as they are read."""
    return Samples(_stream(config, seed, start, stop))


def _stream(
    config: FractalConfig, seed: int, start: int, stop: int
) -> Iterator[tuple[str, dict[str, bytes]]]:
    # Rendered a batch at a time: a shard of large images never sits in memory whole.
    step = batch_images(config)
    for first in range(start, stop, step):
        images, labels = render(config, seed, first, min(first + step, stop))
        for offset, label in enumerate(labels):
            files = {
                "png": encode_png(images[offset], config),
                "json": json.dumps(label, separators=(",", ":"), allow_nan=False).encode(),
                "cls": str(label["class"]).encode(),
            }
            yield (f"{first + offset:012d}", files)
        del images


def render(
    config: FractalConfig, seed: int, start: int, stop: int
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Images ``[start, stop)`` as an (n, S, S, C) uint8 array, and their labels."""
    size = config.render.size
    channels = 3 if config.render.color else 1
    n = stop - start
    images = np.zeros((n, size, size, channels), dtype=np.uint8)
    k0, k1 = derive_key(seed, "fractal/instance")
    search = search_for(config, seed)  # once per batch, not per image
    pairs = [image_of(config, i) for i in range(start, stop)]
    ids = [image_id(c, instance) for c, instance in pairs]
    plans = [_plan(config, seed, ids[j], pairs[j][0], (k0, k1), search) for j in range(n)]
    labels = [
        _background(config, images[j], start + j, pairs[j][1], ids[j], plan, k0, k1)
        for j, plan in enumerate(plans)
    ]
    _render_draws(config, seed, ids, plans, images, labels)
    return images, labels


def compile_late(config: FractalConfig) -> None:
    """Compile (or load) the render kernels of ``config``'s mode, then its plasma background's:
    the kernels a build calls last, after the system search's (for compile_ahead)."""
    kernels.compile_render(_MODES[config.render.mode], 3 if config.render.color else 1)
    if config.render.background == "plasma":
        kernels.compile_plasma()


def _plan(
    config: FractalConfig,
    seed: int,
    ident: int,
    primary: int,
    key: tuple[int, int],
    search: Search,
) -> list[_Draw]:
    """The fractals of image ``ident`` (class ``primary``), drawn from ``ident`` alone but
    for the classes of multi images' other fractals."""
    k0, k1 = key
    u = kernels.uniforms(ident, 0, 8, 0, k0, k1)
    size = config.render.size
    if config.multi is None:
        return [_draw(config, seed, ident, 0, primary, [0, 0, size, size], key, search)]
    low, high = config.multi.per_image
    count = low + min(int(u[0] * (high - low + 1)), high - low)
    draws = []
    smin, smax = config.multi.scale
    v = kernels.uniforms(ident, 8, 4 * count, 0, k0, k1)
    sides = sorted((smin + (smax - smin) * v[4 * j] for j in range(count)), reverse=True)
    for j in range(count):
        side = max(4, int(sides[j] * size))
        x0 = int(v[4 * j + 1] * (size - side + 1))
        y0 = int(v[4 * j + 2] * (size - side + 1))
        cls = primary if j == 0 else min(int(v[4 * j + 3] * config.classes), config.classes - 1)
        box = [x0, y0, x0 + side, y0 + side]
        draws.append(_draw(config, seed, ident, j, cls, box, key, search))
    return draws


def _draw(
    config: FractalConfig,
    seed: int,
    ident: int,
    j: int,
    cls: int,
    box: list[int],
    key: tuple[int, int],
    search: Search,
) -> _Draw:
    k0, k1 = key
    u = kernels.uniforms(ident, 1000 + 100 * j, 16, 0, k0, k1)
    base = base_system(config, seed, cls, search)
    flip = config.instance.flip and u[0] < 0.5
    jitter = None
    system = base
    if config.instance.jitter is not None:
        m = base.maps.shape[0]
        which = min(int(u[1] * m), m - 1)
        low, high = config.instance.jitter
        factor = low + (high - low) * u[2]
        system = jittered(base, factor, which)
        jitter = {"map": which, "factor": factor}
    draw = _Draw(cls, base, system, box, flip, jitter)
    m = system.maps.shape[0]
    if config.render.color == "map":
        hues = kernels.uniforms(ident, 1050 + 100 * j, m, 0, k0, k1)
        draw.colors = np.array([_hue(h) for h in hues], dtype=np.uint8)
    elif config.render.color == "random":
        draw.colors = np.array([_hue(u[3])] * m, dtype=np.uint8)
    if config.render.mode == "patch":
        draw.patch = kernels.uniforms(ident, 1080 + 100 * j, 9, 0, k0, k1).reshape(3, 3)
        draw.patch[1, 1] = 1.0
    return draw


def _background(
    config: FractalConfig,
    image: np.ndarray,
    i: int,
    instance: int,
    ident: int,
    draws: list[_Draw],
    k0: int,
    k1: int,
) -> dict[str, Any]:
    """Paint image ``ident``'s background; its label (sample ``i``) without the fractals."""
    kind = config.render.background
    background: dict[str, Any] = {"kind": kind}
    channels = image.shape[2]
    u = kernels.uniforms(ident, 900, 8, 0, k0, k1)
    if kind == "uniform":
        color = [int(255 * u[c]) for c in range(channels)]
        image[:] = np.array(color, dtype=np.uint8)
        background["color"] = color
    elif kind == "plasma":
        roughness = 0.4 + 0.4 * u[0]
        low = np.array([int(160 * u[1 + c]) for c in range(channels)], dtype=np.float64)
        high = np.array([int(160 * u[4 + c]) for c in range(channels)], dtype=np.float64)
        kernels.plasma(roughness, low, high, ident, k0, k1, image)  # Philox stream BACKGROUND
        background.update(
            roughness=roughness, low=low.astype(int).tolist(), high=high.astype(int).tolist()
        )
    first = draws[0]
    label: dict[str, Any] = {
        "index": i,
        "class": first.cls,
        "instance": instance,
        "size": config.render.size,
        "mode": config.render.mode,
        "points": config.render.points,
        "background": background,
    }
    return label


def _render_draws(
    config: FractalConfig,
    seed: int,
    ids: list[int],
    plans: list[list[_Draw]],
    images: np.ndarray,
    labels: list[dict[str, Any]],
) -> None:
    flat = [(j, k, d) for j, plan in enumerate(plans) for k, d in enumerate(plan)]
    windows = _kernel(config, seed, ids, flat, images)
    broken = [f for f, w in zip(flat, windows, strict=True) if w[2] <= 0]
    if broken:  # a jitter that broke the orbit: render the class's own system instead
        for _, _, d in broken:
            d.system, d.jitter = d.base, None
        again = _kernel(config, seed, ids, broken, images)
        fixed = {id(f[2]): w for f, w in zip(broken, again, strict=True)}
        windows = np.array([fixed.get(id(f[2]), w) for f, w in zip(flat, windows, strict=True)])
    for (j, _, d), w in zip(flat, windows, strict=True):
        entry = {
            "class": d.cls,
            "maps": maps_to_json(d.system.maps),
            "probabilities": d.system.probabilities.tolist(),
            "window": [float(w[0]), float(w[1]), float(w[2])],
            "flip": bool(d.flip),
            "jitter": d.jitter,
            "colors": d.colors.tolist() if d.colors is not None else None,
            "box": list(d.box),
        }
        if config.render.mode == "patch":
            entry["patch"] = d.patch.tolist()
        if config.multi is None:
            labels[j].update(entry)
        else:
            labels[j].setdefault("fractals", []).append(entry)


def _kernel(
    config: FractalConfig,
    seed: int,
    ids: list[int],
    flat: list[tuple[int, int, _Draw]],
    images: np.ndarray,
) -> np.ndarray:
    d_count = len(flat)
    draw_image = np.array([j for j, _, _ in flat], dtype=np.int64)
    draw_index = np.array([ids[j] for j, _, _ in flat], dtype=np.int64)
    draw_block = np.array([k for _, k, _ in flat], dtype=np.int64)
    sizes = [d.system.maps.shape[0] for _, _, d in flat]
    map_start = np.zeros(d_count + 1, dtype=np.int64)
    map_start[1:] = np.cumsum(sizes)
    maps = np.concatenate([d.system.maps for _, _, d in flat]) if flat else np.zeros((0, 6))
    cum = np.concatenate(
        [kernels.cumulative_thresholds(d.system.probabilities) for _, _, d in flat]
    )
    colors = np.concatenate(
        [
            d.colors if d.colors is not None else np.full((len(d.system.maps), 3), 255, np.uint8)
            for _, _, d in flat
        ]
    )
    boxes = np.array([d.box for _, _, d in flat], dtype=np.int64).reshape(d_count, 4)
    flips = np.array([d.flip for _, _, d in flat], dtype=np.bool_)
    patches = np.array([d.patch for _, _, d in flat], dtype=np.float64).reshape(d_count, 3, 3)
    windows = np.zeros((d_count, 3))
    k0, k1 = derive_key(seed, "fractal/render")
    kernels.render(
        draw_image,
        draw_index,
        draw_block,
        map_start,
        np.ascontiguousarray(maps),
        cum,
        np.ascontiguousarray(colors),
        boxes,
        flips,
        patches,
        _MODES[config.render.mode],
        config.render.points,
        k0,
        k1,
        images,
        windows,
    )
    return windows


def image_bytes(config: FractalConfig) -> int:
    """Bytes of one rendered image before encoding."""
    return config.render.size**2 * (3 if config.render.color else 1)


def batch_images(config: FractalConfig) -> int:
    """Images rendered per kernel call: BATCH_BYTES of pixels, at least one image."""
    return max(1, BATCH_BYTES // image_bytes(config))


def _hue(h: float) -> list[int]:
    r, g, b = colorsys.hsv_to_rgb(h, 1.0, 1.0)
    return [int(255 * r), int(255 * g), int(255 * b)]


def encode_png(image: np.ndarray, config: FractalConfig) -> bytes:
    """One image as PNG at the spec's zlib level (1-bit for binary images when asked)."""
    from PIL import Image

    png = config.render.png
    if image.shape[2] == 1:
        plain = image[:, :, 0]
        binary = config.render.mode == "binary" and config.render.background == "black"
        pil = (
            Image.fromarray(plain > 127)
            if binary and png.binary == "1bit"
            else Image.fromarray(plain, "L")
        )
    else:
        pil = Image.fromarray(image, "RGB")
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG", compress_level=png.level)
    return buffer.getvalue()
