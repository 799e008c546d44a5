"""Background images are decoded at compile time once per content: a refused one every time."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from synthc.generators.ocr import images


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 4), (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_image_that_decoded_is_not_decoded_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    good = png()
    images.check_image(good, "good.png")
    decoded = []
    monkeypatch.setattr(images, "decode_image", lambda data, shown: decoded.append(shown))
    images.check_image(good, "good.png")
    assert decoded == []
    images.check_image(good + b"\0", "other.png")  # other bytes: decoded
    assert decoded == ["other.png"]


def test_a_broken_image_is_refused_every_time(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    broken = png()[:40]
    for _ in range(2):
        with pytest.raises(ValueError, match="'broken.png' is not an image Pillow can decode"):
            images.check_image(broken, "broken.png")


def test_a_lower_pixel_limit_checks_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    good = png()
    images.check_image(good, "good.png")
    monkeypatch.setattr(images.limits, "MAX_IMAGE_PIXELS", 16)
    with pytest.raises(ValueError, match="has 8 x 4 pixels, over the limit of 16"):
        images.check_image(good, "good.png")
