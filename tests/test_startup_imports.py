"""``synthc validate`` imports only what validating needs: no NumPy, polars, Numba, Pillow or
matplotlib (the heavy libraries a build, a preview or a reader loads when it first uses them):
the generators' config sides, which compiling imports, need no arrays.

Each spec is validated in a fresh interpreter, as a user runs the command, which then reports
the libraries it had loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SPECS = sorted((Path(__file__).parents[1] / "specs").glob("*.yaml"))
HEAVY = ("numpy", "polars", "numba", "PIL", "matplotlib", "pyarrow", "distributed", "trdg")

#: synthc modules validating never needs: the driver's (synthc.lazy) and the generators' kernel
#: sides (synthc.generators.KERNEL_SIDES) and kernels
BUILD_SIDE = (
    r"^synthc\.(building|shard|outputs|executors|diffing|streaming"
    r"|generators\.\w+\.(drawing|draws|kernels))\b"
)

VALIDATE = (
    "import json, re, sys\n"
    "from synthc.cli import main\n"
    "code = main(['validate', sys.argv[1]])\n"
    f"build_side = sorted(m for m in sys.modules if re.match({BUILD_SIDE!r}, m))\n"
    f"print(json.dumps([code, sorted(set({HEAVY!r}) & set(sys.modules)), build_side]))\n"
)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_validate_loads_no_heavy_library(spec):
    result = subprocess.run(
        [sys.executable, "-c", VALIDATE, str(spec)], capture_output=True, text=True, check=True
    )
    code, loaded, build_side = json.loads(result.stdout.splitlines()[-1])
    assert code == 0, result.stderr
    # OCR specs decode their background images with Pillow at compile time, to refuse a broken
    # one with a position: validating them needs it.
    needed = {"PIL"} if "kind: ocr_text" in spec.read_text() else set()
    assert set(loaded) <= needed
    assert build_side == []


def test_a_build_loads_numba_and_polars_when_it_runs_kernels(tmp_path):
    """The check above can see a library: a build of the same kind of spec loads them (one
    too big for plain-Python kernels, synthc.plain_first)."""
    spec = Path(__file__).parents[1] / "specs" / "moons.yaml"
    code = (
        "import sys\n"
        "from synthc.cli import main\n"
        "main(['build', sys.argv[1], '-o', sys.argv[2], '--var', 'samples=5000', '-q',"
        " '--workers', '1'])\n"
        "print(sorted({'numba', 'polars'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(spec), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == "['numba', 'polars']"


def test_a_build_with_every_shard_current_starts_no_numba(tmp_path):
    """A rebuild that finds every shard current (make's case) checks its manifest, whose
    rotation is drawn as plain Python: neither Numba, polars nor matplotlib is loaded."""
    spec = Path(__file__).parents[1] / "specs" / "moons.yaml"
    code = (
        "import sys\n"
        "import synthc.plain_first\n"
        "synthc.plain_first.PLAIN_BUILD_SECONDS = 60  # a deadline a slow machine meets too\n"
        "from synthc.cli import main\n"
        "code = main(['build', sys.argv[1], '-o', sys.argv[2], '--var', 'samples=500', '-q',"
        " '--workers', '1'])\n"
        "print(code, sorted({'numba', 'polars', 'matplotlib'} & set(sys.modules)))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, str(spec), str(tmp_path / "out")],
            capture_output=True,
            text=True,
            check=True,
        )
        for _ in range(2)
    ]
    # the first build makes its 500 rows with plain-Python kernels (synthc.plain_first) and
    # writes them with polars
    assert runs[0].stdout.splitlines()[-1] == "0 ['polars']"
    assert runs[1].stdout.splitlines()[-1] == "0 []"


@pytest.mark.parametrize("name", ["fractal_small", "ocr_lines"])
def test_an_image_build_loads_no_polars(tmp_path, name):
    """Image builds write tar shards and draw their preview from the PNGs: polars, a table
    library (0.1 s to import), is never loaded."""
    spec = Path(__file__).parents[1] / "specs" / f"{name}.yaml"
    code = (
        "import sys\n"
        "from synthc.cli import main\n"
        "code = main(['build', *sys.argv[1:], '-q', '--workers', '1'])\n"
        "print(code, sorted({'numba', 'polars', 'PIL'} & set(sys.modules)))\n"
    )
    variables = ["--var", "samples=20"] if "var('samples'" in spec.read_text() else []
    result = subprocess.run(
        [sys.executable, "-c", code, str(spec), "-o", str(tmp_path / "out"), *variables],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (tmp_path / "out" / "preview.png").is_file()
    assert result.stdout.splitlines()[-1] == "0 ['PIL', 'numba']"
