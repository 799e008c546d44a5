"""The OCR text-line generator: seeded text lines with exact text and character boxes.

Sample ``i`` at attempt ``a`` draws everything from one NumPy generator keyed by
``(seed, i, a)`` (Philox, counter-based), never from global state. A (text, font) pair the font
cannot draw, or a line whose ink does not stand out from its background, is re-drawn at the
next attempt and counted in the manifest (``generator.stats``): no sample is ever dropped.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from PIL import Image, ImageFilter

from synthc.errors import BuildError
from synthc.generators.base import Column, FileGenerator, Samples, tar_sample_bytes
from synthc.generators.ocr import effects
from synthc.generators.ocr.backgrounds import background
from synthc.generators.ocr.config import OcrConfig
from synthc.generators.ocr.files import resolve_files
from synthc.generators.ocr.layout import (
    draw_horizontal,
    draw_vertical,
    font_at,
    needs_shaping,
)
from synthc.generators.ocr.resources import drawable, font_path
from synthc.generators.ocr.text import sample_text
from synthc.generators.rng import derive_key
from synthc.inputs import Reader

MAX_ATTEMPTS = 1000
#: the text's mean luminance must differ from its surroundings' by at least this much
MIN_CONTRAST = 20.0
PNG_LEVEL = 1
#: image bytes per pixel by format and mode, measured on specs/ocr_lines.yaml's 32 px lines over
#: its mix of backgrounds (PNG RGB 1.59, L 0.69; JPEG at quality 95 RGB 0.70, L 0.58; PNG RGB on
#: plain backgrounds alone 0.90), rounded up: the noisy backgrounds barely compress
_PIXEL_BYTES = {("png", "RGB"): 1.6, ("png", "L"): 0.7, ("jpg", "RGB"): 0.7, ("jpg", "L"): 0.6}
#: a character's advance in line heights, a typical dictionary word's characters (and its
#: space), and the line length assumed for a text file (unknown until it is read)
_ADVANCE_EMS = 0.3
_WORD_CHARS = 7
_FILE_LINE_CHARS = 30
#: bytes of ``<key>.json``: the parameters, and one box per character
_JSON_BYTES = 200
_JSON_BYTES_PER_CHAR = 60


def sample_rng(seed: int, i: int, attempt: int) -> np.random.Generator:
    """The generator of sample ``i``'s attempt ``attempt``: Philox keyed by the seed, counter
    starting at (i, attempt)."""
    k0, k1 = derive_key(seed, "ocr_text")
    key = np.array([(k0 << 32) | k1, attempt], dtype=np.uint64)
    counter = np.array([i, 0, 0, 0], dtype=np.uint64)
    return np.random.Generator(np.random.Philox(key=key, counter=counter))


def parse_color(spec: str, rng: np.random.Generator) -> tuple[int, int, int]:
    """'#rrggbb', or a range '#a,#b' sampled per channel."""
    ends = [_rgb(c) for c in spec.split(",")]
    if len(ends) == 1:
        return ends[0]
    first, second = ends
    r, g, b = (
        int(rng.integers(min(x, y), max(x, y) + 1)) for x, y in zip(first, second, strict=True)
    )
    return r, g, b


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def _uniform(pair: list[float], rng: np.random.Generator) -> float:
    return float(pair[0]) if pair[0] == pair[1] else float(rng.uniform(pair[0], pair[1]))


def drawing_size(config: OcrConfig, path: str) -> int:
    """The font size whose line (ascent + descent, or the widest glyph cell when vertical) is
    about the room inside the margins, so effects run on pixels near their final size."""
    top, left, bottom, right = config.margins
    room = config.size - (left + right if config.orientation == "vertical" else top + bottom)
    ascent, descent = font_at(path, config.size, False).getmetrics()
    return max(4, round(config.size * room / max(1, ascent + descent)))


def _rtl(text: str) -> bool:
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


class OcrGenerator(FileGenerator[OcrConfig]):
    """Text lines drawn with trdg's fonts, labelled with their exact text and boxes."""

    kind: ClassVar[str] = "ocr_text"
    Config: ClassVar[Any] = OcrConfig
    gil_free: ClassVar[bool] = False
    libraries: ClassVar[tuple[str, ...]] = ("trdg", "fonttools")
    file_field: ClassVar[tuple[str | int, ...]] = ("fonts",)

    def resolve_files(self, config: OcrConfig, reader: Reader) -> OcrConfig:
        return resolve_files(config, reader)

    def columns(self, config: OcrConfig) -> list[Column]:
        side = "height" if config.orientation == "horizontal" else "width"
        return [
            Column(
                config.image_format,
                f"image/{'jpeg' if config.image_format == 'jpg' else 'png'}",
                f"{config.image_mode} text line, {config.size} px {side}",
            ),
            Column("txt", "text (UTF-8)", "the exact text, logical order"),
            Column(
                "json",
                "json",
                "text, font, size and every sampled parameter; chars: one box [x0, y0, x1, y1] "
                "per character (spaces included) in image pixels after every effect; line: the "
                "ink box",
            ),
        ]

    def sample_bytes(self, config: OcrConfig) -> float:
        """The image from a typical line's size (its mean character count times an advance,
        or the fixed ``width``) and the measured bytes per pixel; text and boxes per character."""
        text = config.text
        if text.source == "list" and text.items:
            chars = sum(len(item) for item in text.items) / len(text.items)
        elif text.source == "random":
            chars = sum(text.length) / 2
        elif text.source == "dict":
            chars = sum(text.words) / 2 * _WORD_CHARS
        else:
            chars = _FILE_LINE_CHARS
        top, left, bottom, right = config.margins
        along = chars * (_ADVANCE_EMS * config.size + config.character_spacing)
        if config.orientation == "horizontal":
            pixels = (config.width or along + left + right) * config.size
        else:
            pixels = (along + top + bottom) * config.size
        image = pixels * _PIXEL_BYTES[(config.image_format, config.image_mode)]
        return tar_sample_bytes([image, chars, _JSON_BYTES + _JSON_BYTES_PER_CHAR * chars])

    def facts(self, config: OcrConfig, seed: int) -> dict[str, Any]:
        fonts = config.fonts.resolved or []
        return {
            "fonts": [{"name": f["name"], "sha256": f["sha256"]} for f in fonts],
            "text_source": config.text.source,
            "rng": "numpy Philox per sample: key (seed-derived, attempt), counter (i, 0, 0, 0)",
            "boxes": "a character's box spans its advance (pen before to pen after) and the "
            "line's height before effects; effects move box corners with the pixels",
        }

    def generate(self, config: OcrConfig, seed: int, start: int, stop: int) -> Samples:
        stats = {"glyph_resamples": 0, "visibility_resamples": 0}
        return Samples(self._stream(config, seed, start, stop, stats), stats)

    def _stream(
        self, config: OcrConfig, seed: int, start: int, stop: int, stats: dict[str, int]
    ) -> Iterator[tuple[str, dict[str, bytes]]]:
        for i in range(start, stop):
            image, label = self.sample(config, seed, i, stats)
            buffer = io.BytesIO()
            if config.image_format == "jpg":
                image.save(buffer, format="JPEG", quality=config.jpeg_quality)
            else:
                image.save(buffer, format="PNG", compress_level=PNG_LEVEL)
            files = {
                config.image_format: buffer.getvalue(),
                "txt": label["text"].encode("utf-8"),
                "json": json.dumps(label, ensure_ascii=False, separators=(",", ":")).encode(),
            }
            yield (f"{i:012d}", files)

    def sample(
        self, config: OcrConfig, seed: int, i: int, stats: dict[str, int]
    ) -> tuple[Image.Image, dict[str, Any]]:
        """Sample ``i``: its image and label, re-drawn until drawable and visible."""
        fonts = config.fonts.resolved or []
        for attempt in range(MAX_ATTEMPTS):
            rng = sample_rng(seed, i, attempt)
            text = sample_text(config.text, rng)
            font = fonts[int(rng.integers(0, len(fonts)))]
            if not text.strip() or not drawable(text, font):
                stats["glyph_resamples"] += 1
                continue
            image, label, visible = self._render(config, text, font, rng)
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
        self, config: OcrConfig, text: str, font_entry: dict[str, str], rng: np.random.Generator
    ) -> tuple[Image.Image, dict[str, Any], bool]:
        vertical = config.orientation == "vertical"
        path = font_path(font_entry)
        font = font_at(path, drawing_size(config, path), needs_shaping(text))
        color = parse_color(config.text_color, rng)
        stroke_color = parse_color(config.stroke.color, rng)
        if vertical:
            layer, boxes = draw_vertical(
                text, font, color, config.character_spacing, config.stroke.width, stroke_color
            )
        else:
            layer, boxes = draw_horizontal(
                text,
                font,
                color,
                config.character_spacing,
                config.stroke.width,
                stroke_color,
                config.space_width,
            )
        if not vertical and _rtl(text):  # right-to-left runs: logical order runs leftwards
            width = layer.size[0]
            boxes = np.stack(
                [width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], 1
            )
        angle = _uniform(config.skew, rng)
        layer, boxes = effects.rotate(layer, boxes, angle)
        layer, boxes, warp = effects.distort(
            layer, boxes, config.distortion.kind, config.distortion.orientation, rng
        )
        if config.fit:
            layer, boxes = effects.crop_to_ink(layer, boxes)
        layer, boxes = effects.fit_line(layer, boxes, config.size, config.margins, vertical)
        if config.width is not None and not vertical:
            layer, boxes = effects.widen(layer, boxes, config.width, config.alignment)
        kind = config.background.kinds[int(rng.integers(0, len(config.background.kinds)))]
        canvas, back = background(
            kind, layer.size[0], layer.size[1], rng, config.background.resolved or []
        )
        alpha = np.asarray(layer)[:, :, 3]
        visible = _contrast(np.asarray(canvas), np.asarray(layer)) >= MIN_CONTRAST
        image = Image.alpha_composite(canvas.convert("RGBA"), layer).convert("RGB")
        radius = _uniform(config.blur, rng)
        if radius > 0:
            image = image.filter(ImageFilter.GaussianBlur(radius))
        if config.image_mode == "L":
            image = image.convert("L")
        w, h = image.size
        boxes = np.clip(boxes, 0, [w, h, w, h])
        ink = Image.fromarray(alpha).getbbox()
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
            "margins": list(config.margins),
            "image_mode": config.image_mode,
            "chars": [[round(float(v), 2) for v in box] for box in boxes],
            "line": list(ink) if ink else [0, 0, 0, 0],
        }
        return image, label, visible


def _contrast(background: np.ndarray, layer: np.ndarray) -> float:
    """|mean luminance of the text's pixels - mean luminance of the background under them|."""
    mask = layer[:, :, 3] > 128
    if not mask.any():
        return 0.0
    weights = np.array([0.299, 0.587, 0.114])
    text = float((layer[:, :, :3][mask] @ weights).mean())
    under = float((background[mask] @ weights).mean())
    return abs(text - under)


GENERATOR = OcrGenerator()
