"""The tabular generator: distributions, copula, formulas, labels and missing values, checked on
the built Parquet (read with polars and pyarrow) against the spec's declared truth."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import get_args

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from scipy import stats

from synthc import api
from synthc.generators.tabular import columns as models
from synthc.generators.tabular import draws
from synthc.generators.tabular.generator import describe

N = 200_000

SPEC = """\
synthc: 1
name: tabular-moments
seed: 99
samples: {samples}
generator:
  kind: tabular
  columns:
    a_normal: {{dist: normal, mean: 3, std: 2}}
    a_uniform: {{dist: uniform, low: -1, high: 5}}
    a_lognormal: {{dist: lognormal, mu: 0.5, sigma: 0.4}}
    a_exponential: {{dist: exponential, scale: 2.5}}
    a_gamma_small: {{dist: gamma, shape: 0.6, scale: 2}}
    a_gamma: {{dist: gamma, shape: 4.5, scale: 1.5}}
    a_beta: {{dist: beta, a: 2, b: 5}}
    a_poisson_small: {{dist: poisson, lam: 3}}
    a_poisson_large: {{dist: poisson, lam: 250}}
    a_binomial_small: {{dist: binomial, n: 20, p: 0.1}}
    a_binomial_large: {{dist: binomial, n: 400, p: 0.7}}
    a_bernoulli: {{dist: bernoulli, p: 0.3}}
    a_integer: {{dist: integer, low: -3, high: 7}}
    a_date: {{dist: date, start: 2020-01-01, end: 2020-12-31}}
    a_timestamp: {{dist: timestamp, start: 2021-01-01, end: 2021-01-02}}
    a_sequence: {{dist: sequence, start: 10, step: 3}}
    a_constant: {{dist: constant, value: 1.5}}
    region: {{dist: categorical, values: [north, south, east, west], weights: [4, 3, 2, 1]}}
    plan: {{dist: categorical, values: [basic, pro], given: region,
           weights: {{north: [0.7, 0.3], south: [0.5, 0.5], east: [0.6, 0.4], west: [0.8, 0.2]}}}}
    c_x: {{dist: normal, mean: 0, std: 1}}
    c_y: {{dist: normal, mean: 10, std: 3}}
    c_z: {{dist: normal, mean: -5, std: 0.5}}
    c_u: {{dist: uniform, low: 0, high: 1}}
    clipped: {{dist: normal, mean: 0, std: 1, clip: [-0.5, 0.5]}}
    small: {{dist: poisson, lam: 4, dtype: int16}}
    spend: {{expr: "0.01 * a_lognormal + 5 * (plan == 'pro') - where(c_x > 0, c_x, 0)"}}
    wild: {{expr: "max(a_uniform, 0) ** 0.5 + log(a_exponential) * sigmoid(c_y - 10) + abs(c_z)"}}
    days: {{expr: "a_date - 18262"}}
  correlation:
    c_x: {{c_y: 0.6, c_z: -0.3}}
    c_y: {{c_z: 0.2, c_u: 0.4}}
  label:
    name: y
    kind: logistic
    formula: "-1 + 0.8 * c_x - 0.5 * (region == 'north') + 0.3 * a_normal"
  missing: {{a_normal: 0.05, region: 0.1}}
output: {{shard_size: 60000}}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    root = tmp_path_factory.mktemp("tabular")
    spec = root / "spec.yaml"
    spec.write_text(SPEC.format(samples=N))
    result = api.build(spec, root / "out", workers=2)
    frame = pl.read_parquet(result.out / "train" / "*.parquet").sort("index")
    assert frame.height == N
    return result.out, frame


def close_mean(values: np.ndarray, mean: float, var: float, sigmas: float = 5.0) -> None:
    values = values[~np.isnan(values)]
    assert abs(values.mean() - mean) < sigmas * math.sqrt(var / len(values)), (values.mean(), mean)


def close_var(values: np.ndarray, var: float, rel: float = 0.03) -> None:
    values = values[~np.isnan(values)]
    assert abs(values.var() / var - 1) < rel, (values.var(), var)


MOMENTS = {  # column: (mean, variance)
    "a_normal": (3, 4),
    "a_uniform": (2, 36 / 12),
    "a_lognormal": (math.exp(0.5 + 0.08), (math.exp(0.16) - 1) * math.exp(1 + 0.16)),
    "a_exponential": (2.5, 6.25),
    "a_gamma_small": (1.2, 0.6 * 4),
    "a_gamma": (6.75, 4.5 * 2.25),
    "a_beta": (2 / 7, 10 / (49 * 8)),
    "a_poisson_small": (3, 3),
    "a_poisson_large": (250, 250),
    "a_binomial_small": (2, 1.8),
    "a_binomial_large": (280, 84),
    "a_bernoulli": (0.3, 0.21),
    "a_integer": (2, (11**2 - 1) / 12),
}


@pytest.mark.parametrize("column", sorted(MOMENTS))
def test_moments_match_the_declared_distribution(built, column):
    _, frame = built
    mean, var = MOMENTS[column]
    values = frame[column].cast(pl.Float64).to_numpy()
    close_mean(values, mean, var)
    close_var(values, var)


@pytest.mark.parametrize(
    ("column", "cdf"),
    [
        ("a_normal", stats.norm(3, 2).cdf),
        ("a_gamma_small", stats.gamma(0.6, scale=2).cdf),
        ("a_beta", stats.beta(2, 5).cdf),
        ("a_exponential", stats.expon(scale=2.5).cdf),
    ],
)
def test_continuous_columns_pass_kolmogorov_smirnov(built, column, cdf):
    _, frame = built
    values = frame[column].drop_nulls().to_numpy()
    assert stats.kstest(values, cdf).pvalue > 1e-3


def test_discrete_columns_pass_chi_square(built):
    _, frame = built
    for column, dist in [
        ("a_poisson_small", stats.poisson(3)),
        ("a_binomial_small", stats.binom(20, 0.1)),
        ("a_binomial_large", stats.binom(400, 0.7)),
    ]:
        values = frame[column].to_numpy()
        support = np.arange(values.min(), values.max() + 1)
        observed = np.array([(values == k).sum() for k in support], dtype=float)
        expected = dist.pmf(support) * len(values)
        keep = expected >= 20  # pool sparse tails so the test is valid
        observed = np.append(observed[keep], observed[~keep].sum())
        expected = np.append(expected[keep], len(values) - expected[keep].sum())
        assert stats.chisquare(observed, expected).pvalue > 1e-3, column


def test_categorical_and_conditional_frequencies_pass_chi_square(built):
    _, frame = built
    region = frame["region"].drop_nulls()
    counts = region.value_counts().sort("region")
    observed = dict(zip(counts["region"].cast(pl.String), counts["count"], strict=True))
    values, weights = ["north", "south", "east", "west"], np.array([4, 3, 2, 1]) / 10
    assert stats.chisquare([observed[v] for v in values], weights * len(region)).pvalue > 1e-3
    # plan given region: each region's plan split matches its own weights
    # (region's nulls come after sampling, so plan still follows the true region).
    table = {"north": 0.3, "south": 0.5, "east": 0.4, "west": 0.2}
    with_region = frame.filter(pl.col("region").is_not_null())
    for name, pro in table.items():
        plans = with_region.filter(pl.col("region") == name)["plan"]
        n_pro = int((plans == "pro").sum())
        expected = [len(plans) * (1 - pro), len(plans) * pro]
        assert stats.chisquare([len(plans) - n_pro, n_pro], expected).pvalue > 1e-3, name


def test_copula_gives_the_asked_pearson_correlations_for_normal_marginals(built):
    _, frame = built
    x, y, z = (frame[c].to_numpy() for c in ("c_x", "c_y", "c_z"))
    for a, b, r in [(x, y, 0.6), (x, z, -0.3), (y, z, 0.2)]:
        assert abs(np.corrcoef(a, b)[0, 1] - r) < 0.01
    close_mean(y, 10, 9)
    close_var(y, 9)
    close_mean(z, -5, 0.25)
    # a uniform marginal keeps its distribution; its correlation is the latent one, mapped
    u = frame["c_u"].to_numpy()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    spearman = stats.spearmanr(y, u).statistic
    assert abs(spearman - 6 / math.pi * math.asin(0.4 / 2)) < 0.01


def test_uniform_integers_dates_and_timestamps_cover_their_range(built):
    _, frame = built
    ints = frame["a_integer"].to_numpy()
    assert ints.min() == -3 and ints.max() == 7
    dates = frame["a_date"]
    assert dates.dtype == pl.Date
    assert dates.min() == dt.date(2020, 1, 1) and dates.max() == dt.date(2020, 12, 31)
    assert dates.n_unique() == 366
    stamps = frame["a_timestamp"]
    assert stamps.dtype == pl.Datetime("us")
    assert stamps.min() >= dt.datetime(2021, 1, 1) and stamps.max() < dt.datetime(2021, 1, 2)
    assert frame["small"].dtype == pl.Int16


def test_sequences_constants_and_clips_are_exact(built):
    _, frame = built
    index = frame["index"].to_numpy()
    assert (frame["a_sequence"].to_numpy() == 10 + 3 * index).all()
    assert (frame["a_constant"].to_numpy() == 1.5).all()
    clipped = frame["clipped"].to_numpy()
    assert clipped.min() == -0.5 and clipped.max() == 0.5
    assert abs((np.abs(clipped) == 0.5).mean() - 2 * stats.norm.sf(0.5)) < 0.01


def test_missing_rates_match_and_only_named_columns_have_nulls(built):
    _, frame = built
    for column, rate in [("a_normal", 0.05), ("region", 0.1)]:
        nulls = frame[column].null_count() / N
        assert abs(nulls - rate) < 5 * math.sqrt(rate * (1 - rate) / N)
    others = [c for c in frame.columns if c not in ("a_normal", "region")]
    assert all(frame[c].null_count() == 0 for c in others)


def test_expr_columns_equal_their_formula_on_every_row(built):
    _, frame = built
    plan_pro = (frame["plan"] == "pro").to_numpy().astype(float)
    cx = frame["c_x"].to_numpy()
    expected = 0.01 * frame["a_lognormal"].to_numpy() + 5 * plan_pro - np.where(cx > 0, cx, 0)
    np.testing.assert_allclose(frame["spend"].to_numpy(), expected, rtol=1e-12, atol=1e-12)
    a, e = frame["a_uniform"].to_numpy(), frame["a_exponential"].to_numpy()
    cy, cz = frame["c_y"].to_numpy(), frame["c_z"].to_numpy()
    wild = np.maximum(a, 0) ** 0.5 + np.log(e) / (1 + np.exp(-(cy - 10))) + np.abs(cz)
    np.testing.assert_allclose(frame["wild"].to_numpy(), wild, rtol=1e-12, atol=1e-12)
    days = (frame["a_date"] - dt.date(2020, 1, 1)).dt.total_days().to_numpy()
    np.testing.assert_array_equal(frame["days"].to_numpy(), days)


def test_label_truth_is_the_formula_and_the_label_follows_it(built):
    out, frame = built
    # The formula uses a_normal and region before their values were set missing: recompute it
    # on the rows where both survived.
    rows = frame.filter(pl.col("a_normal").is_not_null() & pl.col("region").is_not_null())
    north = (rows["region"] == "north").to_numpy().astype(float)
    eta = -1 + 0.8 * rows["c_x"].to_numpy() - 0.5 * north + 0.3 * rows["a_normal"].to_numpy()
    truth = rows["y_true"].to_numpy()
    np.testing.assert_allclose(truth, 1 / (1 + np.exp(-eta)), rtol=1e-12)
    labels = rows["y"].to_numpy()
    assert set(np.unique(labels)) == {0, 1}
    # calibration: in every decile of the truth, the label rate matches the mean probability
    order = np.argsort(truth)
    for chunk in np.array_split(order, 10):
        p = truth[chunk].mean()
        assert abs(labels[chunk].mean() - p) < 5 * math.sqrt(p * (1 - p) / len(chunk))
    facts = api.load_manifest(out)["generator"]["facts"]["label"]
    assert facts["intercept"] == -1.0
    assert facts["coefficients"] == {"c_x": 0.8, "region == 'north'": -0.5, "a_normal": 0.3}


def test_pyarrow_reads_types_and_the_file_order_is_the_schema_order(built):
    out, _ = built
    manifest = api.load_manifest(out)
    path = out / manifest["splits"]["train"]["shards"][0]["path"]
    schema = pq.read_schema(path)
    assert schema.names == [c["name"] for c in manifest["schema"]["columns"]]
    table = pq.read_table(path)
    assert str(table.schema.field("region").type).startswith("dictionary<values=string")
    assert str(table.schema.field("a_date").type) == "date32[day]"
    assert (
        table.column("region").to_pylist()[:5] == pl.read_parquet(path)["region"].head(5).to_list()
    )


LOGISTIC = """\
synthc: 1
name: logistic-recovery
seed: 5
samples: 1000000
generator:
  kind: tabular
  columns:
    x1: {dist: normal, mean: 0, std: 1}
    x2: {dist: uniform, low: -2, high: 2}
    g: {dist: categorical, values: [a, b, c]}
  label:
    name: y
    kind: logistic
    formula: "-1 + 0.8 * x1 - 0.5 * x2 + 1.2 * (g == 'a')"
output: {shard_size: 250000}
"""


def test_logistic_regression_recovers_the_formula_within_5_percent(write_spec, tmp_path):
    from sklearn.linear_model import LogisticRegression

    result = api.build(write_spec(LOGISTIC), tmp_path / "out", workers=2)
    frame = pl.read_parquet(result.out / "train" / "*.parquet")
    features = np.column_stack(
        [frame["x1"].to_numpy(), frame["x2"].to_numpy(), (frame["g"] == "a").to_numpy()]
    )
    model = LogisticRegression(C=np.inf, tol=1e-8, max_iter=1000)
    model.fit(features, frame["y"].to_numpy())
    facts = api.load_manifest(result.out)["generator"]["facts"]["label"]
    truth = facts["coefficients"]
    expected = [truth["x1"], truth["x2"], truth["g == 'a'"]]
    np.testing.assert_allclose(model.coef_[0], expected, rtol=0.05)
    assert model.intercept_[0] == pytest.approx(facts["intercept"], rel=0.05)


def test_rows_do_not_depend_on_shard_size_workers_or_other_columns(write_spec, tmp_path):
    base = SPEC.format(samples=5000)
    small = write_spec(base.replace("shard_size: 60000", "shard_size: 700"), "small.yaml")
    one = api.build(write_spec(base, "one.yaml"), tmp_path / "one", workers=1)
    many = api.build(small, tmp_path / "many", workers=2)
    a = pl.read_parquet(one.out / "train" / "*.parquet").sort("index")
    b = pl.read_parquet(many.out / "train" / "*.parquet").sort("index")
    assert a.equals(b)
    # Dropping a column that nothing depends on leaves every other column's values alone.
    fewer = base.replace("    a_beta: {dist: beta, a: 2, b: 5}\n", "")
    assert fewer != base
    c = pl.read_parquet(
        api.build(write_spec(fewer, "fewer.yaml"), tmp_path / "fewer", workers=1).out
        / "train"
        / "*.parquet"
    ).sort("index")
    assert c.equals(a.drop("a_beta"))


def test_template_loops_generate_columns(write_spec, tmp_path):
    text = """\
synthc: 1
name: looped
seed: 3
samples: 500
generator:
  kind: tabular
  columns:
{% for i in range(var('k', 4)) %}
    f{{ i }}: {dist: normal, mean: {{ i }}, std: 1}
{% endfor %}
    total: {expr: "{% for i in range(var('k', 4)) %}{{ '+ ' if i else '' }}f{{ i }} {% endfor %}"}
"""
    result = api.build(write_spec(text), tmp_path / "out", variables={"k": 3}, workers=1)
    frame = pl.read_parquet(result.out / "train" / "*.parquet")
    assert frame.columns == ["index", "f0", "f1", "f2", "total"]
    np.testing.assert_allclose(frame["total"], frame["f0"] + frame["f1"] + frame["f2"])


def test_build_writes_a_table_preview(built):
    from PIL import Image

    out, frame = built
    with Image.open(out / "preview.png") as image:
        width, height = image.size
        pixels = np.asarray(image.convert("RGB"))
    # one 320 x 250 panel per column but the index (up to 24), four to a row, under a title,
    # with bars drawn in the first colour of the palette
    panels = min(24, len(frame.columns) - 1)
    assert (width, height) == (4 * 320, -(-panels // 4) * 250 + 50)
    assert ((pixels == [31, 119, 180]).all(axis=2)).mean() > 0.05


def test_the_dataset_cards_loading_code_runs(built, monkeypatch):
    out, frame = built
    card = (out / "README.md").read_text()
    code = card.split("```python\n", 1)[1].split("```", 1)[0]
    code = code.split("from datasets import", 1)[
        0
    ]  # Hugging Face datasets is not a test dependency
    monkeypatch.chdir(out)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # our own generated card
    assert namespace["frames"]["train"].sort("index").equals(frame)


def test_every_distribution_states_its_parameters_sampler_and_quantile():
    """A distribution's model is its one home: describe, draw and the copula read it."""
    (union, _) = get_args(models.ColumnConfig)
    classes = [get_args(member)[0] for member in get_args(union)]
    copula = []
    columns = {
        "normal": models.Normal(dist="normal"),
        "uniform": models.Uniform(dist="uniform"),
        "lognormal": models.Lognormal(dist="lognormal"),
        "exponential": models.Exponential(dist="exponential"),
        "gamma": models.Gamma(dist="gamma", shape=2.0),
        "beta": models.Beta(dist="beta", a=2.0, b=3.0),
        "poisson": models.Poisson(dist="poisson", lam=3.0),
        "binomial": models.Binomial(dist="binomial", n=10, p=0.3),
        "bernoulli": models.Bernoulli(dist="bernoulli", p=0.3),
        "integer": models.Integer(dist="integer", low=1, high=6),
        "date": models.DateColumn(dist="date", start=dt.date(2020, 1, 1), end=dt.date(2020, 2, 1)),
        "timestamp": models.TimestampColumn(
            dist="timestamp", start=dt.datetime(2020, 1, 1), end=dt.datetime(2020, 1, 2)
        ),
        "categorical": models.Categorical(dist="categorical", values=["a", "b"]),
        "sequence": models.Sequence(dist="sequence"),
        "constant": models.Constant(dist="constant", value=2.5),
    }
    for model in classes:
        if model is models.Derived:
            continue
        column = columns[model.dist_name()]
        assert isinstance(column, model)
        text = describe(column)
        assert text.startswith(f"{model.dist_name()}(")
        assert all(f"{name}=" in text for name in column.shown_params())
        assert len(draws.draw(column, (1, 2), 5, 100, {})) == 100
        if column.copula_ok:
            copula.append(model.dist_name())
            z = np.linspace(-3, 3, 7)
            assert len(draws.from_normals(column, z)) == 7
    assert copula == [
        "normal",
        "uniform",
        "lognormal",
        "exponential",
        "poisson",
        "binomial",
        "bernoulli",
        "integer",
        "date",
        "timestamp",
    ]
