"""Files a spec names are read only from the allowed roots, only if regular, only up to a size
limit, and are recorded without absolute paths of the build machine (synthc.inputs)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from conftest import run_synthc

from synthc import api, inputs, limits
from synthc.generators.ocr.resources import trdg_root

SECRET = "top-secret-line"


def ocr_spec(directory: Path, generator: str, samples: int = 4, name: str = "spec.yaml") -> Path:
    """An OCR spec in ``directory`` whose generator has the lines ``generator`` (indented)."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = directory / name
    spec.write_text(
        "synthc: 1\nname: inputs\nseed: 1\n"
        f"samples: {samples}\n"
        "generator:\n  kind: ocr_text\n"
        f"{generator}"
        "output: {shard_size: 2}\n"
    )
    return spec


PLAIN = "  background: {kinds: [plain]}\n"


def a_font() -> Path:
    return sorted((trdg_root() / "fonts" / "latin").glob("*.ttf"))[0]


def one_problem(result: tuple[int, str, str], field: str, *words: str) -> str:
    """Assert exit 2 and exactly one line ``FILE:LINE:COL: field: ...`` holding ``words``."""
    code, _, err = result
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.match(rf"^\S+\.yaml:\d+:\d+: {re.escape(field)}: ", lines[0]), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the spec's, holding a private file and a font."""
    directory = tmp_path / "private"
    directory.mkdir()
    (directory / "secret.txt").write_text(f"{SECRET}\n")
    shutil.copy(a_font(), directory / "font.ttf")
    return directory


@pytest.mark.parametrize(
    "generator, field",
    [
        ("  text: {source: file, path: ../private/secret.txt}\n", "generator.text.path"),
        ("  text: {source: file, path: '{secret}'}\n", "generator.text.path"),
        ("  text: {dictionary: /etc/passwd}\n", "generator.text.dictionary"),
        ("  fonts: {paths: [../private/font.ttf]}\n", "generator.fonts.paths[0]"),
        ("  fonts: {dir: ../private}\n", "generator.fonts.dir"),
        ("  background: {kinds: [image], images: ../private}\n", "generator.background.images"),
    ],
)
def test_a_path_outside_the_allowed_roots_is_a_spec_error_at_its_field(
    cli, tmp_path, outside, generator, field
):
    generator = generator.replace("{secret}", str(outside / "secret.txt"))
    if "background" not in generator:
        generator += PLAIN
    spec = ocr_spec(tmp_path / "specs", generator)
    line = one_problem(
        cli("validate", spec), field, "outside the directories a spec may read", "--allow-read DIR"
    )
    assert "the spec's directory" in line and "trdg's bundled data" in line


def test_a_fractal_catalog_outside_the_roots_is_refused(cli, tmp_path, outside):
    (outside / "catalog.json").write_text('{"classes": []}')
    spec = tmp_path / "specs" / "spec.yaml"
    spec.parent.mkdir()
    spec.write_text(
        "synthc: 1\nname: f\nseed: 1\nsamples: 4\ngenerator:\n  kind: fractal\n  classes: 1\n"
        "  instances: 4\n  system: {catalog: ../private/catalog.json}\n"
    )
    one_problem(cli("validate", spec), "generator.system.catalog", "outside the directories")


def test_allow_read_permits_a_directory_and_nothing_absolute_is_recorded(cli, tmp_path, outside):
    spec = ocr_spec(
        tmp_path / "specs",
        "  text: {source: file, path: ../private/secret.txt}\n"
        "  fonts: {paths: [../private/font.ttf]}\n" + PLAIN,
    )
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out, "--allow-read", outside, "--workers", "1")
    assert code == 0, err
    manifest = (out / "manifest.json").read_text()
    assert str(outside) not in manifest and SECRET not in manifest
    config = json.loads(manifest)["generator"]["config"]
    assert str(tmp_path) not in json.dumps(config)
    text = config["text"]["resolved"]
    assert text["root"] == "allowed" and text["file"] == "secret.txt"
    assert text["sha256"] == hashlib.sha256(f"{SECRET}\n".encode()).hexdigest()
    assert "path" not in text
    # the Python API takes the same permission
    assert api.validate(spec, allow_read=[outside]).generator.text.resolved == text


def test_allow_read_must_name_a_directory(cli, tmp_path):
    spec = ocr_spec(tmp_path, PLAIN)
    code, _, err = cli("validate", spec, "--allow-read", tmp_path / "nope")
    assert code == 2 and "--allow-read" in err and "does not exist" in err
    assert "Traceback" not in err
    code, _, err = cli("validate", spec, "--allow-read", spec)
    assert code == 2 and f"--allow-read {spec}: not a directory" in err


def test_a_symlink_is_judged_by_where_it_points(cli, tmp_path, outside):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "words.txt").symlink_to(outside / "secret.txt")
    spec = ocr_spec(specs, "  text: {source: file, path: words.txt}\n" + PLAIN)
    one_problem(cli("validate", spec), "generator.text.path", "'words.txt' resolves outside")
    # pointing into another allowed root is fine, and recorded by that root
    code, _, err = cli("validate", spec, "--allow-read", outside)
    assert code == 0, err
    resolved = api.validate(spec, allow_read=[outside]).generator.text.resolved
    assert (resolved["root"], resolved["file"]) == ("allowed", "secret.txt")


@pytest.mark.parametrize("git", ["dir", "file"])
def test_the_spec_repository_root_is_allowed(cli, tmp_path, git):
    repo = tmp_path / "repo"
    (repo / "shared").mkdir(parents=True)
    if git == "dir":
        (repo / ".git").mkdir()
    else:
        (repo / ".git").write_text("gitdir: elsewhere\n")  # a worktree or submodule
    (repo / "shared" / "words.txt").write_text("hello\nworld\n")
    spec = ocr_spec(repo / "specs", "  text: {source: file, path: ../shared/words.txt}\n" + PLAIN)
    code, _, err = cli("validate", spec)
    assert code == 0, err
    resolved = api.validate(spec).generator.text.resolved
    assert (resolved["root"], resolved["file"]) == ("repo", "shared/words.txt")
    # above the repository is outside again
    (tmp_path / "above.txt").write_text("x\n")
    ocr_spec(repo / "specs", "  text: {source: file, path: ../../above.txt}\n" + PLAIN)
    one_problem(cli("validate", spec), "generator.text.path", "outside the directories")


def test_trdg_data_is_recorded_package_relative_without_allow_read(tmp_path):
    spec = ocr_spec(tmp_path, "  background: {kinds: [image]}\n")
    config = api.validate(spec).generator
    fonts = config.fonts.resolved
    assert all(f["root"] == "package" and f["file"].startswith("trdg/fonts/latin/") for f in fonts)
    images = config.background.resolved
    assert {i["file"] for i in images} >= {"trdg/images/bricks.jpg"}
    plan = json.dumps(api.plan(spec).to_json())
    assert str(trdg_root()) not in plan and str(tmp_path) not in plan


def test_portable_entries_are_found_by_workers_and_content_changes_the_keys(tmp_path):
    spec = ocr_spec(
        tmp_path,
        "  text: {source: file, path: lines/words.txt}\n  fonts: {dir: fonts}\n" + PLAIN,
        samples=8,
    )
    (tmp_path / "lines").mkdir()
    (tmp_path / "lines" / "words.txt").write_text("alpha\nbeta\n")
    (tmp_path / "fonts").mkdir()
    shutil.copy(a_font(), tmp_path / "fonts" / "mine.ttf")
    plan = api.plan(spec)
    task = json.dumps(plan.tasks[0].to_json())
    assert str(tmp_path) not in task and '"file": "fonts/mine.ttf"' in task
    # spawned worker processes find the files from the portable entries
    result = api.build(spec, tmp_path / "out", workers=2)
    assert result.built == 4
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert str(tmp_path) not in json.dumps(manifest["generator"])
    (tmp_path / "lines" / "words.txt").write_text("alpha\ngamma\n")
    assert {t.key for t in api.plan(spec).tasks}.isdisjoint(t.key for t in plan.tasks)


def test_a_worker_locates_an_entry_from_the_roots_it_is_given(tmp_path, monkeypatch):
    (tmp_path / "words.txt").write_text("hello\n")
    entry = {
        "name": "words.txt",
        "file": "words.txt",
        "root": "spec",
        "sha256": hashlib.sha256(b"hello\n").hexdigest(),
    }
    monkeypatch.setattr(inputs, "_LOCATIONS", {})
    monkeypatch.setattr(inputs, "_ROOTS", {})
    with pytest.raises(inputs.InputError, match="not found on this machine"):
        inputs.locate(entry, "text")
    inputs.use_roots({"spec": [str(tmp_path)]})
    assert inputs.locate(entry, "text") == str(tmp_path / "words.txt")
    with pytest.raises(inputs.InputError, match="not found on this machine"):
        inputs.locate({**entry, "sha256": "0" * 64}, "text")
    with pytest.raises(inputs.InputError, match="not found on this machine"):
        inputs.locate({**entry, "file": "../words.txt"}, "text")


def test_a_resolved_field_written_in_a_spec_is_refused(cli, tmp_path):
    spec = ocr_spec(
        tmp_path,
        "  text: {source: list, items: [a], resolved: {file: x, root: spec, sha256: y}}\n" + PLAIN,
    )
    one_problem(cli("validate", spec), "generator.text.resolved", "set by synthc")


# -- only regular files ------------------------------------------------------------------------
def test_a_fifo_is_refused_at_once_never_opened(tmp_path):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    os.mkfifo(fonts / "blocked.ttf")
    images = tmp_path / "images"
    images.mkdir()
    os.mkfifo(images / "blocked.png")
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    os.mkfifo(catalog / "class0.npy")
    a = ocr_spec(tmp_path, "  fonts: {dir: fonts}\n" + PLAIN, name="a.yaml")
    b = ocr_spec(tmp_path, "  background: {kinds: [image], images: images}\n", name="b.yaml")
    c = tmp_path / "c.yaml"
    c.write_text(
        "synthc: 1\nname: f\nseed: 1\nsamples: 4\ngenerator:\n  kind: fractal\n  classes: 1\n"
        "  instances: 4\n  system: {catalog: catalog}\n"
    )
    started = time.monotonic()
    result = run_synthc("validate", a, b, c, timeout=120)
    assert time.monotonic() - started < 60
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert "generator.fonts.dir: 'fonts/blocked.ttf' is a FIFO, not a regular file" in lines[0]
    assert "generator.background.images: 'images/blocked.png' is a FIFO" in lines[1]
    assert "generator.system.catalog: 'catalog/class0.npy' is a FIFO" in lines[2]


def fractal_spec(directory: Path, catalog: str) -> Path:
    spec = directory / "fractal.yaml"
    spec.write_text(
        "synthc: 1\nname: f\nseed: 1\nsamples: 4\ngenerator:\n  kind: fractal\n  classes: 1\n"
        f"  instances: 4\n  system: {{catalog: '{catalog}'}}\n"
    )
    return spec


def test_a_device_is_refused_even_when_its_directory_is_allowed(cli, tmp_path):
    spec = fractal_spec(tmp_path, "/dev/zero")
    one_problem(cli("validate", spec), "generator.system.catalog", "outside the directories")
    one_problem(
        cli("validate", spec, "--allow-read", "/dev"),
        "generator.system.catalog",
        "'/dev/zero' is a character device, not a regular file",
    )


def test_a_directory_where_a_file_is_expected_is_refused(cli, tmp_path):
    (tmp_path / "words").mkdir()
    spec = ocr_spec(tmp_path, "  text: {source: file, path: words}\n" + PLAIN)
    one_problem(cli("validate", spec), "generator.text.path", "'words' is a directory")


def test_a_sparse_file_over_the_text_limit_is_refused_before_reading(cli, tmp_path):
    with open(tmp_path / "huge.txt", "wb") as handle:
        handle.truncate(2 * limits.GiB)  # sparse: no disk used, 2 GB to whoever reads it
    spec = ocr_spec(tmp_path, "  text: {source: file, path: huge.txt}\n" + PLAIN)
    one_problem(
        cli("validate", spec),
        "generator.text.path",
        "'huge.txt' is 2147483648 bytes, over the limit of",
        "synthc.limits.MAX_INPUT_BYTES['text']",
    )


@pytest.mark.parametrize(
    "kind, generator, field",
    [
        ("font", "  fonts: {paths: [f.ttf]}\n" + PLAIN, "generator.fonts.paths[0]"),
        ("image", "  background: {kinds: [image], images: imgs}\n", "generator.background.images"),
    ],
)
def test_every_kind_has_its_size_limit(cli, tmp_path, monkeypatch, kind, generator, field):
    shutil.copy(a_font(), tmp_path / "f.ttf")
    (tmp_path / "imgs").mkdir()
    shutil.copy(trdg_root() / "images" / "bricks.jpg", tmp_path / "imgs" / "bricks.jpg")
    monkeypatch.setitem(limits.MAX_INPUT_BYTES, kind, 1000)
    spec = ocr_spec(tmp_path, generator)
    one_problem(
        cli("validate", spec), field, "over the limit of 1000 bytes", f"MAX_INPUT_BYTES[{kind!r}]"
    )


def test_text_that_is_not_utf8_or_a_path_with_a_nul_is_a_spec_error_at_its_field(cli, tmp_path):
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    spec = ocr_spec(tmp_path, "  text: {source: file, path: latin1.txt}\n" + PLAIN)
    one_problem(cli("validate", spec), "generator.text.path", "'latin1.txt' is not UTF-8 text")
    spec = ocr_spec(tmp_path, '  text: {source: file, path: "a\\0b"}\n' + PLAIN)
    one_problem(cli("validate", spec), "generator.text.path", "not a usable path")


def test_plan_and_preview_take_allow_read_too(cli, tmp_path, outside):
    spec = ocr_spec(tmp_path / "specs", "  fonts: {paths: [../private/font.ttf]}\n" + PLAIN)
    one_problem(cli("plan", spec), "generator.fonts.paths[0]", "outside the directories")
    code, out, err = cli("plan", spec, "--json", "--allow-read", outside)
    assert code == 0, err
    assert str(outside) not in out
    png = tmp_path / "p.png"
    code, _, err = cli("preview", spec, "-n", "2", "-o", png, "--allow-read", outside)
    assert code == 0 and png.stat().st_size > 0, err


def test_a_font_language_is_a_name_not_a_path(cli, tmp_path):
    spec = ocr_spec(tmp_path, "  fonts: {language: ../../..}\n" + PLAIN)
    one_problem(cli("validate", spec), "generator.fonts.language", "trdg has no '../../..' fonts")


def test_a_text_file_without_lines_blames_the_text_file(cli, tmp_path):
    (tmp_path / "blank.txt").write_text("\n   \n")
    spec = ocr_spec(tmp_path, "  text: {source: file, path: blank.txt}\n" + PLAIN)
    one_problem(cli("validate", spec), "generator.text.path", "'blank.txt' has no non-empty lines")


def test_a_file_swapped_after_its_check_is_not_read(tmp_path):
    reader = inputs.Reader(tmp_path)
    (tmp_path / "words.txt").write_text("checked\n")
    checked = reader.file("words.txt", "text")
    (tmp_path / "other.txt").write_text("swapped in\n")  # a different inode, while both exist
    (tmp_path / "other.txt").replace(tmp_path / "words.txt")  # swapped in between
    with pytest.raises(inputs.InputError, match="replaced while it was being read"):
        checked.read_bytes()


def test_a_symlink_in_a_listed_directory_is_judged_by_where_it_points(cli, tmp_path, outside):
    fonts = tmp_path / "specs" / "fonts"
    fonts.mkdir(parents=True)
    shutil.copy(a_font(), fonts / "a.ttf")
    (fonts / "b.ttf").symlink_to(outside / "font.ttf")
    spec = ocr_spec(tmp_path / "specs", "  fonts: {dir: fonts}\n" + PLAIN)
    one_problem(cli("validate", spec), "generator.fonts.dir", "'fonts/b.ttf' resolves outside")
    code, _, err = cli("validate", spec, "--allow-read", outside)
    assert code == 0, err


def _font_with_line_height(path: Path, units: int) -> None:
    """A copy of a trdg font at ``path`` whose ascent + descent are ``units`` font units."""
    from fontTools.ttLib import TTFont

    with TTFont(a_font()) as font:
        font["hhea"].ascent, font["hhea"].descent, font["hhea"].lineGap = units, 0, 0
        os2 = font["OS/2"]
        os2.sTypoAscender, os2.sTypoDescender, os2.usWinAscent, os2.usWinDescent = (
            units,
            0,
            units,
            0,
        )
        font.save(path)


@pytest.mark.parametrize(("size", "margins"), [(512, "[0, 0, 0, 0]"), (32, "[5, 5, 5, 5]")])
def test_a_font_without_a_line_height_is_refused_at_its_field(cli, tmp_path, size, margins):
    """A font whose ascent + descent is 1 unit validated; synthc sizes a line's font by them
    (size x room / (ascent + descent)), so its build asked FreeType for a font of about
    size x size px and failed with an internal error (OSError: invalid pixel size)."""
    _font_with_line_height(tmp_path / "flat.ttf", 1)
    generator = f"  fonts: {{paths: [flat.ttf]}}\n  size: {size}\n  margins: {margins}\n" + PLAIN
    line = one_problem(cli("validate", ocr_spec(tmp_path, generator)), "generator.fonts.paths[0]")
    assert "'flat.ttf'" in line and "ascent + descent" in line


def test_a_font_with_a_usual_line_height_stays_valid(cli, tmp_path):
    _font_with_line_height(tmp_path / "tall.ttf", 900)  # 0.9 em: trdg's shortest is 0.906
    spec = ocr_spec(tmp_path, "  fonts: {paths: [tall.ttf]}\n" + PLAIN)
    assert cli("validate", spec)[0] == 0


def _font_with_advance(path: Path, advance: int) -> None:
    """A copy of a trdg font at ``path`` whose every glyph advances ``advance`` font units."""
    from fontTools.ttLib import TTFont

    with TTFont(a_font()) as font:
        metrics = font["hmtx"].metrics
        for glyph, (_, bearing) in list(metrics.items()):
            metrics[glyph] = (advance, bearing)
        font.save(path)


@pytest.mark.parametrize(
    ("text", "chars"),
    [
        ("{source: list, items: [" + "a" * 40 + "]}", "40"),
        ("{source: random, length: [1, 40]}", "40"),
    ],
)
def test_a_font_whose_glyphs_are_far_wider_than_an_em_is_refused(cli, tmp_path, text, chars):
    """Each character was taken as one em wide: a font whose glyphs advance 65 em validated,
    and one sample took gigabytes, then failed with an internal error (Pillow's
    DecompressionBombError)."""
    _font_with_advance(tmp_path / "wide.ttf", 65535)
    generator = f"  text: {text}\n  fonts: {{paths: [wide.ttf]}}\n  size: 512\n" + PLAIN
    line = one_problem(cli("validate", ocr_spec(tmp_path, generator)), "generator.fonts.paths[0]")
    assert "'wide.ttf' has glyphs up to 65.5 em wide" in line
    assert f"a line of {chars} characters" in line and "MAX_SAMPLE_BYTES" in line


def test_a_font_somewhat_wider_than_an_em_stays_valid(cli, tmp_path):
    _font_with_advance(tmp_path / "wide.ttf", 4000)  # trdg fonts: 1.0 to 3.0 em at most
    spec = ocr_spec(
        tmp_path, "  text: {source: list, items: [hello]}\n  fonts: {paths: [wide.ttf]}\n" + PLAIN
    )
    assert cli("validate", spec)[0] == 0
