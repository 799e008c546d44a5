"""Verify a built dataset: the manifest's own consistency, then every file it lists on disk."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, cast

from synthc import limits
from synthc.atomic import PARTIAL_SUFFIX
from synthc.digest import Hashing, handle_sha256
from synthc.errors import OutputError, counted, one_line
from synthc.generators.base import INDEX_NAME
from synthc.outputs.confine import (
    Confiner,
    confined_name,
    file_kind,
    open_regular,
    read_bounded,
)
from synthc.outputs.fact_files import fact_file_entries
from synthc.outputs.manifest import (
    MANIFEST_FILE,
    RENDERED_SPEC_FILE,
    SHARD_SUFFIXES,
    SPEC_FILE,
    content_sha256,
    iter_shards,
    read_manifest,
    summed_stats,
)
from synthc.outputs.parquet import column_problem, count_parquet_rows, index_problem
from synthc.outputs.state import STATE_DIR
from synthc.outputs.webdataset import TarLayout, read_tar_samples


@dataclass(frozen=True)
class ShardProblem:
    """A file or manifest entry that is missing or does not match the manifest."""

    path: str
    message: str
    #: a build of the spec repairs it (False for files the manifest does not list: synthc never
    #: deletes those; the user decides)
    rebuild: bool = True

    def __str__(self) -> str:
        # a name from the manifest or the store's listing may hold a tab or U+202E
        return one_line(f"{self.path}: {self.message}")


def verify_dataset(
    out: Path, *, count: bool = True, manifest: dict[str, Any] | None = None
) -> tuple[int, list[ShardProblem]]:
    """Check the manifest of ``out`` and every file it lists; return (shards checked, problems).

    ``count=False`` skips re-reading each shard's samples (size and sha256 are still checked);
    ``manifest``: the manifest of ``out`` already read (read_manifest), not read again.
    """
    manifest = read_manifest(out) if manifest is None else manifest
    problems = [ShardProblem(MANIFEST_FILE, m) for m in manifest_problems(manifest)]
    shards = iter_shards(manifest)
    confine = Confiner(out, MANIFEST_FILE)
    for shard in first_entries(shards):
        problem = _check_shard(confine, shard, count, manifest.get("schema"))
        if problem is not None:
            problems.append(ShardProblem(str(shard["path"]), problem))
    problems += _check_fact_files(confine, manifest)
    problems += _check_listed_files(confine, manifest)
    problems += spec_copy_problems(manifest, lambda name: _local_copy(confine, name))
    problems += _unlisted_files(confine, manifest)
    return len(shards), problems


def first_entries(shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first entry of each shard path: one listed again is a problem of the manifest's
    (``listed twice``), and is read once (a shard listed 20,000 times was hashed 20,000
    times)."""
    seen: set[str] = set()
    found = []
    for shard in shards:
        if shard["path"] not in seen:
            seen.add(shard["path"])
            found.append(shard)
    return found


def spec_copy_problems(
    manifest: dict[str, Any], read: Callable[[str], bytes | None]
) -> list[ShardProblem]:
    """The spec copies (``spec.yaml``, ``spec.rendered.yaml``) whose bytes are not the ones the
    manifest's ``spec`` records a sha256 of; ``read(name)`` gives a copy's bytes (None: not
    there, which the listed files' check reports; too big to be a spec: ``b""``)."""
    spec = manifest.get("spec")
    problems: list[ShardProblem] = []
    if not isinstance(spec, dict):
        return problems
    copies = (
        ("file", "sha256", SPEC_FILE),
        ("rendered_file", "rendered_sha256", RENDERED_SPEC_FILE),
    )
    for name_key, digest_key, written in copies:
        name, digest = spec.get(name_key), spec.get(digest_key)
        if not isinstance(name, str) or not isinstance(digest, str):
            continue
        if name != written:  # one outside the output was never checked
            problems.append(
                ShardProblem(name, f"spec.{name_key} must name {written}, the copy a build writes")
            )
            continue
        data = read(name)
        if data is not None and hashlib.sha256(data).hexdigest() != digest:
            problems.append(ShardProblem(name, f"does not match the manifest's spec.{digest_key}"))
    return problems


def _local_copy(confine: Confiner, name: str) -> bytes | None:
    try:
        path = confine(name)
    except OutputError:
        return None  # the listed files' check reports it
    try:
        return read_bounded(path, limits.MAX_RENDERED_BYTES, "MAX_RENDERED_BYTES", OutputError)
    except OSError:
        return None  # missing or unreadable: the listed files' check says so
    except OutputError:
        return b""  # not a regular file of a spec copy's size: not the recorded copy


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """Where the manifest contradicts itself (hashes, counts, ranges, paths, bytes)."""
    problems: list[str] = []
    shards = iter_shards(manifest)
    if content_sha256(shards) != manifest["content_sha256"]:
        problems.append("content_sha256 does not match the hash of the listed shards")
    for name in manifest.get("files", []):
        # a build lists no file there (its state, its lock): a state rebuilt from a manifest
        # listing one would name it, and every later build refuse that state as corrupt
        parts = PurePosixPath(str(name).replace("\\", "/")).parts
        if parts and parts[0].lower() == STATE_DIR:
            problems.append(
                f"files: {name!r:.80} is a file in {STATE_DIR}/, synthc's own state folder, "
                "which no dataset lists"
            )
    kind = manifest["schema"]["format"]
    for shard in shards:  # a reader reads a shard as its dataset's format says (a path that
        # leaves the output is a problem of its own, named where it is confined)
        if confined_name(shard["path"]) is None and not shard["path"].endswith(
            SHARD_SUFFIXES[kind]
        ):
            problems.append(f"shard {shard['path']} is not a {kind} shard ({SHARD_SUFFIXES[kind]})")
    expected_start = 0
    seen: set[str] = set()
    table_starts: dict[str, int] = {}
    schema = manifest.get("schema")
    schema_tables = schema.get("tables") if isinstance(schema, dict) else None
    named = list(schema_tables) if isinstance(schema_tables, dict) else []
    for name, split in manifest["splits"].items():
        where = f"splits.{name}"
        held_tables = split.get("tables")
        if list(held_tables or {}) != named:  # a reader picks shards by these names
            problems.append(
                f"{where}.tables names {list(held_tables or {})}, schema.tables {named}"
            )
        start, stop = split["range"]
        if start != expected_start:
            problems.append(f"{where}.range starts at {start}, not at {expected_start}")
        expected_start = stop
        if split["samples"] != stop - start:
            problems.append(
                f"{where}.samples is {split['samples']}, its range holds {stop - start}"
            )
        listed = split["shards"]
        tables = split.get("tables")
        if tables:  # related tables: each table's shards cover its own rows
            groups = _by_table(listed)
            problems += _table_problems(where, name, split, tables, table_starts, groups)
            for table, rows in tables.items():
                group = groups.get(table, [])
                folder = f"{table}/{name}"
                first, last = rows["range"]
                problems += _range_problems(f"{where}.tables.{table}", folder, group, first, last)
                problems += _listed_twice(where, group, seen)
        else:
            for shard in listed:
                if shard.get("table") is not None:  # a reader of the split would skip it
                    problems.append(
                        f"{where}: shard {shard['path']} names a table, but the split has none"
                    )
            held = sum(s["samples"] for s in listed)
            if held != split["samples"]:
                problems.append(f"{where}.samples is {split['samples']}, its shards hold {held}")
            problems += _range_problems(where, str(name), listed, start, stop)
            problems += _listed_twice(where, listed, seen)
        split_bytes = sum(s["bytes"] for s in listed)
        if split["bytes"] != split_bytes:
            problems.append(f"{where}.bytes is {split['bytes']}, its shards hold {split_bytes}")
    if expected_start != manifest["samples"]:
        problems.append(f"samples is {manifest['samples']}, the splits hold {expected_start}")
    total = sum(s["bytes"] for s in shards)
    if manifest["bytes"] != total:
        problems.append(f"bytes is {manifest['bytes']}, the shards hold {total}")
    stats, summed = manifest["generator"].get("stats", {}), summed_stats(shards)
    if stats != summed:  # the counts a reader of the manifest sees, from its shards' counts
        told, held = _clipped(stats), _clipped(summed)
        problems.append(one_line(f"generator.stats is {told}, the shards' stats add up to {held}"))
    return problems


def _clipped(value: Any) -> str:
    """``value`` as JSON in at most 200 characters (a manifest's values are its own to choose)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:199] + "…"


def _by_table(shards: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    """``shards`` by the table each names, in order: grouped in one pass, not once per table
    (a manifest of 50,000 tables and as many shards took minutes)."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for shard in shards:
        groups.setdefault(shard.get("table"), []).append(shard)
    return groups


def _range_problems(
    where: str, folder: str, listed: list[dict[str, Any]], start: int, stop: int
) -> list[str]:
    """Shards that do not cover ``[start, stop)`` in order, or lie outside ``folder``."""
    problems: list[str] = []
    position = start
    for shard in listed:
        path = shard["path"]
        if shard["first_sample"] != position:
            problems.append(
                f"{where}: shard {path} starts at {shard['first_sample']}, not {position} "
                "(a gap or an overlap)"
            )
        if shard["samples"] < 0 or shard["bytes"] < 0:
            problems.append(f"{where}: shard {path} has a negative count")
        position = shard["first_sample"] + shard["samples"]
        if PurePosixPath(path).parent != PurePosixPath(folder):
            problems.append(f"{where}: shard {path} is not in the split's folder {folder}/")
    if listed and position != stop:
        problems.append(f"{where}: shards end at {position}, the range at {stop}")
    return problems


def _listed_twice(where: str, listed: list[dict[str, Any]], seen: set[str]) -> list[str]:
    problems: list[str] = []
    for shard in listed:
        if shard["path"] in seen:
            problems.append(f"{where}: shard {shard['path']} is listed twice")
        seen.add(shard["path"])
    return problems


def _table_problems(
    where: str,
    name: str,
    split: dict[str, Any],
    tables: dict[str, Any],
    starts: dict[str, int],
    groups: dict[str | None, list[dict[str, Any]]],
) -> list[str]:
    """A split of related tables: the root's rows are the split's, each table's rows follow
    its rows in the splits before, every shard belongs to a listed table (``groups``: the
    split's shards by table)."""
    problems: list[str] = []
    root, rows = next(iter(tables.items()))
    if rows["range"] != split["range"]:
        problems.append(f"{where}.tables.{root}.range is {rows['range']}, not the split's")
    for table, rows in tables.items():
        first, last = rows["range"]
        at = f"{where}.tables.{table}"
        if first != starts.get(table, 0):
            problems.append(f"{at}.range starts at {first}, not at {starts.get(table, 0)}")
        starts[table] = last
        group = groups.get(table, [])
        if rows["samples"] != last - first:
            problems.append(f"{at}.samples is {rows['samples']}, its range holds {last - first}")
        held = sum(s["samples"] for s in group)
        if held != rows["samples"]:
            problems.append(f"{at}.samples is {rows['samples']}, its shards hold {held}")
        if rows["bytes"] != sum(s["bytes"] for s in group):
            problems.append(f"{at}.bytes does not match its shards")
    for shard in split["shards"]:
        if shard.get("table") not in tables:
            problems.append(f"{where}: shard {shard['path']} names no table of {name}")
    return problems


def _check_shard(confine: Confiner, shard: dict[str, Any], count: bool, schema: Any) -> str | None:
    """What is wrong with a listed shard (None: nothing): its file, size and sha256, and with
    ``count`` its samples, read back as a reader reads them (a tar's members as
    synthc.open allows them, see :func:`read_tar_samples`; ``schema``: the manifest's)."""
    try:
        path = confine(shard["path"])
    except OutputError as error:
        return str(error)
    walked: list[str | None] = []  # a tar's problem, found as it is hashed: read once
    if count and path.suffix == ".tar":
        layout = TarLayout.of(shard, schema)
        state = regular_state(
            path, shard["bytes"], read=lambda h: walked.append(_tar_problem(h, shard, layout))
        )
    else:
        state = regular_state(path, shard["bytes"])
    if isinstance(state, str):
        return state
    size, digest = state
    if size != shard["bytes"] or digest is None:
        return f"{counted(size, 'byte')}, manifest says {shard['bytes']}"
    if digest != shard["sha256"]:
        return f"sha256 {digest[:16]}… does not match the manifest"
    if not count:
        return None
    if walked:
        return walked[0]
    try:
        columns = shard_columns(schema, shard)
        problem = None if columns is None else column_problem(path, columns)
        if problem is not None:
            return problem
        if columns is not None and has_index(columns):  # counted as the index is read: one
            # query of polars' less per shard (200 shards, 10M rows: 0.25 s)
            return index_problem(path, shard["first_sample"], shard["samples"])
        rows = count_parquet_rows(path)
        return (
            None
            if rows == shard["samples"]
            else f"{counted(rows, 'sample')}, manifest says {shard['samples']}"
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # any reader failure means a bad shard; polars' Rust
        # panics (PanicException) derive from BaseException
        text = str(error).strip().splitlines()
        return f"unreadable: {text[0] if text else type(error).__name__}"


def shard_columns(schema: dict[str, Any], shard: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The columns the manifest's ``schema`` gives the Parquet ``shard`` (its table's, with
    related tables); None for a shard of no table the schema has (a problem of its own)."""
    table = shard.get("table")
    if table is None:
        return list(schema["columns"])
    tables = schema.get("tables")
    found = tables.get(table) if isinstance(tables, dict) else None
    return None if found is None else list(found)


def has_index(columns: list[dict[str, Any]]) -> bool:
    """Whether a shard of ``columns`` holds the ``index`` column (``output.columns`` may
    leave it out)."""
    return any(column.get("name") == INDEX_NAME for column in columns)


def _tar_problem(handle: BinaryIO, shard: dict[str, Any], layout: TarLayout) -> str | None:
    """What synthc.open would refuse in the tar read from ``handle`` (its samples and
    members), if anything; the bytes are read as the reader reads them, and dropped."""
    where = str(shard["path"])
    try:
        for _ in read_tar_samples(handle, layout, where):
            pass
    except OutputError as error:
        return str(error).removeprefix(f"{where}: ")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # any other reader failure means a bad shard, as below
        text = str(error).strip().splitlines()
        return f"unreadable: {text[0] if text else type(error).__name__}"
    return None


def regular_state(
    path: Path,
    size: int | None = None,
    *,
    at_most: int | None = None,
    read: Callable[[BinaryIO], object] | None = None,
) -> tuple[int, str | None] | str:
    """``(bytes, sha256)`` of the regular file ``path``, hashed only when it has ``size``
    bytes and at most ``at_most`` (otherwise the sha256 is None: a file far larger than the
    manifest says is never read); or what is wrong with it (missing, not a regular file,
    unreadable). ``read``: called with the file as it is hashed (what it leaves unread is
    hashed after it), so a check of the content reads the file once."""
    try:
        info = os.stat(path)
        what = file_kind(info.st_mode)
        if what is not None:
            return f"is not a regular file ({what})"
        if info.st_size != (info.st_size if size is None else size) or info.st_size > (
            info.st_size if at_most is None else at_most
        ):
            return info.st_size, None
        with open_regular(path, info.st_size) as handle:
            if read is None:
                return info.st_size, handle_sha256(handle)
            hashing = Hashing(handle)
            read(cast(BinaryIO, hashing))  # a binary file, read front to back
            return info.st_size, hashing.finish()
    except FileNotFoundError:
        return "missing"
    except OutputError as error:  # swapped since the stat
        return str(error).removeprefix(f"{path}: ")
    except OSError as error:
        return f"unreadable ({error.strerror or error})"


def fact_file_bytes(entry: dict[str, Any]) -> int:
    """The largest size a ``.npy`` file of the entry's shape and dtype can have (its data and
    the longest header numpy writes); for an entry of no shape or dtype numpy knows, the
    largest a fact may be (``synthc.limits.MAX_FACT_BYTES``)."""
    import numpy as np

    largest = limits.MAX_FACT_BYTES + _NPY_HEADER_BYTES
    shape = entry.get("shape")
    try:
        itemsize = np.dtype(str(entry["dtype"])).itemsize
    except (TypeError, ValueError):
        return largest
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        return largest
    return min(math.prod(shape) * itemsize + _NPY_HEADER_BYTES, largest)


#: the most a ``.npy`` header takes: numpy pads it to 64 bytes and keeps it under 64 KiB
#: for the arrays synthc writes (a version 1 header's length is 16 bits)
_NPY_HEADER_BYTES = 65_536 + 10


def _check_fact_files(confine: Confiner, manifest: dict[str, Any]) -> list[ShardProblem]:
    import numpy as np

    problems: list[ShardProblem] = []
    #: each file's state, hashed once however many entries name it
    known: dict[str, tuple[int, str | None] | str] = {}
    for entry in fact_file_entries(manifest["generator"].get("facts", {})):
        name = str(entry["file"])
        try:
            path = confine(entry["file"])
        except OutputError as error:
            problems.append(ShardProblem(name, str(error)))
            continue
        bound = fact_file_bytes(entry)
        state = known.get(name)
        if state is None or (not isinstance(state, str) and state[1] is None and state[0] <= bound):
            state = known[name] = regular_state(path, at_most=bound)
        elif not isinstance(state, str) and state[0] > bound:
            state = (state[0], None)  # more than this entry's array takes: not its file
        if isinstance(state, str):
            problems.append(ShardProblem(name, state))
        elif state[1] is None:
            problems.append(
                ShardProblem(
                    name,
                    f"{state[0]} bytes, more than a {entry['dtype']} {entry['shape']} array "
                    f"takes ({bound})",
                )
            )
        elif state[1] != entry["sha256"]:
            problems.append(ShardProblem(name, "sha256 does not match the manifest"))
        else:
            try:
                array = np.load(path, mmap_mode="r", allow_pickle=False)
                shape, dtype = list(array.shape), array.dtype.str
            except (OSError, ValueError) as error:
                problems.append(ShardProblem(name, f"unreadable: {error}"))
                continue
            if shape != entry["shape"] or dtype != entry["dtype"]:
                problems.append(
                    ShardProblem(
                        name,
                        f"holds {dtype} {shape}, manifest says {entry['dtype']} {entry['shape']}",
                    )
                )
    return problems


def _check_listed_files(confine: Confiner, manifest: dict[str, Any]) -> list[ShardProblem]:
    problems: list[ShardProblem] = []
    for name in manifest.get("files", []):
        try:
            path = confine(name)
        except OutputError as error:
            problems.append(ShardProblem(str(name), str(error)))
            continue
        try:
            what = file_kind(os.stat(path).st_mode)
        except FileNotFoundError:
            what = "missing"
        except OSError as error:
            what = f"unreadable ({error.strerror or error})"
        else:
            what = None if what is None else f"is not a regular file ({what})"
        if what is not None:
            problems.append(ShardProblem(name, what))
    return problems


_TEMPORARY = "a temporary left by an unfinished write"
_UNLISTED = "a shard file the manifest does not list"


def shard_folders(manifest: dict[str, Any]) -> list[str]:
    """The folders the shards of ``manifest`` are in: one per split (``train``), or with
    related tables one per table and split (``orders/train``)."""
    return [
        f"{table}/{name}" if table else name
        for name, split in manifest["splits"].items()
        for table in (split.get("tables") or [None])
    ]


def _unlisted_files(confine: Confiner, manifest: dict[str, Any]) -> list[ShardProblem]:
    """Shard files in the split folders that the manifest does not list, and temporaries."""
    listed = {s["path"] for s in iter_shards(manifest)}
    problems: list[ShardProblem] = []
    for name in shard_folders(manifest):
        try:
            folder = confine(name)
        except OutputError as error:
            problems.append(ShardProblem(str(name), str(error), rebuild=False))
            continue
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            rel = f"{name}/{path.name}"
            if path.name.endswith(PARTIAL_SUFFIX):
                problems.append(
                    ShardProblem(rel, "a temporary left by an unfinished write", rebuild=False)
                )
            elif path.suffix in SHARD_SUFFIXES.values() and rel not in listed:
                problems.append(
                    ShardProblem(rel, "a shard file the manifest does not list", rebuild=False)
                )
    for path in sorted(confine.out.glob(f"*{PARTIAL_SUFFIX}")):
        problems.append(
            ShardProblem(path.name, "a temporary left by an unfinished write", rebuild=False)
        )
    return problems


def repair_hint(out: Path | str, manifest: dict[str, Any]) -> str:
    """The command that rebuilds what does not match: ``synthc build`` of the spec
    ``manifest`` (the one of ``out``) records (its path when that file still holds the same
    spec, with its ``--var`` values)."""
    out_text = shlex.quote(str(out))
    spec = manifest.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    source, digest = spec.get("source"), spec.get("sha256")
    written_vars = spec.get("vars")
    variables = written_vars if isinstance(written_vars, dict) else {}
    # the copy a build writes (a manifest naming another file is refused: spec_copy_problems)
    copy = f"{out}/{SPEC_FILE}"
    same = isinstance(source, str) and bool(source) and _same_file(Path(str(source)), digest)
    options = "".join(
        f" --var {shlex.quote(f'{k}={v if isinstance(v, str) else json.dumps(v)}')}"
        for k, v in variables.items()
    )
    command = f"synthc build {shlex.quote(str(source)) if same else 'SPEC'} -o {out_text}{options}"
    where = (
        f"the spec it was built from; a copy is {copy}"
        if same
        else f"SPEC being the spec it was built from, copied to {copy}"
    )
    return (
        f"to repair: run `{command}` ({where}); it rebuilds each file that does not match "
        "(add --force if it says up to date: a file changed without changing its size or time)"
    )


def _same_file(path: Path, digest: Any) -> bool:
    """Whether ``path`` (named by a manifest: untrusted) is a spec file with sha256 ``digest``.
    Only a regular file of a spec's size is read, and at most that much: the manifest may name
    ``/proc/kmsg`` (reading blocks) or a file of gigabytes."""
    try:
        data = read_bounded(path, limits.MAX_SPEC_BYTES, "MAX_SPEC_BYTES", OutputError)
    except (OSError, OutputError):  # opened without blocking: /proc/kmsg answers EAGAIN
        return False
    return bool(data) and hashlib.sha256(data).hexdigest() == digest
