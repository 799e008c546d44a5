"""README.md dataset card: what the dataset is, how big, its schema, how to load it.

The YAML front matter follows the Hugging Face dataset-card conventions (``configs`` with
``data_files`` per split, ``dataset_info``), so the Hub and ``datasets.load_dataset`` read the
directory as it is. ``data_files`` lists each split's shard files, not a glob: a stray file
in a split's folder is not loaded as part of the dataset.
"""

from __future__ import annotations

from typing import Any

import yaml

from synthc.outputs.card_text import card_cell, card_line, card_paragraph
from synthc.outputs.table_card import related_front, related_load, related_sections, shard_paths

#: Our column dtypes -> Hugging Face `datasets` Value dtypes (how its Parquet reader sees them).
_HF_DTYPES = {
    "float64": "float64",
    "float32": "float32",
    "int64": "int64",
    "int32": "int32",
    "int16": "int16",
    "int8": "int8",
    "uint64": "uint64",
    "uint32": "uint32",
    "uint16": "uint16",
    "uint8": "uint8",
    "bool": "bool",
    "string": "string",
    "enum": "string",
    "date": "date32",
    "datetime[us]": "timestamp[us]",
}


def _files(splits: dict[str, Any], ext: str) -> str:
    return ", ".join(f'"{s}": "{s}/{s}-*.{ext}"' for s, v in splits.items() if v["shards"])


def _load_parquet(splits: dict[str, Any]) -> list[str]:
    # a dict, not one variable per split: a split name need not be a Python identifier
    names = ", ".join(f'"{s}"' for s, v in splits.items() if v["shards"])
    return [
        "import polars as pl",
        f'frames = {{s: pl.read_parquet(f"{{s}}/{{s}}-*.parquet") for s in [{names}]}}',
        "",
        "from datasets import load_dataset",
        f'ds = load_dataset("parquet", data_files={{{_files(splits, "parquet")}}})',
    ]


def _load_tar(splits: dict[str, Any], columns: list[dict[str, Any]]) -> list[str]:
    # every split with shards, keyed by name (a split name need not be a Python identifier)
    urls = ", ".join(
        f'"{s}": "{s}/{s}-{{00000..{len(v["shards"]) - 1:05d}}}.tar"'
        for s, v in splits.items()
        if v["shards"]
    )
    files = ", ".join(f'"{c["name"]}"' for c in columns)
    return [
        "import webdataset as wds",
        f"urls = {{{urls}}}",
        "pipelines = {",
        f'    s: wds.WebDataset(u, shardshuffle=False).decode("pil").to_tuple({files})',
        "    for s, u in urls.items()",
        "}",
        "",
        "from datasets import load_dataset",
        f'ds = load_dataset("webdataset", data_files={{{_files(splits, "tar")}}})',
    ]


def _columns_section(ext: str, columns: list[dict[str, Any]]) -> list[str]:
    return [
        "## Files per sample" if ext == "tar" else "## Columns",
        "",
        "| name | type | meaning |",
        "|---|---|---|",
        *[
            f"| `{card_cell(c['name'])}` | {card_cell(c['dtype'])} | "
            f"{card_cell(c['description'])} |"
            for c in columns
        ],
        "",
    ]


_NO_DESCRIPTION = "A synthetic dataset built by synthc."


def dataset_card(manifest: dict[str, Any]) -> str:
    """The dataset card for ``manifest`` as Markdown text."""
    name = manifest["dataset"]["name"]
    splits = manifest["splits"]
    columns = manifest["schema"]["columns"]
    ext = {"parquet": "parquet", "webdataset": "tar"}[manifest["schema"]["format"]]
    front = {
        "pretty_name": name,
        "tags": ["synthetic", "synthc", manifest["generator"]["kind"]],
        "configs": [
            {
                "config_name": "default",
                "data_files": [
                    {"split": s, "path": shard_paths(v["shards"])}
                    for s, v in splits.items()
                    if v["shards"]
                ],
            }
        ],
        "dataset_info": {
            **(
                {}
                if ext == "tar"
                else {
                    "features": [
                        {"name": c["name"], "dtype": _HF_DTYPES.get(c["dtype"], c["dtype"])}
                        for c in columns
                    ]
                }
            ),
            # the splits data_files names: `datasets` refuses a recorded split it finds no
            # files for (ExpectedMoreSplitsError), and an empty split has none
            "splits": [
                {"name": s, "num_bytes": v["bytes"], "num_examples": v["samples"]}
                for s, v in splits.items()
                if v["shards"]
            ],
            "dataset_size": manifest["bytes"],
        },
    }
    tables = manifest["schema"].get("tables")
    if tables:  # related tables: one config per table
        del front["dataset_info"]
        front.update(related_front(manifest, _HF_DTYPES))
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).rstrip(),
        "---",
        "",
        f"# {card_line(name)} {card_line(manifest['dataset']['version'])}",
        "",
        card_paragraph(manifest["dataset"]["description"] or _NO_DESCRIPTION),
        "",
        f"Built by synthc {manifest['synthc_version']} from `spec.yaml` (seed {manifest['seed']}); "
        f"generator `{manifest['generator']['kind']}`. Labels are exact: they are known by "
        "construction, not estimated. `manifest.json` lists every shard with its sha256; "
        "`synthc verify .` checks them.",
        "",
        "| split | samples | shards | bytes |",
        "|---|---:|---:|---:|",
        *[
            f"| {s} | {v['samples']} | {len(v['shards'])} | {v['bytes']} |"
            for s, v in splits.items()
        ],
        "",
        *(related_sections(manifest) if tables else _columns_section(ext, columns)),
        "## Load",
        "",
        "```python",
        *(
            related_load(manifest)
            if tables
            else _load_tar(splits, columns)
            if ext == "tar"
            else _load_parquet(splits)
        ),
        "```",
        "",
        "![preview](preview.png)",
        "",
    ]
    return "\n".join(lines)
