"""Legibility of OCR lines: the WCAG 2.x contrast ratio between the ink and the background under
it, with its threshold ``min_contrast``; lines below it are re-drawn and counted."""

from __future__ import annotations

import numpy as np
from test_ocr import build, read

from synthc import api
from synthc.generators.ocr import legibility
from synthc.generators.ocr.contrast import ink_mask, line_contrast, ratio, relative_luminance

GREYS = """\
  text: {source: dict, language: en, words: [1, 2]}
  text_color: "#000000,#ffffff"
  background: {kinds: [plain]}
"""


def luminance(rgb: list[int]) -> float:
    return float(relative_luminance(np.array(rgb, dtype=np.uint8)))


def test_wcag_luminance_and_ratio():
    assert luminance([0, 0, 0]) == 0.0 and luminance([255, 255, 255]) == 1.0
    assert ratio(np.array(0.0), np.array(1.0)) == 21.0
    assert ratio(np.array(0.4), np.array(0.4)) == 1.0
    # WCAG's own example: #777777 on white is just under 4.5:1
    assert round(float(ratio(np.array(luminance([0x77] * 3)), np.array(1.0))), 2) == 4.48
    # validation bounds contrasts with the same arithmetic, without NumPy
    assert legibility.ratio(legibility.linear(0x77), 1.0) == float(
        ratio(np.array(luminance([0x77] * 3)), np.array(1.0))
    )


def test_a_layer_without_ink_has_no_contrast():
    white = np.full((4, 4, 3), 255, dtype=np.uint8)
    assert line_contrast(white, white * 0, np.zeros((4, 4), dtype=bool)) == 1.0


def test_ink_is_the_fully_covered_pixels_or_the_most_covered():
    alpha = np.array([[0, 100, 255, 255], [0, 128, 254, 0]], dtype=np.uint8)
    assert ink_mask(alpha).sum() == 2
    hairline = np.array([[0, 90, 140, 140]], dtype=np.uint8)
    assert ink_mask(hairline).tolist() == [[False, False, True, True]]
    assert not ink_mask(np.zeros((2, 2), dtype=np.uint8)).any()


def test_most_of_the_ink_must_clear_the_threshold():
    background = np.full((10, 10, 3), 255, dtype=np.uint8)
    background[:, :2] = 0  # a fifth of the ink lies on black
    drawn = np.zeros((10, 10, 3), dtype=np.uint8)  # black ink everywhere
    ink = np.ones((10, 10), dtype=bool)
    assert line_contrast(background, drawn, ink) == 1.0
    background[:, :2] = 255
    background[:5, 0] = 0  # a twentieth on black: the quantile sees white
    assert line_contrast(background, drawn, ink) == 21.0


def test_blur_that_washes_out_the_ink_lowers_the_contrast(tmp_path):
    sharp = read(build(tmp_path / "sharp", GREYS + "  min_contrast: 1\n", 12))
    blurred = read(build(tmp_path / "blur", GREYS + "  min_contrast: 1\n  blur: [2, 2]\n", 12))
    for a, b in zip(sharp, blurred, strict=True):
        assert a["txt"] == b["txt"]
        assert b["json"]["contrast"] <= a["json"]["contrast"]
    pairs = zip(sharp, blurred, strict=True)
    washed = [b["json"]["contrast"] < 0.9 * a["json"]["contrast"] for a, b in pairs]
    assert sum(washed) >= 6


def test_lines_below_min_contrast_are_redrawn_and_counted(tmp_path):
    for threshold in (3.0, 7.0):
        out = build(tmp_path / str(threshold), GREYS + f"  min_contrast: {threshold}\n", 40)
        exact = 0
        for sample in read(out):
            label = sample["json"]
            assert label["contrast"] >= threshold
            # unblurred on white, a fully covered pixel is the text colour itself; a font that
            # covers no pixel fully at this size shows a paler blend
            own = float(ratio(np.array(luminance(label["color"])), np.array(1.0)))
            assert label["contrast"] <= own * 1.05
            exact += abs(label["contrast"] - own) < 0.01
        assert exact >= 10
        stats = api.load_manifest(out)["generator"]["stats"]
        assert stats["visibility_resamples"] > 0


def test_every_line_of_a_paragraph_must_be_legible(tmp_path):
    generator = GREYS.replace("plain", "image") + "  lines: [2, 3]\n  min_contrast: 4\n"
    for sample in read(build(tmp_path, generator, 12)):
        label = sample["json"]
        contrasts = [line["contrast"] for line in label["lines"]]
        assert min(contrasts) == label["contrast"] >= 4


def test_no_drawn_line_exceeds_the_bound_validation_refuses_by(tmp_path):
    """The bounds behind validation's min_contrast and blur checks (legibility.py) hold for
    drawn lines: a setting is refused only if no line can reach it."""
    light = (
        "  text: {source: dict, language: en, words: [1, 2]}\n  text_color: '#f0f0f0'\n"
        "  background: {kinds: [quasicrystal]}\n  skew: [-8, 8]\n  min_contrast: 1\n"
    )
    bound = legibility.best_contrast(["#f0f0f0"], ["quasicrystal"], rotated=True)[0]
    seen = [s["json"]["contrast"] for s in read(build(tmp_path / "light", light, 24))]
    assert max(seen) <= bound and bound < 5  # refused from 5 up, yet every line stays below

    blurred = GREYS.replace("#000000,#ffffff", "#000000") + "  blur: [6, 6]\n  min_contrast: 1\n"
    extent, first, last = legibility.ink_band(32, [5, 5, 5, 5], False, 1, 0.25)
    levels = legibility.blurred_ink_levels(extent, (first, last), 6)
    bound = legibility.best_contrast_within(levels)
    seen = [s["json"]["contrast"] for s in read(build(tmp_path / "blur", blurred, 24))]
    assert max(seen) <= bound < 21
