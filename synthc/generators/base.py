"""What a generator is: the one contract between a generator kind and the rest of synthc.

A generator kind is a subclass of :class:`TableGenerator` (rows written to Parquet) or of
:class:`FileGenerator` (files per sample written to WebDataset tars). It states, as class
attributes and methods, everything the compiler, planner, shard runner, writers, previews and
dataset card need; defaults cover what a generator does not use:

* ``kind`` and ``Config``: the spec's ``generator.kind`` and its pydantic config model (a
  :class:`GeneratorConfig`, or an annotated union of them), one member of the spec's
  ``generator`` union (synthc.generators: the registry);
* its base class says what it outputs (``isinstance(g, FileGenerator)`` is the one way to ask);
  ``formats``: the output formats it writes, the default first; ``preview``: how
  ``preview.png`` draws it (``"images"``, ``"points"`` or ``"table"``);
* ``gil_free``: True when ``generate`` spends its time in code that releases the GIL (Numba
  ``nogil`` kernels, NumPy), so a local build may run shards in threads of one process;
* ``continues``: True (the default) when samples past the spec's ``samples`` are well defined
  and new (more instances of the same classes, more lines, points or rows), so
  ``synthc.stream(fresh_epoch=e)`` may draw epoch ``e`` from the indices ``e * samples + i``;
  False for a kind whose indices enumerate a fixed set;
* ``libraries``: libraries beyond the core (numpy, numba and the writer's) whose version can
  change the bytes it makes; they are part of every task key;
* ``rng``: how it draws random numbers (text by key), the manifest's ``rng``; by default synthc's
  Philox streams for a built-in kind, and "not declared" for an installed one;
* ``resolve_files(config, reader)``: the config with the files it names read in (default: the
  config as it is), and ``file_field``, where a file problem without a field of its own points;
* ``columns(config)``: the schema, a list of :class:`Column` with a description of every field:
  for tables, the columns (each of a dtype synthc writes, synthc.outputs.parquet.TABLE_DTYPES);
  for files, one per file of a sample, named by its extension in the tar (``png``), its dtype
  free text for readers (``"image/png"``);
* ``facts(config, seed)``: dataset-level quantities fixed by ``(seed, config)`` that users need to
  interpret the data (a rotation matrix, cluster centres): a dict of JSON values (text keys,
  finite numbers; NumPy arrays and scalars are converted), recorded in the manifest and
  recomputable anywhere;
* ``extra_files(config, seed)``: files written at the top of the output beside the manifest
  (default: none): a dict of bytes under names without ``/`` that do not start with ``.``,
  neither a split's nor one of synthc's own files (``manifest.json``, ``spec.yaml``, ...);
* ``generate(config, seed, start, stop)``: the samples ``[start, stop)``: a :data:`Table` for table
  generators, :class:`Samples` (a stream with ``stats``) for file generators;
* ``sample_bytes(config)``: about how many bytes one sample takes in a shard, estimated from the
  config alone (no sample is made), from which synthc.compiler.shard_sizing chooses the default
  ``output.shard_size``: for tables 8 bytes per column and row (the index too); for files the
  kind's own figure, its files' sizes with the tar headers added (:func:`tar_sample_bytes`), or
  :data:`DEFAULT_FILE_SAMPLE_BYTES` for a kind that gives none;
* ``compile_ahead(config)``: optional; compiles (or loads) the Numba kernels a build of
  ``config`` calls last, for the argument types the build gives them (``Kernel.compile_for``).
  A build that must compile its kernels runs it in a second process (synthc.compile_ahead), so
  the two halves compile at once; the default does nothing.

Sample ``i`` must be a pure function of ``(seed, config, i)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import numpy as np
    import polars as pl

    from synthc.inputs import Reader


@dataclass(frozen=True)
class Column:
    """One field of the output: name, storage dtype (NumPy name) and what it means."""

    name: str
    dtype: str
    description: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


#: the model config of every generator config and of its nested parts: unknown keys are
#: errors, values are immutable, ``.inf`` and ``.nan`` are refused for every float field
PART_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ConfigPart(BaseModel):
    """A nested part of a generator config (strict types) with cross-field rules of its own."""

    model_config = ConfigDict(**PART_CONFIG, strict=True)

    def problems(self) -> Iterable[Any]:
        """Cross-field problems, paths relative to the part."""
        for rule in self.rules():
            yield from rule()

    def rules(self) -> list[Callable[[], Iterable[Any]]]:
        """The part's rules, each judged on its own (synthc.compiler.partial)."""
        return []


class GeneratorConfig(BaseModel):
    """Base of every generator's config model: unknown keys are errors, values are immutable,
    and no number may be infinite or NaN (a config's parts use :data:`PART_CONFIG`)."""

    model_config = PART_CONFIG

    kind: str

    def expected_samples(self) -> int | None:
        """The spec's ``samples`` this config implies, if it implies one."""
        return None

    def semantic_problems(self) -> Iterable[tuple[Any, ...]]:
        """Cross-field problems as ``(path relative to the generator, message)`` pairs, with an
        optional third item: ``"key"`` to point at the key of ``path`` rather than its value, or
        an ``int`` character offset into a one-line string value (a formula)."""
        return ()

    def semantic_rules(self) -> Iterable[Callable[[], Iterable[tuple[Any, ...]]]]:
        """The cross-field rules behind :meth:`semantic_problems`, each judged on its own: on a
        config with invalid fields (synthc.compiler.partial) a rule that reads one stays silent,
        and the others still run. Split a check out when later checks must not depend on it."""
        return (self.semantic_problems,)

    def table_names(self) -> list[str]:
        """The tables of a config with related tables, each after its parent (the root, whose
        rows are the spec's ``samples``, first); empty for a config of one table or of files."""
        return []

    def first_rows(self, seed: int, cuts: Sequence[int]) -> dict[str, list[int]]:
        """For a config with related tables: at each root row index of ``cuts`` (ascending),
        the first row of every table (children follow their parents)."""
        raise TypeError(f"{self.kind}: this config has no related tables")

    def size_problems(self, samples: int, shard_size: int) -> Iterable[tuple[Any, ...]]:
        """Problems that depend on the spec's ``samples`` and ``output.shard_size``: values
        that overflow over the whole sample range, and memory estimates over synthc.limits.
        Paths are from the spec's root (``("generator", ...)`` or ``("output", ...)``)."""
        return ()


#: one column of a table: a NumPy array, or a polars Series where values may be null
ColumnValues: TypeAlias = "np.ndarray | pl.Series"
#: a table generator's rows ``[start, stop)``: equal-length columns in schema order
Table = dict[str, ColumnValues]


Sample = tuple[str, dict[str, bytes]]

#: the name of the column of each row's global sample index, which every table shard leads with
INDEX_NAME = "index"
#: bytes of a value of one column in one row, as sample_bytes estimates a Parquet row: NumPy's
#: float64 / int64 (random floats barely compress; small integers and categories do, so the
#: estimate errs large and a shard comes out at most its target size)
TABLE_VALUE_BYTES = 8
#: a file sample's estimate when its kind gives none: a small image with its labels
DEFAULT_FILE_SAMPLE_BYTES = 64 << 10
#: a tar member's header, and the padding a member's data gets on average (to 512 bytes)
TAR_HEADER_BYTES = 512
TAR_PADDING_BYTES = 256


def tar_sample_bytes(files: Iterable[float]) -> float:
    """Bytes one sample takes in a tar shard, from the sizes of its files: each file is a
    member with a 512-byte header and its data padded to a multiple of 512."""
    return sum(TAR_HEADER_BYTES + size + TAR_PADDING_BYTES for size in files)


class Samples:
    """Files per sample, ``(key, {extension: bytes})``, made as they are iterated so a shard
    writer holds one sample (or one small batch) at a time, never the whole shard; iterable
    once. ``stats`` are counters the manifest sums over shards (such as samples re-drawn for a
    reason); the generator fills them as it goes, so they are complete when the iteration ends.
    """

    def __init__(self, items: Iterable[Sample] = (), stats: dict[str, int] | None = None) -> None:
        self._items = iter(items)
        self.stats: dict[str, int] = stats if stats is not None else {}

    def __iter__(self) -> Iterator[Sample]:
        return self._items


#: how a preview draws the first samples: a grid of images, scatter plots of the ``x``
#: coordinates, or one distribution plot per column
PreviewKind = Literal["images", "points", "table"]

ConfigT = TypeVar("ConfigT")


class Generator(ABC, Generic[ConfigT]):
    """A generator kind; see the module docstring. Subclass :class:`TableGenerator` or
    :class:`FileGenerator`, not this class."""

    kind: ClassVar[str]
    #: the config model: a GeneratorConfig subclass, or an annotated union of them
    Config: ClassVar[Any]
    formats: ClassVar[tuple[str, ...]]
    preview: ClassVar[PreviewKind]
    gil_free: ClassVar[bool] = False
    #: samples past the spec's ``samples`` are new and well defined (fresh stream epochs)
    continues: ClassVar[bool] = True
    libraries: ClassVar[tuple[str, ...]] = ()
    #: how the kind draws random numbers, as the manifest's ``rng`` records it; None: synthc's
    #: Philox streams (synthc.generators.rng) for a built-in kind, "not declared" for an
    #: installed one
    rng: ClassVar[dict[str, str] | None] = None
    #: the config field a file problem points at when it names no field of its own
    file_field: ClassVar[tuple[str | int, ...]] = ()

    def resolve_files(self, config: ConfigT, reader: Reader) -> ConfigT:
        """``config`` with the files it names read in through ``reader`` (confined to the
        allowed roots, relative to the spec's directory: synthc.inputs), so their content, or
        its sha256, is part of the config and of every task key. Raises FileProblem."""
        return config

    @abstractmethod
    def columns(self, config: ConfigT) -> list[Column]:
        """The fields of every sample, each with its storage type and meaning."""

    def facts(self, config: ConfigT, seed: int) -> dict[str, Any]:
        """Dataset-level quantities fixed by ``(seed, config)``, JSON-serialisable."""
        return {}

    def extra_files(self, config: ConfigT, seed: int) -> dict[str, bytes]:
        """Files (name -> bytes) written at the top of the output directory."""
        return {}

    @abstractmethod
    def generate(self, config: ConfigT, seed: int, start: int, stop: int) -> Table | Samples:
        """Samples ``[start, stop)``."""

    @abstractmethod
    def sample_bytes(self, config: ConfigT) -> float:
        """About how many bytes one sample takes in a shard (an estimate from the config, the
        same on every machine), for the default shard size (synthc.compiler.shard_sizing)."""

    def compile_ahead(self, config: ConfigT) -> None:
        """Compile the kernels a build of ``config`` calls last, for the argument types the
        build gives them (see the module docstring); by default nothing."""

    def compiles_ahead(self) -> bool:
        """Whether this kind has a :meth:`compile_ahead` of its own."""
        return type(self).compile_ahead is not Generator.compile_ahead


class TableGenerator(Generator[ConfigT]):
    """A generator of rows: ``generate`` returns a :data:`Table`, written to Parquet."""

    formats: ClassVar[tuple[str, ...]] = ("parquet",)
    preview: ClassVar[PreviewKind] = "table"

    @abstractmethod
    def generate(self, config: ConfigT, seed: int, start: int, stop: int) -> Table:
        """Rows ``[start, stop)`` as columns in schema order (without ``index``)."""

    def sample_bytes(self, config: ConfigT) -> float:
        """A row's bytes in Parquet: :data:`TABLE_VALUE_BYTES` per column, ``index`` included."""
        return TABLE_VALUE_BYTES * (len(self.columns(config)) + 1)

    def written_names(self, config: ConfigT) -> list[str]:
        """The names of the columns a shard of ``config`` may hold, in order: ``index``, then
        the generator's (what ``output.columns`` chooses from)."""
        return [INDEX_NAME, *(column.name for column in self.columns(config))]

    def table_columns(self, config: ConfigT, table: str) -> list[Column]:
        """With related tables (``config.table_names()``): the columns of ``table``."""
        raise TypeError(f"{self.kind}: this config has no related tables")

    def generate_part(
        self, config: ConfigT, seed: int, table: str, rows: Mapping[str, Sequence[int]]
    ) -> Table:
        """With related tables: the rows ``rows[table]`` of ``table`` (without ``index``);
        ``rows`` holds the row range of every table for the same root rows."""
        raise TypeError(f"{self.kind}: this config has no related tables")


class FileGenerator(Generator[ConfigT]):
    """A generator of files per sample: ``generate`` returns :class:`Samples`, written to
    WebDataset tars (one ``<key>.<extension>`` member per file)."""

    formats: ClassVar[tuple[str, ...]] = ("webdataset",)
    preview: ClassVar[PreviewKind] = "images"

    @abstractmethod
    def generate(self, config: ConfigT, seed: int, start: int, stop: int) -> Samples:
        """Samples ``[start, stop)`` as a stream of ``(key, {extension: bytes})``."""

    def sample_bytes(self, config: ConfigT) -> float:
        """A sample's bytes in a tar; a kind that knows its files' sizes says so."""
        return float(DEFAULT_FILE_SAMPLE_BYTES)
