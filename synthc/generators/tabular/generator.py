"""The tabular generator: schema, column descriptions and size estimate (the config side, which
imports no NumPy); its rows, recorded truth (coefficients, copula factor, causal graph) and
graph files are made by the kernel side (``drawing.py``), imported when it first draws."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar

from pydantic import Discriminator, Tag

from synthc import generators
from synthc.generators.base import TABLE_VALUE_BYTES, Column, Table, TableGenerator
from synthc.generators.tabular import columns as c
from synthc.generators.tabular.config import TabularConfig
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
        copula = set(config.copula_columns())  # once: a wide table has thousands of columns
        for name, column in config.columns.items():
            text = describe(column)
            if name in copula:
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
        facts: dict[str, Any] = generators.kernel_side(self.kind).facts(config, seed)
        return facts

    def extra_files(self, config: TabularConfig | TablesConfig, seed: int) -> dict[str, bytes]:
        """graph.csv: the edges of the causal graph (the graph module documents the columns);
        for related tables, one edge list per table, ``<table>.graph.csv``."""
        files: dict[str, bytes] = generators.kernel_side(self.kind).extra_files(config, seed)
        return files

    def generate(
        self, config: TabularConfig | TablesConfig, seed: int, start: int, stop: int
    ) -> Table:
        table: Table = generators.kernel_side(self.kind).generate(config, seed, start, stop)
        return table

    def generate_part(
        self,
        config: TabularConfig | TablesConfig,
        seed: int,
        table: str,
        rows: Mapping[str, Sequence[int]],
    ) -> Table:
        assert isinstance(config, TablesConfig)
        part: Table = generators.kernel_side(self.kind).generate_part(config, seed, table, rows)
        return part

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


GENERATOR = TabularGenerator()
