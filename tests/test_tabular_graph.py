"""The true causal graph of a tabular spec (generator.facts.graph, graph.csv) and
``standardize: true``, checked against a held-out linear-Gaussian SCM by regression."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LinearRegression

from synthc import api
from synthc.errors import SpecError
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.generator import GENERATOR
from synthc.generators.tabular.scales import PILOT_ROWS, scales

ROOT = Path(__file__).resolve().parents[1]
HEADER = "synthc: 1\nname: causal\nversion: '1.0.0'\nseed: 11\nsamples: {samples}\n"
HEADER += "splits: {{train: 1.0}}\ngenerator:\n  kind: tabular\n  columns:\n"

#: a linear-Gaussian SCM over six variables, two of them standardised; not an example spec
SCM = """\
    x1: {dist: normal, mean: 0, std: 1}
    x2: {dist: normal, mean: "0.8 * x1", std: 0.5}
    x3: {expr: "0.5 * x1 - 0.7 * x2", noise: {dist: normal, std: 0.3}, standardize: true}
    x4: {dist: normal, mean: "1.5 - 0.6 * x2", std: 1.2}
    x5: {dist: normal, mean: "1.2 * x3 + 0.4 * x4", std: 0.8, standardize: true}
    x6: {expr: "-0.9 * x5 + 0.3 * x1 + 0.5 * x4", noise: {dist: normal, std: 1.0}}
"""
#: the edges and coefficients written above
WRITTEN = {
    ("x1", "x2"): 0.8,
    ("x1", "x3"): 0.5,
    ("x2", "x3"): -0.7,
    ("x2", "x4"): -0.6,
    ("x3", "x5"): 1.2,
    ("x4", "x5"): 0.4,
    ("x5", "x6"): -0.9,
    ("x1", "x6"): 0.3,
    ("x4", "x6"): 0.5,
}


def spec(tmp: Path, columns: str, samples: int = 300) -> Path:
    path = tmp / "spec.yaml"
    path.write_text(HEADER.format(samples=samples) + columns)
    return path


def synthc(*args: str | Path) -> subprocess.CompletedProcess[str]:
    program = shutil.which("synthc")
    assert program is not None, "the synthc console script must be installed"
    return subprocess.run([program, *map(str, args)], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def scm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], pl.DataFrame]:
    tmp = tmp_path_factory.mktemp("scm")
    result = api.build(spec(tmp, SCM, samples=500_000), tmp / "out", workers=2)
    manifest = api.load_manifest(result.out)
    return result.out, manifest, pl.read_parquet(result.out / "*" / "*.parquet")


def column_edges(graph: dict[str, Any]) -> list[dict[str, Any]]:
    columns = {node["id"] for node in graph["nodes"] if node["kind"] == "column"}
    return [e for e in graph["edges"] if e["source"] in columns and e["target"] in columns]


def test_recorded_graph_is_the_written_scm(scm: tuple[Path, dict[str, Any], pl.DataFrame]) -> None:
    _, manifest, _ = scm
    graph = manifest["generator"]["facts"]["graph"]
    edges = column_edges(graph)
    assert {(e["source"], e["target"]): e["coefficient"] for e in edges} == WRITTEN
    assert all(e["on"] == "value" for e in edges)
    # one noise node per random term, each pointing at its column only
    noise = [e for e in graph["edges"] if e["source"].startswith("noise:")]
    assert sorted((e["source"], e["target"]) for e in noise) == [
        (f"noise:x{i}", f"x{i}") for i in range(1, 7)
    ]
    # nodes in the generator's order, every edge pointing forward: a DAG
    ids = [node["id"] for node in graph["nodes"]]
    assert [i for i in ids if not i.startswith("noise:")] == manifest["generator"]["facts"]["order"]
    assert all(ids.index(e["source"]) < ids.index(e["target"]) for e in graph["edges"])


def test_regression_on_recorded_parents_recovers_the_weights(
    scm: tuple[Path, dict[str, Any], pl.DataFrame],
) -> None:
    _, manifest, frame = scm
    graph = manifest["generator"]["facts"]["graph"]
    parents: dict[str, dict[str, float]] = {}
    for edge in column_edges(graph):
        parents.setdefault(edge["target"], {})[edge["source"]] = edge["weight"]
    assert frame.height == 500_000
    for child, weights in parents.items():
        names = list(weights)
        fit = LinearRegression().fit(frame.select(names).to_numpy(), frame[child].to_numpy())
        for name, got in zip(names, fit.coef_, strict=True):
            want = weights[name]
            assert abs(got - want) <= 0.03 * abs(want), (child, name, got, want)
    # a standardised child: its weights are the formula's coefficients over its std
    std5 = next(n for n in graph["nodes"] if n["id"] == "x5")["standardize"]["std"]
    x5 = {e["source"]: e for e in column_edges(graph) if e["target"] == "x5"}
    assert x5["x3"]["weight"] == pytest.approx(1.2 / std5)
    # and a child of a standardised parent recovers the written coefficient itself
    assert parents["x6"]["x5"] == -0.9


def test_standardised_columns_have_mean_zero_and_unit_std(
    scm: tuple[Path, dict[str, Any], pl.DataFrame],
) -> None:
    _, manifest, frame = scm
    nodes = {n["id"]: n for n in manifest["generator"]["facts"]["graph"]["nodes"]}
    for name in ("x3", "x5"):
        assert nodes[name]["standardize"]["method"] == "pilot"
        assert abs(frame[name].mean()) < 0.02  # type: ignore[arg-type]
        assert abs(frame[name].std() - 1) < 0.02  # type: ignore[operator]
    assert "standardize" not in nodes["x4"]
    assert abs(frame["x4"].std() - 1) > 0.1  # type: ignore[operator]


def test_graph_file_reads_with_polars_and_networkx(
    scm: tuple[Path, dict[str, Any], pl.DataFrame],
) -> None:
    out, manifest, _ = scm
    graph = manifest["generator"]["facts"]
    assert graph["graph_file"] == "graph.csv" and "graph.csv" in manifest["files"]
    # the README's snippets
    edges = pl.read_csv(out / "graph.csv")
    dag = nx.DiGraph()
    dag.add_nodes_from((n["id"], n) for n in manifest["generator"]["facts"]["graph"]["nodes"])
    dag.add_edges_from((e["source"], e["target"], e) for e in edges.iter_rows(named=True))
    assert nx.is_directed_acyclic_graph(dag)
    assert edges.to_dicts() == manifest["generator"]["facts"]["graph"]["edges"]
    assert set(dag.predecessors("x5")) == {"x3", "x4", "noise:x5"}
    assert dag.edges["x3", "x5"]["coefficient"] == 1.2
    api.verify(out)  # raises if a shard or the manifest is wrong


def test_graph_follows_the_generators_dependencies() -> None:
    spec_path = Path(__file__).parents[1] / "specs" / "churn.yaml"
    config = api.validate(spec_path, variables={"samples": 100}).generator
    graph = GENERATOR.facts(config, 1)["graph"]
    columns = set(config.columns)
    for name in config.columns:
        recorded = {e["source"] for e in graph["edges"] if e["target"] == name}
        assert recorded & columns == set(config.dependencies(name)), name
    label = config.label.name
    into_truth = {e["source"] for e in graph["edges"] if e["target"] == f"{label}_true"}
    assert into_truth == {"age", "region"}


def test_edges_record_terms_parameters_and_non_affine_dependence() -> None:
    columns = {
        "age": {"dist": "uniform", "low": 18, "high": 80},
        "region": {"dist": "categorical", "values": ["n", "s"]},
        "plan": {
            "dist": "categorical",
            "values": ["a", "b"],
            "given": "region",
            "weights": {"n": [1, 2], "s": [2, 1]},
        },
        "income": {"dist": "lognormal", "mu": "8 + 0.02 * age", "sigma": 0.5},
        "visits": {"dist": "poisson", "lam": "exp(0.1 * age)"},
        "score": {"expr": "2 * income * age - 0.5 * age + 3 * (plan == 'b')"},
        "a": {"dist": "normal"},
        "b": {"dist": "normal"},
    }
    config = TabularConfig.model_validate(
        {
            "kind": "tabular",
            "columns": columns,
            "correlation": {"a": {"b": 0.3}},
            "label": {"name": "y", "kind": "linear", "formula": "1 + 2 * a", "noise": 0.5},
        }
    )
    graph = GENERATOR.facts(config, 1)["graph"]
    by = {(e["source"], e["target"]): e for e in graph["edges"]}
    assert by["age", "income"] | {} == {
        "source": "age",
        "target": "income",
        "param": "mu",
        "on": "mu",
        "term": "0.02 * age",
        "coefficient": 0.02,
        "weight": None,
    }
    assert by["age", "visits"]["coefficient"] is None
    assert by["age", "visits"]["term"] == "exp(0.1 * age)"
    assert by["region", "plan"]["param"] == "given"
    # age is in an affine term and in a product: not affine in age
    assert by["age", "score"]["coefficient"] is None
    assert by["income", "score"]["term"] == "2 * income * age"
    assert by["age", "score"]["term"] == "2 * income * age - 0.5 * age"
    assert by["plan", "score"]["coefficient"] is None
    # the copula is a latent common cause of its members, which have no noise node
    assert by["latent:copula", "a"]["param"] == "copula"
    assert ("noise:a", "a") not in by
    # the label: formula -> truth -> label, plus its noise
    assert by["a", "y_true"]["weight"] == 2.0
    assert by["y_true", "y"]["weight"] == 1.0
    assert by["noise:y", "y"]["weight"] == 0.5


def test_closed_form_standardisation() -> None:
    columns: dict[str, Any] = {
        "u": {"dist": "uniform", "low": 2, "high": 8, "standardize": True},
        "l": {"dist": "lognormal", "mu": 1, "sigma": 0.4, "standardize": True},
        "p": {"dist": "poisson", "lam": 4, "dtype": "float64", "standardize": True},
        "g": {"dist": "gamma", "shape": 2, "scale": 3, "standardize": True},
        "k": {"dist": "integer", "low": 0, "high": 9, "standardize": True, "dtype": "float32"},
        "e": {"dist": "exponential", "scale": 2, "standardize": True},
        "c": {"dist": "normal", "mean": 3, "std": 2, "standardize": True},
        "d": {"dist": "normal", "mean": 1, "std": 2, "standardize": True},
    }
    config = TabularConfig.model_validate(
        {"kind": "tabular", "columns": columns, "correlation": {"c": {"d": 0.5}}}
    )
    found = scales(config, 4)
    assert all(scale.method == "closed form" for scale in found.values())
    assert found["u"].mean == 5 and found["u"].std == pytest.approx(6 / np.sqrt(12))
    frame = pl.DataFrame(GENERATOR.generate(config, 4, 0, 200_000))
    for name in columns:
        assert abs(frame[name].mean()) < 0.02, name  # type: ignore[arg-type]
        assert abs(frame[name].std() - 1) < 0.02, name  # type: ignore[operator]
    assert frame["k"].dtype == pl.Float32
    assert np.corrcoef(frame["c"].to_numpy(), frame["d"].to_numpy())[0, 1] == pytest.approx(
        0.5, abs=0.01
    )


def test_pilot_scales_do_not_depend_on_samples_or_shards(tmp_path: Path) -> None:
    columns = "    a: {dist: uniform, low: 0, high: 2}\n"
    columns += "    b: {dist: normal, mean: 'a * a', std: 'a', standardize: true}\n"
    small = api.build(spec(tmp_path, columns, samples=1000), tmp_path / "small", workers=1)
    path = spec(tmp_path, columns + "output: {shard_size: 700}\n", samples=3000)
    big = api.build(path, tmp_path / "big", workers=2)
    facts = [api.load_manifest(r.out)["generator"]["facts"]["graph"] for r in (small, big)]
    assert facts[0]["nodes"] == facts[1]["nodes"]
    frames = [pl.read_parquet(r.out / "*" / "*.parquet").sort("index") for r in (small, big)]
    assert frames[0].equals(frames[1].head(1000))
    assert PILOT_ROWS == 100_000


@pytest.mark.parametrize(
    ("column", "at", "message"),
    [
        (
            "{dist: categorical, values: [a, b], standardize: true}",
            "generator.columns.c.standardize",
            "a categorical column cannot be standardised",
        ),
        (
            "{dist: poisson, lam: 3, standardize: true}",
            "generator.columns.c.standardize",
            "standardize needs a float dtype",
        ),
        (
            "{dist: normal, clip: [0, 1], standardize: true}",
            "generator.columns.c.clip",
            "clip and standardize cannot be combined",
        ),
        (
            "{dist: normal, std: 0, standardize: true}",
            "generator.columns.c.standardize",
            "zero variance",
        ),
        (  # a formula that reads no column is a constant: found at validate, not by the pilot
            "{expr: '2 * 3', standardize: true}",
            "generator.columns.c.standardize",
            "the column is always 6: there is nothing to standardise",
        ),
        (
            "{dist: normal, mean: '1', std: '0', standardize: true}",
            "generator.columns.c.standardize",
            "zero variance",
        ),
        (
            "{expr: '1', noise: {dist: normal, standardize: true}}",
            "generator.columns.c.noise.standardize",
            "standardize applies to the column, not to its noise",
        ),
    ],
)
def test_standardize_refusals_point_at_the_field(
    tmp_path: Path, column: str, at: str, message: str
) -> None:
    run = synthc("validate", spec(tmp_path, f"    c: {column}\n"))
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    line = next(x for x in run.stderr.splitlines() if at in x)
    assert message in line
    assert line.startswith(f"{tmp_path / 'spec.yaml'}:")


def test_coefficients_the_manifest_cannot_record_are_refused_at_the_formula(
    tmp_path: Path,
) -> None:
    # the build refused these whole specs as it wrote the facts (exit 2, no file:line), after
    # validate said ok
    columns = (
        "    a: {dist: normal}\n"
        "    b: {expr: 'a * 1e308 + a * 1e308'}\n"
        "    d: {dist: normal, mean: '1e308 * a + 1e308 * a'}\n"
        "  label: {name: y, kind: linear, formula: 'a + 1e308 + 1e308'}\n"
    )
    with pytest.raises(SpecError) as caught:
        api.validate(spec(tmp_path, columns))
    found = {p.path: p.message for p in caught.value.problems}
    assert sorted(found) == [
        "generator.columns.b.expr",
        "generator.columns.d.mean",
        "generator.label.formula",
    ]
    assert found["generator.columns.b.expr"].startswith("the coefficient of a is inf")
    assert found["generator.label.formula"].startswith("its constant part is inf")
    assert all(p.position is not None for p in caught.value.problems)


def test_graph_file_is_an_edge_list(tmp_path: Path) -> None:
    path = spec(tmp_path, "    a: {dist: normal}\n    b: {expr: '2 * a'}\n")
    result = api.build(path, tmp_path / "out", workers=1)
    assert (result.out / "graph.csv").read_text() == (
        "source,target,param,on,term,coefficient,weight\n"
        'noise:a,a,draw,value,"normal(mean=0, std=1)",,1.0\n'
        "a,b,expr,value,2 * a,2.0,2.0\n"
    )


def test_the_readme_snippet_reads_the_causal_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.build(ROOT / "specs" / "causal.yaml", tmp_path / "out", variables={"samples": 2000})
    readme = (ROOT / "README.md").read_text()
    snippet = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "graph.csv" in b)
    monkeypatch.chdir(tmp_path)
    scope: dict[str, Any] = {}
    exec(snippet, scope)
    assert nx.is_directed_acyclic_graph(scope["dag"])
    assert scope["parents"] == ["pressure", "tar", "exercise", "noise:risk"]
    weights = {(e["source"], e["target"]): e["weight"] for e in scope["edges"].to_dicts()}
    assert weights["pressure", "risk"] == 0.8


def test_a_pilot_sample_too_large_for_memory_is_a_spec_error(tmp_path: Path) -> None:
    columns = "".join(f"    c{i}: {{dist: normal}}\n" for i in range(700))
    columns += "    s: {expr: 'c0 + c1', standardize: true}\n"
    run = synthc("validate", spec(tmp_path, columns))
    assert run.returncode == 2, run.stderr
    assert "generator.columns.s.standardize: the pilot sample of standardize" in run.stderr


def test_standardize_off_leaves_task_keys_as_before() -> None:
    """A spec without ``standardize`` plans the config it planned before the option existed."""
    plan = api.plan(Path(__file__).parents[1] / "specs/churn.yaml")
    for task in plan.tasks:
        for column in task.config["columns"].values():
            assert "standardize" not in column
    causal = api.plan(Path(__file__).parents[1] / "specs/causal.yaml")
    flags = [c.get("standardize") for c in causal.tasks[0].config["columns"].values()]
    assert flags.count(True) == 2 and None in flags
