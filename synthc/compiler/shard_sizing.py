"""Samples per shard: ``output.shard_size`` when the spec gives it, else a default per split.

In: a validated :class:`Spec` (or its parts). Out: samples per shard for each split. The default
is a pure function of the spec (the split's sample count and the generator's estimate of a
sample's bytes, ``Generator.sample_bytes``), so the same spec plans the same shards on every
machine, whatever its CPU count. The rule (docs/outputs.md):

1. a shard holds at most :data:`TARGET_SHARD_BYTES` (WebDataset advises shards of 100 MB to
   1 GB): ``by_bytes = floor(TARGET_SHARD_BYTES / sample_bytes)``;
2. a split is cut into at least :data:`WORKERS` shards, so each of that many DataLoader workers
   (or ranks) reads one: ``by_workers = ceil(samples / WORKERS)``;
3. but a shard holds at least :data:`MIN_SHARD_BYTES` of samples, so a small split is not
   shredded into tiny shards: ``floor = ceil(MIN_SHARD_BYTES / sample_bytes)``;
4. ``size = min(by_bytes, max(by_workers, floor))``, at least 1; then the split's
   ``shards = ceil(samples / size)`` are evened out, ``size = ceil(samples / shards)``, so no
   split ends in a stub shard (an evened shard may hold a little less than the floor).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from synthc import generators
from synthc.compiler.models import Spec
from synthc.compiler.splits import split_counts
from synthc.generators.base import TableGenerator

MiB = 1 << 20
#: the largest shard the default makes (a sample larger than this is one shard on its own)
TARGET_SHARD_BYTES = 256 * MiB
#: the smallest shard the default makes out of a split that has enough samples
MIN_SHARD_BYTES = 8 * MiB
#: shards a split big enough gets at least: a typical DataLoader's worker count
WORKERS = 8


def default_shard_size(samples: int, sample_bytes: float) -> int:
    """Samples per shard for a split of ``samples`` samples of about ``sample_bytes`` each."""
    per_sample = max(float(sample_bytes), 1.0)
    by_bytes = max(1, math.floor(TARGET_SHARD_BYTES / per_sample))
    by_workers = -(-samples // WORKERS)
    floor = math.ceil(MIN_SHARD_BYTES / per_sample)
    size = max(1, min(by_bytes, max(by_workers, floor)))
    shards = max(1, -(-samples // size))
    return max(1, -(-samples // shards))


def sample_bytes(config: Any, columns: Collection[str] | None = None) -> float:
    """The generator's estimate of one sample's bytes in a shard, for ``config``; for a table
    that keeps only ``columns`` (``output.columns``), that share of a whole row's."""
    generator = generators.get(config.kind)
    whole = float(generator.sample_bytes(config))
    if columns is None or not isinstance(generator, TableGenerator) or config.table_names():
        return whole
    written = set(generator.written_names(config))
    kept = len(written.intersection(columns))
    return whole * max(kept, 1) / len(written)


def split_shard_sizes(
    splits: Mapping[str, int | float],
    samples: int,
    shard_size: int | None,
    config: Any,
    columns: Collection[str] | None = None,
) -> dict[str, int]:
    """Samples per shard of each split, in spec order: ``shard_size`` when given (the generator
    config is then not read), else :func:`default_shard_size` from ``config``'s estimate (of
    the ``columns`` kept, when given)."""
    counts = split_counts(splits, samples)
    if shard_size is not None:
        return {name: shard_size for name in counts}
    per_sample = sample_bytes(config, columns)
    return {name: default_shard_size(count, per_sample) for name, count in counts.items()}


def shard_sizes(spec: Spec) -> dict[str, int]:
    """Samples per shard of each split of a validated spec, in spec order."""
    output = spec.output
    return split_shard_sizes(
        spec.splits, spec.sample_count, output.shard_size, spec.generator, output.columns
    )


def largest_shard_size(spec: Spec) -> int:
    """The most samples any shard of ``spec`` holds (what a worker's memory must fit)."""
    return max(shard_sizes(spec).values())
