"""The OCR text-line generator's kernel side: seeded text lines (or paragraphs of them) drawn
with exact text, character, word and line boxes and quadrilaterals (NumPy and Pillow; the
generator's config side is ``generator.py``).

Sample ``i`` at attempt ``a`` draws everything from one NumPy generator keyed by
``(seed, i, a)`` (Philox, counter-based), never from global state. A (text, font) pair the font
cannot draw, or a line whose ink contrasts with the background under it less than
``min_contrast`` (WCAG 2.x ratio, :mod:`synthc.generators.ocr.contrast`), is re-drawn at the
next attempt and counted in the manifest (``generator.stats``): no sample is ever dropped.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Iterator
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from synthc.errors import BuildError
from synthc.generators.base import Samples
from synthc.generators.ocr import effects
from synthc.generators.ocr.backgrounds import background
from synthc.generators.ocr.config import MAX_ATTEMPTS, OcrConfig
from synthc.generators.ocr.contrast import ink_mask, line_contrast
from synthc.generators.ocr.layout import draw_horizontal, draw_vertical, font_at
from synthc.generators.ocr.legibility import colour_ends
from synthc.generators.ocr.paragraph import paragraph
from synthc.generators.ocr.regions import corners, rounded, union, word_ranges
from synthc.generators.ocr.resources import drawable, fitted_size, font_path
from synthc.generators.ocr.shaping import needs_shaping
from synthc.generators.ocr.text import sample_text
from synthc.generators.rng import derive_key

PNG_LEVEL = 1


def sample_rng(seed: int, i: int, attempt: int) -> np.random.Generator:
    """The generator of sample ``i``'s attempt ``attempt``: Philox keyed by the seed, counter
    starting at (i, attempt)."""
    k0, k1 = derive_key(seed, "ocr_text")
    key = np.array([(k0 << 32) | k1, attempt], dtype=np.uint64)
    counter = np.array([i, 0, 0, 0], dtype=np.uint64)
    return np.random.Generator(np.random.Philox(key=key, counter=counter))


def parse_color(spec: str, rng: np.random.Generator) -> tuple[int, int, int]:
    """'#rrggbb', or a range '#a,#b' sampled per channel."""
    ends = colour_ends(spec)
    if len(ends) == 1:
        return ends[0]
    first, second = ends
    r, g, b = (
        int(rng.integers(min(x, y), max(x, y) + 1)) for x, y in zip(first, second, strict=True)
    )
    return r, g, b


def _uniform(pair: list[float], rng: np.random.Generator) -> float:
    return float(pair[0]) if pair[0] == pair[1] else float(rng.uniform(pair[0], pair[1]))


def drawing_size(config: OcrConfig, path: str) -> int:
    """The font size whose line (ascent + descent, or the widest glyph cell when vertical) is
    about the room inside the margins, so effects run on pixels near their final size."""
    top, left, bottom, right = config.margins
    room = config.size - (left + right if config.orientation == "vertical" else top + bottom)
    ascent, descent = font_at(path, config.size, False).getmetrics()
    return fitted_size(config.size, room, ascent + descent)


def _rtl(text: str) -> bool:
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def generate(config: OcrConfig, seed: int, start: int, stop: int) -> Samples:
    stats = {"glyph_resamples": 0, "visibility_resamples": 0}
    return Samples(_stream(config, seed, start, stop, stats), stats)


def _stream(
    config: OcrConfig, seed: int, start: int, stop: int, stats: dict[str, int]
) -> Iterator[tuple[str, dict[str, bytes]]]:
    for i in range(start, stop):
        image, label = sample(config, seed, i, stats)
        buffer = io.BytesIO()
        if config.image_format == "jpg":
            image.save(buffer, format="JPEG", quality=config.jpeg_quality)
        else:
            image.save(buffer, format="PNG", compress_level=PNG_LEVEL)
        files = {
            config.image_format: buffer.getvalue(),
            "txt": label["text"].encode("utf-8"),
            "json": json.dumps(
                label, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode(),
        }
        yield (f"{i:012d}", files)


def sample(
    config: OcrConfig, seed: int, i: int, stats: dict[str, int]
) -> tuple[Image.Image, dict[str, Any]]:
    """Sample ``i``: its image and label, re-drawn until drawable and legible."""
    fonts = config.fonts.resolved or []
    low, high = config.lines
    for attempt in range(MAX_ATTEMPTS):
        rng = sample_rng(seed, i, attempt)
        count = low if low == high else int(rng.integers(low, high + 1))
        texts = [sample_text(config.text, rng) for _ in range(count)]
        font = fonts[int(rng.integers(0, len(fonts)))]
        if not all(t.strip() and drawable(t, font) for t in texts):
            stats["glyph_resamples"] += 1
            continue
        image, label, visible = _render(config, texts, font, rng)
        if not visible:
            stats["visibility_resamples"] += 1
            continue
        label["attempt"] = attempt
        return image, label
    raise BuildError(
        f"generator.text: sample {i}: no drawable, visible line in {MAX_ATTEMPTS:,} attempts "
        f"(re-drawn so far in this shard: {stats['glyph_resamples']:,} for glyphs no font "
        f"has, {stats['visibility_resamples']:,} for too little contrast or a line too long "
        "to read at this size and skew)"
    )


def _render(
    config: OcrConfig,
    texts: list[str],
    font_entry: dict[str, str],
    rng: np.random.Generator,
) -> tuple[Image.Image, dict[str, Any], bool]:
    vertical = config.orientation == "vertical"
    path = font_path(font_entry)
    font = font_at(path, drawing_size(config, path), any(needs_shaping(t) for t in texts))
    color = parse_color(config.text_color, rng)
    stroke_color = parse_color(config.stroke.color, rng)
    drawn = [_draw_line(config, text, font, color, stroke_color, vertical) for text in texts]
    layer, boxes, spans, stacked = paragraph(
        drawn, config.line_spacing, config.line_alignment, [_rtl(t) for t in texts]
    )
    text = "\n".join(texts)
    words = word_ranges(text)
    rects = np.array(
        [
            *boxes,
            *(union(boxes[a:b]) for a, b in words),
            *(union(boxes[a:b]) for a, b in spans),
        ],
        dtype=np.float64,
    ).reshape(-1, 4)
    quads = corners(np.concatenate([rects, [union(rects[len(rects) - len(spans) :])]]))
    angle = _uniform(config.skew, rng)
    layer, boxes, quads = effects.rotate(layer, boxes, quads, angle)
    layer, boxes, quads, warp = effects.distort(
        layer, boxes, quads, config.distortion.kind, config.distortion.orientation, rng
    )
    if config.fit:
        layer, boxes, quads = effects.crop_to_ink(layer, boxes, quads)
    layer, boxes, quads = effects.fit_line(
        layer, boxes, quads, config.size, config.margins, vertical, stacked
    )
    if config.width is not None and not vertical:
        layer, boxes, quads = effects.widen(layer, boxes, quads, config.width, config.alignment)
    kind = config.background.kinds[int(rng.integers(0, len(config.background.kinds)))]
    canvas, back = background(
        kind, layer.size[0], layer.size[1], rng, config.background.resolved or []
    )
    alpha = np.asarray(layer)[:, :, 3]
    image = Image.alpha_composite(canvas.convert("RGBA"), layer).convert("RGB")
    radius = _uniform(config.blur, rng)
    if radius > 0:
        image = image.filter(ImageFilter.GaussianBlur(radius))
        canvas = canvas.filter(ImageFilter.GaussianBlur(radius))
    contrasts = _line_contrasts(np.asarray(canvas), np.asarray(image), alpha, quads, spans)
    contrast = min(contrasts)
    if config.image_mode == "L":
        image = image.convert("L")
    w, h = image.size
    boxes = np.clip(boxes, 0, [w, h, w, h])
    quads = np.clip(quads, 0, [w, h])
    ink = Image.fromarray(alpha).getbbox()
    n, m = len(text), len(words)
    polygons = rounded(quads)
    label = {
        "text": text,
        "font": font_entry["name"],
        "size": config.size,
        "orientation": config.orientation,
        "width": w,
        "height": h,
        "color": list(color),
        "stroke": {"width": config.stroke.width, "color": list(stroke_color)},
        "character_spacing": config.character_spacing,
        "space_width": config.space_width,
        "skew": angle,
        "blur": radius,
        "distortion": {
            "kind": config.distortion.kind,
            "orientation": config.distortion.orientation,
            **warp,
        },
        "background": back,
        "contrast": round(contrast, 2),
        "margins": list(config.margins),
        "image_mode": config.image_mode,
        "chars": [[round(float(v), 2) for v in box] for box in boxes],
        "char_polygons": polygons[:n],
        "words": [
            {
                "text": text[a:b],
                "chars": [a, b],
                "box": _box(boxes[a:b]),
                "polygon": polygons[n + k],
            }
            for k, (a, b) in enumerate(words)
        ],
        "lines": [
            {
                "text": texts[k],
                "order": k,
                "chars": [a, b],
                "box": _box(boxes[a:b]),
                "polygon": polygons[n + m + k],
                "contrast": round(contrasts[k], 2),
            }
            for k, (a, b) in enumerate(spans)
        ],
        "line": list(ink) if ink else [0, 0, 0, 0],
        "line_polygon": polygons[-1],
    }
    return image, label, contrast >= config.min_contrast


def _draw_line(
    config: OcrConfig,
    text: str,
    font: ImageFont.FreeTypeFont,
    color: tuple[int, int, int],
    stroke_color: tuple[int, int, int],
    vertical: bool,
) -> tuple[Image.Image, np.ndarray]:
    """One line on its own transparent layer, with its character boxes in logical order."""
    if vertical:
        return draw_vertical(
            text, font, color, config.character_spacing, config.stroke.width, stroke_color
        )
    layer, boxes = draw_horizontal(
        text,
        font,
        color,
        config.character_spacing,
        config.stroke.width,
        stroke_color,
        config.space_width,
    )
    if _rtl(text):  # right-to-left runs: logical order runs leftwards
        width = layer.size[0]
        boxes = np.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], 1)
    return layer, boxes


def _line_contrasts(
    canvas: np.ndarray,
    image: np.ndarray,
    alpha: np.ndarray,
    quads: np.ndarray,
    spans: list[tuple[int, int]],
) -> list[float]:
    """Each line's contrast (contrast.py): one line's over all the ink; a paragraph line's over
    the ink inside its polygon (the last ``len(spans) + 1`` quads are the lines' and the
    block's), so every line of a paragraph must be legible, not the paragraph on average."""
    if len(spans) == 1:
        return [line_contrast(canvas, image, ink_mask(alpha))]
    out = []
    for quad in quads[-len(spans) - 1 : -1]:
        inside = Image.new("1", (alpha.shape[1], alpha.shape[0]), 0)
        ImageDraw.Draw(inside).polygon([(float(x), float(y)) for x, y in quad], fill=1)
        covered = np.where(np.asarray(inside, dtype=bool), alpha, 0)
        out.append(line_contrast(canvas, image, ink_mask(covered)))
    return out


def _box(boxes: np.ndarray) -> list[float]:
    return [round(v, 2) for v in union(boxes)]
