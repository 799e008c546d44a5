"""Geometric effects on a text layer, each moving the character boxes and the quadrilaterals
(characters, words, lines) with the pixels: rotation (skew), sine / cosine / random distortion,
and scaling into the line with margins."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from synthc.generators.ocr import kernels
from synthc.generators.ocr.layout import Boxes
from synthc.generators.ocr.regions import Quads


def rotate(
    layer: Image.Image, boxes: Boxes, quads: Quads, degrees: float
) -> tuple[Image.Image, Boxes, Quads]:
    """Rotate counter-clockwise by ``degrees`` (canvas expanded); boxes become the axis-aligned
    boxes of their rotated corners, quadrilaterals turn with the pixels."""
    if degrees == 0:
        return layer, boxes, quads
    w, h = layer.size
    rotated = layer.rotate(degrees, resample=Image.Resampling.BILINEAR, expand=True)
    nw, nh = rotated.size
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    corners = np.stack(
        [boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [0, 3]], boxes[:, [2, 3]]], axis=1
    )  # (n, 4, 2)
    dx, dy = corners[..., 0] - w / 2, corners[..., 1] - h / 2
    # image y points down: a counter-clockwise turn on screen is (x c + y s, -x s + y c)
    x = dx * cos + dy * sin + nw / 2
    y = -dx * sin + dy * cos + nh / 2
    moved = np.stack([x.min(axis=1), y.min(axis=1), x.max(axis=1), y.max(axis=1)], axis=1)
    qx, qy = quads[..., 0] - w / 2, quads[..., 1] - h / 2
    turned = np.stack([qx * cos + qy * sin + nw / 2, -qx * sin + qy * cos + nh / 2], axis=-1)
    return rotated, moved, turned


def distort(
    layer: Image.Image,
    boxes: Boxes,
    quads: Quads,
    kind: str,
    orientation: str,
    rng: np.random.Generator,
) -> tuple[Image.Image, Boxes, Quads, dict[str, float]]:
    """Shift columns up and down (vertical) and/or rows sideways (horizontal) by a sine, cosine
    or random profile; each box grows by the extreme shifts over its own columns or rows, and
    each quadrilateral corner moves with the pixel column (row) it lies on."""
    if kind == "none":
        return layer, boxes, quads, {}
    pixels = np.asarray(layer)
    h, w = pixels.shape[:2]
    params: dict[str, float] = {}
    amplitude = max(1.0, h / 20)  # relative to the line's height, as glyphs are
    if orientation in ("vertical", "both"):
        offsets, params_v = _profile(kind, w, amplitude, rng)
        params.update({f"vertical_{k}": v for k, v in params_v.items()})
        pixels, boxes = _shift(pixels, boxes, offsets, vertical=True)
        quads = _shift_points(quads, offsets, vertical=True)
    if orientation in ("horizontal", "both"):
        h = pixels.shape[0]
        offsets, params_h = _profile(kind, h, amplitude, rng)
        params.update({f"horizontal_{k}": v for k, v in params_h.items()})
        pixels, boxes = _shift(pixels, boxes, offsets, vertical=False)
        quads = _shift_points(quads, offsets, vertical=False)
    return Image.fromarray(pixels, "RGBA"), boxes, quads, params


def _shift_points(quads: Quads, offsets: np.ndarray, vertical: bool) -> Quads:
    """Each corner moved as the pixel column (row) just inside its edge: y += offsets[x]
    (vertical), or x += offsets[y]. A quadrilateral's far corners (right ones when vertical,
    bottom ones otherwise) sit on the edge after their last column (row), so they take that
    last column's (row's) shift, as the box does."""
    if not offsets.size:
        return quads
    along, across = (0, 1) if vertical else (1, 0)
    far = [1, 2] if vertical else [2, 3]
    position = quads[..., along]
    index = np.floor(position)
    index[:, far] = np.ceil(position[:, far]) - 1
    index = np.clip(index, 0, offsets.size - 1).astype(np.int64)
    moved = quads.copy()
    moved[..., across] += offsets[index]
    return moved


def _profile(
    kind: str, length: int, amplitude: float, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, float]]:
    t = np.arange(length, dtype=np.float64)
    if kind == "random":
        return np.rint(rng.uniform(0, amplitude, size=length)).astype(np.int64), {
            "amplitude": amplitude
        }
    period = float(rng.uniform(0.5, 2.0)) * max(length, 1) / (2 * math.pi)
    wave = np.sin(t / period) if kind == "sine" else np.cos(t / period)
    return np.rint(amplitude * (wave + 1) / 2).astype(np.int64), {
        "amplitude": amplitude,
        "period": period,
    }


def _shift(
    pixels: np.ndarray, boxes: Boxes, offsets: np.ndarray, vertical: bool
) -> tuple[np.ndarray, Boxes]:
    """Move column x down by offsets[x] (vertical) or row y right by offsets[y]; the canvas
    grows by the largest offset and each box by the extreme offsets over its columns or rows."""
    h, w = pixels.shape[:2]
    grow = int(offsets.max()) if offsets.size else 0
    if vertical:
        out = np.zeros((h + grow, w, pixels.shape[2]), dtype=np.uint8)
        kernels.shift_columns(np.ascontiguousarray(pixels), offsets, out)
        lo_i, hi_i, along, across = 0, 2, w, (1, 3)
    else:
        out = np.zeros((h, w + grow, pixels.shape[2]), dtype=np.uint8)
        kernels.shift_rows(np.ascontiguousarray(pixels), offsets, out)
        lo_i, hi_i, along, across = 1, 3, h, (0, 2)
    # each box's columns (rows): [floor(lo), ceil(hi)) clipped, at least one
    lo = np.clip(np.floor(boxes[:, lo_i]), 0, along - 1).astype(np.int64)
    hi = np.clip(np.ceil(boxes[:, hi_i]), lo + 1, along).astype(np.int64)
    index = np.arange(along)[None, :]
    inside = (index >= lo[:, None]) & (index < hi[:, None])
    moved = boxes.copy()
    moved[:, across[0]] += np.where(inside, offsets[None, :], grow).min(axis=1)
    moved[:, across[1]] += np.where(inside, offsets[None, :], 0).max(axis=1)
    return out, moved


def fit_line(
    layer: Image.Image,
    boxes: Boxes,
    quads: Quads,
    size: int,
    margins: list[int],
    vertical: bool,
    lines: float = 1.0,
) -> tuple[Image.Image, Boxes, Quads]:
    """Scale the layer so the line's height (width, if vertical) is ``size`` minus margins, then
    place it on a transparent canvas with the margins around it. A paragraph's layer, ``lines``
    line heights tall before effects, is scaled to ``lines`` times that height."""
    top, left, bottom, right = margins
    w, h = layer.size
    if vertical:
        target = max(1, size - left - right)
        scale = target / w
        new = (target, max(1, round(h * scale)))
    else:
        target = max(1, round((size - top - bottom) * lines))
        scale = target / h
        new = (max(1, round(w * scale)), target)
    sx, sy = new[0] / w, new[1] / h
    scaled = layer.resize(new, Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (new[0] + left + right, new[1] + top + bottom), (0, 0, 0, 0))
    canvas.paste(scaled, (left, top))
    moved = boxes * np.array([sx, sy, sx, sy]) + np.array([left, top, left, top])
    return canvas, moved, quads * np.array([sx, sy]) + np.array([left, top])


def crop_to_ink(layer: Image.Image, boxes: Boxes, quads: Quads) -> tuple[Image.Image, Boxes, Quads]:
    """Crop tightly around the ink (trdg's ``fit``); boxes move with it and stay inside,
    quadrilaterals move with it."""
    bbox = layer.getchannel("A").getbbox()
    if bbox is None:
        return layer, boxes, quads
    x0, y0, x1, y1 = bbox
    moved = boxes - np.array([x0, y0, x0, y0], dtype=np.float64)
    moved = np.clip(moved, 0, [x1 - x0, y1 - y0, x1 - x0, y1 - y0])
    return layer.crop(bbox), moved, quads - np.array([x0, y0], dtype=np.float64)


def widen(
    layer: Image.Image, boxes: Boxes, quads: Quads, width: int, alignment: str
) -> tuple[Image.Image, Boxes, Quads]:
    """Place the line in a canvas at least ``width`` wide, left, centred or right."""
    w, h = layer.size
    if width <= w:
        return layer, boxes, quads
    shift = {"left": 0, "center": (width - w) // 2, "right": width - w}[alignment]
    canvas = Image.new("RGBA", (width, h), (0, 0, 0, 0))
    canvas.paste(layer, (shift, 0))
    return (
        canvas,
        boxes + np.array([shift, 0, shift, 0], dtype=np.float64),
        quads + np.array([shift, 0], dtype=np.float64),
    )
