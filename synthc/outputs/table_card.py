"""The dataset card's parts for related tables: one Hugging Face config per table, each
table's columns and key, and loading code that joins a child to its parent."""

from __future__ import annotations

from typing import Any

from synthc.outputs.card_text import card_cell


def related_front(manifest: dict[str, Any], dtypes: dict[str, str]) -> dict[str, Any]:
    """``configs`` and ``dataset_info`` of the front matter: one config per table with rows
    (the root's is the default), its splits' files under ``<table>/<split>/``."""
    splits = manifest["splits"]
    tables = manifest["schema"]["tables"]
    configs, infos = [], []
    for i, (table, columns) in enumerate(tables.items()):
        held = {s: v["tables"][table] for s, v in splits.items()}
        if not _has_rows(manifest, table):
            # `datasets` loads no split of 0 rows: a config without files failed with
            # UnexpectedSplitsError; without the config it names the tables it has
            continue
        configs.append(
            {
                "config_name": table,
                **({"default": True} if i == 0 else {}),
                "data_files": [
                    {"split": s, "path": f"{table}/{s}/{s}-*.parquet"}
                    for s, rows in held.items()
                    if rows["samples"]
                ],
            }
        )
        infos.append(
            {
                "config_name": table,
                "features": [
                    {"name": c["name"], "dtype": dtypes.get(c["dtype"], c["dtype"])}
                    for c in columns
                ],
                "splits": [
                    {"name": s, "num_bytes": rows["bytes"], "num_examples": rows["samples"]}
                    for s, rows in held.items()
                    if rows["samples"]  # as data_files: no recorded split without files
                ],
                "dataset_size": sum(rows["bytes"] for rows in held.values()),
            }
        )
    return {"configs": configs, "dataset_info": infos}


def related_sections(manifest: dict[str, Any]) -> list[str]:
    """Rows per table and split, then each table's key, parent and columns."""
    splits = manifest["splits"]
    tables = manifest["schema"]["tables"]
    facts = manifest["generator"]["facts"].get("tables", {})
    names = list(splits)
    lines = [
        "## Tables",
        "",
        "Each table is its own Parquet dataset under `<table>/<split>/`. `index` is a row's "
        "index in its table; a child's `<parent>_id` is the `index` of its parent row, which is "
        "always there, in the same split. Splits assign root rows; children follow them.",
        "",
        "| table | parent | key | rows per parent | " + " | ".join(names) + " |",
        "|---|---|---|---|" + "---:|" * len(names),
    ]
    for table in tables:
        fact = facts.get(table, {})
        parent = fact.get("parent", "")
        key = f"`{fact['foreign_key']}` -> `{fact['references']}`" if parent else "`index`"
        counts = fact.get("rows_per_parent", "")
        rows = " | ".join(str(splits[s]["tables"][table]["samples"]) for s in names)
        lines.append(f"| {table} | {parent} | {key} | {counts} | {rows} |")
    for table, columns in tables.items():
        lines += [
            "",
            f"### {table}",
            "",
            "| name | type | meaning |",
            "|---|---|---|",
            *[
                f"| `{card_cell(c['name'])}` | {card_cell(c['dtype'])} | "
                f"{card_cell(c['description'])} |"
                for c in columns
            ],
        ]
    return [*lines, ""]


def related_load(manifest: dict[str, Any]) -> list[str]:
    """Polars loading code per table, a join of the first child to its parent, and
    ``datasets.load_dataset`` of one table's config."""
    tables = list(manifest["schema"]["tables"])
    facts = manifest["generator"]["facts"].get("tables", {})
    lines = [
        "import polars as pl",
        'tables = {t: pl.read_parquet(f"{t}/*/*.parquet") for t in '
        + "["
        + ", ".join(f'"{t}"' for t in tables)
        + "]}",
    ]
    child = next((t for t in tables if facts.get(t, {}).get("parent")), None)
    if child is not None:
        parent, key = facts[child]["parent"], facts[child]["foreign_key"]
        lines.append(
            f'joined = tables["{child}"].join(tables["{parent}"], left_on="{key}", '
            f'right_on="index", suffix="_{parent}")'
        )
    # load_dataset(".", table) fails in the directory ("dataset_name should be specified"):
    # the table's files, as the card of one table loads them
    last = next(t for t in reversed(tables) if _has_rows(manifest, t))
    files = ", ".join(
        f'"{s}": "{last}/{s}/{s}-*.parquet"'
        for s, v in manifest["splits"].items()
        if v["tables"][last]["samples"]
    )
    lines += [
        "",
        "from datasets import load_dataset",
        f'ds = load_dataset("parquet", data_files={{{files}}})',
        f'# or load_dataset("path/to/this/folder", "{last}"): one config per table',
    ]
    return lines


def _has_rows(manifest: dict[str, Any], table: str) -> bool:
    """Whether some split holds rows of ``table`` (the root's always do)."""
    return any(split["tables"][table]["samples"] for split in manifest["splits"].values())
