"""Positions under any Jinja, --var attribution and unused --var values, through the CLI."""

from __future__ import annotations

import pytest
from conftest import run_synthc, spec_text

SPEC = spec_text().replace("samples: 1000", "samples: {{ var('samples', 1000) }}")


def _errors(err: str) -> list[str]:
    assert "Traceback" not in err
    return [line for line in err.splitlines() if not line.startswith("    ")]


def test_whitespace_control_keeps_lines_exact(cli, write_spec):
    # Any {%- or -%} used to send every error to the file's last line.
    spec = write_spec(
        "{%- set n = 3 -%}\n"  # 1
        "synthc: 1\n"  # 2
        "name: tiny\n"  # 3
        "{% if true -%}\n"  # 4
        "  bogus: 1\n"  # 5: the planted mistake, indented in the file, trimmed by -%}
        "{%- endif %}\n"  # 6
        "{# a comment -#}\n"  # 7
        + "\n".join(spec_text().splitlines()[2:])
        + "\n{% raw %}# {{ kept }}{% endraw %}\n"
    )
    code, _, err = cli("validate", spec)
    assert code == 2
    assert f"{spec}:5:3: bogus: unknown field 'bogus'" in _errors(err)


def test_columns_after_an_expression_on_the_same_line(cli, write_spec):
    # The rendered column used to be reported as the source column.
    text = spec_text().replace("samples: 1000", "samples: {{ '' }}{{ '' }}many")
    text = text.replace("name: tiny", "name: {{ 'ti' }}ny {{ '' }}")
    spec = write_spec(text)
    code, _, err = cli("validate", spec)
    assert code == 2
    column = len("samples: {{ '' }}{{ '' }}") + 1
    (line,) = [e for e in _errors(err) if "samples" in e]
    assert line.startswith(f"{spec}:6:{column}: samples: input should be a valid integer")


def test_a_value_printed_by_an_expression_points_at_the_expression(cli, write_spec):
    text = spec_text().replace("samples: 1000", "samples: {{ 'many' | upper }}")
    spec = write_spec("{% macro bad() %}{{ 'x' }}y{% endmacro %}\n" + text)
    code, _, err = cli("validate", spec)
    assert code == 2
    assert any(e.startswith(f"{spec}:7:10: samples:") for e in _errors(err))


def test_macro_text_maps_to_its_line_and_what_it_prints_to_the_call(cli, write_spec):
    spec = write_spec(
        "{% macro m(v) %}\n"  # 1
        "seed: {{ v }}\n"  # 2: the value comes from the call's argument
        "samples: {{ '' }}many\n"  # 3: literal text after an expression inside a macro
        "bogus: 1\n"  # 4: literal text on a later line of a macro
        "{% endmacro %}\n"  # 5
        "synthc: 1\n"  # 6
        "{{ m('x') }}\n"  # 7
        "name: tiny\n"  # 8
        + "\n".join(spec_text().splitlines()[2:4] + spec_text().splitlines()[6:])
    )
    code, _, err = cli("validate", spec)
    assert code == 2
    lines = _errors(err)
    assert any(e.startswith(f"{spec}:7:1: seed: input should be") for e in lines)
    assert any(e.startswith(f"{spec}:7:1: samples: input should be") for e in lines)
    assert f"{spec}:4:1: bogus: unknown field 'bogus'" in lines


def test_a_one_line_macro_returns_exactly_its_text(cli, write_spec):
    # Markers must not change what a template computes with a macro's output.
    text = "{% macro n() %}5{% endmacro %}\n" + spec_text().replace(
        "seed: 7", "seed: {{ n() | int * 2 }}{% if n() != '5' %}x{% endif %}"
    )
    spec = write_spec(text)
    code, out, err = cli("validate", spec)
    assert (code, err) == (0, "")


def test_a_position_no_marker_explains_says_the_line_is_unknown(cli, write_spec):
    # A filter that writes text of its own: no line of the file holds it.
    text = spec_text().replace(
        "samples: 1000", "{% filter replace('N', 'samples: many') %}N{% endfilter %}"
    )
    spec = write_spec(text)
    code, _, err = cli("validate", spec)
    assert code == 2
    (line,) = [e for e in _errors(err) if "samples" in e]
    assert line.startswith(f"{spec}: samples: input should be a valid integer")
    assert line.endswith("(line unknown: produced by a template construct synthc cannot map)")


@pytest.mark.parametrize("read", ["var('samples', 1000)", "vars.samples", "vars['samples']"])
def test_an_error_in_a_var_value_names_the_var(cli, write_spec, read):
    spec = write_spec(spec_text().replace("samples: 1000", f"samples: {{{{ {read} }}}}"))
    code, _, err = cli("validate", spec, "--var", "samples=12.5")
    assert code == 2
    (line,) = _errors(err)[:1]
    assert line.startswith(f"{spec}:6:10: samples: ")
    assert line.endswith("(from --var samples=12.5)")


@pytest.mark.parametrize("value", ["", " ", "''"])
@pytest.mark.parametrize("read", ["var('samples', 1000)", "vars.samples"])
def test_an_empty_var_value_names_the_var(cli, write_spec, read, value):
    spec = write_spec(spec_text().replace("samples: 1000", f"samples: {{{{ {read} }}}}"))
    code, _, err = cli("validate", spec, "--var", f"samples={value}")
    assert code == 2
    (line,) = _errors(err)[:1]
    assert line.startswith(f"{spec}:6:10: samples: the value is empty")
    assert line.endswith(f"(from --var samples={value})")


@pytest.mark.parametrize(
    ("name", "at"),
    [
        ("seed", ":5:7: seed: "),  # a comment after it
        ("t", ":7:17: splits.train: "),  # in a flow mapping
        ("kind", ":9:9: generator.kind: the value is empty"),
        ("shape", ":10:10: generator.shape: the value is empty"),
    ],
)
def test_an_empty_var_value_anywhere_names_the_var(cli, write_spec, name, at):
    text = (
        spec_text(splits="{train: {{ var('t', 1000) }}}")
        .replace("seed: 7", "seed: {{ var('seed', 7) }}  # the seed")
        .replace("kind: manifold\n  shape: swiss_roll", "kind: {{ var('kind', 'manifold') }}\n"
                 "  shape: {{ var('shape', 'moons') }}")
    )  # fmt: skip
    spec = write_spec(text)
    code, _, err = cli("validate", spec, "--var", f"{name}=")
    assert code == 2
    found = [e for e in _errors(err) if e.startswith(f"{spec}{at}")]
    assert found and all(e.endswith(f"(from --var {name}=)") for e in found)


def test_a_var_value_printed_through_a_set_names_the_var(cli, write_spec):
    text = "{% set n = var('samples', 1000) %}\n" + spec_text().replace("1000", "{{ n }}")
    spec = write_spec(text)
    code, _, err = cli("validate", spec, "--var", "samples=12.5")
    assert code == 2
    (line,) = _errors(err)[:1]
    assert line.startswith(f"{spec}:7:10: samples: ")
    assert line.endswith("(from --var samples=12.5)")


def test_only_errors_in_var_values_name_a_var(cli, write_spec):
    text = SPEC.replace("seed: 7", "seed: {{ 'x' }}")
    spec = write_spec(text)
    code, _, err = cli("validate", spec, "--var", "samples=12")
    assert code == 2
    lines = _errors(err)
    assert any(e.startswith(f"{spec}:5:7: seed:") for e in lines)
    assert not any("from --var" in e for e in lines)


@pytest.mark.parametrize(
    "command",
    [
        ("validate", "{spec}"),
        ("plan", "{spec}"),
        ("build", "{spec}", "-o", "{tmp}/out"),
        ("preview", "{spec}", "-o", "{tmp}/p.png"),
    ],
)
def test_a_var_the_spec_never_reads_is_an_error(tmp_path, command):
    # Observed: --var sampels=6000 built the default samples, exit 0.
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    args = [a.format(spec=spec, tmp=tmp_path) for a in command]
    result = run_synthc(*args, "--var", "sampels=6000", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = "--var sampels=6000: the spec never reads 'sampels'; did you mean 'samples'?"
    assert message in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]  # nothing written


def test_unused_vars_are_reported_with_the_other_problems(cli, write_spec):
    spec = write_spec(spec_text().replace("seed: 7", "seed: x"))
    code, _, err = cli("validate", spec, "--var", "n=1", "--var", "samples=5")
    assert code == 2
    lines = _errors(err)
    assert "--var n=1: the spec never reads 'n'; it reads no variables" in lines
    assert any(e.startswith(f"{spec}:5:7: seed:") for e in lines)


def test_reads_in_branches_not_taken_and_whole_vars_count(cli, write_spec):
    # A name the template reads literally counts even where this render skipped it.
    text = SPEC + "{% if false %}extra: {{ var('extra') }}{% endif %}\n"
    code, out, err = cli("validate", write_spec(text), "--var", "extra=1")
    assert (code, err) == (0, "")
    for whole in ("{% for k in vars %}{% endfor %}", "# {{ vars }}"):
        code, out, err = cli("validate", write_spec(SPEC + whole + "\n"), "--var", "any=1")
        assert (code, err) == (0, "")


@pytest.mark.parametrize(
    "text", ["", "\n\n", "{# only a comment #}\n", "{% if false %}x{% endif %}"]
)
def test_a_spec_that_renders_to_nothing_is_reported_at_its_start(cli, write_spec, text):
    spec = write_spec(text)
    code, _, err = cli("validate", spec)
    assert code == 2
    assert _errors(err) == [
        f"{spec}:1:1: a spec must be a mapping of fields (synthc, name, seed, samples, ...)"
    ]
