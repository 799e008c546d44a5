"""Tables of many columns: validating and ordering them takes time in proportion to the columns
and their references, with no recursion limit, so a wide or deeply chained table is a spec like
any other and a careless (or hostile) one cannot stall `synthc validate`. Related tables are
bounded in number (synthc.limits.MAX_TABLES), checked before anything else about them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import ROOT

from synthc import api, limits
from synthc.generator_output import check_frame
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.generator import TabularGenerator
from synthc.generators.tabular.sampling import formula_values, sample_shard

HEADER = "synthc: 1\nname: wide\nseed: 5\nsamples: {samples}\nsplits: {{train: 1.0}}\n"
HEADER += "generator:\n  kind: tabular\n  columns:\n"


def spec(tmp: Path, columns: list[str], samples: int = 200) -> Path:
    path = tmp / "spec.yaml"
    path.write_text(HEADER.format(samples=samples) + "".join(f"    {c}\n" for c in columns))
    return path


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    """`synthc validate` in a new process; a validation that no longer ends fails the test
    after two minutes instead of stalling the suite."""
    return subprocess.run(
        [sys.executable, "-m", "synthc", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_columns_that_each_read_the_two_before_validate(tmp_path):
    """Every column reads the two before it: 2**40 paths through 60 columns. The cycle check
    walked each path (it ran for hours); now each column and reference is visited once."""
    columns = ["c0: {dist: normal}", "c1: {dist: normal}"]
    columns += [f"c{k}: {{expr: 'c{k - 1} + c{k - 2}'}}" for k in range(2, 60)]
    run = validate(spec(tmp_path, columns))
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith(": ok\n")


def test_a_chain_of_1500_columns_declared_backwards_builds(tmp_path):
    """Each column reads the next one declared, the last reads nothing: ordering them used to
    recurse once per column and hit Python's recursion limit (an internal error)."""
    columns = [f"c{k}: {{expr: 'c{k - 1} + 1'}}" for k in range(1499, 0, -1)]
    columns.append("c0: {dist: normal}")
    result = api.build(spec(tmp_path, columns), tmp_path / "out", workers=1)
    order = api.load_manifest(result.out)["generator"]["facts"]["order"]
    assert order == [f"c{k}" for k in range(1500)]
    rows = pl.read_parquet(sorted((result.out / "train").glob("*.parquet")))
    assert rows.height == 200
    np.testing.assert_allclose(rows["c1499"], rows["c0"] + 1499, rtol=0, atol=1e-9)


def test_every_cycle_is_reported_once_by_a_shortest_path(tmp_path):
    ring = [f"r{k}: {{expr: 'r{(k + 1) % 800} + 1'}}" for k in range(800)]
    # a reads b and c: two cycles through a (a b a, a c d a), reported once each
    pair = ["a: {expr: 'b + c'}", "b: {expr: 'a'}", "c: {expr: 'd'}", "d: {expr: 'a'}"]
    clean = ["x: {dist: normal}", "y: {expr: 'x * 2'}"]
    run = validate(spec(tmp_path, [*ring, *pair, *clean]))
    assert run.returncode == 2
    problems = run.stderr.splitlines()[:-1]
    assert len(problems) == 3 and run.stderr.endswith("synthc: 3 problems\n"), run.stderr
    # the 800-column ring is one line cut in its middle (synthc.errors.clipped)
    assert "generator.columns.r0.expr: dependency cycle: r0 -> r1 -> r2 -> " in problems[0]
    assert "characters left out) ... " in problems[0] and len(problems[0]) < 1000
    assert problems[0].endswith(" -> r797 -> r798 -> r799 -> r0")
    assert problems[1].endswith("generator.columns.a.expr: dependency cycle: a -> b -> a")
    assert problems[2].endswith("generator.columns.c.expr: dependency cycle: c -> d -> a -> c")


def test_formula_rules_share_one_view_of_the_columns(monkeypatch):
    """1,500 formulas each checked against every column's kind made validation quadratic
    (12 s for a 1,500-column table); the kinds and categories are worked out once."""
    calls = {"kinds": 0, "categories": 0}
    kinds, categories = TabularConfig.expr_kinds, TabularConfig.categories

    def counted_kinds(self):
        calls["kinds"] += 1
        return kinds(self)

    def counted_categories(self):
        calls["categories"] += 1
        return categories(self)

    monkeypatch.setattr(TabularConfig, "expr_kinds", counted_kinds)
    monkeypatch.setattr(TabularConfig, "categories", counted_categories)
    columns = {"c0": {"dist": "normal"}, "g": {"dist": "categorical", "values": ["u", "v"]}}
    columns |= {f"c{k}": {"expr": f"c0 * {k} + (g == 'u')"} for k in range(1, 1500)}
    config = TabularConfig.model_validate({"kind": "tabular", "columns": columns})
    problems = [p for rule in config.semantic_rules() for p in rule()]
    assert problems == []
    assert calls == {"kinds": 1, "categories": 1}


@pytest.mark.parametrize(
    ("mistake", "message"),
    [("c0 * qq", "unknown column 'qq'"), ("g == 'w'", "'w' is not a category of column 'g'")],
)
def test_a_wrong_formula_among_many_is_still_named(mistake, message):
    columns = {"c0": {"dist": "normal"}, "g": {"dist": "categorical", "values": ["u", "v"]}}
    columns |= {f"c{k}": {"expr": f"c0 * {k}"} for k in range(1, 300)}
    columns["c150"] = {"expr": mistake}
    config = TabularConfig.model_validate({"kind": "tabular", "columns": columns})
    problems = [p for rule in config.semantic_rules() for p in rule()]
    assert problems == [(("columns", "c150", "expr"), message, 5)]


def tables_spec(tmp: Path, count: int) -> Path:
    """A chain of ``count`` related tables, each row with one child row."""
    tables = ["t0: {columns: {a: {dist: normal}}}"]
    tables += [
        f"t{k}: {{parent: t{k - 1}, rows_per_parent: {{dist: integer, low: 1, high: 1}}, "
        "columns: {a: {dist: normal, mean: 'parent.a'}}}"
        for k in range(1, count)
    ]
    path = tmp / f"tables-{count}.yaml"
    head = "synthc: 1\nname: tables\nseed: 1\nsamples: 10\ngenerator:\n  kind: tabular\n"
    path.write_text(head + "  tables:\n" + "".join(f"    {t}\n" for t in tables))
    return path


def test_related_tables_are_bounded_in_number(tmp_path):
    """Checking a tree of tables costs more than linear time in their count: 400 tables took 89 s
    to validate. Past MAX_TABLES the count alone is reported, at the tables' key."""
    at_limit = validate(tables_spec(tmp_path, limits.MAX_TABLES))
    assert at_limit.returncode == 0 and at_limit.stdout.endswith(": ok\n"), at_limit.stderr
    for count in (limits.MAX_TABLES + 1, 2000):
        run = validate(tables_spec(tmp_path, count))
        assert run.returncode == 2
        assert run.stderr.splitlines() == [
            f"{tmp_path / f'tables-{count}.yaml'}:7:3: generator.tables: {count:,} tables: at "
            f"most {limits.MAX_TABLES} (synthc.limits.MAX_TABLES)"
        ]


def test_the_columns_of_a_wide_table_are_described_in_one_pass(monkeypatch):
    """The dataset's column list asked every column whether it joins the copula by listing the
    copula's members again: quadratic, a third of validating a 30,000-column spec."""
    calls = []
    members = TabularConfig.copula_columns

    def counted(self):
        calls.append(1)
        return members(self)

    monkeypatch.setattr(TabularConfig, "copula_columns", counted)
    columns = {f"c{k}": {"dist": "normal"} for k in range(2000)}
    config = TabularConfig.model_validate(
        {"kind": "tabular", "columns": columns, "correlation": {"c0": {"c1": 0.5}}}
    )
    described = TabularGenerator().columns(config)
    assert [c.name for c in described] == list(columns)
    joined = [c.name for c in described if "Gaussian copula" in c.description]
    assert joined == ["c0", "c1"] and len(calls) == 1


def test_drawing_a_chain_of_formulas_works_out_the_kinds_once(monkeypatch):
    """Each formula asked every column its kind while drawing, and the generator's check of a
    shard built polars' schema once per column: drawing 6,000 chained columns took 48 s."""
    calls = {"kinds": 0, "schema": 0}
    kinds, schema = TabularConfig.expr_kinds, pl.DataFrame.schema

    def counted_kinds(self):
        calls["kinds"] += 1
        return kinds(self)

    def counted_schema(self):
        calls["schema"] += 1
        return schema.fget(self)

    monkeypatch.setattr(TabularConfig, "expr_kinds", counted_kinds)
    monkeypatch.setattr(pl.DataFrame, "schema", property(counted_schema))
    columns = {"c0": {"dist": "normal"}}
    columns |= {f"c{k}": {"expr": f"c{k - 1} + 1"} for k in range(1, 50)}
    config = TabularConfig.model_validate({"kind": "tabular", "columns": columns})
    frame = pl.DataFrame(list(sample_shard(config, 1, 0, 10).values()))
    check_frame(frame, TabularGenerator().columns(config), "tabular")
    assert np.allclose(frame["c49"].to_numpy(), frame["c0"].to_numpy() + 49)
    assert calls["kinds"] <= 2 and calls["schema"] <= 2


class _Unwalked(dict):
    """Columns drawn so far, which a formula may look up but not walk."""

    def __iter__(self):
        raise AssertionError("a formula walked every drawn column")


def test_a_formula_looks_up_its_columns_without_walking_the_others():
    """formula_values listed every column drawn so far to pick the few a formula reads: a
    chain of 20,000 formula columns took 8 minutes to build 200 rows, most of it there."""
    config = TabularConfig.model_validate(
        {"kind": "tabular", "columns": {"a": {"dist": "normal"}, "b": {"expr": "a + 1"}}}
    )
    drawn = _Unwalked(a=pl.Series("a", [1.0, 2.0]), z=pl.Series("z", [0.0, 0.0]))
    assert formula_values("a * 2 + 1", config, drawn, 2).tolist() == [3.0, 5.0]
