"""Legibility of OCR lines: the WCAG 2.x contrast ratio between the ink and the background under
it, with its threshold ``min_contrast``; lines below it are re-drawn and counted."""

from __future__ import annotations

import numpy as np
from test_ocr import build, read

from synthc import api
from synthc.generators.ocr.contrast import line_contrast, ratio, relative_luminance

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


def test_a_layer_without_ink_has_no_contrast():
    layer = np.zeros((4, 4, 4), dtype=np.uint8)
    assert line_contrast(np.full((4, 4, 3), 255, dtype=np.uint8), layer) == 1.0


def test_most_of_the_ink_must_clear_the_threshold():
    background = np.full((10, 10, 3), 255, dtype=np.uint8)
    background[:, :2] = 0  # a fifth of the ink lies on black
    layer = np.zeros((10, 10, 4), dtype=np.uint8)
    layer[..., 3] = 255  # black ink everywhere
    assert line_contrast(background, layer) == 1.0
    background[:, :2] = 255
    background[:5, 0] = 0  # a twentieth on black: the quantile sees white
    assert line_contrast(background, layer) == 21.0


def test_lines_below_min_contrast_are_redrawn_and_counted(tmp_path):
    for threshold in (3.0, 7.0):
        out = build(tmp_path / str(threshold), GREYS + f"  min_contrast: {threshold}\n", 40)
        for sample in read(out):
            label = sample["json"]
            assert label["contrast"] >= threshold
            # the ink is the text colour (resampling shifts its edge pixels a little)
            own = ratio(np.array(luminance(label["color"])), np.array(1.0))
            assert own >= 0.75 * threshold
        stats = api.load_manifest(out)["generator"]["stats"]
        assert stats["visibility_resamples"] > 0
