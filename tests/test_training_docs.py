"""The README's training loops run as written: one over synthc.stream, one over synthc.open."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from synthc import api

ROOT = Path(__file__).resolve().parents[1]
SECTION = (
    (ROOT / "README.md").read_text().split("## Training from synthc\n", 1)[1].split("\n## ")[0]
)
LOOPS = re.findall(r"```python\n(.*?)```", SECTION, re.S)


def test_the_readme_shows_a_loop_with_stream_and_one_with_open():
    assert len(LOOPS) == 2
    assert "synthc.stream(" in LOOPS[0] and "synthc.open(" in LOOPS[1]


@pytest.mark.parametrize("loop", LOOPS, ids=["stream", "open"])
def test_the_readme_training_loop_runs(loop, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    if "synthc.open(" in loop:
        api.build("specs/fractal_small.yaml", workers=1)
        api.build("specs/churn.yaml", variables={"samples": 2000}, workers=1)
    namespace: dict = {}
    exec(compile(loop, "README.md", "exec"), namespace)
    if "older" in namespace:
        assert namespace["older"].columns == ["age", "churn"]
        assert (namespace["older"]["age"].drop_nulls() > 60).all()
