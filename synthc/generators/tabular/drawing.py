"""The tabular generator's kernel side: rows of one table or of related tables, and the facts
and graph files that need drawn values (NumPy, Numba and polars; the config side is
``generator.py``, ``config.py``, ``tables.py`` and ``columns.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from synthc.errors import BuildError
from synthc.generators.base import Table
from synthc.generators.linalg import cholesky
from synthc.generators.rng import derive_key
from synthc.generators.tabular import draws, expr
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.copula import correlation_matrix
from synthc.generators.tabular.expr.tokens import PARENT
from synthc.generators.tabular.generator import describe
from synthc.generators.tabular.graph import GRAPH_FILE, causal_graph, edge_list_csv
from synthc.generators.tabular.sampling import sample_shard
from synthc.generators.tabular.scales import Scale, as_tuples, scales
from synthc.generators.tabular.tables import TablesConfig

if TYPE_CHECKING:
    import polars as pl


def generate(config: TabularConfig | TablesConfig, seed: int, start: int, stop: int) -> Table:
    """Rows ``[start, stop)`` of the table, or of the root of related tables."""
    if isinstance(config, TablesConfig):
        return generate_part(config, seed, config.root(), {config.root(): [start, stop]})
    found = as_tuples(scales(config, seed))
    return dict(sample_shard(config, seed, start, stop, found))  # Series: nulls where missing


def generate_part(
    config: TablesConfig, seed: int, table: str, rows: Mapping[str, Sequence[int]]
) -> dict[str, pl.Series | np.ndarray]:
    """The rows ``rows[table]`` of ``table`` (without ``index``): its foreign key, then its
    columns. ``rows`` holds, for the same root range, the row range of every ancestor."""
    chain = config.chain(table)
    start, stop = rows[chain[0]]
    last = len(chain) == 1
    series = sample_shard(config.view(chain[0], last), table_seed(seed, chain[0]), start, stop)
    parent_ids: np.ndarray | None = None
    for depth, child in enumerate(chain[1:], 2):
        parent = chain[depth - 2]
        (p_start, p_stop), (c_start, c_stop) = rows[parent], rows[child]
        counted = counts(config, seed, child, p_start, p_stop)
        if int(counted.sum()) != c_stop - c_start:
            raise BuildError(
                f"table {child}: parent rows {p_start}..{p_stop} of {parent} have "
                f"{int(counted.sum())} rows, the task says {c_stop - c_start} (a stale plan)"
            )
        local = np.repeat(np.arange(p_stop - p_start, dtype=np.int64), counted)
        given = {
            name: series[name[len(PARENT) + 1 :]].gather(local).alias(name)
            for name in sorted(config.parent_refs(child))
        }
        parent_ids = local + p_start
        view = config.view(child, depth == len(chain))
        series = sample_shard(view, table_seed(seed, child), c_start, c_stop, outer=given)
    out: dict[str, pl.Series | np.ndarray] = {}
    key = config.key_column(table)
    if key is not None:
        assert parent_ids is not None
        out[key] = parent_ids
    out.update(series)
    return out


def counts(config: TablesConfig, seed: int, table: str, start: int, stop: int) -> np.ndarray:
    """Rows of ``table`` that parent rows ``[start, stop)`` have, as int64."""
    count = config.tables[table].rows_per_parent
    assert count is not None
    key = derive_key(table_seed(seed, table), "tabular/rows_per_parent")
    values = draws.draw(count, key, start, stop - start, {})
    return np.asarray(values, dtype=np.int64)


def table_seed(seed: int, table: str) -> int:
    """The seed a table's streams derive from: its own, so tables draw independently."""
    k0, k1 = derive_key(seed, f"tabular/tables/{table}")
    return (k0 << 32) | k1


def facts(config: TabularConfig | TablesConfig, seed: int) -> dict[str, Any]:
    """The manifest's generator facts: order, columns, graph, copula, label (per table)."""
    if isinstance(config, TablesConfig):
        return {"tables": {name: _table_facts(config, name) for name in config.table_names()}}
    return _own_facts(config, scales(config, seed), GRAPH_FILE)


def extra_files(config: TabularConfig | TablesConfig, seed: int) -> dict[str, bytes]:
    """graph.csv: the edges of the causal graph (the graph module documents the columns);
    for related tables, one edge list per table, ``<table>.graph.csv``."""
    if isinstance(config, TablesConfig):
        return {
            table_graph_file(name): edge_list_csv(causal_graph(config.view(name), {}))
            for name in config.table_names()
        }
    return {GRAPH_FILE: edge_list_csv(causal_graph(config, scales(config, seed)))}


def table_graph_file(table: str) -> str:
    """The edge list of one of related tables' graphs: ``<table>.graph.csv`` at the top."""
    return f"{table}.{GRAPH_FILE}"


def _own_facts(config: TabularConfig, found: dict[str, Scale], graph_file: str) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "order": config.order(),
        "columns": {name: describe(col) for name, col in config.columns.items()},
        "missing": dict(config.missing),
        "graph": causal_graph(config, found),
        "graph_file": graph_file,
    }
    names = config.copula_columns()
    if names:
        matrix = correlation_matrix(names, config.correlation)
        facts["copula"] = {
            "columns": names,
            "correlation": matrix.tolist(),
            "cholesky": cholesky(matrix).tolist(),
            "note": "correlations of the latent normals; equal to the Pearson correlation "
            "of the output for normal marginals",
        }
    if config.label is not None:
        node = expr.parse(config.label.formula)
        intercept, coefficients = expr.affine(node)
        facts["label"] = {
            "name": config.label.name,
            "kind": config.label.kind,
            "formula": config.label.formula,
            "parsed": expr.to_text(node),
            "intercept": intercept,
            "coefficients": coefficients,
            "noise": config.label.noise,
            "truth_column": f"{config.label.name}_true",
        }
    return facts


def _table_facts(config: TablesConfig, name: str) -> dict[str, Any]:
    """How a table of related tables is made: its parent, key and counts, its columns."""
    table = config.tables[name]
    own = _own_facts(config.view(name), {}, table_graph_file(name))
    relation: dict[str, Any] = {"key": "index"}
    if table.parent is not None:
        assert table.rows_per_parent is not None
        relation.update(
            parent=table.parent,
            foreign_key=config.key_column(name),
            references=f"{table.parent}.index",
            rows_per_parent=describe(table.rows_per_parent),
            # its own count's mean: a quotient of the chains' products divided by zero below
            # a parent that expects no rows
            mean_rows_per_parent=config.rows_per_parent(name),
        )
    return {**relation, **own}
