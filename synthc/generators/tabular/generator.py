"""The tabular generator: schema, recorded truth (formulas, coefficients, copula) and sampling."""

from __future__ import annotations

from typing import Any, ClassVar

from synthc.generators.base import Column, Table, TableGenerator
from synthc.generators.linalg import cholesky
from synthc.generators.tabular import columns as c
from synthc.generators.tabular import expr
from synthc.generators.tabular.config import TabularConfig
from synthc.generators.tabular.copula import correlation_matrix
from synthc.generators.tabular.graph import GRAPH_FILE, causal_graph, edge_list_csv
from synthc.generators.tabular.sampling import sample_shard
from synthc.generators.tabular.scales import as_tuples, scales


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
    Config: ClassVar[Any] = TabularConfig
    gil_free: ClassVar[bool] = True

    def columns(self, config: TabularConfig) -> list[Column]:
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

    def facts(self, config: TabularConfig, seed: int) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "order": config.order(),
            "columns": {name: describe(col) for name, col in config.columns.items()},
            "missing": dict(config.missing),
            "graph": causal_graph(config, scales(config, seed)),
            "graph_file": GRAPH_FILE,
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

    def extra_files(self, config: TabularConfig, seed: int) -> dict[str, bytes]:
        """graph.csv: the edges of the causal graph (the graph module documents the columns)."""
        return {GRAPH_FILE: edge_list_csv(causal_graph(config, scales(config, seed)))}

    def generate(self, config: TabularConfig, seed: int, start: int, stop: int) -> Table:
        found = as_tuples(scales(config, seed))
        return dict(sample_shard(config, seed, start, stop, found))  # Series: nulls where missing


GENERATOR = TabularGenerator()
