"""manifest.json: the dataset's identity and table of contents, written last.

Everything but the ``build`` section is the dataset's identity: a pure function of the spec, the
synthc and library versions and the shard bytes. ``content_sha256`` hashes the ordered list of
``(path, sha256)`` of every shard, so two datasets with equal content hashes hold equal bytes.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from synthc import FORMAT_VERSION, __version__
from synthc.errors import OutputError

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "synthc-manifest/1"
_REPORTED_LIBRARIES = ("numpy", "numba", "polars", "pydantic", "pyyaml", "jinja2", "pillow")

RNG_DESCRIPTION = {
    "scheme": "philox4x32-10",
    "key": "blake2b-64 of 'synthc-philox/1:<seed>:<stream name>', as two 32-bit words",
    "counter": "(sample index low 32 bits, sample index high 32 bits, block, stream)",
    "note": "sample i draws only from counters with its own index, so it is a pure function "
    "of (seed, generator config, i)",
}


def library_report() -> dict[str, str]:
    """Versions of Python and of the libraries that shape or read the output."""
    found = {"python": platform.python_version()}
    for name in _REPORTED_LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def content_sha256(records: Sequence[dict[str, Any]]) -> str:
    """sha256 over the ordered ``path  sha256`` lines of every shard."""
    lines = "".join(f"{r['path']}  {r['sha256']}\n" for r in records)
    return hashlib.sha256(lines.encode()).hexdigest()


def make_manifest(
    *,
    spec: Any,
    spec_files: dict[str, Any],
    facts: dict[str, Any],
    columns: list[dict[str, str]],
    split_ranges: dict[str, tuple[int, int]],
    records: Sequence[dict[str, Any]],
    build: dict[str, Any],
) -> dict[str, Any]:
    """Assemble the manifest from the spec, its facts and the shard records (in plan order)."""
    splits: dict[str, Any] = {}
    for name, (start, stop) in split_ranges.items():
        shards = [_shard_entry(r) for r in records if r["split"] == name]
        splits[name] = {
            "samples": stop - start,
            "range": [start, stop],
            "bytes": sum(s["bytes"] for s in shards),
            "shards": shards,
        }
    output = spec.output.model_dump(mode="json")
    return {
        "format": MANIFEST_FORMAT,
        "dataset": {
            "name": spec.name,
            "version": spec.version,
            "description": spec.description,
        },
        "synthc_version": __version__,
        "format_version": FORMAT_VERSION,
        "libraries": library_report(),
        "seed": spec.seed,
        "spec": spec_files,
        "generator": {
            "kind": spec.generator.kind,
            "config": spec.generator.model_dump(mode="json"),
            "facts": facts,
            **({"stats": stats} if (stats := _summed_stats(records)) else {}),
        },
        "rng": RNG_DESCRIPTION,
        "schema": {"format": output["format"], "columns": columns},
        "output": output,
        "samples": spec.samples,
        "bytes": sum(r["bytes"] for r in records),
        "splits": splits,
        "content_sha256": content_sha256(records),
        "build": build,
    }


def _summed_stats(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for record in records:
        for key, value in record.get("stats", {}).items():
            total[key] = total.get(key, 0) + value
    return dict(sorted(total.items()))


def _shard_entry(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("path", "first_sample", "samples", "bytes", "sha256", "task_key")
    return {k: record[k] for k in keys}


def identity(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its build facts: equal identities mean the same dataset."""
    return {k: v for k, v in manifest.items() if k != "build"}


def encode_manifest(manifest: dict[str, Any]) -> bytes:
    """The manifest as written: indented JSON, keys in a stable order, newline at the end."""
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()


def read_manifest(out: Path) -> dict[str, Any]:
    """Load ``<out>/manifest.json``; OutputError if it is missing or not a synthc manifest."""
    path = out / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise OutputError(
            f"{path}: no manifest (not a synthc dataset, or its build did not finish)"
        ) from None
    except ValueError as error:
        raise OutputError(f"{path}: not valid JSON ({error})") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise OutputError(f"{path}: unknown manifest format {manifest.get('format')!r}")
    return manifest


def iter_shards(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every shard entry of the manifest, in split order."""
    return [s for split in manifest["splits"].values() for s in split["shards"]]
