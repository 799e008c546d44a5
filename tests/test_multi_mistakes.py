"""One run reports every independent problem of a spec: multi_mistake_specs/ state them all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_synthc, spec_text
from test_spec_errors import expectations

from synthc import api
from synthc.errors import SpecError

SPECS = Path(__file__).parent / "multi_mistake_specs"
FRACTAL = "kind: fractal\n  classes: 4\n  instances: 5\n  render: {size: 16, points: 200}"


def _matches(problem, path: Path, line: int, col: int | None, field: str, message: str) -> bool:
    pos = problem.position
    return (
        pos is not None
        and pos.file == str(path)
        and (pos.line, pos.col if col is not None else None) == (line, col)
        and problem.path == field
        and message in problem.message
    )


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_one_run_reports_every_mistake_and_nothing_else(path: Path):
    expected = expectations(path)
    assert 3 <= len(expected) <= 6, f"{path.name}: 3-6 independent mistakes"
    with pytest.raises(SpecError) as caught:
        api.validate(path)
    problems = caught.value.problems
    for line, col, field, message in expected:
        assert any(_matches(p, path, line, col, field, message) for p in problems), (
            f"expected {line}:{col}: {field}: {message!r}; got:\n{caught.value}"
        )
    extra = [p for p in problems if not any(_matches(p, path, *e) for e in expected)]
    assert not extra, "unexpected problems:\n" + "\n".join(map(str, extra))


def test_console_script_reports_every_mistake_in_one_run():
    path = SPECS / "tabular.yaml"
    result = run_synthc("validate", path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("synthc:")]
    expected = expectations(path)
    assert len(lines) == len(expected), result.stderr
    for line, col, field, message in expected:
        assert any(
            entry.startswith(f"{path}:{line}:{col}: {field}: ") and message in entry
            for entry in lines
        ), (line, col, field, result.stderr)


@pytest.mark.parametrize(
    ("column", "key", "hint"),
    [
        ("{dist: normal, sd: 2}", "sd", "did you mean 'std'?"),
        ("{dist: normal, sigma: 2}", "sigma", "did you mean 'std'?"),
        ("{dist: normal, loc: 2}", "loc", "did you mean 'mean'?"),
        ("{dist: normal, scale: 2}", "scale", "did you mean 'std'?"),
        ("{dist: normal, mu: 2}", "mu", "did you mean 'mean'?"),
        ("{dist: poisson, lam: 1, lambda: 2}", "lambda", "did you mean 'lam'?"),
        ("{dist: uniform, loc: 2}", "loc", "write low: <loc> and high: <loc + scale>"),
        ("{dist: uniform, scale: 2}", "scale", "write low: <loc> and high: <loc + scale>"),
        ("{dist: exponential, lambda: 2}", "lambda", "write scale: <1 / lambda>"),
    ],
)
def test_numpy_and_scipy_parameter_names_get_a_did_you_mean(cli, write_spec, column, key, hint):
    generator = f"kind: tabular\n  columns:\n    x: {column}"
    code, _, err = cli("validate", write_spec(spec_text(generator=generator)))
    assert code == 2 and "Traceback" not in err
    (line,) = [line for line in err.splitlines() if not line.startswith("synthc:")]
    assert f"generator.columns.x.{key}: unknown field '{key}'; " in line and hint in line
    assert "missing required field" not in err  # the alias stands for the field it names


def test_lognormal_mu_and_sigma_are_its_own_fields(cli, write_spec):
    generator = "kind: tabular\n  columns:\n    x: {dist: lognormal, mu: 1, sigma: 0.5}"
    code, out, err = cli("validate", write_spec(spec_text(generator=generator)))
    assert code == 0, err


def test_fractal_samples_are_derived_when_omitted(tmp_path, write_spec, cli):
    text = re.sub(r"samples: \d+\n", "", spec_text(generator=FRACTAL, shard_size=8))
    text = text.replace("format: parquet", "format: webdataset")
    assert "samples" not in text
    path = write_spec(text)
    assert api.validate(path).samples == 20
    plan = api.plan(path)
    assert plan.samples == 20 and sum(t.samples for t in plan.tasks) == 20
    assert {t.split: t.stop for t in plan.tasks if t.split == "test"} == {"test": 20}
    out = tmp_path / "out"
    code, _, err = cli("build", path, "-o", out)
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["samples"] == 20
    assert {name: s["samples"] for name, s in manifest["splits"].items()} == {
        "train": 16,
        "test": 4,
    }


def test_an_explicit_fractal_sample_count_that_disagrees_stays_an_error(cli, write_spec):
    path = write_spec(spec_text(generator=FRACTAL, samples=21))
    code, _, err = cli("validate", path)
    assert code == 2 and "Traceback" not in err
    assert f"{path}:6:10: samples: must be 20 for this generator (classes x instances)" in err


def test_samples_stay_required_where_the_generator_implies_none(cli, write_spec):
    path = write_spec(re.sub(r"samples: \d+\n", "", spec_text()))
    code, _, err = cli("validate", path)
    assert code == 2 and "Traceback" not in err
    assert "samples: missing required field 'samples'" in err


def test_schema_no_longer_requires_samples(cli):
    code, out, _ = cli("schema")
    schema = json.loads(out)
    assert code == 0
    assert "samples" not in schema["required"] and "samples" in schema["properties"]


def test_an_invalid_field_does_not_hide_a_rule_on_other_fields(cli, write_spec):
    # a negative noise used to hide ambient_dim below the shape's dimension
    generator = "kind: manifold\n  shape: sphere\n  dim: 4\n  noise: -1\n  ambient_dim: 3"
    code, _, err = cli("validate", write_spec(spec_text(generator=generator)))
    assert code == 2
    assert "generator.noise: input should be greater than or equal to 0" in err
    assert "generator.ambient_dim: must be >= 5, the natural dimension of sphere" in err


def test_a_rule_whose_input_is_invalid_stays_silent(cli, write_spec):
    # r is not a number: the r < R rule cannot be judged and says nothing
    generator = "kind: manifold\n  shape: torus\n  r: wide\n  R: 1"
    code, _, err = cli("validate", write_spec(spec_text(generator=generator)))
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("synthc:")]
    assert len(lines) == 1 and "generator.r: input should be a valid number" in lines[0], err


def test_an_unknown_dist_silences_only_the_formulas_that_read_it(cli, write_spec):
    generator = (
        "kind: tabular\n  columns:\n    a: {dist: blah, mean: 1}\n    b: {expr: 'a + 1'}\n"
        "    c: {expr: 'b + q'}\n    d: {dist: categorical, values: [x, x]}"
    )
    path = write_spec(spec_text(generator=generator))
    code, _, err = cli("validate", path)
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("synthc:")]
    assert [line.split(": ")[1] for line in lines] == [
        "generator.columns.a.dist",  # unknown dist; `mean` is not judged without a member
        "generator.columns.c.expr",  # unknown column 'q'; b reads a, and stays silent
        "generator.columns.d.values[1]",  # duplicate value
    ], err


@pytest.mark.parametrize(
    ("generator", "expected"),
    [
        (
            "kind: tabular\n  columns: {}\n  label: {name: y, kind: logistc, formula: 'x +'}",
            ["generator.columns", "generator.label.kind", "generator.label.formula"],
        ),
        (
            "kind: manifold\n  shape: [a]\n  noise: x\n  colour: red",
            ["generator.shape", "generator.noise", "generator.colour"],
        ),
    ],
)
def test_containers_and_odd_tags_are_judged_part_by_part(cli, write_spec, generator, expected):
    code, _, err = cli("validate", write_spec(spec_text(generator=generator)))
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("synthc:")]
    assert [line.split(": ")[1] for line in lines] == expected, err


def test_an_invalid_clip_does_not_hide_a_columns_range(cli, write_spec):
    generator = (
        "kind: tabular\n  columns:\n    a: {dist: uniform, low: 3, high: 1, clip: [1]}\n"
        "    b: {dist: integer, low: 3, high: 1, clip: [5, 1]}"
    )
    code, _, err = cli("validate", write_spec(spec_text(generator=generator)))
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("synthc:")]
    assert [line.split(": ")[1] for line in lines] == [
        "generator.columns.a.high",
        "generator.columns.a.clip",
        "generator.columns.b.high",
        "generator.columns.b.clip",
    ], err


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        # a misspelt kind is judged as the kind it most likely means
        ("manifld", ["generator.kind", "generator.dim", "generator.noize"]),
        # an unknown kind: only the keys no generator kind has are still judged
        ("zzz", ["generator.kind", "generator.noize"]),
    ],
)
def test_an_unknown_generator_kind_hides_no_other_problem(cli, write_spec, kind, expected):
    generator = f"kind: {kind}\n  shape: sphere\n  dim: 0\n  noize: 1"
    code, _, err = cli("validate", write_spec(spec_text(generator=generator)))
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("synthc:")]
    assert [line.split(": ")[1] for line in lines] == expected, err
    assert "unknown field 'noize'; did you mean 'noise'?" in err


def test_an_invalid_field_does_not_hide_a_memory_limit(cli, write_spec):
    generator = "kind: manifold\n  shape: blobs\n  noise: -1\n  dim: 4096\n  centers: 1000000"
    code, _, err = cli("validate", write_spec(spec_text(generator=generator)))
    assert code == 2 and "Traceback" not in err
    assert "generator.noise: input should be greater than or equal to 0" in err
    assert "generator.centers: 1,000,000 centres of dim 4096" in err
    assert "synthc.limits.MAX_FACT_BYTES" in err


def test_a_did_you_mean_shows_an_invisible_character_as_an_escape():
    """Two column names that look alike on a terminal (one with a zero-width space) are told
    apart in the hint."""
    from synthc.hints import did_you_mean

    assert did_you_mean("z", ["z\u200b"]) == "; did you mean 'z\\u200b'?"
    assert did_you_mean("stdd", ["std"]) == "; did you mean 'std'?"


@pytest.mark.parametrize(
    ("generator", "said"),
    [
        (
            "kind: tabular\n  tables:\n    a:\n      columns: {x: {dist: normal}}\n    b:\n"
            "      parent: a\n      rows_per_parent: {dist: negative_binomial, lam: 5}\n"
            "      columns: {y: {dist: normal}}",
            "generator.tables.b.rows_per_parent.dist: unknown dist 'negative_binomial'; expected "
            "one of poisson, binomial, integer, constant; did you mean 'binomial'?",
        ),
        (
            "kind: tabular\n  columns: {x: {dist: binomal, lam: 3}}",
            "generator.columns.x.dist: unknown dist 'binomal'; expected one of normal, uniform, "
            "lognormal, exponential, gamma, beta, poisson, binomial, bernoulli, integer, date, "
            "timestamp, categorical, sequence, constant, or 'expr' in place of 'dist'; did you "
            "mean 'binomial'?",
        ),
        (
            "kind: manifold\n  shape: tors\n  centers: 3",
            "generator.shape: unknown shape 'tors'; expected one of swiss_roll, s_curve, sphere, "
            "torus, helix, moons, circles, blobs; did you mean 'torus'?",
        ),
        (
            "kind: tabularr\n  shape: sphere",
            "generator.kind: unknown generator kind 'tabularr'; did you mean 'tabular'?",
        ),
    ],
)
def test_a_misspelt_tag_reports_only_itself_not_the_guessed_members_fields(
    cli, write_spec, generator, said
):
    """A tag judged as its closest member reported that member's missing fields (binomial's n
    and p for an unknown dist) and the other members' fields as unknown."""
    code, _, err = cli("validate", write_spec(spec_text(generator=generator)))
    assert code == 2
    (line,) = err.splitlines()
    assert line.split(": ", 1)[1] == said, err
