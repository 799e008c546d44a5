"""The tabular generator: schema, recorded truth (formulas, coefficients, copula) and sampling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar

from pydantic import Discriminator, Tag

from synthc.generators.base import TABLE_VALUE_BYTES, Column, Table, TableGenerator
from synthc.generators.linalg import cholesky
from synthc.generators.tabular import columns as c
from synthc.generators.tabular import expr
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.copula import correlation_matrix
from synthc.generators.tabular.graph import GRAPH_FILE, causal_graph, edge_list_csv
from synthc.generators.tabular.sampling import sample_shard
from synthc.generators.tabular.scales import Scale, as_tuples, scales
from synthc.generators.tabular.tables import TablesConfig


def _shape(value: Any) -> str:
    """``tables`` for a spec of related tables, else ``columns`` (one table)."""
    if isinstance(value, dict):
        return "tables" if "tables" in value else "columns"
    return "tables" if isinstance(value, TablesConfig) else "columns"


_shape.__name__ = "shape"

#: one table (``columns``) or related tables (``tables``), told apart by the key present
AnyTabularConfig = Annotated[
    Annotated[TabularConfig, Tag("columns")] | Annotated[TablesConfig, Tag("tables")],
    Discriminator(_shape),
]


def describe(column: c.ColumnBase) -> str:
    """One line saying how a column's values are made."""
    if isinstance(column, c.Derived):
        text = f"expr: {column.expr}"
        if column.noise is not None:
            text += f", plus noise {describe(column.noise)}"
    else:
        formulas = column.formulas()
        inner = ", ".join(
            f"{k}={_show(v)}" if k not in formulas else f'{k}="{v}"'
            for k, v in column.shown_params().items()
        )
        text = f"{column.dist_name()}({inner})"
    clip = getattr(column, "clip", None)
    text += f", clipped to [{clip[0]:g}, {clip[1]:g}]" if clip else ""
    return text + (", standardised" if column.standardize else "")


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class TabularGenerator(TableGenerator[TabularConfig]):
    """Tables drawn from declared distributions, with formulas and labels known exactly."""

    kind: ClassVar[str] = "tabular"
    Config: ClassVar[Any] = AnyTabularConfig
    gil_free: ClassVar[bool] = True

    def columns(self, config: TabularConfig | TablesConfig) -> list[Column]:
        """The columns of the table, or of the root table of related tables."""
        if isinstance(config, TablesConfig):
            return self.table_columns(config, config.root())
        return self._own_columns(config)

    def table_columns(self, config: TabularConfig | TablesConfig, table: str) -> list[Column]:
        assert isinstance(config, TablesConfig)
        parent = config.tables[table].parent
        key = config.key_column(table)
        head = [] if key is None else [Column(key, "int64", f"the index of the {parent} row")]
        return head + self._own_columns(config.view(table))

    def _own_columns(self, config: TabularConfig) -> list[Column]:
        out: list[Column] = []
        for name, column in config.columns.items():
            text = describe(column)
            if name in config.copula_columns():
                text += "; joined by the Gaussian copula (generator.facts.copula)"
            rate = config.missing.get(name, 0)
            if rate:
                text += f"; {rate:g} of values null completely at random"
            out.append(Column(name, column.out_dtype(), text))
        label = config.label
        if label is not None:
            truth = {
                "logistic": "the probability sigmoid(formula) the label was drawn with",
                "linear": "the noise-free value of the formula",
                "threshold": "the margin, the formula's value (label = margin > 0)",
            }[label.kind]
            noise = {
                "logistic": f"flipped with probability {label.noise:g}",
                "linear": f"plus N(0, {label.noise:g}^2) noise",
                "threshold": f"flipped with probability {label.noise:g}",
            }[label.kind]
            kind = "float64" if label.kind == "linear" else "int64"
            out.append(Column(label.name, kind, f"{label.kind} label of {label.formula}, {noise}"))
            out.append(Column(f"{label.name}_true", "float64", truth))
        return out

    def facts(self, config: TabularConfig | TablesConfig, seed: int) -> dict[str, Any]:
        if isinstance(config, TablesConfig):
            return {"tables": {name: _table_facts(config, name) for name in config.table_names()}}
        return self._own_facts(config, scales(config, seed), GRAPH_FILE)

    def _own_facts(
        self, config: TabularConfig, found: dict[str, Scale], graph_file: str
    ) -> dict[str, Any]:
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

    def extra_files(self, config: TabularConfig | TablesConfig, seed: int) -> dict[str, bytes]:
        """graph.csv: the edges of the causal graph (the graph module documents the columns);
        for related tables, one edge list per table, ``<table>.graph.csv``."""
        if isinstance(config, TablesConfig):
            return {
                table_graph_file(name): edge_list_csv(causal_graph(config.view(name), {}))
                for name in config.table_names()
            }
        return {GRAPH_FILE: edge_list_csv(causal_graph(config, scales(config, seed)))}

    def generate(
        self, config: TabularConfig | TablesConfig, seed: int, start: int, stop: int
    ) -> Table:
        if isinstance(config, TablesConfig):
            return self.generate_part(config, seed, config.root(), {config.root(): [start, stop]})
        found = as_tuples(scales(config, seed))
        return dict(sample_shard(config, seed, start, stop, found))  # Series: nulls where missing

    def generate_part(
        self,
        config: TabularConfig | TablesConfig,
        seed: int,
        table: str,
        rows: Mapping[str, Sequence[int]],
    ) -> Table:
        assert isinstance(config, TablesConfig)
        return config.generate_part(seed, table, rows)

    def sample_bytes(self, config: TabularConfig | TablesConfig) -> float:
        """A root row's bytes with its expected descendants' (8 per value, index included)."""
        if not isinstance(config, TablesConfig):
            return super().sample_bytes(config)
        return sum(
            TABLE_VALUE_BYTES
            * (len(self.table_columns(config, name)) + 1)
            * config.rows_per_root(name)
            for name in config.table_names()
        )


def table_graph_file(table: str) -> str:
    """The edge list of one of related tables' graphs: ``<table>.graph.csv`` at the top."""
    return f"{table}.{GRAPH_FILE}"


def _table_facts(config: TablesConfig, name: str) -> dict[str, Any]:
    """How a table of related tables is made: its parent, key and counts, its columns."""
    table = config.tables[name]
    own = GENERATOR._own_facts(config.view(name), {}, table_graph_file(name))
    relation: dict[str, Any] = {"key": "index"}
    if table.parent is not None:
        assert table.rows_per_parent is not None
        relation.update(
            parent=table.parent,
            foreign_key=config.key_column(name),
            references=f"{table.parent}.index",
            rows_per_parent=describe(table.rows_per_parent),
            mean_rows_per_parent=config.rows_per_root(name) / config.rows_per_root(table.parent),
        )
    return {**relation, **own}


GENERATOR = TabularGenerator()
