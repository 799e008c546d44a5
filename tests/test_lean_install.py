"""A lean install (``pip install -e .``, without the ``ocr`` extra) has no trdg: every other
kind builds, and an OCR spec that needs trdg's data is a spec error saying what to install.

The lean install is played in a subprocess whose ``sys.modules['trdg']`` is None, which is how
Python marks a module as absent: ``importlib.util.find_spec('trdg')`` (how synthc locates trdg's
data, without importing it) then answers None, as it does where trdg was never installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from synthc.generators.ocr.resources import trdg_root

ROOT = Path(__file__).resolve().parents[1]

#: the command line, in a process where trdg is not installed
WITHOUT_TRDG = (
    "import sys; sys.modules['trdg'] = None; "
    "from synthc.cli import main; sys.exit(main(sys.argv[1:]))"
)


def synthc_without_trdg(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TRDG, *map(str, args)], capture_output=True, text=True
    )


def ocr_spec(text: str, fonts: str, background: str) -> str:
    return (
        "synthc: 1\nname: lean\nversion: '1.0.0'\ndescription: lean\nseed: 1\nsamples: 8\n"
        "generator:\n"
        "  kind: ocr_text\n"
        f"  text: {text}\n"
        f"  fonts: {fonts}\n"
        "  size: 32\n"
        f"  background: {background}\n"
    )


def test_the_example_ocr_spec_says_what_to_install():
    spec = ROOT / "specs" / "ocr_lines.yaml"
    result = synthc_without_trdg("validate", spec)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    written = enumerate(spec.read_text().splitlines(), 1)
    line = next(n for n, text in written if text.startswith("  fonts:"))
    assert lines[0].startswith(f"{spec}:{line}:")
    assert "generator.fonts.language: needs trdg's fonts" in lines[0]
    assert lines[0].endswith("pip install 'synthc[ocr]'")


@pytest.mark.parametrize(
    ("text", "background", "field"),
    [
        ("{source: dict, language: en}", "{kinds: [plain]}", "generator.text.language"),
        ("{source: list, items: [abc]}", "{kinds: [image]}", "generator.background.kinds"),
    ],
)
def test_each_field_that_needs_trdgs_data_is_named(tmp_path, text, background, field):
    font = sorted((trdg_root() / "fonts" / "latin").glob("*.ttf"))[0]
    shutil.copy(font, tmp_path / "font.ttf")
    spec = tmp_path / "spec.yaml"
    spec.write_text(ocr_spec(text, "{paths: [font.ttf]}", background))
    result = synthc_without_trdg("validate", spec)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f": {field}: needs trdg's" in line and "pip install 'synthc[ocr]'" in line


def test_other_kinds_and_ocr_on_the_specs_own_files_need_no_trdg(tmp_path):
    font = sorted((trdg_root() / "fonts" / "latin").glob("*.ttf"))[0]
    shutil.copy(font, tmp_path / "font.ttf")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        ocr_spec("{source: list, items: [abc]}", "{paths: [font.ttf]}", "{kinds: [plain]}")
    )
    out = tmp_path / "out"
    result = synthc_without_trdg("build", spec, "-o", out, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert (out / "manifest.json").is_file()
    swiss = synthc_without_trdg("validate", ROOT / "specs" / "swiss_roll.yaml")
    assert swiss.returncode == 0, swiss.stderr


def test_the_test_extra_installs_the_ocr_extra():
    """README's test command (pip install -e '.[test]') gets everything; the first command
    (pip install -e .) gets no trdg."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("trdg")]
    assert any(d.startswith("trdg") for d in project["optional-dependencies"]["ocr"])
    assert "synthc[ocr]" in project["optional-dependencies"]["test"]
