"""Extreme parameters of tabular columns: the kernels give the same values compiled and as plain
Python, and parameters whose values would overflow are spec errors at their field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from synthc import api
from synthc.errors import BuildError, SpecError
from synthc.generators import jit, rng
from synthc.generators.tabular import columns as models
from synthc.generators.tabular import draws, kernels
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.sampling import sample_shard
from synthc.generators.tabular.scales import as_tuples, scales


def plain_and_compiled(
    run: Callable[[], list[np.ndarray]], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``run()`` with every tabular kernel as plain Python (even those this process compiled
    already), then compiled."""
    with monkeypatch.context() as patch:
        for module in (kernels, rng, jit):
            for kernel in vars(module).values():
                if isinstance(kernel, jit.Kernel):
                    patch.setattr(kernel, "_made", None)
        with jit.plain_python():
            plain = run()
    return plain, run()


def test_an_overflowing_exp_is_inf_compiled_and_as_plain_python(monkeypatch):
    def run() -> list[np.ndarray]:
        out = [np.empty(64) for _ in range(3)]
        kernels.lognormal(0, 3, 5, 709.0, 1.0, out[0])
        kernels.lognormal_rows(0, 3, 5, np.linspace(700.0, 1000.0, 64), np.ones(64), out[1])
        z = np.linspace(-20.0, 20.0, 64)
        kernels.quantile(kernels.Q_LOGNORMAL, np.array([700.0, 1.0]), z, out[2])
        return out

    # Python's math.exp raised OverflowError where compiled exp gives inf
    plain, compiled = plain_and_compiled(run, monkeypatch)
    for a, b in zip(plain, compiled, strict=True):
        assert np.isinf(b).any() and np.isfinite(b).any()
        assert a.tobytes() == b.tobytes()


HEADER = "synthc: 1\nname: limits\nseed: 1\nsamples: {samples}\ngenerator:\n  kind: tabular\n"


def spec(tmp_path: Path, columns: str, samples: int = 10) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(HEADER.format(samples=samples) + "  columns:\n" + columns)
    return path


OVERFLOWING = {  # column -> (the field blamed, what the message says)
    "{dist: lognormal, mu: 1000, sigma: 1}": ("mu", "exp(mu) is about 10^434.3"),
    "{dist: lognormal, mu: 100, sigma: 1, dtype: float32}": ("mu", "largest float32"),
    "{dist: lognormal, mu: 0, sigma: 60}": ("sigma", "exp(mu + 12.01 sigma)"),
    "{dist: uniform, low: -1.7e308, high: 1.7e308}": ("high", "high - low = inf"),
    "{dist: uniform, low: 0, high: 1e39, dtype: float32}": ("high", "high is 1e+39"),
    "{dist: normal, mean: 1.7e308, std: 1e308}": ("std", "|mean| + 12.01 std = inf"),
    "{dist: normal, mean: 1e39, std: 1, dtype: float32}": ("mean", "largest float32"),
    "{dist: exponential, scale: 1e307}": ("scale", "75.5 scale = inf"),
    "{dist: gamma, shape: 1e300, scale: 1e300}": ("scale", "scale x 1e+300"),
    "{dist: beta, a: 1e308, b: 1e308}": ("a", "X + Y"),
    "{dist: categorical, values: [x, y], weights: [1e308, 1e308]}": ("weights", "add up to inf"),
    "{expr: '1', noise: {dist: lognormal, mu: 710}}": ("noise.mu", "exp(mu)"),
    # exp and expm1 of the closed-form moments raised OverflowError: an internal error
    "{dist: lognormal, mu: 0, sigma: 30, standardize: true}": ("standardize", "beyond float64"),
}


@pytest.mark.parametrize("column", list(OVERFLOWING))
def test_parameters_whose_values_overflow_are_spec_errors_at_the_field(tmp_path, column):
    field, words = OVERFLOWING[column]
    with pytest.raises(SpecError) as caught:
        api.validate(spec(tmp_path, f"    a: {column}\n"))
    message = str(caught.value)
    assert f"generator.columns.a.{field}: " in message and words in message, message
    assert len(message.splitlines()) == 1


def test_a_std_that_overflows_beside_a_mean_formula_is_a_spec_error(tmp_path):
    # whatever the mean, 12 std is beyond float32: every shard failed at a row, validate passed
    columns = (
        "    x: {dist: uniform}\n    a: {dist: normal, mean: 'x', std: 1e38, dtype: float32}\n"
    )
    with pytest.raises(SpecError) as caught:
        api.validate(spec(tmp_path, columns))
    message = str(caught.value)
    assert "generator.columns.a.std: " in message and "whatever the mean" in message, message
    api.validate(spec(tmp_path, columns.replace("1e38", "1e37")))


def test_the_largest_parameters_that_cannot_overflow_are_valid(tmp_path):
    columns = (
        "    a: {dist: lognormal, mu: 700, sigma: 0.5}\n"
        "    b: {dist: normal, mean: 1e308, std: 1e306}\n"
        "    c: {dist: uniform, low: -8e307, high: 8e307}\n"
        "    d: {dist: categorical, values: [x, y], weights: [8e307, 8e307]}\n"
        "    e: {dist: lognormal, mu: 80, sigma: 0.5, dtype: float32}\n"
    )
    api.validate(spec(tmp_path, columns))


def test_formula_parameters_that_overflow_stop_the_build_at_the_row(tmp_path):
    columns = (
        "    x: {dist: uniform, low: 0, high: 1}\n"
        "    a: {dist: lognormal, mu: '700 + 20 * x', sigma: 0.1}\n"
        "    w: {dist: categorical, values: [p, q], weights: ['8e307 * (1 + x)', 1e308]}\n"
    )
    path = spec(tmp_path, columns)
    with pytest.raises(BuildError, match=r"column a: the value drawn at row \d+ is inf, beyond "):
        api.build(path, tmp_path / "out", workers=1)
    path.write_text(path.read_text().replace("700 + 20 * x", "x"))
    with pytest.raises(BuildError, match=r"column w: the weights add up to inf at row 0"):
        api.build(path, tmp_path / "out", workers=1)


def test_integers_wider_than_2_53_reach_every_value(monkeypatch):
    """low + floor(U * span) with a 53-bit U gave only multiples of 512 for a span of 2**62."""
    columns = [
        models.Integer(dist="integer", low=0, high=2**62),
        models.Integer(dist="integer", low=-(2**62), high=2**62),  # a span of 2**63 + 1
    ]

    def run() -> list[np.ndarray]:
        return [draws.draw(column, (3, 5), 0, 2000, {}) for column in columns]

    plain, compiled = plain_and_compiled(run, monkeypatch)
    for column, a, b in zip(columns, plain, compiled, strict=True):
        assert a.tobytes() == b.tobytes()
        assert column.low <= b.min() and b.max() <= column.high
        low_bits = (b - column.low) % 1024
        assert 0.45 < (low_bits % 2).mean() < 0.55  # the low bits are random too
        assert abs(low_bits.mean() - 511.5) < 30
        assert abs((b - column.low).mean() / (column.high - column.low) - 0.5) < 0.04


TABLES = """  tables:
    a:
      columns: {{x: {{dist: normal}}}}
    b:
      parent: a
      rows_per_parent: {{dist: {count}}}
      columns: {{y: {{dist: normal}}}}
output:
  shard_size: {shard_size}
"""


def test_too_many_rows_per_parent_are_blamed_on_rows_per_parent(tmp_path):
    path = tmp_path / "spec.yaml"
    count = "constant, value: 1000000000000"
    path.write_text(HEADER.format(samples=10) + TABLES.format(count=count, shard_size=1))
    with pytest.raises(SpecError) as caught:
        api.validate(path)
    assert "generator.tables.b.rows_per_parent.value: about 1,000,000,000,000 b rows per a row" in (
        str(caught.value)
    )
    # shard_size counts root rows: the largest that fits is in a rows, not b rows
    path.write_text(
        HEADER.format(samples=10**6) + TABLES.format(count="poisson, lam: 100", shard_size=10**6)
    )
    with pytest.raises(SpecError, match=r"output.shard_size: .* use output.shard_size <= 335,544$"):
        api.validate(path)


def test_a_pilot_of_huge_finite_values_standardises_them() -> None:
    # the squares of 1e300 overflowed: "the pilot sample's mean 1e+300 and std inf" refused a
    # column whose std (1e290) is a float64
    columns = {
        "a": {"dist": "normal", "mean": 1e300, "std": 1e290},
        "b": {"expr": "a", "standardize": True},
    }
    config = TabularConfig.model_validate({"kind": "tabular", "columns": columns})
    b = sample_shard(config, 1, 0, 1000, as_tuples(scales(config, 1)))["b"].to_numpy()
    assert np.isfinite(b).all() and abs(b.mean()) < 0.2 and 0.8 < b.std() < 1.2


def test_a_linear_label_noise_beyond_float64_is_refused_at_validate() -> None:
    # noise 1e308 validated, then stored inf as the label of every row with |Z| > 1.8
    label = {"name": "y", "kind": "linear", "formula": "a", "noise": 1e308}
    config = TabularConfig.model_validate(
        {"kind": "tabular", "columns": {"a": {"dist": "normal"}}, "label": label}
    )
    problems = [p for rule in config.semantic_rules() for p in rule()]
    assert [p[0] for p in problems] == [("label", "noise")]
    assert "use a noise of at most 1.497e+307" in problems[0][1]


def test_the_noise_of_a_float32_expr_column_is_judged_in_float32() -> None:
    # judged in float64, std 1e38 validated and the build stored inf in 14 of 20,000 rows
    columns = {
        "a": {"dist": "normal"},
        "b": {"expr": "a", "dtype": "float32", "noise": {"dist": "normal", "std": 1e38}},
    }
    config = TabularConfig.model_validate({"kind": "tabular", "columns": columns})
    problems = [p for rule in config.semantic_rules() for p in rule()]
    assert [p[0] for p in problems] == [("columns", "b", "noise", "std")]
    assert "beyond the largest float32" in problems[0][1]


@pytest.mark.parametrize(
    "column",
    [
        {"dist": "normal", "dtype": "float32", "clip": [1e300, 1e301]},
        {"expr": "a", "dtype": "float32", "clip": [-1e301, -1e300]},
    ],
)
def test_a_clip_bound_beyond_the_dtype_is_refused(column) -> None:
    # every value was raised (or lowered) to the bound and stored as inf
    columns = {"a": {"dist": "normal"}, "b": column}
    config = TabularConfig.model_validate({"kind": "tabular", "columns": columns})
    problems = [p for rule in config.semantic_rules() for p in rule()]
    assert len(problems) == 1 and problems[0][0][:3] == ("columns", "b", "clip")
    assert "beyond the largest float32" in problems[0][1]


def test_a_fractional_clip_bound_of_an_integer_column_is_refused() -> None:
    # poisson clipped to [0.5, 2.5] stored 0 for the values raised to 0.5: outside the clip
    columns = {"a": {"dist": "poisson", "lam": 3, "clip": [0.5, 2.5]}}
    config = TabularConfig.model_validate({"kind": "tabular", "columns": columns})
    problems = [p for rule in config.semantic_rules() for p in rule()]
    assert [(p[0], p[1].split(": ")[-1]) for p in problems] == [
        (("columns", "a", "clip", 0), "use 1"),
        (("columns", "a", "clip", 1), "use 2"),
    ]
