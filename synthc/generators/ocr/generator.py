"""The OCR text-line generator: its declarations, schema, size estimate and facts (the config
side, which imports no NumPy); its samples are drawn by the kernel side (``drawing.py``),
imported when it first draws."""

from __future__ import annotations

from typing import Any, ClassVar

from synthc import generators
from synthc.generators.base import Column, FileGenerator, Samples, tar_sample_bytes
from synthc.generators.ocr.config import OcrConfig
from synthc.generators.ocr.files import resolve_files
from synthc.inputs import Reader

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


class OcrGenerator(FileGenerator[OcrConfig]):
    """Text lines drawn with trdg's fonts, labelled with their exact text and boxes."""

    kind: ClassVar[str] = "ocr_text"
    Config: ClassVar[Any] = OcrConfig
    gil_free: ClassVar[bool] = False
    libraries: ClassVar[tuple[str, ...]] = ("trdg", "fonttools")
    file_field: ClassVar[tuple[str | int, ...]] = ("fonts",)
    #: drawing.sample_rng: NumPy's Philox per sample and attempt, not synthc's kernel streams
    rng: ClassVar[dict[str, str] | None] = {
        "scheme": "NumPy's Philox bit generator (philox4x64-10), drawn through numpy.random."
        "Generator",
        "key": "(k0 * 2**32 + k1, attempt) as two 64-bit words, where k0, k1 are blake2b-64 of "
        "'synthc-philox/1:<seed>:ocr_text' as two 32-bit words",
        "counter": "(sample index, 0, 0, 0)",
        "note": "attempt counts a sample's re-draws below min_contrast, from 0; sample i draws "
        "only from its own generators, so it is a pure function of (seed, generator config, i)",
    }

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
            Column(
                "txt",
                "text (UTF-8)",
                "the exact text, logical order; a paragraph's lines joined with \\n",
            ),
            Column(
                "json",
                "json",
                "text, font, size and every sampled parameter; chars: one box [x0, y0, x1, y1] "
                "per character (spaces and newlines included) in image pixels after every "
                "effect; char_polygons: one quadrilateral [[x, y] x 4] per character; words: "
                "text, chars [start, stop), box, polygon; lines: text, order, chars, box, "
                "polygon; line: the ink box; line_polygon: the text block's quadrilateral; "
                "contrast: the WCAG ratio",
            ),
        ]

    def sample_bytes(self, config: OcrConfig) -> float:
        """The image from a typical line's size (its mean character count times an advance,
        or the fixed ``width``, times the mean line count of a paragraph) and the measured bytes
        per pixel; text and boxes per character."""
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
        low, high = config.lines
        lines = (low + high) / 2
        if lines > 1:  # stacked lines: each another line's height plus the spacing, and its text
            pixels *= lines * (1 + config.line_spacing)
            chars *= lines
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
            "polygons": "the four corners of a character's, word's or line's box before effects "
            "(clockwise from top-left), moved with the pixels by skew, distortion and scaling",
            "words": "maximal runs of non-whitespace characters (no dictionary segmentation of "
            "scripts written without spaces)",
        }

    def generate(self, config: OcrConfig, seed: int, start: int, stop: int) -> Samples:
        samples: Samples = generators.kernel_side(self.kind).generate(config, seed, start, stop)
        return samples


GENERATOR = OcrGenerator()
