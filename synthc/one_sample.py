"""One sample alone: sample ``i`` of a compiled spec, generated in memory as a build makes it.

In: a :class:`CompiledSpec` and a global sample index. Out: the sample's files (``__key__`` and
bytes per extension, the tar members of the build) or its row (a one-row polars DataFrame equal
to the built Parquet row); :func:`write_files` and :func:`row_json` put them where a user reads.
"""

from __future__ import annotations

import datetime
import json
import math
import operator
import os
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any

from synthc import generators, inputs, numba_start
from synthc.atomic import write_atomic
from synthc.compile_notice import compile_notice
from synthc.compiler.compiling import CompiledSpec
from synthc.errors import BuildError, SynthcError, UsageError
from synthc.generator_output import GeneratorSlip, check_frame, checked_samples
from synthc.generators.base import FileGenerator, TableGenerator
from synthc.generators.jit import kernel_cache_dir, plain_if_quick
from synthc.outputs.confine import confined_name
from synthc.outputs.enclosing import enclosing_output
from synthc.outputs.webdataset import TarLayout
from synthc.outputs.webdataset import sample_key as sample_key  # the tars' keys, for the API
from synthc.shard import table_columns, table_rows

if TYPE_CHECKING:
    import polars as pl

#: how long one row may take with its kernels as plain Python before it is made compiled: None
#: for as long as starting Numba took on this machine (synthc.numba_start), within
#: PLAIN_ROW_BOUNDS, or PLAIN_ROW_DEFAULT_SECONDS before that was measured ...
PLAIN_ROW_SECONDS: float | None = None
PLAIN_ROW_BOUNDS = (0.2, 1.5)
PLAIN_ROW_DEFAULT_SECONDS = 0.3
#: ... and when none of them is compiled yet (compiling takes about 5 s; as for tiny builds,
#: plain_first.PLAIN_COLD_BUILD_SECONDS)
PLAIN_ROW_COLD_SECONDS = 2.0


def sample_at(compiled: CompiledSpec, index: int) -> dict[str, Any] | pl.DataFrame:
    """Sample ``index`` (global, over every split) of the spec: a file sample as a dict
    ``{"__key__": key, extension: bytes}``, or a table's row as a one-row DataFrame; BuildError
    for a sample a build would refuse, or one an installed kind's generator failed to make."""
    spec = compiled.spec
    count = spec.sample_count
    if isinstance(index, bool) or not hasattr(index, "__index__"):  # NumPy's ints are taken
        raise UsageError(f"index {index!r:.40} is not an integer")
    index = operator.index(index)
    if not 0 <= index < count:
        raise UsageError(f"index {index!r:.40} is outside [0, {count}): the spec's samples")
    inputs.use_roots(compiled.read_roots)
    kind = spec.generator.kind
    generator = generators.get(kind)
    try:
        return _made(compiled, generator, index)
    except GeneratorSlip as slip:  # what the build would refuse to write
        raise BuildError(f"sample {index}: {slip}") from slip
    except SynthcError:
        raise
    except Exception as error:
        if generators.package(kind) is None:
            raise  # a built-in kind's failure is synthc's bug
        raise BuildError(
            f"sample {index}: generator {kind!r} ({generators.package(kind)}) failed: "
            f"{type(error).__name__}: {error}"
        ) from error


def _made(compiled: CompiledSpec, generator: Any, index: int) -> dict[str, Any] | pl.DataFrame:
    """Sample ``index`` of ``generator``, checked as a shard checks it (synthc.generator_output)."""
    import polars as pl

    spec = compiled.spec
    kind = spec.generator.kind
    if isinstance(generator, FileGenerator):
        layout = TarLayout.of_columns(index, 1, generator.columns(spec.generator))
        made = generator.generate(spec.generator, spec.seed, index, index + 1)
        for key, sample in checked_samples(made, layout, kind):
            return {"__key__": key, **sample}
        raise BuildError(f"{kind}: the generator made no sample {index}")
    if isinstance(generator, TableGenerator):
        keep = spec.output.columns
        related = bool(spec.generator.table_names())

        def row() -> pl.DataFrame:
            rows = table_rows(generator, spec.generator, spec.seed, index, index + 1, keep)
            frame = pl.DataFrame(rows)
            if not related:
                check_frame(frame, table_columns(kind, spec.generator, keep), kind)
            return frame

        # one row as plain Python takes about 0.15 s; starting Numba, about 0.5 s, compiling
        # its kernels about 5 s (a spec whose dataset-level facts need many draws, such as
        # standardised columns, runs compiled)
        cold = compile_notice(spec.generator.kind) is not None
        return plain_if_quick(row, _row_seconds(cold))
    raise TypeError(f"{spec.generator.kind}: a generator is a TableGenerator or a FileGenerator")


def _row_seconds(cold: bool) -> float:
    """How long one row may take as plain Python (PLAIN_ROW_SECONDS and the constants below)."""
    if cold:
        return PLAIN_ROW_COLD_SECONDS
    if PLAIN_ROW_SECONDS is not None:
        return PLAIN_ROW_SECONDS
    return numba_start.deadline(kernel_cache_dir(), PLAIN_ROW_DEFAULT_SECONDS, PLAIN_ROW_BOUNDS)


def row_json(frame: pl.DataFrame) -> str:
    """The first row as one line of JSON: numbers as numbers (floats exact), nulls as null,
    dates and times in ISO 8601, categories as strings; a float that is no finite number (a
    formula's overflow) as the string ``"Infinity"``, ``"-Infinity"`` or ``"NaN"``, which JSON
    has no number for (Python's ``float()`` and JavaScript's ``Number()`` read them back)."""
    row = {name: _json_number(value) for name, value in frame.row(0, named=True).items()}
    return json.dumps(row, default=_json_value, ensure_ascii=False, allow_nan=False)


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list):
        return [_json_number(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_number(item) for key, item in value.items()}
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    raise TypeError(f"{type(value).__name__} is not JSON")


def write_files(sample: dict[str, Any], out: Path, force: bool = False) -> list[Path]:
    """Write a file sample's files into ``out`` as ``<key>.<extension>`` (atomically, as the
    tar names them); return their paths in order. A file of one of those names is replaced
    only with ``force`` or when it holds the sample's bytes (:func:`check_free`), checked for
    every file before any is written."""
    key = str(sample["__key__"])
    files = []
    for ext, data in sample.items():
        if ext == "__key__":
            continue
        name = f"{key}.{ext}"
        if confined_name(name) is not None or "/" in name:
            raise BuildError(f"the generator named a file {name!r:.80}, not a plain file name")
        files.append((out / name, data))
    if not force:
        for path, data in files:
            check_free(path, data)
    return [write_file(path, data) for path, data in files]


def check_free(path: Path, data: bytes) -> None:
    """UsageError naming ``path`` if something other than a regular file holding ``data``
    (the sample's own bytes, from an earlier run) is there: a user's file is never replaced
    without ``--force``."""
    try:
        stat = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there (a file on the way is reported when the sample is written)
    except OSError as error:
        raise UsageError(f"{path}: cannot check it: {error.strerror or error}") from None
    if S_ISREG(stat.st_mode) and stat.st_size == len(data) and _holds(path, data):
        return
    raise UsageError(
        f"{path}: exists and is not this sample's file; give --force (force=True) to replace "
        "it, or -o another directory"
    )


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file at ``path`` holds exactly ``data`` (its size already equal)."""
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def write_file(path: Path, data: bytes) -> Path:
    """Write one file of a sample atomically; UsageError naming it if it cannot be."""
    try:
        write_atomic(path, data)
    except OSError as error:  # a directory this user cannot write, a file on the way, a full disk
        raise UsageError(f"{path}: cannot write the sample: {error.strerror or error}") from None
    return path


def check_target(out: Path) -> None:
    """Refuse to write into a synthc output directory (or below one): its files are the
    build's."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: is not a directory; give -o the directory to write into")
    place = enclosing_output(out, itself=True)
    if place is not None:
        raise UsageError(
            f"{out}: is inside the output directory {place}, whose files are the build's; "
            "choose a directory outside it with -o"
        )
