"""An integer field refuses a float it cannot hold exactly, or a boolean, saying what YAML read."""

from __future__ import annotations

import json

import pytest
from conftest import spec_text


@pytest.mark.parametrize(
    ("field", "written", "said"),
    [
        # past 2**53 a float is not exact: 12345678901234567890.0 is 12345678901234567168
        ("seed", "12345678901234567890.0", "YAML read 12345678901234567890.0 as a float; write"),
        ("seed", "1e19", "YAML read 1e19 as a float; write an integer, without a decimal point"),
        ("samples", "9007199254740994.0", "YAML read 9007199254740994.0 as a float; write"),
        ("seed", "true", "YAML read true as a boolean; write an integer (1000)"),
    ],
)
def test_an_integer_field_refuses_an_inexact_float_or_boolean(
    cli, write_spec, field, written, said
):
    lines = spec_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.lstrip().startswith(f"{field}:"))
    indent = len(lines[number - 1]) - len(lines[number - 1].lstrip())
    lines[number - 1] = " " * indent + f"{field}: {written}"
    spec = write_spec("\n".join(lines) + "\n")
    code, _, err = cli("validate", spec)
    assert code == 2, err
    path = f"output.{field}" if field == "shard_size" else field
    (line,) = err.splitlines()
    column = indent + len(field) + 3
    assert line.startswith(f"{spec}:{number}:{column}: {path}: input should be a valid integer; ")
    assert said in line, line


def test_a_generator_integer_field_says_yaml_read_a_float(cli, write_spec):
    spec = write_spec(spec_text(generator="kind: manifold\n  shape: sphere\n  dim: 2.0"))
    code, _, err = cli("validate", spec)
    assert code == 2
    assert err == (
        f"{spec}:11:8: generator.dim: input should be a valid integer; YAML read 2.0 as a "
        "float; write an integer, without a decimal point or exponent (1000, not 1000.0 or 1e3)\n"
    )


@pytest.mark.parametrize(
    ("splits", "said"),
    [
        (
            "{train: true}",
            "7:17: splits.train: YAML read true as a boolean; write a fraction of the samples "
            "(0.8) or a count of them (800)",
        ),
        (
            "{train: , test: 0.2}",
            "7:17: splits.train: the value is empty (YAML reads it as null); write a fraction of "
            "the samples (0.8) or a count of them (800)",
        ),
        (
            "{train: '0.8', test: 0.2}",
            "7:17: splits.train: input should be a valid number; YAML read '0.8' as text because "
            "of its quotes; write it without quotes",
        ),
    ],
)
def test_a_split_that_is_no_number_is_one_problem(cli, write_spec, splits, said):
    spec = write_spec(spec_text(splits=splits))
    code, _, err = cli("validate", spec)
    assert code == 2
    assert err == f"{spec}:{said}\n"


@pytest.mark.parametrize(
    ("field", "written", "value"),
    [
        ("seed", "1.0", 1),
        ("seed", "-0.0", 0),
        ("samples", "1e3", 1000),
        ("seed", "9007199254740992.0", 2**53),
    ],
)
def test_a_whole_float_an_integer_field_holds_exactly_is_its_integer(
    cli, write_spec, field, written, value
):
    spec = write_spec(spec_text().replace(f"{field}: ", f"{field}: {written} #", 1))
    code, out, err = cli("plan", spec, "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert (plan["tasks"][0]["seed"] if field == "seed" else plan[field]) == value
