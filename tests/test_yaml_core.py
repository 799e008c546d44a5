"""Specs and --var values are read by the YAML 1.2 core schema; type errors say what YAML read."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from conftest import run_synthc, spec_text

from synthc.compiler.loading import load_value

TABULAR = """\
synthc: 1
name: yaml-core
seed: 1
samples: 100
generator:
  kind: tabular
  columns:
{columns}
"""


def tabular(*columns: str) -> str:
    return TABULAR.format(columns="\n".join(f"    {c}" for c in columns))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("n", "n"),
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("tRue", "tRue"),
        ("1e3", 1000.0),
        ("0o17", 15),
        ("0x1F", 31),
        ("012", 12),  # decimal in 1.2, not octal
        ("1:30", "1:30"),  # no sexagesimal numbers
        ("1_000", "1_000"),
        ("-.inf", -math.inf),
        ("null", None),
        ("~", None),
        ("2020-01-01", "2020-01-01"),  # no implicit timestamps
        ("!!timestamp 2020-01-01", date(2020, 1, 1)),  # an explicit tag still constructs one
        ("[yes, 1e3, ~]", ["yes", 1000.0, None]),
        ("{true: 1, on: 2}", {True: 1, "on": 2}),
    ],
)
def test_scalars_follow_the_yaml_1_2_core_schema(text, value):
    assert load_value(text, "--var x") == value


def test_nan_is_a_float():
    assert math.isnan(load_value(".nan", "--var x"))


def test_yes_no_values_and_weights_are_text(write_spec):
    """YAML 1.1 read these as booleans: 'input should be a valid string' at every one."""
    spec = write_spec(
        tabular(
            "member: {dist: categorical, values: [yes, no]}",
            "plan: {dist: categorical, values: [a, b], given: member,"
            " weights: {yes: [1, 1], no: [1, 3]}}",
            "switch: {dist: categorical, values: [on, off, y, n]}",
            "signup: {dist: date, start: 2020-01-01, end: 2024-12-31}",
            "seen: {dist: timestamp, start: 2020-01-01 10:00:00, end: 2024-12-31T00:00:00}",
        )
    )
    result = run_synthc("validate", spec)
    assert (result.returncode, result.stderr) == (0, "")


def test_a_number_where_text_belongs_says_what_yaml_read_and_how_to_quote(write_spec):
    column = "region: {dist: categorical, values: [north, 1.0, true, 0x1F]}"
    spec = write_spec(tabular(column))
    result = run_synthc("validate", spec)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for index, text, said in [
        (1, "1.0", "YAML read 1.0 as a number; write '1.0' in quotes for text"),
        (2, "true", "YAML read true as a boolean; write 'true' in quotes for text"),
        (3, "0x1F", "YAML read 0x1F as a number; write '0x1F' in quotes for text"),
    ]:
        at = f"{spec}:8:{5 + column.index(text)}: generator.columns.region.values[{index}]"
        assert f"{at}: input should be a valid string; {said}" in lines


def test_boolean_keys_say_what_yaml_read(write_spec):
    spec = write_spec(
        tabular(
            "paid: {dist: categorical, values: ['true', 'false']}",
            "plan: {dist: categorical, values: [a, b], given: paid,"
            " weights: {true: [1, 1], false: [1, 3]}}",
        )
    )
    result = run_synthc("validate", spec)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "YAML read true as a boolean; write 'true' in quotes for text" in result.stderr
    assert "YAML read false as a boolean; write 'false' in quotes for text" in result.stderr


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (
            "samples: '1e3'",
            "YAML read '1e3' as text because of its quotes; write an integer without quotes (1000)",
        ),
        ("seed: 1:30", "YAML 1.2 reads 1:30 as text, not an integer (integers: 1000, 0x1F)"),
    ],
)
def test_text_where_a_number_belongs_says_what_yaml_read(write_spec, line, said):
    field = line.split(":")[0]
    lines = spec_text().splitlines()
    number = next(i for i, text in enumerate(lines, 1) if text.startswith(f"{field}:"))
    lines[number - 1] = line
    spec = write_spec("\n".join(lines) + "\n")
    result = run_synthc("validate", spec)
    assert result.returncode == 2
    first = result.stderr.splitlines()[0]
    column = len(field) + 3
    assert first.startswith(f"{spec}:{number}:{column}: {field}: input should be a valid integer")
    assert first.endswith(f"; {said}")


def test_var_values_are_typed_like_the_spec(write_spec):
    spec = write_spec(
        spec_text(name="{{ var('name') }}", samples="{{ var('samples') }}")  # type: ignore[arg-type]
    )
    result = run_synthc("plan", spec, "--json", "--var", "samples=1e3", "--var", "name=yes")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert (plan["name"], plan["samples"]) == ("yes", 1000)  # 1e3: a whole float, exact


def test_a_name_yaml_reads_as_a_number_is_blamed_at_the_key_not_its_value(write_spec, cli):
    """Splits named by years blamed their fractions ('YAML read 0.5 as a number; write '0.5'
    in quotes'), and a column named so leaked pydantic's ['[key]']."""
    text = spec_text(splits="{2024: 0.5, 2025: 0.5}")
    code, _, err = cli("validate", write_spec(text))
    assert code == 2
    path = write_spec(text)
    assert err.splitlines()[:2] == [
        f"{path}:7:{col}: splits[{year}]: a name must be text; YAML read {year} as a number; "
        f"write '{year}' in quotes for text"
        for col, year in ((10, 2024), (21, 2025))
    ]
    spec = write_spec(tabular("a: {dist: normal}", "2024: {dist: uniform}"), "cols.yaml")
    code, _, err = cli("validate", spec)
    assert code == 2 and "'[key]'" not in err
    assert ": generator.columns[2024]: a name must be text; YAML read 2024 as a number" in err
    quoted = write_spec(text.replace("{2024: 0.5, 2025: 0.5}", "{'2024': 0.5, '2025': 0.5}"))
    assert cli("validate", quoted)[0] == 0


@pytest.mark.parametrize("key", ["null", "~"])
def test_a_null_name_is_blamed_at_its_key(write_spec, cli, key):
    """A column named null was reported at 'generator.columns.columns: input should be a valid
    string' (pydantic names a None key 'None', which the path did not find)."""
    spec = write_spec(tabular("a: {dist: normal}", f"{key}: {{dist: uniform}}"))
    code, _, err = cli("validate", spec)
    assert code == 2
    assert ": generator.columns.null: a name must be text; YAML read " in err.splitlines()[0]


def test_boolean_keys_are_named_as_written_without_union_noise(write_spec):
    spec = write_spec(
        tabular("flag: {dist: categorical, values: [x, y], weights: {true: [1, 1], false: [1, 1]}}")
    )
    result = run_synthc("validate", spec)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("synthc:")]
    assert [line.split(": ")[1] for line in lines] == [
        "generator.columns.flag.weights.true",
        "generator.columns.flag.weights.false",
    ]
    assert all("YAML read" in line and "in quotes for text" in line for line in lines)


def test_a_value_of_the_expected_yaml_kind_gets_no_typing_hint(write_spec):
    spec = write_spec(spec_text().replace("samples: 1000", "samples: {{ var('samples') }}"))
    result = run_synthc("validate", spec, "--var", "samples=-5")
    assert result.returncode == 2
    assert "greater than 0 (from --var samples=-5)" in result.stderr
    assert "YAML" not in result.stderr  # YAML read an integer, as a count must be


def test_keys_yaml_reads_as_booleans_numbers_or_null_are_one_line_problems(write_spec):
    text = spec_text().replace("seed: 7", "seed: 7\ntrue: 1\n2: x\n~: y")
    result = run_synthc("validate", write_spec(text))
    assert result.returncode == 2
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert "unknown field" in result.stderr


def test_var_values_that_are_no_number_say_what_they_are(write_spec, cli):
    # a list was said to be "samples read as text" (its key); .nan printed as nan, which YAML
    # reads as text; a non-UTF-8 byte was a "control character U+DCFF"; a long value made one
    # error line of its whole length
    spec = write_spec(spec_text().replace("samples: 1000", "samples: {{ var('samples') }}"))
    for value, said in (
        ("[1, 2]", "input should be a valid integer (from --var samples=[1, 2])"),
        ("{a: 1}", "input should be a valid integer (from --var samples={a: 1})"),
        (".nan", "input should be a finite number (from --var samples=.nan)"),
        ("-.inf", "input should be a finite number (from --var samples=-.inf)"),
        ("\udcff\udcfe", "byte 0xFF that is not UTF-8 is not allowed in a spec"),
    ):
        code, _, err = cli("validate", spec, "--var", f"samples={value}")
        assert code == 2 and said in err and "YAML" not in err, err
    code, _, err = cli("validate", spec, "--var", "samples=" + "a" * 100_000)
    assert code == 2 and "YAML 1.2 reads aaaa" in err and len(err) < 1000, len(err)


def test_a_lone_surrogate_escape_is_refused_where_it_is_written(write_spec, cli):
    # Python holds "\ud800", no UTF-8 file can: the build failed after its shards, on the card
    text = spec_text().replace("a tiny test dataset", '"a\\ud800b"')
    code, _, err = cli("validate", write_spec(text))
    assert code == 2 and err.count("\n") == 1, err
    assert ":4:14: description: \\ud800 is half of a surrogate pair" in err, err
    assert (
        cli("validate", write_spec(spec_text().replace("a tiny test dataset", '"\\U0001F600"')))[0]
        == 0
    )


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!custom", "!!omap", "!!set"])
def test_a_tag_on_a_mapping_or_list_is_refused_like_one_on_a_scalar(write_spec, cli, tag):
    # it was dropped silently: the spec read as if it were not there
    text = spec_text().replace("splits: {", f"splits: {tag} {{")
    code, _, err = cli("validate", write_spec(text))
    assert code == 2 and f":7:9: splits: the tag {tag} is not allowed" in err, err
    assert cli("validate", write_spec(spec_text().replace("splits: {", "splits: !!map {")))[0] == 0


def test_specs_are_parsed_by_libyaml_and_errors_worded_by_pyyaml(cli, write_spec):
    """Events come from libyaml (a spec at the node limit parses in about a second, not ten);
    a spec that is no YAML is parsed again by PyYAML's own parser, whose messages name what
    it found, and whose depth check is not preceded by libyaml's read-ahead."""
    import yaml

    from synthc.compiler import loading

    assert yaml.__with_libyaml__ and issubclass(loading._CoreLoader, yaml._yaml.CParser)
    code, _, err = cli("validate", write_spec("synthc: 1\na:\n\t- 1\n"))
    assert code == 2 and ":3:1: YAML syntax error: found character '\\t' that cannot" in err
