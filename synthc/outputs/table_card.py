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
                    {
                        "split": s,
                        "path": shard_paths(
                            [x for x in splits[s]["shards"] if x.get("table") == table]
                        ),
                    }
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


#: the most shard paths a card lists one by one per split; more numbered ones are named by a
#: few digit patterns (the Hub refuses front matter of many kilobytes)
LISTED_SHARDS = 64


def shard_paths(shards: list[dict[str, Any]]) -> list[str]:
    """The paths of ``shards`` (manifest entries) for a card's ``data_files``: exactly the
    dataset's files, where a glob would also load a stray file dropped beside them. Beyond
    LISTED_SHARDS files numbered ``<prefix>00000`` on, patterns that match those numbers and
    no other name (``train/train-0[0-9][0-9][0-9][0-9].parquet`` for 10,000 shards)."""
    paths = [shard["path"] for shard in shards]
    first = paths[0] if paths else ""
    stem, dot, ext = first.rpartition(".")
    prefix = stem[: -len(_ZERO)]
    numbered = [f"{prefix}{i:05d}.{ext}" for i in range(len(paths))]
    if len(paths) <= LISTED_SHARDS or not dot or not stem.endswith(_ZERO) or paths != numbered:
        return paths
    if any(c in prefix for c in "*?[]{}") or len(paths) > 10 ** len(_ZERO):
        return paths  # a name a pattern cannot say exactly
    return [f"{prefix}{digits}.{ext}" for digits in _digits(0, len(paths) - 1, len(_ZERO))]


_ZERO = "00000"


def _digits(low: int, high: int, width: int) -> list[str]:
    """Glob patterns of ``width`` digits that match exactly the numbers ``low``..``high``."""
    if width == 0:
        return [""]
    if low == 0 and high == 10**width - 1:
        return ["[0-9]" * width]
    unit = 10 ** (width - 1)
    head, last = low // unit, high // unit
    if head == last:
        return [f"{head}{rest}" for rest in _digits(low % unit, high % unit, width - 1)]
    found = []
    if low % unit:
        found += [f"{head}{rest}" for rest in _digits(low % unit, unit - 1, width - 1)]
        head += 1
    whole = last if high % unit == unit - 1 else last - 1
    if head <= whole:
        lead = str(head) if head == whole else f"[{head}-{whole}]"
        found.append(lead + "[0-9]" * (width - 1))
    if whole < last:
        found += [f"{last}{rest}" for rest in _digits(0, high % unit, width - 1)]
    return found


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
