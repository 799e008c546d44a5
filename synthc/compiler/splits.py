"""Split assignment: each split takes a consecutive range of global sample indices.

Splits are laid out in the order the spec lists them: with ``{train: 0.8, val: 0.1, test: 0.1}``
and 1,000 samples, train is ``[0, 800)``, val ``[800, 900)`` and test ``[900, 1000)``. Because
every sample is an independent pure function of its index, consecutive ranges are as random as a
shuffle, and a split's content never depends on shard size or worker count.

Fractions become counts by the largest-remainder method: each split gets ``floor(f * samples)``,
and the samples left over go one each to the splits with the largest fractional parts (earlier
splits first on ties), so counts always sum to ``samples``. Too few samples can leave a split
with a positive fraction empty; :func:`empty_splits_note` is the warning the commands print
(an empty split builds and opens, so it is no error).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from synthc import limits
from synthc.errors import counted


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


#: how far below the count that surely gives a split a sample :func:`empty_splits` looks for
#: smaller counts whose leftover gives it one
_SEARCH = 10_000


def empty_splits(splits: Mapping[str, int | float], samples: int) -> dict[str, int]:
    """The splits with a positive fraction that ``samples`` leaves without a sample, each with
    a sample count from which it always has at least one: the least, unless that lies more than
    _SEARCH below the count whose floor alone gives one (a split given 0, as a count or a
    fraction, is empty on purpose and not listed)."""
    counts = split_counts(splits, samples)
    return {
        name: _first_count(splits, name, samples)
        for name, count in counts.items()
        if count == 0 and isinstance(splits[name], float) and splits[name] > 0
    }


def _first_count(splits: Mapping[str, int | float], name: str, samples: int) -> int:
    """The least count above ``samples`` from which split ``name`` always gets a sample: from
    ``ceil(1 / fraction)`` its floor alone gives one; below that only a leftover sample can,
    which largest remainders give and take back as the count grows."""
    sure = max(samples + 1, math.ceil(1 / float(splits[name])))
    if sure > limits.MAX_SAMPLES:
        return sure  # no plan reaches it: not worth searching
    while split_counts(splits, sure)[name] == 0:  # float rounding of fraction * count
        sure += 1
    first = sure
    while first - 1 > samples and sure - first < _SEARCH:
        if split_counts(splits, first - 1)[name] == 0:
            break
        first -= 1
    return first


def empty_splits_note(splits: Mapping[str, int | float], samples: int) -> str | None:
    """One line naming the splits ``samples`` leaves empty and the sample count that gives
    each one a sample, or None when every split with a positive fraction has one."""
    empty = empty_splits(splits, samples)
    if not empty:
        return None
    names = list(empty)
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if len(names) == 1:
        fix = f"it gets a sample from samples: {_count(empty[names[0]])}"
    else:
        fix = "a sample each from samples: " + ", ".join(
            f"{_count(count)} for {name}" for name, count in empty.items()
        )
    return f"splits: {counted(samples, 'sample', grouped=True)} leave {listed} empty ({fix})"


def _count(count: int) -> str:
    if count > limits.MAX_SAMPLES:  # a fraction so small that no plan gives it a sample
        return f"{count:.3g}, above the limit of {limits.MAX_SAMPLES:,}"
    return f"{count:,} on"
