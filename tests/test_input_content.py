"""Broken input files (a non-font as a font, a lying .npy header, a catalog of the wrong shape,
an undecodable background image) are spec errors at their field at validate time: one line
each, no traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_inputs import PLAIN, a_font, ocr_spec, one_problem

from synthc import limits
from synthc.generators.ocr.resources import trdg_root


@pytest.mark.parametrize(
    "generator, field",
    [
        ("  fonts: {paths: [fake.ttf]}\n", "generator.fonts.paths[0]"),
        ("  fonts: {dir: fonts}\n", "generator.fonts.dir"),
    ],
)
def test_a_file_that_is_not_a_font_is_a_spec_error_naming_it(cli, tmp_path, generator, field):
    (tmp_path / "fake.ttf").write_text("this is not a font\n")
    (tmp_path / "fonts").mkdir()
    shutil.copy(a_font(), tmp_path / "fonts" / "a.ttf")
    (tmp_path / "fonts" / "b.ttf").write_bytes(b"\x00\x01\x00\x00" + b"\xff" * 64)
    spec = ocr_spec(tmp_path, generator + PLAIN)
    name = "'fake.ttf'" if "paths" in field else "'b.ttf'"
    one_problem(cli("validate", spec), field, name, "is not a font file")


def fractal_spec(directory: Path, catalog: str, classes: int = 1) -> Path:
    spec = directory / "fractal.yaml"
    spec.write_text(
        "synthc: 1\nname: f\nseed: 1\n"
        f"samples: {classes * 2}\n"
        "generator:\n  kind: fractal\n"
        f"  classes: {classes}\n"
        f"  instances: 2\n  system: {{catalog: {catalog}}}\n"
    )
    return spec


def npy_with_header(path: Path, shape: tuple[int, ...], data: bytes, descr: str = "<f8") -> None:
    with open(path, "wb") as handle:
        header = {"descr": descr, "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(data)


def test_a_npy_header_claiming_1e12_maps_is_refused_before_loading(cli, tmp_path):
    npy_with_header(tmp_path / "class.npy", (10**12, 2, 3), b"\x00" * 48)
    one_problem(
        cli("validate", fractal_spec(tmp_path, "class.npy")),
        "generator.system.catalog",
        "the header claims 1000000000000 maps",
        "synthc.limits.MAX_CATALOG_MAPS",
    )


def test_a_npy_header_claiming_more_than_the_file_holds_is_refused(cli, tmp_path):
    npy_with_header(tmp_path / "class.npy", (8, 2, 3), b"\x00" * 48)
    one_problem(
        cli("validate", fractal_spec(tmp_path, "class.npy")),
        "generator.system.catalog",
        "the header claims (8, 2, 3) (384 bytes) but the file holds 48 bytes",
    )


def test_a_npy_of_objects_is_refused(cli, tmp_path):
    npy_with_header(tmp_path / "class.npy", (1, 2, 3), b"\x00" * 48, descr="|O")
    one_problem(
        cli("validate", fractal_spec(tmp_path, "class.npy")),
        "generator.system.catalog",
        "is not a number type",
    )


def test_a_valid_npy_catalog_still_loads(cli, tmp_path):
    maps = np.array([[[0.5, 0, 0], [0, 0.5, 0]], [[0.5, 0, 0.5], [0, 0.5, 0]]])
    np.save(tmp_path / "class.npy", maps)
    code, _, err = cli("validate", fractal_spec(tmp_path, "class.npy"))
    assert code == 0, err


def test_a_catalog_failing_its_schema_gives_one_line_per_problem_without_urls(cli, tmp_path):
    good = {"maps": [[[0.5, 0, 0], [0, 0.5, 0]]], "probabilities": [1.0]}
    classes = [good, good, {"maps": "no", "probabilities": [1.0]}, {"maps": [[[0.5]]]}, 7]
    (tmp_path / "catalog.json").write_text(json.dumps({"classes": classes}))
    code, _, err = cli("validate", fractal_spec(tmp_path, "catalog.json", classes=5))
    assert code == 2 and "Traceback" not in err and "http" not in err
    lines = err.strip().splitlines()
    assert lines[-1] == "synthc: 3 problems"
    problems = lines[:-1]
    assert all(": generator.system.catalog: catalog 'catalog.json': " in p for p in problems)
    assert "classes[2].maps: Input should be a valid list" in problems[0]
    assert "classes[3].probabilities: Field required" in problems[1]
    assert "classes[4]: must be an object with maps and probabilities" in problems[2]


@pytest.mark.parametrize(
    "content, words",
    [
        ("42", "got a number"),
        ('{"format": "x"}', "got an object without a classes list"),
        ("[", "is not JSON"),
    ],
)
def test_a_catalog_of_the_wrong_shape_is_one_line(cli, tmp_path, content, words):
    (tmp_path / "catalog.json").write_text(content)
    one_problem(
        cli("validate", fractal_spec(tmp_path, "catalog.json")), "generator.system.catalog", words
    )


GOOD_CLASS = '{"maps": [[[0.5, 0, 0], [0, 0.5, 0]]], "probabilities": [1.0]}'


@pytest.mark.parametrize(
    "content, words",
    [
        (f'{{"classes": [{GOOD_CLASS}], "classes": [{GOOD_CLASS}]}}', "'classes' appears twice"),
        ('[{"maps": [[[0.5, 0, 0], [0, 0.5, 0]]], "maps": [], "probabilities": [1.0]}]',
         "'maps' appears twice"),
        ('[{"maps": [[[NaN, 0, 0], [0, 0.5, 0]]], "probabilities": [1.0]}]', "the constant NaN"),
        ('[{"maps": [[[0.5, 0, 0], [0, 0.5, 0]]], "probabilities": [Infinity]}]',
         "the constant Infinity"),
        ('[{"maps": [[[1e999, 0, 0], [0, 0.5, 0]]], "probabilities": [1.0]}]', "the number 1e999"),
    ],
)  # fmt: skip
def test_a_catalog_json_not_every_reader_reads_alike_is_refused(cli, tmp_path, content, words):
    """A key twice (which one counts depends on the reader), NaN, Infinity or a number beyond a
    double are not JSON every tool reads alike: refused at the field, naming the problem."""
    (tmp_path / "catalog.json").write_text(content)
    one_problem(
        cli("validate", fractal_spec(tmp_path, "catalog.json")),
        "generator.system.catalog",
        "'catalog.json' is not JSON",
        words,
    )


def test_a_catalog_json_of_too_many_values_is_refused_before_parsing(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_JSON_VALUES", 100)
    (tmp_path / "catalog.json").write_text(json.dumps(list(range(200))))
    one_problem(
        cli("validate", fractal_spec(tmp_path, "catalog.json")),
        "generator.system.catalog",
        "'catalog.json' holds about 200 JSON values, over the limit of 100",
        "synthc.limits.MAX_JSON_VALUES",
    )


@pytest.mark.parametrize(
    "name, content",
    [
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
        ("notes.jpg", b"just some text, not a JPEG\n"),
    ],
)
def test_an_undecodable_background_image_fails_validate_naming_it(cli, tmp_path, name, content):
    images = tmp_path / "imgs"
    images.mkdir()
    shutil.copy(trdg_root() / "images" / "bricks.jpg", images / "a.jpg")
    (images / name).write_bytes(content)
    spec = ocr_spec(tmp_path, "  background: {kinds: [image], images: imgs}\n")
    line = one_problem(
        cli("validate", spec),
        "generator.background.images",
        f"'{name}' is not an image Pillow can decode",
    )
    assert " at 0x" not in line  # no object address: the same spec gives the same message


def test_an_image_over_the_pixel_limit_is_refused_from_its_header(cli, tmp_path, monkeypatch):
    images = tmp_path / "imgs"
    images.mkdir()
    Image.new("RGB", (300, 200)).save(images / "wide.png")
    monkeypatch.setattr(limits, "MAX_IMAGE_PIXELS", 50_000)
    spec = ocr_spec(tmp_path, "  background: {kinds: [image], images: imgs}\n")
    one_problem(
        cli("validate", spec),
        "generator.background.images",
        "'wide.png' has 300 x 200 pixels, over the limit of 50000",
        "synthc.limits.MAX_IMAGE_PIXELS",
    )
    assert Image.MAX_IMAGE_PIXELS is not None  # Pillow's decompression-bomb guard stays on


def test_pillows_bomb_guard_is_switched_back_on_and_named(cli, tmp_path, monkeypatch):
    images = tmp_path / "imgs"
    images.mkdir()
    Image.new("RGB", (300, 200)).save(images / "wide.png")
    spec = ocr_spec(tmp_path, "  background: {kinds: [image], images: imgs}\n")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    assert cli("validate", spec)[0] == 0
    assert Image.MAX_IMAGE_PIXELS == limits.MAX_IMAGE_PIXELS
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)  # Pillow refuses past twice this
    one_problem(
        cli("validate", spec),
        "generator.background.images",
        "'wide.png' has more pixels than the limit",
        "synthc.limits.MAX_IMAGE_PIXELS",
    )
