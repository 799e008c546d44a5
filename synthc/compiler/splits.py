"""Split assignment: each split takes a consecutive range of global sample indices.

Splits are laid out in the order the spec lists them: with ``{train: 0.8, val: 0.1, test: 0.1}``
and 1,000 samples, train is ``[0, 800)``, val ``[800, 900)`` and test ``[900, 1000)``. Because
every sample is an independent pure function of its index, consecutive ranges are as random as a
shuffle, and a split's content never depends on shard size or worker count.

Fractions become counts by the largest-remainder method: each split gets ``floor(f * samples)``,
and the samples left over go one each to the splits with the largest fractional parts (earlier
splits first on ties), so counts always sum to ``samples``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def split_counts(splits: Mapping[str, int | float], samples: int) -> dict[str, int]:
    """Sample count per split, in spec order; integer counts are taken as given."""
    names = list(splits)
    if all(isinstance(v, int) for v in splits.values()):
        return {name: int(splits[name]) for name in names}
    exact = [float(splits[name]) * samples for name in names]
    counts = [math.floor(x) for x in exact]
    leftover = samples - sum(counts)
    by_remainder = sorted(range(len(names)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[:leftover]:
        counts[i] += 1
    return dict(zip(names, counts, strict=True))


def split_ranges(splits: Mapping[str, int | float], samples: int) -> dict[str, tuple[int, int]]:
    """``[start, stop)`` of global sample indices per split, in spec order."""
    ranges: dict[str, tuple[int, int]] = {}
    start = 0
    for name, count in split_counts(splits, samples).items():
        ranges[name] = (start, start + count)
        start += count
    return ranges
