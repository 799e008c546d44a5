"""Class catalogs: systems read from a synthc catalog.json, FractalDB CSVs or .npy arrays.

Compiling a spec that names a catalog reads it here; NumPy, which the arrays need, is imported
by the functions that use it, so a spec without a catalog compiles without it.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthc import limits
from synthc.errors import counted
from synthc.json_bounds import loads_strict, values_over_limit

if TYPE_CHECKING:
    import numpy as np

    from synthc.inputs import Reader


def maps_to_json(maps: np.ndarray) -> list[list[list[float]]]:
    """Rows (a, b, c, d, e, f) as the label format [[a, b, e], [c, d, f]]."""
    return [[[r[0], r[1], r[4]], [r[2], r[3], r[5]]] for r in maps.tolist()]


def system_json(maps: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """A system as catalog.json and the labels write it."""
    return {"maps": maps_to_json(maps), "probabilities": probabilities.tolist()}


def abs_dets(maps: np.ndarray) -> np.ndarray:
    """|det| of each map's linear part (inf where it is beyond the floats, without a warning)."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        dets = np.abs(maps[:, 0] * maps[:, 3] - maps[:, 1] * maps[:, 2])
    return np.where(np.isnan(dets), np.inf, dets)


def det_probabilities(maps: np.ndarray) -> np.ndarray:
    """Map probabilities proportional to |det| of each linear part (FractalDB); equal ones when
    the dets are all 0 or beyond the floats (such a system is refused as degenerate or
    divergent, without a NumPy warning on the way)."""
    import numpy as np

    dets = abs_dets(maps)
    total = dets.sum()
    if not 0 < total < np.inf:
        return np.full(len(dets), 1.0 / len(dets))
    return dets / total


def load_catalog(reader: Reader, written: str) -> Catalog:
    """Systems from a synthc catalog.json, FractalDB CSVs or .npy arrays (a file or a directory
    of files, one class each, in name order), read through ``reader`` (confined, regular files,
    size limits), each with a label naming it; and the files' portable entries."""
    if os.path.isdir(reader.base / written):
        files = reader.files_in(written, (".csv", ".npy"), "catalog")
        entries, classes = [], []
        for file in files:
            data = file.read_bytes()
            entries.append(file.entry(data))
            classes.append((file.name, _one_class(data, file.suffix, file.name)))
        return Catalog(classes, entries)
    file = reader.file(written, "catalog")
    data = file.read_bytes()
    entry = file.entry(data)
    if file.suffix == ".json":
        return Catalog(_json_classes(data, written), [entry])
    return Catalog([(file.name, _one_class(data, file.suffix, written))], [entry])


@dataclass(frozen=True)
class Catalog:
    """Classes as ``(label, system)`` pairs (label: ``classes[3]`` or a file name) and the
    portable entries of the files read."""

    classes: list[tuple[str, Any]]
    files: list[dict[str, str]]


def _json_classes(data: bytes, shown: str) -> list[tuple[str, Any]]:
    """The classes of a catalog.json, read strictly (synthc.json_bounds: a key twice in one
    object, NaN, Infinity or a number beyond a double are refused, not read one way here and
    another by the tool that wrote or checks the catalog) and within MAX_JSON_VALUES values."""
    count = values_over_limit(data)
    if count is not None:
        raise ValueError(
            f"{shown!r} holds about {count:,} JSON values, over the limit of "
            f"{limits.MAX_JSON_VALUES:,} (synthc.limits.MAX_JSON_VALUES)"
        )
    try:
        parsed = loads_strict(data)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{shown!r} is not JSON ({_first_line(error)})") from None
    if isinstance(parsed, dict) and isinstance(parsed.get("classes"), list):
        classes = parsed["classes"]
    elif isinstance(parsed, list):
        classes = parsed
    else:
        got = "an object without a classes list" if isinstance(parsed, dict) else _kind(parsed)
        raise ValueError(
            f"{shown!r} must be a JSON object with a classes list (or a list of systems); got {got}"
        )
    if not classes:
        raise ValueError(f"{shown!r} has no classes")
    return [(f"classes[{k}]", c) for k, c in enumerate(classes)]


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return names.get(type(value), "null" if value is None else type(value).__name__)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _one_class(data: bytes, suffix: str, shown: str) -> dict[str, Any]:
    import numpy as np

    if suffix == ".npy":
        array = _npy_maps(data, shown).astype(np.float64)
        _all_finite(array, shown, lambda at: "[" + "][".join(map(str, at)) + "]")
        maps = np.column_stack(
            [
                array[:, 0, 0],
                array[:, 0, 1],
                array[:, 1, 0],
                array[:, 1, 1],
                array[:, 0, 2],
                array[:, 1, 2],
            ]
        )
        return system_json(maps, det_probabilities(maps))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{shown!r} is not UTF-8 text (byte {error.start})") from None
    rows = []
    first = True
    # a byte order mark (Excel's "CSV UTF-8") is no text of the first row
    for line, row in enumerate(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))):
        values = [v.strip() for v in row if v.strip()]
        if not values:
            continue
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            if first:
                first = False
                continue  # a header
            raise ValueError(
                f"{shown!r}: row {line + 1} holds something that is no number "
                f"({','.join(values)[:60]!r}); only the first row may be a header"
            ) from None
        first = False
        if len(numbers) != 7:
            raise ValueError(
                f"{shown!r}: rows must be a,b,c,d,e,f,p; got {counted(len(numbers), 'value')}"
            )
        rows.append(numbers)
        if len(rows) > limits.MAX_CATALOG_MAPS:
            raise ValueError(
                f"{shown!r} has more than {limits.MAX_CATALOG_MAPS} maps, the limit per class "
                "(synthc.limits.MAX_CATALOG_MAPS)"
            )
    if not rows:
        raise ValueError(f"{shown!r}: no maps")
    table = np.array(rows)
    _all_finite(table[:, :6], shown, lambda at: f"row {at[0] + 1}, column {'abcdef'[at[1]]}")
    weights = table[:, 6]
    for j, p in enumerate(weights.tolist()):
        if not 0 <= p < float("inf"):
            raise ValueError(f"{shown!r}: row {j + 1}: p must be a finite number >= 0, not {p:g}")
    total = float(weights.sum())
    if not 0 < total < float("inf"):
        raise ValueError(f"{shown!r}: the p column sums to {total:g}; it needs a positive sum")
    # FractalDB writes p = |det| / sum with rounding: the column is scaled to sum to 1
    return system_json(table[:, :6], weights / total)


def _all_finite(array: np.ndarray, shown: str, place: Callable[[tuple[int, ...]], str]) -> None:
    """Refuse maps holding NaN or infinite values in one message (not one per element): how
    many, and the first's place as ``place`` spells an index."""
    import numpy as np

    bad = ~np.isfinite(array)
    count = int(bad.sum())
    if count:
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{shown!r}: {count:,} of its {array.size:,} map values are not finite numbers (NaN "
            f"or infinite), the first at {place(first)}"
        )


def _npy_maps(data: bytes, shown: str) -> np.ndarray:
    """The n x 2 x 3 array of a .npy file, its header checked before any data is taken: a
    numeric dtype, the shape, at most MAX_CATALOG_MAPS maps, and bytes the file really holds."""
    import numpy as np

    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f".npy format version {version} is not supported")
    except (ValueError, SyntaxError, TypeError, EOFError) as error:
        raise ValueError(f"{shown!r} is not a .npy array ({_first_line(error)})") from None
    if dtype.hasobject or dtype.kind not in "iuf":
        raise ValueError(f"{shown!r}: dtype {dtype} is not a number type")
    if len(shape) != 3 or tuple(shape[1:]) != (2, 3):
        raise ValueError(f"{shown!r}: expected an n x 2 x 3 array, got {tuple(shape)}")
    if shape[0] > limits.MAX_CATALOG_MAPS:
        raise ValueError(
            f"{shown!r}: the header claims {shape[0]} maps, over the limit of "
            f"{limits.MAX_CATALOG_MAPS} per class (synthc.limits.MAX_CATALOG_MAPS)"
        )
    if shape[0] < 1:
        raise ValueError(f"{shown!r}: no maps")
    needed = shape[0] * 6 * dtype.itemsize
    held = len(data) - stream.tell()
    if needed > held:
        raise ValueError(
            f"{shown!r}: the header claims {tuple(shape)} ({needed} bytes) but the file holds "
            f"{held} bytes of data"
        )
    array = np.frombuffer(data, dtype=dtype, count=shape[0] * 6, offset=stream.tell())
    return array.reshape(shape, order="F" if fortran else "C")
