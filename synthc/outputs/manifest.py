"""manifest.json: the dataset's identity and table of contents, written last.

Everything but the ``build`` section and ``provenance.git`` is the dataset's identity: a pure
function of the spec, the files it read (``provenance.inputs``), the synthc and library versions
and the shard bytes. ``build`` and ``provenance.git`` are facts of the build that made the data,
kept while the identity stays the same. ``content_sha256`` hashes the ordered list of
``(path, sha256)`` of every shard, so two datasets with equal content hashes hold equal bytes.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import synthc
from synthc import FORMAT_VERSION, generators, limits
from synthc.dist_versions import version
from synthc.errors import NotAnOutput, OutputError
from synthc.hints import sibling_hint
from synthc.json_bounds import loads_bounded
from synthc.outputs.confine import read_bounded
from synthc.outputs.records import counts_map
from synthc.outputs.store import SCHEMES, Store
from synthc.provenance import ROLES

MANIFEST_FILE = "manifest.json"
#: the spec copies a build writes beside the shards: as written, and as rendered
SPEC_FILE = "spec.yaml"
RENDERED_SPEC_FILE = "spec.rendered.yaml"
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
    return {"python": platform.python_version(), **installed_versions(_REPORTED_LIBRARIES)}


def rng_description(kind: str) -> dict[str, str]:
    """The manifest's ``rng``: what the generator declares, else synthc's Philox streams for a
    built-in kind; an installed kind that declares nothing is not said to use them."""
    declared = generators.get(kind).rng
    if declared is not None:
        return dict(declared)
    package = generators.package(kind)
    if package is None:
        return RNG_DESCRIPTION
    return {
        "scheme": "not declared",
        "note": f"generator {kind!r} of package {package} declares no rng; sample i is a pure "
        "function of (seed, generator config, i) by synthc's generator contract",
    }


def generator_libraries(kind: str) -> dict[str, str]:
    """Versions of the libraries the kind declares (its ``libraries``, which every task key
    names, e.g. OCR's trdg and fontTools) and of an installed kind's own package, which a
    manifest reports beside the core's."""
    package = generators.package(kind)
    named = {*generators.get(kind).libraries, *([package] if package else [])}
    return installed_versions(sorted(named))


def installed_versions(names: Iterable[str]) -> dict[str, str]:
    """Versions of those of ``names`` that are installed here."""
    from importlib.metadata import PackageNotFoundError

    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except (PackageNotFoundError, ValueError):
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
    files: Sequence[str] = (),
    provenance: dict[str, Any] | None = None,
    tables: dict[str, list[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """Assemble the manifest from the spec, its facts and the shard records (in plan order);
    ``provenance`` (``{"inputs": [...], "git": {...} | None}``) is recorded when given.
    ``tables``: with related tables, each table's columns (the root first); each split then
    says how many rows of each table it holds (``splits.<split>.tables``)."""
    splits: dict[str, Any] = {}
    #: each table's next row: where a split without shards (an empty split) starts it
    next_row = dict.fromkeys(tables or (), 0)
    for name, (start, stop) in split_ranges.items():
        shards = [_shard_entry(r) for r in records if r["split"] == name]
        splits[name] = {
            "samples": stop - start,
            "range": [start, stop],
            "bytes": sum(s["bytes"] for s in shards),
            "shards": shards,
        }
        if tables:
            held = {}
            for table in tables:
                rows = _table_rows([s for s in shards if s.get("table") == table], next_row[table])
                next_row[table] = rows["range"][1]
                held[table] = rows
            splits[name]["tables"] = held
    output = spec.output.model_dump(mode="json")
    return {
        "format": MANIFEST_FORMAT,
        "dataset": {
            "name": spec.name,
            "version": spec.version,
            "description": spec.description,
        },
        "synthc_version": synthc.__version__,
        "format_version": FORMAT_VERSION,
        "libraries": {**library_report(), **generator_libraries(spec.generator.kind)},
        "seed": spec.seed,
        "spec": spec_files,
        "generator": {
            "kind": spec.generator.kind,
            "config": spec.generator.model_dump(mode="json"),
            "facts": facts,
            **({"stats": stats} if (stats := summed_stats(records)) else {}),
        },
        "rng": rng_description(spec.generator.kind),
        "schema": {
            "format": output["format"],
            "columns": columns,
            **({"tables": tables} if tables else {}),
        },
        "output": output,
        "samples": spec.samples,
        "bytes": sum(r["bytes"] for r in records),
        "splits": splits,
        "content_sha256": content_sha256(records),
        # The other files synthc wrote here: a lost build state is rebuilt from this list.
        "files": sorted(files),
        **({"provenance": provenance} if provenance is not None else {}),
        "build": build,
    }


def summed_stats(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """The shards' ``stats`` summed by name, sorted: the manifest's ``generator.stats``."""
    total: dict[str, int] = {}
    for record in records:
        for key, value in record.get("stats", {}).items():
            total[key] = total.get(key, 0) + value
    return dict(sorted(total.items()))


def _table_rows(shards: list[dict[str, Any]], first: int) -> dict[str, Any]:
    """A split's rows of one of related tables: how many, their range (from ``first`` when
    the split has no shards), their bytes."""
    first = shards[0]["first_sample"] if shards else first
    rows = sum(s["samples"] for s in shards)
    return {
        "samples": rows,
        "range": [first, first + rows],
        "bytes": sum(s["bytes"] for s in shards),
    }


def _shard_entry(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("path", "first_sample", "samples", "bytes", "sha256", "task_key")
    entry = {k: record[k] for k in keys}
    if record.get("table") is not None:
        entry["table"] = record["table"]
    if record.get("stats"):
        # Per shard, so a build state rebuilt from the manifest keeps every shard's counters.
        entry["stats"] = record["stats"]
    return entry


def identity(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its build facts (``build``, ``provenance.git``): equal identities
    mean the same dataset made from the same files."""
    found = {k: v for k, v in manifest.items() if k != "build"}
    provenance = found.get("provenance")
    if isinstance(provenance, dict):
        found["provenance"] = {k: v for k, v in provenance.items() if k != "git"}
    return found


def encode_manifest(manifest: dict[str, Any]) -> bytes:
    """The manifest as written: indented JSON, keys in a stable order, newline at the end; no
    NaN or infinite number (not JSON: every value in it is finite, from a validated spec)."""
    return (json.dumps(manifest, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def read_manifest(out: Path) -> dict[str, Any]:
    """Load ``<out>/manifest.json``; OutputError if it is missing, too big or not a synthc
    manifest of the expected shape (a manifest is untrusted input)."""
    if not out.is_dir():
        what = "does not exist" if not out.exists() else "is not a directory"
        if not out.exists() and out.is_symlink():  # a link to nothing, or in a loop
            what = "is a symbolic link that leads nowhere (its target is missing, or a loop)"
        if out.name == MANIFEST_FILE and out.is_file():
            raise NotAnOutput(
                f"{out}: is the manifest file; give its directory, {out.parent}, the output "
                "directory of the synthc build"
            )
        scheme, colon, rest = str(out).partition(":/")
        if colon and scheme in SCHEMES and not rest.startswith("/"):
            # Path("s3://bucket/x") is s3:/bucket/x: a URL that lost a slash as a Path
            what += f" (the URL {scheme}://{rest} given as a Path? pass it as a string)"
            hint = ""
        else:  # outputs/swiss_roll for outputs/swiss-roll: the spec's file name for its name
            hint = "" if out.exists() else sibling_hint(str(out), folders=True)
        raise NotAnOutput(f"{out}: {what}; give the output directory of a synthc build{hint}")
    path = out / MANIFEST_FILE
    try:
        if path.is_symlink():
            raise OutputError(
                f"{path}: is a symlink; a synthc manifest is a plain file (a copy made of "
                "links, such as the Hugging Face hub's cache, opens once copied with its "
                "files: cp -rL)"
            )
        data = read_bounded(path, limits.MAX_MANIFEST_BYTES, "MAX_MANIFEST_BYTES", OutputError)
    except FileNotFoundError:
        raise OutputError(
            f"{path}: no manifest (not a synthc dataset, or its build did not finish)"
        ) from None
    except OSError as error:
        raise OutputError(f"{path}: unreadable ({error.strerror or error})") from None
    return parse_manifest(data, str(path))


def read_store_manifest(store: Store) -> dict[str, Any]:
    """Load ``manifest.json`` from an object store; errors as :func:`read_manifest`'s."""
    where = store.where(MANIFEST_FILE)
    try:
        data = store.read(
            MANIFEST_FILE, limits.MAX_MANIFEST_BYTES, "MAX_MANIFEST_BYTES", OutputError
        )
    except FileNotFoundError:
        store.require_bucket()  # a bucket name mistyped is said as a build says it
        blocker = store.object_in_the_way()
        if blocker is not None:  # -o x/manifest.json: as a file given for a directory
            what = "is an object" if blocker == store.url else f"{blocker} is an object"
            raise OutputError(
                f"{store.url}: {what}, not a prefix; give the prefix of a synthc build"
            ) from None
        raise OutputError(
            f"{where}: no manifest (not a synthc dataset, or its build did not finish)"
        ) from None
    return parse_manifest(data, where)


def parse_manifest(data: bytes, path: str) -> dict[str, Any]:
    """The manifest in ``data`` (read from ``path``, named in errors); OutputError unless it is
    a synthc manifest of the expected shape."""
    manifest = loads_bounded(data, path, OutputError)
    if not isinstance(manifest, dict):
        raise OutputError(f"{path}: a manifest is a JSON object, not {type(manifest).__name__}")
    if manifest.get("format") != MANIFEST_FORMAT:
        raise OutputError(f"{path}: unknown manifest format {manifest.get('format')!r}")
    problems = shape_problems(manifest)
    if problems:
        raise OutputError(
            f"{path}: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    return manifest


#: what a manifest's counts, sizes and indices must be (shape_problems)
_COUNT = "from 0 below 2**63"
#: a split's or table's name: one folder, as the spec's ``NAME_PATTERN`` allows a split name
#: and an identifier a table name (``_orders`` too). A store may hold both ``x.parquet`` and
#: ``x.parquet/y.parquet``, which no directory (nor a reader's local copy of them) can
FOLDER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")

_SHARD_TYPES: dict[str, type] = {
    "path": str,
    "first_sample": int,
    "samples": int,
    "bytes": int,
    "sha256": str,
    "task_key": str,
}


def shape_problems(manifest: dict[str, Any]) -> list[str]:
    """What is wrong with the shape of a manifest that synthc relies on (types, not values)."""

    def is_int(value: Any) -> bool:
        # counts, sizes and indices: none a build writes is negative or past int64 (a
        # split's len() raised OverflowError past 2**63, the index column cannot hold it)
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63

    problems: list[str] = []
    for key in ("samples", "bytes"):
        if not is_int(manifest.get(key)):
            problems.append(f"{key}: must be an integer {_COUNT}")
    if not isinstance(manifest.get("content_sha256"), str):
        problems.append("content_sha256: must be a string")
    files = manifest.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        problems.append("files: must be a list of paths")
    generator = manifest.get("generator")
    if not isinstance(generator, dict) or not isinstance(generator.get("facts", {}), dict):
        problems.append("generator: must be an object with an object 'facts'")
    if "provenance" in manifest:  # manifests written before it have none
        problems += provenance_problems(manifest["provenance"])
    splits = manifest.get("splits")
    if not isinstance(splits, dict):
        return [
            *problems,
            "splits: must be an object",
            *_schema_shape_problems(manifest.get("schema")),
        ]
    for name, split in splits.items():
        where = f"splits.{name}"
        problems += _folder_name_problems(where, name)
        if not isinstance(split, dict):
            problems.append(f"{where}: must be an object")
            continue
        for key in ("samples", "bytes"):
            if not is_int(split.get(key)):
                problems.append(f"{where}.{key}: must be an integer {_COUNT}")
        bounds = split.get("range")
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(is_int, bounds))):
            problems.append(f"{where}.range: must be [start, stop], integers {_COUNT}")
        shards = split.get("shards")
        if not isinstance(shards, list):
            problems.append(f"{where}.shards: must be a list")
            continue
        for index, shard in enumerate(shards):
            if not isinstance(shard, dict):
                problems.append(f"{where}.shards[{index}]: must be an object")
                continue
            for key, kind in _SHARD_TYPES.items():
                value = shard.get(key)
                if kind is int and not is_int(value):
                    problems.append(f"{where}.shards[{index}].{key}: must be int {_COUNT}")
                elif not isinstance(value, kind) or isinstance(value, bool):
                    problems.append(f"{where}.shards[{index}].{key}: must be {kind.__name__}")
            if not counts_map(shard.get("stats", {})):
                problems.append(
                    f"{where}.shards[{index}].stats: must map names to counts from 0 below 2**63"
                )
            if not isinstance(shard.get("table", ""), str):
                problems.append(f"{where}.shards[{index}].table: must be a table name")
        problems += _tables_shape_problems(where, split.get("tables", {}), is_int)
    return problems + _schema_shape_problems(manifest.get("schema"))


#: the shard formats synthc writes (``schema.format``), and the suffix of their shard files
SHARD_SUFFIXES = {"parquet": ".parquet", "webdataset": ".tar"}


def _schema_shape_problems(schema: Any) -> list[str]:
    """``schema``: a known ``format`` and lists of columns with a name and a dtype (its
    ``columns``, and each table's with related tables): a reader picks its way of reading
    and the members or columns a shard holds by them."""
    if not isinstance(schema, dict):
        return ["schema: must be an object with 'format' and 'columns'"]
    problems: list[str] = []
    kind = schema.get("format")
    if not isinstance(kind, str) or kind not in SHARD_SUFFIXES:
        problems.append(
            f"schema.format: must be one of {', '.join(SHARD_SUFFIXES)}, not {kind!r:.40}"
        )
    lists = {"schema.columns": schema.get("columns")}
    if "tables" in schema:
        tables = schema["tables"]
        if isinstance(tables, dict):
            lists.update({f"schema.tables.{name}": columns for name, columns in tables.items()})
            for name in tables:
                problems += _folder_name_problems(f"schema.tables.{name}", name)
        else:
            problems.append("schema.tables: must be an object")
    for where, columns in lists.items():
        if not isinstance(columns, list) or not all(
            isinstance(column, dict)
            and isinstance(column.get("name"), str)
            and isinstance(column.get("dtype"), str)
            for column in columns
        ):
            problems.append(f"{where}: must be a list of columns with a name and a dtype")
    return problems


def _folder_name_problems(where: str, name: str) -> list[str]:
    """``where: ...`` unless ``name`` is a plain folder name (:data:`FOLDER_NAME`)."""
    if len(name) <= limits.MAX_FOLDER_NAME and FOLDER_NAME.fullmatch(name):
        return []
    return [
        f"{where}: a split or table name must be a plain folder name, of at most "
        f"{limits.MAX_FOLDER_NAME} characters matching {FOLDER_NAME.pattern}"
    ]


def _tables_shape_problems(where: str, tables: Any, is_int: Any) -> list[str]:
    """A split's rows per table (related tables): ``{table: {samples, range, bytes}}``."""
    if not isinstance(tables, dict):
        return [f"{where}.tables: must be an object"]
    problems: list[str] = []
    for table, rows in tables.items():
        at = f"{where}.tables.{table}"
        if not isinstance(rows, dict):
            problems.append(f"{at}: must be an object")
            continue
        if not (is_int(rows.get("samples")) and is_int(rows.get("bytes"))):
            problems.append(f"{at}: samples and bytes must be integers {_COUNT}")
        bounds = rows.get("range")
        if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(is_int, bounds))):
            problems.append(f"{at}.range: must be [start, stop], integers {_COUNT}")
    return problems


_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
#: characters a recorded path may not hold (it is printed, and named in depfiles)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def provenance_problems(provenance: Any) -> list[str]:
    """What is wrong with the shape of a manifest's ``provenance`` (it is untrusted input)."""
    if not isinstance(provenance, dict):
        return ["provenance: must be an object with 'inputs' and 'git'"]
    problems: list[str] = []
    unknown = sorted(set(provenance) - {"inputs", "git"})
    if unknown:
        problems.append(f"provenance: unknown key {unknown[0]!r}")
    inputs = provenance.get("inputs")
    if not isinstance(inputs, list):
        problems.append("provenance.inputs: must be a list")
        inputs = []
    for index, entry in enumerate(inputs):
        where = f"provenance.inputs[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"path", "role", "sha256"}:
            problems.append(f"{where}: must be an object with path, role and sha256")
            continue
        path, role, digest = entry["path"], entry["role"], entry["sha256"]
        if not isinstance(path, str) or not path or _CONTROL.search(path):
            problems.append(f"{where}.path: must be a non-empty path without control characters")
        if role not in ROLES:
            problems.append(f"{where}.role: must be one of {', '.join(ROLES)}")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            problems.append(f"{where}.sha256: must be 64 lower-case hex digits")
    git = provenance.get("git")
    if git is not None:
        if not isinstance(git, dict) or set(git) != {"commit", "path", "dirty"}:
            problems.append("provenance.git: must be null or an object with commit, path, dirty")
        else:
            if not isinstance(git["commit"], str) or not _COMMIT.fullmatch(git["commit"]):
                problems.append("provenance.git.commit: must be a hex commit id")
            path = git["path"]
            if not isinstance(path, str) or not path or _CONTROL.search(path):
                problems.append("provenance.git.path: must be a path without control characters")
            if not isinstance(git["dirty"], bool):
                problems.append("provenance.git.dirty: must be true or false")
    return problems


def iter_shards(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every shard entry of the manifest, in split order."""
    return [s for split in manifest["splits"].values() for s in split["shards"]]
