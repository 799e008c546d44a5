"""A lean install (``pip install -e .``, without the ``ocr`` extra) has no trdg: every other
kind builds, and an OCR spec is a spec error saying what to install: at the field that names
trdg's data, else at ``generator.kind`` (fontTools reads every font; trdg's version is in every
OCR task key, so a spec on its own files needs it too).

The lean install is played in a subprocess whose ``sys.modules['trdg']`` is None, which is how
Python marks a module as absent: ``importlib.util.find_spec('trdg')`` (how synthc locates trdg's
data, without importing it) then answers None, as it does where trdg was never installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import spec_text

from synthc.compiler.planning import library_versions
from synthc.errors import UsageError
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


def _own_font_spec(tmp_path: Path) -> Path:
    font = sorted((trdg_root() / "fonts" / "latin").glob("*.ttf"))[0]
    shutil.copy(font, tmp_path / "font.ttf")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        ocr_spec("{source: list, items: [abc]}", "{paths: [font.ttf]}", "{kinds: [plain]}")
    )
    return spec


@pytest.mark.parametrize(
    ("absent", "named"),
    [
        (["trdg"], "needs trdg, which is not installed"),
        (["fontTools"], "needs fonttools, which is not installed"),
        (["trdg", "fontTools"], "needs trdg and fonttools, which are not installed"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "build", "plan"])
def test_an_ocr_spec_on_its_own_files_says_what_to_install(tmp_path, absent, named, command):
    """An OCR spec that names only its own fonts and text still needs the extra: fontTools
    reads the fonts, and trdg's version is in every OCR task key. Whether the font's cmap was
    read before (kept on disk) or not, the answer is the same line."""
    spec = _own_font_spec(tmp_path)
    hide = "; ".join(f"sys.modules[{name!r}] = None" for name in absent)
    code = f"import sys; {hide}; from synthc.cli import main; sys.exit(main(sys.argv[1:]))"
    args = [command, str(spec)] + (["-o", str(tmp_path / "out")] if command == "build" else [])
    for cache in ("empty", "warm"):
        env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / cache)}
        if cache == "warm":  # the font's cmap read by an install with the extra
            subprocess.run(
                [sys.executable, "-m", "synthc", "validate", str(spec)], env=env, check=True
            )
        result = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
        )
        assert result.returncode == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert f"generator.kind: kind ocr_text {named}: pip install 'synthc[ocr]'" in line
    assert not (tmp_path / "out").exists()


def test_other_kinds_need_no_trdg():
    swiss = synthc_without_trdg("validate", ROOT / "specs" / "swiss_roll.yaml")
    assert swiss.returncode == 0, swiss.stderr


def test_a_library_a_task_key_names_must_be_installed():
    """A generator's ``libraries`` that is not installed is a usage error, not an internal
    one (importlib.metadata's PackageNotFoundError)."""
    with pytest.raises(UsageError, match="no-such-lib is not installed.*pip install no-such-lib"):
        library_versions(["numpy", "no-such-lib"])


def test_the_test_extra_installs_the_ocr_extra():
    """README's test command (pip install -e '.[test]') gets everything; the first command
    (pip install -e .) gets no trdg."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("trdg")]
    assert any(d.startswith("trdg") for d in project["optional-dependencies"]["ocr"])
    assert "synthc[ocr]" in project["optional-dependencies"]["test"]


#: what a Dask run is told where distributed (the ``dask`` extra) is not installed
DASK_MISSING = (
    "synthc: error: the Dask executor (--executor dask, --scheduler) needs distributed, "
    "which is not installed: pip install 'synthc[dask]'"
)


def _without(modules: list[str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The command line in a process where ``modules`` are not installed."""
    hide = "; ".join(f"sys.modules[{name!r}] = None" for name in modules)
    code = f"import sys; {hide}; from synthc.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True
    )


@pytest.mark.parametrize(
    "options",
    [
        ["build", "{spec}", "-o", "{out}", "--executor", "dask", "--force"],
        ["build", "{spec}", "-o", "{out}", "--executor", "dask"],  # up to date
        ["build", "{spec}", "{other}", "-o", "{many}", "--executor", "dask"],
        ["build", "{spec}", "-o", "{out}", "--scheduler", "tcp://127.0.0.1:8786"],
        ["reproduce", "{out}", "--executor", "dask"],
    ],
)
def test_a_dask_run_without_the_extra_says_what_to_install(built, write_spec, options):
    """Without distributed, --executor dask and --scheduler are one usage error naming the
    extra, before anything is built or written (a build had removed the output's manifest,
    said it was building, and named distributed alone; --scheduler said the scheduler could not
    be reached: ModuleNotFoundError)."""
    spec, out = built
    other = write_spec(spec_text(name="other", samples=10), "other.yaml")
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    names = {"spec": spec, "out": out, "other": other, "many": out.parent / "many"}
    result = _without(["distributed"], *[a.format(**names) for a in options])
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [DASK_MISSING]
    after = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert after == before
    assert not (out.parent / "many").exists()


def test_a_dask_executor_without_the_extra_says_what_to_install():
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from synthc.errors import UsageError\n"
        "from synthc.executors.dask import DaskExecutor\n"
        "try:\n    DaskExecutor()\nexcept UsageError as error:\n    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == DASK_MISSING.removeprefix("synthc: error: "), result.stderr
