"""Bad specs fail at a known line: each file in bad_specs/ states its expected problems."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from synthc import api
from synthc.errors import SpecError

BAD = Path(__file__).parent / "bad_specs"
EXPECT = re.compile(r"^# expect: (\d+)(?::(\d+))?: (.*?):\s?(.*)$")


def expectations(path: Path) -> list[tuple[int, int | None, str, str]]:
    found = []
    for line in path.read_text().splitlines():
        match = EXPECT.match(line)
        if match:
            col = int(match[2]) if match[2] else None
            found.append((int(match[1]), col, match[3], match[4]))
    return found


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_spec_fails_at_its_line(path: Path):
    expected = expectations(path)
    assert expected, f"{path.name} states no expectation"
    with pytest.raises(SpecError) as caught:
        api.validate(path)
    problems = caught.value.problems
    for line, col, field, message in expected:
        matches = [
            p
            for p in problems
            if p.position is not None
            and p.position.file == str(path)
            and p.position.line == line
            and (col is None or p.position.col == col)
            and p.path == field
            and message in p.message
        ]
        assert matches, f"expected {line}:{col}: {field}: {message!r}; got:\n{caught.value}"


def test_every_problem_is_one_compiler_style_line(cli):
    path = BAD / "out_of_range.yaml"
    code, out, err = cli("validate", path)
    assert code == 2
    lines = [line for line in err.splitlines() if not line.startswith("synthc:")]
    assert len(lines) == 3
    for line in lines:
        assert re.match(rf"^{re.escape(str(path))}:\d+:\d+: [\w.\[\]]+: .+$", line), line
    assert "Traceback" not in err


def test_validate_reports_every_spec_and_exits_2(cli, write_spec):
    from conftest import spec_text

    good = write_spec(spec_text(), "good.yaml")
    code, out, err = cli("validate", good, BAD / "unknown_key.yaml", BAD / "unknown_kind.yaml")
    assert code == 2
    assert f"{good}: ok" in out
    assert "unknown_key.yaml:11:3" in err and "unknown_kind.yaml:7:9" in err


def test_invalid_spec_writes_nothing(cli, tmp_path):
    out = tmp_path / "dataset"
    code, _, err = cli("build", BAD / "unknown_key.yaml", "-o", out)
    assert code == 2
    assert not out.exists()


def test_a_validators_message_is_shown_without_pydantics_prefix(cli):
    code, _, err = cli("validate", BAD / "split_fractions.yaml")
    assert code == 2
    assert "splits: split fractions sum to 0.9, not 1" in err
    assert "value error" not in err.lower()


def test_a_tab_indenting_a_line_is_told_to_be_spaces(cli, write_spec):
    # it said only "found character '\t' that cannot start any token"
    spec = write_spec("synthc: 1\nname: x\nseed: 1\nsamples: 10\ngenerator:\n\tkind: manifold\n")
    code, _, err = cli("validate", spec)
    assert code == 2
    assert err.strip() == (
        f"{spec}:6:1: YAML syntax error: found character '\\t' that cannot start any token "
        "(YAML indents with spaces only: replace the tab with spaces)"
    )


@pytest.mark.parametrize(
    ("first", "second", "names"),
    [
        ("1", "true", "duplicate key: 'true' and '1' (at line 9)"),
        ("1", "1.0", "duplicate key: '1.0' and '1' (at line 9)"),
        ("null", "~", "duplicate key: '~' and 'null' (at line 9)"),
    ],
)
def test_keys_equal_once_read_name_both_as_written(tmp_path, first, second, names):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "synthc: 1\nname: k\nseed: 1\nsamples: 100\nsplits: {train: 100}\n"
        f"generator:\n  kind: manifold\n  shape: moons\n  {first}: a\n  {second}: b\n"
    )
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    duplicate = next(p for p in caught.value.problems if "duplicate" in p.message)
    assert duplicate.position is not None and duplicate.position.line == 10
    assert names in duplicate.message and "equal values" in duplicate.message


def test_keys_text_and_not_text_are_told_apart(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "synthc: 1\nname: k\nseed: 1\nsamples: 100\nsplits: {train: 100}\n"
        'generator:\n  kind: manifold\n  shape: moons\n  1: a\n  "1": b\n  false: c\n  "false": d\n'
    )
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    by_line = {p.position.line: p.message for p in caught.value.problems if p.position}
    assert by_line[9].startswith("unknown field 1 (YAML read it as a number")
    assert by_line[10] == "unknown field '1'"
    assert by_line[11].startswith("unknown field false (YAML read it as a boolean")
    assert by_line[12] == "unknown field 'false'"
