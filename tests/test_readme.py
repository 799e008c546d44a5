"""The README stands alone, and its generator examples are valid specs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_synthc

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
HEADER = "synthc: 1\nname: readme-example\nseed: 1\nsamples: 1000\n"
EXAMPLES = re.findall(r"```yaml\n(generator:\n.*?)```", README, re.S)


def test_the_readme_links_nothing_outside_the_repository():
    for target in re.findall(r"\]\(([^)]+)\)", README):
        if not target.startswith(("http://", "https://", "#")):
            assert (ROOT / target).exists(), target
    assert "../" not in README


def test_the_readme_shows_each_generator_kind_with_nested_fields():
    kinds = [re.search(r"kind: (\w+)", example)[1] for example in EXAMPLES]
    assert {"tabular", "fractal", "ocr_text"} <= set(kinds)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: re.search(r"kind: (\w+)", e)[1])
def test_each_generator_example_in_the_readme_validates(write_spec, example):
    spec = write_spec(HEADER + example)
    result = run_synthc("validate", spec)
    assert result.returncode == 0, result.stderr


def test_every_ocr_charset_name_is_in_the_readme():
    from synthc.generators.ocr.config import CHARSETS

    row = next(line for line in README.splitlines() if line.startswith("| `text.source`"))
    for name in CHARSETS:
        assert f"`{name}`" in row, name
