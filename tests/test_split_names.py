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
        shown = f"splits['{name}']" if "." in name else f"splits.{name}"  # quoted: its dot
        assert f"{shown}: " in line and "reserved" in line
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
        (
            "{train: 0.5, Train: 0.5}",
            "splits.Train: split names 'train' and 'Train' differ only in case",
        ),
        # the sum was printed as "1": "split fractions sum to 1, not 1"
        ("{train: 0.7, test: 0.30000001}", "splits: split fractions sum to 1.00000001, not 1"),
    ],
)
def test_splits_that_cannot_stand_as_written_are_spec_errors(cli, write_spec, splits, said):
    code, _, err = cli("validate", write_spec(spec_text(splits=splits)))
    assert code == 2 and said in err, err


def test_every_split_name_problem_is_reported_at_once_each_at_its_split(cli, write_spec):
    """validate names every bad split in one run, each at its own key (a spec with several
    heard of the first only, then of the next after each fix), beside the values' problems
    and the sum; the messages are those each problem had alone."""
    entries = [
        ("'a/b'", "0.1"), ("'..'", "0.1"), ("''", "0.1"), ("train", "0.1"), ("Train", "0.1"),
        ("'manifest.json'", "0.1"), ("facts", "0.1"), ("test", "-1"), ("TEST", "0.1"),
        ("val", "0.5"),
    ]  # fmt: skip
    splits = "".join(f"\n  {key}: {value}" for key, value in entries)
    spec = write_spec(spec_text(splits=splits))
    code, _, err = cli("validate", spec)
    assert code == 2 and "Traceback" not in err
    pattern = "must match ^[A-Za-z0-9][A-Za-z0-9._-]*$"
    case = "differ only in case; each split is a folder"
    expected = [
        (8, 3, "splits['a/b']", f"split name 'a/b' {pattern}"),
        (9, 3, "splits['..']", f"split name '..' {pattern}"),
        (10, 3, "splits['']", f"split name '' {pattern}"),
        (12, 3, "splits.Train", f"split names 'train' and 'Train' {case}"),
        (13, 3, "splits['manifest.json']", "split name 'manifest.json' is reserved"),
        (14, 3, "splits.facts", "split name 'facts' is reserved"),
        (15, 9, "splits.test", "split 'test': must be a finite number >= 0"),
        (16, 3, "splits.TEST", f"split names 'test' and 'TEST' {case}"),
    ]
    lines = err.strip().splitlines()
    assert lines[-1] == f"synthc: {len(expected)} problems", err
    assert len(lines) == len(expected) + 1, err
    for line, (row, col, path, said) in zip(lines, expected, strict=False):
        assert line.startswith(f"{spec}:{row}:{col}: {path}: {said}"), line


def test_bad_split_names_do_not_hide_the_sum_or_a_value_s_type(cli, write_spec):
    code, _, err = cli("validate", write_spec(spec_text(splits="{'a/b': 0.5, test: 0.6}")))
    assert code == 2 and "splits['a/b']: split name 'a/b' must match" in err, err
    assert "splits: split fractions sum to 1.1, not 1" in err and "synthc: 2 problems" in err
    code, _, err = cli("validate", write_spec(spec_text(splits="{'a/b': 0.5, test: true}")))
    assert code == 2 and "splits['a/b']: split name 'a/b' must match" in err, err
    assert "splits.test: YAML read true as a boolean; write a fraction" in err, err


def test_a_split_name_too_long_for_a_file_name_is_a_spec_error(cli, write_spec, tmp_path):
    # validate passed it; the build failed as it planned `<split>/<split>-00000.parquet`
    long = "s" * 300
    spec = write_spec(spec_text(splits=f"{{train: 0.5, {long}: 0.5}}"))
    code, _, err = cli("build", spec, "-o", tmp_path / "out")
    assert code == 2 and "Traceback" not in err
    assert err.startswith(f"{spec}:7:") and "a split name of 300 characters: at most 128" in err
    assert cli("validate", write_spec(spec_text(splits=f"{{{'s' * 128}: 1.0}}")))[0] == 0
