"""The pilot sample's scales kept on disk, so that a small build of a spec with standardised
columns does not draw the pilot's 100,000 rows (and start Numba for them) each time.

A file per config and seed: ``tabular-scales/<key>.json`` in synthc's cache folder
(synthc.cache_files), where ``key`` is the sha256 of everything the numbers depend on: synthc's
own source (every module: the code that draws and sums the pilot), NumPy's and Numba's versions,
the config's JSON and the seed. A new synthc, NumPy or Numba is a new key, never a stale hit.

The file is strict JSON of one shape, ``{"key": KEY, "scales": {COLUMN: [MEAN, STD]}}``, with
exactly the columns asked for, finite means and finite positive stds (what the pilot itself
accepts). Anything else (damaged, planted, a FIFO at the path) is no cache: the pilot is drawn
again and the file rewritten. Writes are atomic and best effort (cache_files.write_cache); a
folder that already holds :data:`MAX_FILES` files takes no more.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
from collections.abc import Collection
from importlib.metadata import PackageNotFoundError
from pathlib import Path

from synthc import dist_versions
from synthc.cache_files import cache_path, read_cache_json, write_cache

#: the cache folder's name under synthc's cache
FOLDER = "tabular-scales"
#: bytes of one file (a spec's every column, named at most 256 characters: well under this)
MAX_BYTES = 4 * 1024 * 1024
#: files the folder may hold before no more are written
MAX_FILES = 4096
#: the file format, part of the key
FORMAT = "synthc-scales/1"

Scales = dict[str, tuple[float, float]]


def read(config_json: str, seed: int, names: Collection[str]) -> Scales | None:
    """The cached (mean, std) of each of ``names`` for this config and seed; None without a
    usable file holding exactly those."""
    key = _key(config_json, seed)
    path = cache_path(FOLDER, f"{key}.json")
    found = read_cache_json(path, MAX_BYTES)
    if type(found) is not dict or set(found) != {"key", "scales"} or found["key"] != key:
        return None
    scales = found["scales"]
    if type(scales) is not dict or set(scales) != set(names):
        return None
    out: Scales = {}
    for name, pair in scales.items():
        if type(pair) is not list or len(pair) != 2 or any(type(v) is not float for v in pair):
            return None
        mean, std = pair
        if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
            return None
        out[name] = (mean, std)
    return out


def write(config_json: str, seed: int, scales: Scales) -> None:
    """Keep ``scales`` (what the pilot found) for this config and seed, if there is room."""
    key = _key(config_json, seed)
    path = cache_path(FOLDER, f"{key}.json")
    if path is None:  # no cache folder (synthc.cache_files.cache_path)
        return
    with contextlib.suppress(OSError), os.scandir(os.path.dirname(path)) as entries:
        if sum(1 for _ in entries) >= MAX_FILES:
            return
    value = {"key": key, "scales": {name: [mean, std] for name, (mean, std) in scales.items()}}
    write_cache(path, json.dumps(value, separators=(",", ":")).encode())


def _key(config_json: str, seed: int) -> str:
    digest = hashlib.sha256()
    for part in (FORMAT, _code_digest(), str(seed), config_json):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


@functools.cache
def _code_digest() -> str:
    """sha256 of synthc's source and the versions of the libraries the pilot's numbers come
    from (once per process)."""
    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for library in ("numpy", "numba"):
        digest.update(f"{library}=={_version_of(library)}\0".encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _version_of(library: str) -> str:
    try:
        return dist_versions.version(library)
    except PackageNotFoundError:  # not installed as a distribution: no version to key on
        return "?"
