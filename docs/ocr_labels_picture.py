"""Draw docs/ocr-labels.png: one paragraph sample of synthc's OCR generator with its labels
drawn over it (character boxes, character and word polygons, line polygons).

    python docs/ocr_labels_picture.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from synthc.compiler.compiling import compile_spec
from synthc.generators.ocr import drawing

SPEC = """\
synthc: 1
name: ocr-labels-picture
seed: 11
samples: 1
generator:
  kind: ocr_text
  text: {source: dict, language: en, words: [2, 3]}
  size: 72
  margins: [18, 18, 18, 18]
  lines: [3, 3]
  line_alignment: left
  skew: [-6, -6]
  text_color: "#202020"
  background: {kinds: [plain]}
"""
SCALE = 2


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.yaml"
        spec.write_text(SPEC)
        config = compile_spec(spec).spec.generator
    stats = {"glyph_resamples": 0, "visibility_resamples": 0}
    image, label = drawing.sample(config, 11, 0, stats)
    w, h = image.size
    big = image.convert("RGB").resize((w * SCALE, h * SCALE), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(big)

    def poly(points: list[list[float]], colour: str, width: int) -> None:
        xy = [(x * SCALE, y * SCALE) for x, y in points]
        draw.line([*xy, xy[0]], fill=colour, width=width)

    for line in label["lines"]:  # widest first, so the finer outlines stay visible
        poly(line["polygon"], "#74c476", 5)
        x, y = line["polygon"][3]
        draw.text((x * SCALE - 14, y * SCALE - 12), str(line["order"]), fill="#31a354")
    for (x0, y0, x1, y1), ch in zip(label["chars"], label["text"], strict=True):
        if not ch.isspace():
            draw.rectangle((x0 * SCALE, y0 * SCALE, x1 * SCALE, y1 * SCALE), outline="#c6dbef")
    for word in label["words"]:
        poly(word["polygon"], "#e6550d", 3)
    for quad, ch in zip(label["char_polygons"], label["text"], strict=True):
        if not ch.isspace():
            poly(quad, "#3182bd", 1)
    big.save(Path(__file__).parent / "ocr-labels.png", optimize=True)


if __name__ == "__main__":
    main()
