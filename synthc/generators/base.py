"""What a generator is: the contract between the compiler, the shard runner and a generator kind.

A generator kind provides

* a pydantic config model (``Config``), one member of the spec's discriminated ``generator`` union;
* ``columns(config)``: the schema, a list of :class:`Column` with a description of every field;
* ``facts(config, seed)``: dataset-level quantities fixed by ``(seed, config)`` that users need to
  interpret the data (a rotation matrix, cluster centres); JSON-serialisable; recorded in the
  manifest and recomputable anywhere;
* ``generate(config, seed, start, stop)``: the samples ``[start, stop)`` as a table
  (``dict`` of equal-length 1-D NumPy arrays, in schema order);
* ``formats``: the output formats it writes, the default first: ``("parquet",)`` for tables
  (``generate`` returns columns), ``("webdataset",)`` for files per sample (``generate`` returns
  :class:`Samples`, a stream of ``(key, {extension: bytes})`` made as the writer consumes it);
* ``gil_free``: True when ``generate`` spends its time in code that releases the GIL (Numba
  ``nogil`` kernels, NumPy), so a local build may run shards in threads of one process.

Sample ``i`` must be a pure function of ``(seed, config, i)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from synthc.inputs import Reader


@dataclass(frozen=True)
class Column:
    """One field of the output: name, storage dtype (NumPy name) and what it means."""

    name: str
    dtype: str
    description: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


class FileProblem(ValueError):
    """A problem with a file (or data set) a config names, at ``field`` within the generator."""

    def __init__(self, field: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.field = field


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

    def with_files(self, reader: Reader) -> GeneratorConfig:
        """This config with the files it names read in through ``reader`` (confined to the
        allowed roots, relative to the spec's directory: synthc.inputs), so their content, or
        its sha256, is part of the config and of every task key."""
        return self

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

    def size_problems(self, samples: int, shard_size: int) -> Iterable[tuple[Any, ...]]:
        """Problems that depend on the spec's ``samples`` and ``output.shard_size``: values
        that overflow over the whole sample range, and memory estimates over synthc.limits.
        Paths are from the spec's root (``("generator", ...)`` or ``("output", ...)``)."""
        return ()


Table = dict[str, np.ndarray]


Sample = tuple[str, dict[str, bytes]]


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


class Generator(Protocol):
    """A generator kind; see the module docstring."""

    kind: ClassVar[str]
    Config: ClassVar[type[GeneratorConfig]]
    gil_free: ClassVar[bool]
    formats: ClassVar[tuple[str, ...]]

    def columns(self, config: Any) -> list[Column]: ...

    def facts(self, config: Any, seed: int) -> dict[str, Any]: ...

    def generate(self, config: Any, seed: int, start: int, stop: int) -> Table: ...
