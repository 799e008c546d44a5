"""Related tables: a tree of tables, each child row belonging to one parent row.

A spec with ``generator.tables`` instead of ``generator.columns`` names several tables. One, the
root, has no ``parent``; its rows are the spec's ``samples``. Every other table names its
``parent`` and ``rows_per_parent``, a count distribution with constant parameters (poisson,
binomial, integer, constant). Parent row ``j`` of table ``p`` has ``count_c(j)`` children in
table ``c``, drawn from the stream ``derive_key(table_seed(seed, c), "tabular/rows_per_parent")``
at counter ``j``: a pure function of ``(seed, c, j)``, so the first child row of any parent is a
prefix sum the plan computes without drawing a single column (:meth:`TablesConfig.first_rows`).
This module is the config side; the counts and rows are drawn by the kernel side
(``drawing.py``: ``table_seed``, ``counts``, ``generate_part``), imported on the first draw.

A child's columns are drawn like a single table's (``sampling.sample_shard``) from the table's
own seed, at the child's global row index; its formulas may read the parent row's columns as
``parent.<column>``. So a child row is a pure function of ``(seed, config, child index)`` and
its parent's row, and a shard of a child table, given its rows and its parents' rows, is made
by drawing the parents again (and their parents, up to the root) for that range.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from synthc import generators, limits
from synthc.generators.base import PART_CONFIG, GeneratorConfig
from synthc.generators.holes import is_hole
from synthc.generators.memory import NUMBER_BYTES, size
from synthc.generators.tabular import columns as c
from synthc.generators.tabular import expr
from synthc.generators.tabular.config import (
    NAME,
    RESERVED,
    SHARD_MEMORY_FACTOR,
    Label,
    TabularConfig,
)
from synthc.generators.tabular.expr.tokens import PARENT
from synthc.hints import did_you_mean

#: parent rows whose counts the plan draws at once (8 MiB of int64)
COUNT_BLOCK = 1 << 20
#: the most rows a table may expect: its indices stay exact as float64 and far from int64's end
MAX_TABLE_ROWS = 2**53

#: folders synthc writes at the top of an output (a table is a folder there too)
RESERVED_FOLDERS = ("facts",)

#: how many children a parent row has: a count distribution with constant parameters
RowsPerParent = Annotated[
    c.Poisson | c.Binomial | c.Integer | c.Constant, Field(discriminator="dist")
]


class TableSpec(BaseModel):
    """One table of a multi-table spec: its columns (as a single table's) and its parent."""

    model_config = ConfigDict(**PART_CONFIG, strict=True)

    parent: str | None = Field(
        None, description="The table each row belongs to (none for the root table)."
    )
    rows_per_parent: RowsPerParent | None = Field(
        None,
        description="How many rows of this table each parent row has: poisson, binomial, "
        "integer or constant, with constant parameters.",
    )
    columns: dict[str, c.ColumnConfig] = Field(
        min_length=1,
        description="Column name -> distribution (`dist`) or formula (`expr`); formulas may "
        "read the parent row's columns as `parent.<column>`.",
    )
    correlation: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Gaussian copula among this table's columns."
    )
    label: Label | None = Field(None, description="A label from a known formula.")
    missing: dict[str, float] = Field(
        default_factory=dict, description="Column -> rate of values set to null at random."
    )


class TableView(TabularConfig):
    """One table as a single-table config, with its parent's columns named ``parent.<col>``
    known to its formulas."""

    _parent_kinds: dict[str, str] = PrivateAttr(default_factory=dict)
    _parent_categories: dict[str, list[str]] = PrivateAttr(default_factory=dict)

    def expr_kinds(self) -> dict[str, str]:
        return {**self._parent_kinds, **super().expr_kinds()}

    def categories(self) -> dict[str, list[str]]:
        return {**self._parent_categories, **super().categories()}


class TablesConfig(GeneratorConfig):
    """Several tables in a tree: a root (``samples`` rows) and children by ``rows_per_parent``."""

    model_config = ConfigDict(**PART_CONFIG, strict=True)

    kind: Literal["tabular"] = Field(description="Generator kind.")
    tables: dict[str, TableSpec] = Field(
        min_length=1,
        description="Table name -> its columns; every table but the root names its `parent` "
        "and `rows_per_parent`. Each is written under `<table>/<split>/`.",
    )

    # -- the tree ------------------------------------------------------------------------

    def root(self) -> str:
        """The table without a parent (validation makes it unique)."""
        return next(name for name, table in self.tables.items() if table.parent is None)

    def table_names(self) -> list[str]:
        """Every table, each after its parent (the root first, then declaration order). Tables
        no root leads to (a parent cycle, an unknown parent: reported by the rules) come last,
        so a spec of related tables never reads as one of a single table."""
        done: list[str] = []
        pending = list(self.tables)
        while pending:
            ready = [t for t in pending if self.tables[t].parent in (None, *done)]
            if not ready:
                break
            done += ready
            pending = [t for t in pending if t not in ready]
        return done + pending

    def chain(self, table: str) -> list[str]:
        """The root, then each ancestor of ``table`` down to it."""
        found = [table]
        while (parent := self.tables[found[0]].parent) is not None:
            found.insert(0, parent)
        return found

    def view(self, table: str, missing: bool = True) -> TableView:
        """``table`` as a single-table config (``missing=False``: without nulls, as its
        children's formulas read it)."""
        spec = self.tables[table]
        view = TableView.model_construct(
            kind="tabular",
            columns=spec.columns,
            correlation=spec.correlation,
            label=spec.label,
            missing=spec.missing if missing else {},
        )
        parent = spec.parent
        if parent is not None and parent in self.tables:
            outer = self.tables[parent].columns
            parent_view = self.view(parent)
            kinds, categories = parent_view.expr_kinds(), parent_view.categories()
            view._parent_kinds = {f"{PARENT}.{k}": kinds[k] for k in outer}
            view._parent_categories = {
                f"{PARENT}.{k}": categories[k] for k in outer if k in categories
            }
        return view

    def key_column(self, table: str) -> str | None:
        """The foreign key column of a child table (``<parent>_id``), None for the root."""
        parent = self.tables[table].parent
        return None if parent is None else f"{parent}_id"

    def rows_per_parent(self, table: str) -> float:
        """Expected rows of ``table`` per row of its parent (its count's mean; 1 for the root)."""
        return _mean_count(self.tables[table].rows_per_parent)

    def rows_per_root(self, table: str) -> float:
        """Expected rows of ``table`` per root row (the product of mean counts down its chain)."""
        rows = 1.0
        for name in self.chain(table)[1:]:
            rows *= _mean_count(self.tables[name].rows_per_parent)
        return rows

    # -- counts and row numbering --------------------------------------------------------

    def first_rows(self, seed: int, cuts: Sequence[int]) -> dict[str, list[int]]:
        """For root row indices ``cuts`` (ascending), every table's first row at each cut: the
        prefix sums of the counts (every parent row up to the last cut draws its count)."""
        first: dict[str, list[int]] = {}
        for table in self.table_names():
            parent = self.tables[table].parent
            if parent is None:
                first[table] = list(cuts)
                continue
            first[table] = self._prefix_sums(seed, table, first[parent])
        return first

    def _prefix_sums(self, seed: int, table: str, bounds: Sequence[int]) -> list[int]:
        """The rows of ``table`` before each parent row of ``bounds`` (ascending), drawing the
        counts in blocks of :data:`COUNT_BLOCK` parents (bounded memory at any size)."""
        drawing = generators.kernel_side("tabular")
        found: list[int] = []
        total = position = 0
        for bound in bounds:
            while position < bound:
                step = min(COUNT_BLOCK, bound - position)
                counts = drawing.counts(self, seed, table, position, position + step)
                total += int(counts.sum())
                position += step
            found.append(total)
        return found

    # -- rows ----------------------------------------------------------------------------

    def parent_refs(self, table: str) -> set[str]:
        """The ``parent.<column>`` names the formulas of ``table`` read."""
        spec = self.tables[table]
        texts: list[str] = [spec.label.formula] if spec.label is not None else []
        for column in spec.columns.values():
            if isinstance(column, c.Derived):
                texts.append(column.expr)
            else:
                texts += column.formula_paths().values()
        found: set[str] = set()
        for text in texts:
            try:
                names = expr.names(expr.parse(text))
            except expr.ExprError:
                continue
            found |= {ref.name for ref in names if ref.name.startswith(f"{PARENT}.")}
        return found

    # -- checks --------------------------------------------------------------------------

    def semantic_problems(self) -> Iterable[tuple[Any, ...]]:
        for rule in self.semantic_rules():
            yield from rule()

    def semantic_rules(self) -> list[Callable[[], Iterable[tuple[Any, ...]]]]:
        if not is_hole(self.tables) and len(self.tables) > limits.MAX_TABLES:
            return [self._too_many_tables]  # nothing else is judged: it would take long
        rules: list[Callable[[], Iterable[tuple[Any, ...]]]] = [self._tree_problems]
        for name, table in {} if is_hole(self.tables) else self.tables.items():
            if is_hole(table):
                continue
            rules.append(functools.partial(self._count_problems, name))
            rules.append(functools.partial(self._key_problems, name))
            rules.append(functools.partial(self._table_problems, name))
        return rules

    def size_problems(self, samples: int, shard_size: int) -> Iterable[tuple[Any, ...]]:
        yield from self._count_draws_problem(samples)
        for name in self.table_names():
            scale = self.rows_per_root(name)
            if samples * scale > MAX_TABLE_ROWS:
                yield (
                    ("generator", "tables", name, "rows_per_parent"),
                    f"about {samples * scale:.3g} rows expected over {samples:,} samples, more "
                    f"than a table may hold (2**53)",
                )
                continue
            rows = max(1, round(samples * scale))
            shard_rows = max(1, round(min(samples, shard_size) * scale))
            for path, message, *rest in self.view(name).size_problems(rows, shard_rows):
                if path == ("output", "shard_size") and self.tables[name].parent is not None:
                    yield self._child_shard_problem(name, scale, min(samples, shard_size))
                    continue
                if path[:1] == ("generator",):
                    path = ("generator", "tables", name, *path[1:])
                yield (path, message, *rest)

    def _count_draws_problem(self, samples: int) -> Iterable[tuple[Any, ...]]:
        """Planning draws the row count of every parent row (``first_rows``): a plan whose
        parents are over limits.MAX_PLANNED_COUNTS would take hours before any shard."""
        parents = {spec.parent for spec in self.tables.values() if spec.parent is not None}
        draws = sum(samples * self.rows_per_root(name) for name in parents)
        if draws > limits.MAX_PLANNED_COUNTS:
            yield (
                ("samples",),
                f"{samples:,} {self.root()} rows have about {draws:.3g} parent rows in all "
                f"({', '.join(sorted(parents))}), each of whose row counts is drawn to plan the "
                f"shards, over the limit of {limits.MAX_PLANNED_COUNTS:.0e} "
                "(synthc.limits.MAX_PLANNED_COUNTS); use fewer samples",
            )

    def _child_shard_problem(self, name: str, scale: float, roots: int) -> tuple[Any, ...]:
        """A child table's shard of ``roots`` root rows (``scale`` rows of ``name`` each) is
        over limits.MAX_BATCH_BYTES: at its ``rows_per_parent`` when even one root row is,
        since ``output.shard_size`` (which counts root rows) cannot go below 1; else at
        ``output.shard_size``, with the most root rows that fit."""
        spec = self.tables[name]
        numbers = 1 + len(spec.columns) + (2 if spec.label else 0)
        per_row = numbers * NUMBER_BYTES * SHARD_MEMORY_FACTOR
        root = self.root()
        least = max(1, round(scale))
        if least * per_row > limits.MAX_BATCH_BYTES:
            field: dict[type, str] = {
                c.Constant: "value",
                c.Poisson: "lam",
                c.Binomial: "n",
                c.Integer: "high",
            }
            count = spec.rows_per_parent
            return (
                ("generator", "tables", name, "rows_per_parent", field[type(count)]),
                f"about {least:,} {name} rows per {root} row: a shard holds at least one {root} "
                f"row, and {least:,} rows x {numbers:,} values need about "
                f"{size(least * per_row)} while generated, over the limit of "
                f"{size(limits.MAX_BATCH_BYTES)} per shard (synthc.limits.MAX_BATCH_BYTES); "
                f"use at most {int(limits.MAX_BATCH_BYTES // per_row):,} rows per {root} row",
            )
        rows = max(1, round(roots * scale))
        fits = max(1, int(limits.MAX_BATCH_BYTES // (per_row * scale)))
        return (
            ("output", "shard_size"),
            f"a shard of {roots:,} {root} rows has about {rows:,} {name} rows x {numbers:,} "
            f"values, which need about {size(rows * per_row)} while generated, over the limit of "
            f"{size(limits.MAX_BATCH_BYTES)} per shard (synthc.limits.MAX_BATCH_BYTES); use "
            f"output.shard_size <= {fits:,}",
        )

    def _too_many_tables(self) -> Iterable[tuple[Any, ...]]:
        yield (
            ("tables",),
            f"{len(self.tables):,} tables: at most {limits.MAX_TABLES} (synthc.limits.MAX_TABLES)",
            "key",
        )

    def _tree_problems(self) -> Iterable[tuple[Any, ...]]:
        roots = []
        folded: dict[str, str] = {}
        for name, table in self.tables.items():
            other = folded.setdefault(name.casefold(), name)
            if not NAME.match(name) or name in RESERVED:
                yield (
                    ("tables", name),
                    f"table name {name!r} must be an identifier ([A-Za-z_][A-Za-z0-9_]*) and "
                    "not index, and, or, not",
                    "key",
                )
            elif name.lower() in RESERVED_FOLDERS:
                yield (("tables", name), f"table name {name!r} is a folder synthc writes", "key")
            elif len(name) > limits.MAX_FOLDER_NAME:
                yield (
                    ("tables", name),
                    f"a table name of {len(name):,} characters: at most {limits.MAX_FOLDER_NAME} "
                    "(synthc.limits.MAX_FOLDER_NAME; each table is a folder, and names its graph "
                    "file)",
                    "key",
                )
            elif other != name:
                yield (
                    ("tables", name),
                    f"table names {other!r} and {name!r} differ only in case; each table is a "
                    "folder, and a file system that ignores case holds them as one",
                    "key",
                )
            if is_hole(table):
                continue
            parent = table.parent
            if parent is None:
                roots.append(name)
                if table.rows_per_parent is not None:
                    yield (
                        ("tables", name, "rows_per_parent"),
                        "only a table with a parent has rows_per_parent",
                    )
                continue
            if parent not in self.tables:
                hint = did_you_mean(parent, list(self.tables))
                yield (("tables", name, "parent"), f"unknown table {parent!r}{hint}")
            elif parent == name:
                yield (("tables", name, "parent"), "a table cannot be its own parent")
            if table.rows_per_parent is None:
                yield (("tables", name), f"missing rows_per_parent (rows per {parent} row)")
        if len(roots) > 1:
            yield (
                ("tables", roots[1]),
                f"two tables without a parent ({roots[0]}, {roots[1]}): exactly one is the root",
                "key",
            )
        cycle = self._cycle()
        if cycle:
            path = " -> ".join([*cycle, cycle[0]])
            yield (("tables", cycle[0], "parent"), f"parent cycle: {path}")
        elif not roots and self.tables:
            yield (("tables",), "no root table: one table must have no parent")

    def _cycle(self) -> list[str]:
        for start in self.tables:
            trail = [start]
            while True:
                table = self.tables[trail[-1]]
                parent = None if is_hole(table) else table.parent
                if parent is None or parent not in self.tables:
                    break
                if parent in trail:
                    return trail[trail.index(parent) :] if parent != trail[-1] else []
                trail.append(parent)
        return []

    def _in_a_loop(self, name: str) -> bool:
        """True when ``name``'s parents lead back to one of them (a cycle, or a table that is
        its own parent, both reported by _tree_problems): its view has no root to end at. A
        table whose chain ends at the root is judged even when other tables loop."""
        seen = {name}
        while True:
            table = self.tables[name]
            parent = None if is_hole(table) else table.parent
            if parent is None or parent not in self.tables:
                return False
            if parent in seen:
                return True
            seen.add(parent)
            name = parent

    def _count_problems(self, name: str) -> Iterable[tuple[Any, ...]]:
        count = self.tables[name].rows_per_parent
        if count is None or is_hole(count):
            return
        at = ("tables", name, "rows_per_parent")
        for param in count.formulas():
            yield ((*at, param), "a count parameter must be a number (formulas are not supported)")
        for path, message in count.problems():
            yield ((*at, *path), message)
        if isinstance(count, c.Constant) and (
            isinstance(count.value, bool | str | float) or count.value < 0
        ):
            yield ((*at, "value"), "a constant count must be an integer >= 0")
        if isinstance(count, c.Integer) and count.low < 0:
            yield ((*at, "low"), "a count must be >= 0")
        if getattr(count, "clip", None) is not None:
            yield ((*at, "clip"), "a count takes no clip")
        # counts are drawn as whole numbers of rows: a dtype or standardize would be ignored
        if "dtype" in count.model_fields_set:
            yield ((*at, "dtype"), "a count takes no dtype")
        if count.standardize:
            yield ((*at, "standardize"), "a count takes no standardize")

    def _key_problems(self, name: str) -> Iterable[tuple[Any, ...]]:
        key = self.key_column(name)
        table = self.tables[name]
        if key is not None and key in table.columns:
            yield (("tables", name, "columns", key), f"{key!r} is the table's foreign key", "key")
        if key is not None and table.label is not None and table.label.name == key:
            yield (("tables", name, "label", "name"), f"{key!r} is the table's foreign key")

    def _table_problems(self, name: str) -> Iterable[tuple[Any, ...]]:
        if self._in_a_loop(name):
            return  # the parent's columns are not known
        for path, message, *rest in self.view(name).semantic_problems():
            yield (("tables", name, *path), message, *rest)
        for column, spec in self.tables[name].columns.items():
            if not is_hole(spec) and spec.standardize:
                yield (
                    ("tables", name, "columns", column, "standardize"),
                    "standardize is for a spec of one table; related tables do not take it yet",
                )


def _mean_count(count: Any) -> float:
    if isinstance(count, c.Poisson):
        return float(count.lam)
    if isinstance(count, c.Binomial):
        return count.n * count.p
    if isinstance(count, c.Integer):
        return (count.low + count.high) / 2
    if isinstance(count, c.Constant):
        return float(count.value)
    return 1.0
