"""Split names that would collide with files synthc writes at the top of an output are refused."""

from __future__ import annotations

import pytest
from conftest import spec_text


@pytest.mark.parametrize(
    "name",
    [
        "README.md",
        "manifest.json",
        "spec.yaml",
        "spec.rendered.yaml",
        "preview.png",
        "catalog.json",
        "Manifest.JSON",
        "readme.MD",
        "facts",
        "FACTS",
        "rotation.npy",
        "train.partial",
        ".synthc",
    ],
)
def test_a_split_named_like_an_output_file_is_a_spec_error_at_the_split(
    cli, write_spec, tmp_path, name
):
    spec = write_spec(spec_text(splits=f"{{train: 0.5, '{name}': 0.5}}"))
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out)
    assert code == 2 and "Traceback" not in err
    line = err.strip().splitlines()[0]
    assert line.startswith(f"{spec}:7:")
    if name.startswith("."):  # refused by the name pattern, as before
        assert "must match" in line
    else:
        assert f"splits.{name}: " in line and "reserved" in line
    assert not out.exists()


@pytest.mark.parametrize("name", ["train", "validation", "test_v2", "train.v2", "Readme"])
def test_ordinary_split_names_still_pass(cli, write_spec, name):
    spec = write_spec(spec_text(splits=f"{{'{name}': 1.0}}"))
    code, _, err = cli("validate", spec)
    assert code == 0, err


@pytest.mark.parametrize(
    ("splits", "said"),
    [
        # both folders would be one on a file system that ignores case (macOS, Windows)
        ("{train: 0.5, Train: 0.5}", "split names 'train' and 'Train' differ only in case"),
        # the sum was printed as "1": "split fractions sum to 1, not 1"
        ("{train: 0.7, test: 0.30000001}", "split fractions sum to 1.00000001, not 1"),
    ],
)
def test_splits_that_cannot_stand_as_written_are_spec_errors(cli, write_spec, splits, said):
    code, _, err = cli("validate", write_spec(spec_text(splits=splits)))
    assert code == 2 and f"splits: {said}" in err, err
