"""OCR labels beyond character boxes, read back with the webdataset library: words with their
character ranges, quadrilaterals that follow skew and distortion and hold the ink, paragraphs
of several lines in reading order."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from test_ocr import PLAIN, build, ink, read

from synthc import api
from synthc.errors import SpecError
from synthc.generators.ocr.regions import polygon_area, word_ranges

SKEWED = PLAIN + "  skew: [-20, 20]\n"
PARAGRAPH = PLAIN + "  lines: [2, 4]\n  line_spacing: 0.3\n  line_alignment: "


def mask_of(polygons: list, size: tuple[int, int]) -> np.ndarray:
    """The pixels that ``polygons`` (each four [x, y] corners) touch: a pixel cut by an edge
    counts as inside, as resampling smears ink up to a pixel across the exact outline."""
    canvas = Image.new("1", size, 0)
    draw = ImageDraw.Draw(canvas)
    for quad in polygons:
        draw.polygon([tuple(p) for p in quad], fill=1, outline=1)
    inside = np.asarray(canvas, dtype=bool)
    touched = inside.copy()
    touched[1:] |= inside[:-1]
    touched[:-1] |= inside[1:]
    touched[:, 1:] |= inside[:, :-1]
    touched[:, :-1] |= inside[:, 1:]
    return touched


@pytest.fixture(scope="module")
def skewed(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return read(build(tmp_path_factory.mktemp("skew"), SKEWED))


def test_words_are_runs_of_non_space_characters():
    assert word_ranges("two  words") == [(0, 3), (5, 10)]
    assert word_ranges(" lead\ttrail ") == [(1, 5), (6, 11)]
    assert word_ranges("a\nb") == [(0, 1), (2, 3)]
    assert word_ranges("東京都 大阪") == [(0, 3), (4, 6)]  # no spaces, no segmentation
    assert word_ranges("   ") == []


def test_words_give_text_character_range_and_box(skewed):
    for sample in skewed:
        label = sample["json"]
        text, boxes = label["text"], np.array(label["chars"])
        assert [w["text"] for w in label["words"]] == text.split()
        for word in label["words"]:
            a, b = word["chars"]
            assert text[a:b] == word["text"]
            inner = boxes[a:b]
            union = [inner[:, 0].min(), inner[:, 1].min(), inner[:, 2].max(), inner[:, 3].max()]
            assert np.allclose(word["box"], union, atol=0.011)


def test_every_polygon_lies_in_its_box_and_the_image(skewed):
    for sample in skewed:
        label = sample["json"]
        w, h = label["width"], label["height"]
        pairs = list(zip(label["char_polygons"], label["chars"], strict=True))
        pairs += [(word["polygon"], word["box"]) for word in label["words"]]
        pairs += [(line["polygon"], line["box"]) for line in label["lines"]]
        for quad, (x0, y0, x1, y1) in pairs:
            q = np.array(quad)
            assert q.shape == (4, 2)
            assert (q >= 0).all() and (q[:, 0] <= w).all() and (q[:, 1] <= h).all()
            assert (q[:, 0] >= x0 - 0.02).all() and (q[:, 0] <= x1 + 0.02).all()
            assert (q[:, 1] >= y0 - 0.02).all() and (q[:, 1] <= y1 + 0.02).all()


def test_under_strong_skew_polygons_are_tighter_than_boxes(skewed):
    ratios = []
    for sample in skewed:
        label = sample["json"]
        if abs(label["skew"]) < 10:
            continue
        for word in label["words"]:
            x0, y0, x1, y1 = word["box"]
            ratio = polygon_area(np.array(word["polygon"])) / ((x1 - x0) * (y1 - y0))
            assert ratio <= 1.0 + 1e-6
            ratios.append(ratio)
    assert len(ratios) > 20
    assert np.median(ratios) < 0.75  # a word's box at 10-20 degrees holds a lot of background


def test_polygons_cover_the_ink_on_plain_pages(skewed, tmp_path):
    straight = read(build(tmp_path, PLAIN, samples=30))
    for sample in [*skewed, *straight]:
        label = sample["json"]
        dark = ink(sample)
        size = (label["width"], label["height"])
        chars = mask_of(label["char_polygons"], size)
        assert (dark & chars).sum() >= 0.99 * dark.sum(), label["text"]
        words = mask_of([w["polygon"] for w in label["words"]], size)
        assert (dark & words).sum() >= 0.99 * dark.sum(), label["text"]
        line = mask_of([label["line_polygon"]], size)
        assert (dark & line).sum() >= 0.99 * dark.sum(), label["text"]


def test_distortion_moves_polygon_corners_with_the_pixels(tmp_path):
    for kind in ("sine", "random"):
        _distorted(tmp_path / kind, kind)


def _distorted(tmp_path, kind):
    generator = PLAIN + f"  skew: [-5, 5]\n  distortion: {{kind: {kind}, orientation: both}}\n"
    waves = 0
    for sample in read(build(tmp_path, generator, samples=20)):
        label = sample["json"]
        for quad, (x0, y0, x1, y1) in zip(label["char_polygons"], label["chars"], strict=True):
            q = np.array(quad)
            assert (q[:, 0] >= x0 - 0.02).all() and (q[:, 0] <= x1 + 0.02).all()
            assert (q[:, 1] >= y0 - 0.02).all() and (q[:, 1] <= y1 + 0.02).all()
        tops = {np.array(q)[0, 1] for q in label["char_polygons"]}
        waves += len(tops) > 1  # a wave: corners no longer share one row
    assert waves >= 10


@pytest.mark.parametrize("alignment", ["left", "right"])
def test_paragraphs_stack_lines_in_reading_order(tmp_path, alignment):
    out = build(tmp_path, PARAGRAPH + alignment + "\n", samples=24)
    counts = set()
    for sample in read(out):
        label = sample["json"]
        lines = label["lines"]
        counts.add(len(lines))
        assert sample["txt"] == label["text"] == "\n".join(line["text"] for line in lines)
        assert len(label["chars"]) == len(label["text"]) == len(label["char_polygons"])
        assert [line["order"] for line in lines] == list(range(len(lines)))
        for line in lines:
            a, b = line["chars"]
            assert label["text"][a:b] == line["text"]
        boxes = [line["box"] for line in lines]
        assert all(a[3] <= b[1] + 0.02 for a, b in zip(boxes, boxes[1:], strict=False))
        edge = 0 if alignment == "left" else 2
        edges = [line["box"][edge] for line in lines]
        assert max(edges) - min(edges) <= 2.0, (alignment, edges)
        for k, ch in enumerate(label["text"]):
            if ch == "\n":
                x0, _, x1, _ = label["chars"][k]
                assert x0 == x1  # a newline has an empty box at the end of its line
        assert [w["text"] for w in label["words"]] == label["text"].split()
        assert label["height"] > 2 * 32 - 10
    assert len(counts) > 1 and counts <= {2, 3, 4}
    api.verify(out)


def test_paragraph_polygons_cover_the_ink(tmp_path):
    generator = PARAGRAPH + "center\n" + "  skew: [-8, 8]\n"
    for sample in read(build(tmp_path, generator, samples=12)):
        label = sample["json"]
        dark = ink(sample)
        lines = mask_of([line["polygon"] for line in label["lines"]], sample["png"].size)
        assert (dark & lines).sum() >= 0.99 * dark.sum(), label["text"]


@pytest.mark.parametrize(
    ("generator", "where"),
    [
        ("  lines: [0, 2]\n", "generator.lines: must be [low, high] with 1 <= low"),
        ("  lines: [1, 100]\n", "generator.lines: at most 64 lines"),
        ("  lines: [2, 2]\n  orientation: vertical\n", "generator.lines: paragraphs are"),
        ("  min_contrast: 0.5\n", "generator.min_contrast"),
        ("  min_contrast: 22\n", "generator.min_contrast"),
        ("  line_spacing: -1\n", "generator.line_spacing"),
    ],
)
def test_paragraph_and_contrast_options_are_checked(tmp_path, generator, where):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "synthc: 1\nname: t\nseed: 1\nsamples: 2\ngenerator:\n  kind: ocr_text\n" + generator
    )
    with pytest.raises(SpecError) as error:
        api.validate(spec)
    assert where in str(error.value)


def test_a_paragraph_indexes_the_joined_text_and_aligns_its_lines():
    from synthc.generators.ocr.paragraph import paragraph

    def line(width: int, chars: int) -> tuple[Image.Image, np.ndarray]:
        step = width / chars
        boxes = np.array([[k * step, 0, (k + 1) * step, 10] for k in range(chars)], dtype=float)
        return Image.new("RGBA", (width, 10)), boxes

    rtl_boxes = line(20, 2)[1][::-1].copy()  # logical order runs leftwards
    drawn = [line(40, 4), (Image.new("RGBA", (20, 10)), rtl_boxes), line(30, 3)]
    layer, boxes, spans, stacked = paragraph(drawn, 0.5, "right", [False, True, False])
    assert layer.size == (40, 3 * 10 + 2 * 5) and stacked == 4.0
    assert spans == [(0, 4), (5, 7), (8, 11)] and len(boxes) == 11
    assert list(boxes[4]) == [40, 0, 40, 10]  # newline at the right end of line 0
    assert list(boxes[7]) == [20, 15, 20, 25]  # at the left end of the right-to-left line 1
    assert boxes[5, 2] == 40 and boxes[8:, 2].max() == 40  # right-aligned
