"""What the wheel users install holds: the package with its type marker (the Python API's
annotations count for their type checkers) and the licence, and nothing of the repository's
tests, benchmarks or CI."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_the_type_marker_and_the_licence_and_no_tests(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("synthc-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "synthc/py.typed" in names
    assert any(name.endswith("/licenses/LICENSE") for name in names)
    assert "synthc/generators/fractal/kernels.py" in names
    tops = {name.split("/")[0] for name in names}
    assert tops == {"synthc", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1]
                    + ".dist-info"}, tops  # fmt: skip
