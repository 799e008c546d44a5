"""Structural equations: distribution parameters and categorical weights as formulas of other
columns, and noise on expr columns, checked against the conditional distributions they declare."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from synthc import api
from synthc.errors import BuildError, SpecError
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.sampling import sample_shard

N = 200_000
HEADER = "synthc: 1\nname: structural\nversion: '1.0.0'\nseed: 5\nsamples: {samples}\n"
HEADER += "splits: {{train: 1.0}}\ngenerator:\n  kind: tabular\n  columns:\n"


def draw(columns: dict[str, Any], n: int = N, seed: int = 3) -> pl.DataFrame:
    config = TabularConfig.model_validate({"kind": "tabular", "columns": columns})
    return pl.DataFrame(list(sample_shard(config, seed, 0, n).values()))


def spec(tmp: Path, columns: str, samples: int = 300) -> Path:
    path = tmp / "spec.yaml"
    path.write_text(HEADER.format(samples=samples) + columns)
    return path


def synthc(*args: str | Path) -> subprocess.CompletedProcess[str]:
    program = shutil.which("synthc")
    assert program is not None, "the synthc console script must be installed"
    return subprocess.run([program, *map(str, args)], capture_output=True, text=True, check=False)


def test_lognormal_mu_affine_in_a_column_is_recovered_by_regression() -> None:
    frame = draw(
        {
            "age": {"dist": "uniform", "low": 20, "high": 70},
            "income": {"dist": "lognormal", "mu": "8 + 0.02 * age", "sigma": 0.5},
        }
    )
    slope, intercept = np.polyfit(frame["age"].to_numpy(), np.log(frame["income"].to_numpy()), 1)
    assert abs(slope - 0.02) < 0.02 * 0.03
    assert abs(intercept - 8) < 0.05
    residual = np.log(frame["income"].to_numpy()) - (8 + 0.02 * frame["age"].to_numpy())
    assert abs(residual.std() - 0.5) < 0.01


def test_poisson_with_a_log_linear_rate() -> None:
    frame = draw(
        {
            "tenure": {"dist": "integer", "low": 0, "high": 30},
            "visits": {"dist": "poisson", "lam": "exp(0.1 * tenure)"},
        }
    )
    means = frame.group_by("tenure").agg(pl.col("visits").mean()).sort("tenure")
    tenure, mean = means["tenure"].to_numpy(), means["visits"].to_numpy()
    slope, intercept = np.polyfit(tenure, np.log(mean), 1)
    assert abs(slope - 0.1) < 0.1 * 0.03
    assert abs(intercept) < 0.05


def test_categorical_weights_by_formula_shift_the_frequencies() -> None:
    frame = draw(
        {
            "x": {"dist": "bernoulli", "p": 0.5},
            "c": {"dist": "categorical", "values": ["a", "b"], "weights": ["1 + 3 * x", 1]},
        }
    )
    for x, share in ((0, 0.5), (1, 0.8)):
        rows = frame.filter(pl.col("x") == x)
        observed = (rows["c"] == "a").mean()
        assert isinstance(observed, float)
        assert abs(observed - share) < 0.01


def test_expr_noise_has_the_declared_std() -> None:
    frame = draw(
        {
            "a": {"dist": "normal"},
            "b": {"dist": "uniform"},
            "y": {"expr": "2 * a - b", "noise": {"dist": "normal", "std": 0.5}},
        }
    )
    residual = frame["y"] - (2 * frame["a"] - frame["b"])
    assert abs(residual.std() - 0.5) < 0.005  # type: ignore[operator]
    assert abs(residual.mean()) < 0.005  # type: ignore[arg-type]


def test_streams_are_keyed_by_name_and_constant_formulas_match_constants() -> None:
    # a formula that is a constant draws the same values as the number: same counters
    plain = draw({"s": {"dist": "normal", "mean": 1, "std": 2}}, n=1000)
    formula = draw({"z": {"dist": "uniform"}, "s": {"dist": "normal", "mean": "1", "std": 2}}, 1000)
    assert plain["s"].to_list() == formula["s"].to_list()
    again = draw({"s": {"dist": "normal", "mean": "1", "std": 2}, "z": {"dist": "uniform"}}, 1000)
    assert again["s"].to_list() == formula["s"].to_list()


def test_parameter_formulas_order_the_columns(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        "    y: {dist: normal, mean: 'x', std: 0.1}\n    x: {dist: normal}\n",
    )
    result = api.build(path, tmp_path / "out", workers=1)
    facts = api.load_manifest(result.out)["generator"]["facts"]
    assert facts["order"] == ["x", "y"]
    assert facts["columns"]["y"] == 'normal(mean="x", std=0.1)'


def test_cycles_through_parameters_are_refused_with_positions(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        "    a: {dist: normal, mean: 'b'}\n    b: {dist: poisson, lam: 'exp(a)'}\n",
    )
    run = synthc("validate", path)
    assert run.returncode == 2
    assert "dependency cycle" in run.stderr
    assert "generator.columns.a.mean" in run.stderr
    assert "Traceback" not in run.stderr


def test_unknown_column_in_a_parameter_points_at_its_character(tmp_path: Path) -> None:
    path = spec(tmp_path, "    a: {dist: normal}\n    b: {dist: lognormal, mu: '1 + agee'}\n")
    run = synthc("validate", path)
    assert run.returncode == 2
    assert "generator.columns.b.mu" in run.stderr
    assert "agee" in run.stderr
    # line 11, column 35: the "a" of "agee" inside the quoted formula
    line = next(x for x in run.stderr.splitlines() if "columns.b.mu" in x)
    assert "spec.yaml:11:35: generator.columns.b.mu: unknown column 'agee'" in line


def test_an_invalid_row_parameter_is_a_clear_build_error(tmp_path: Path) -> None:
    path = spec(tmp_path, "    a: {dist: normal}\n    b: {dist: normal, std: 'a'}\n")
    run = synthc("build", path, "-o", tmp_path / "out")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "column b: parameter std = 'a' is" in run.stderr
    assert "at row " in run.stderr and "must be finite and greater than or equal to 0" in run.stderr


def test_noise_takes_constant_parameters_only(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        "    a: {dist: normal}\n    y: {expr: 'a', noise: {dist: normal, std: 'a'}}\n",
    )
    run = synthc("validate", path)
    assert run.returncode == 2
    assert "generator.columns.y.noise.std" in run.stderr


def test_constant_bounds_are_still_checked_at_validate_time(tmp_path: Path) -> None:
    path = spec(tmp_path, "    a: {dist: lognormal, sigma: -1}\n")
    run = synthc("validate", path)
    assert run.returncode == 2
    assert "generator.columns.a.sigma" in run.stderr
    assert "greater than or equal to 0" in run.stderr


def test_a_formula_that_reads_no_column_is_judged_at_validate_time(tmp_path: Path) -> None:
    # one value for every row: the build failed at row 0 on each of these, after validate said ok
    columns = (
        "    a: {dist: normal, std: '1/0'}\n"
        "    b: {dist: poisson, lam: '1e300'}\n"
        "    c: {dist: bernoulli, p: '0/0'}\n"
        "    d: {dist: uniform, low: '2', high: 1}\n"
        "    e: {dist: categorical, values: [x, y], weights: ['0', 0]}\n"
        "    f: {dist: normal, mean: 'exp(1000)'}\n"
        "    g: {dist: normal, mean: 'x', std: '2 * 3'}\n"  # reads a column: judged per row
        "    x: {dist: uniform}\n"
    )
    with pytest.raises(SpecError) as caught:
        api.validate(spec(tmp_path, columns))
    found = {p.path: p.message for p in caught.value.problems}
    assert sorted(found) == [
        f"generator.columns.{c}" for c in ("a.std", "b.lam", "c.p", "d.high", "e.weights", "f.mean")
    ]
    assert "the formula '1/0' reads no column and is always inf" in found["generator.columns.a.std"]
    assert "greater than or equal to 0" in found["generator.columns.a.std"]
    assert "less than or equal to 1e+09" in found["generator.columns.b.lam"]
    assert "must be > low (2)" in found["generator.columns.d.high"]
    assert "not all 0" in found["generator.columns.e.weights"]
    assert all(p.position is not None and p.position.line > 7 for p in caught.value.problems)


def test_formula_columns_cannot_join_the_copula(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        "    a: {dist: normal}\n    b: {dist: normal, mean: 'a'}\n  correlation: {a: {b: 0.5}}\n",
    )
    run = synthc("validate", path)
    assert run.returncode == 2
    assert "parameter formulas cannot join the copula" in run.stderr


def test_manifest_describes_noise(tmp_path: Path) -> None:
    path = spec(
        tmp_path,
        "    a: {dist: normal}\n    y: {expr: '2 * a', noise: {dist: uniform, low: -1, high: 1}}\n",
    )
    result = api.build(path, tmp_path / "out", workers=1)
    manifest = json.loads((result.out / "manifest.json").read_text())
    described = manifest["generator"]["facts"]["columns"]["y"]
    assert described == "expr: 2 * a, plus noise uniform(low=-1, high=1)"


def test_rows_do_not_depend_on_the_shard_boundaries() -> None:
    columns = {
        "x": {"dist": "uniform", "low": 0, "high": 3},
        "n": {"dist": "poisson", "lam": "5 * x"},
        "c": {"dist": "categorical", "values": ["a", "b", "c"], "weights": ["x", 1, "3 - x"]},
        "y": {"expr": "n - x", "noise": {"dist": "gamma", "shape": 2}},
    }
    config = TabularConfig.model_validate({"kind": "tabular", "columns": columns})
    whole = pl.DataFrame(list(sample_shard(config, 9, 0, 1000).values()))
    parts = [
        pl.DataFrame(list(sample_shard(config, 9, a, b).values()))
        for a, b in ((0, 377), (377, 1000))
    ]
    assert whole.equals(pl.concat(parts))


@pytest.mark.parametrize(
    ("kind", "formula"),
    [("logistic", "log(a)"), ("threshold", "log(a)"), ("linear", "1 / (a - a)")],
)
def test_a_label_formula_without_a_number_at_a_row_is_a_build_error(
    kind: str, formula: str
) -> None:
    # the logistic label was drawn as 0 with y_true NaN, the threshold one was 0, the linear one inf
    config = TabularConfig.model_validate(
        {
            "kind": "tabular",
            "columns": {"a": {"dist": "normal"}},
            "label": {"name": "y", "kind": kind, "formula": formula},
        }
    )
    with pytest.raises(BuildError, match=r"label y: formula .* at row \d+; it must be"):
        sample_shard(config, 3, 0, 50)
