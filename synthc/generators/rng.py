"""Counter-based random numbers: Philox4x32-10, usable inside Numba kernels.

Every random number synthc draws is a pure function of a 64-bit key (derived from the spec's
seed and a stream name) and a 128-bit counter laid out as ``(index_lo, index_hi, block, stream)``:
``index`` is the global sample index, ``block`` numbers the successive draws of that sample and
``stream`` separates unrelated uses (points, noise, labels, ...). Nothing depends on shard size,
worker count or the order in which samples are generated.

Philox4x32-10 is the counter-based generator of Salmon et al., "Parallel random numbers: as easy
as 1, 2, 3" (SC 2011); the kernel is checked against the Random123 known-answer vectors.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from synthc.generators.jit import ngjit

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint32(0x9E3779B9)
_W1 = np.uint32(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_INV_2_53 = 1.0 / 9007199254740992.0


def derive_key(seed: int, stream: str) -> tuple[int, int]:
    """Return the 2 x 32-bit Philox key for ``(seed, stream)``.

    The stream name lets independent parts of a generator (for example a dataset-level rotation
    matrix and the per-sample points) draw from unrelated sequences under one user seed.
    """
    if seed < 0:
        raise ValueError("seed must be >= 0")
    digest = hashlib.blake2b(f"synthc-philox/1:{seed}:{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


@ngjit
def philox4x32(c0, c1, c2, c3, k0, k1):  # noqa: ANN001, ANN201 - Numba kernel
    """Philox4x32 with 10 rounds: four uint32 counter words and two key words in, four out."""
    x0 = np.uint32(c0)
    x1 = np.uint32(c1)
    x2 = np.uint32(c2)
    x3 = np.uint32(c3)
    key0 = np.uint32(k0)
    key1 = np.uint32(k1)
    for r in range(10):
        if r > 0:
            key0 = np.uint32(key0 + _W0)
            key1 = np.uint32(key1 + _W1)
        p0 = _M0 * np.uint64(x0)
        p1 = _M1 * np.uint64(x2)
        hi0 = np.uint32(p0 >> _SHIFT32)
        lo0 = np.uint32(p0 & _MASK32)
        hi1 = np.uint32(p1 >> _SHIFT32)
        lo1 = np.uint32(p1 & _MASK32)
        x0 = np.uint32(hi1 ^ x1 ^ key0)
        x1 = lo1
        x2 = np.uint32(hi0 ^ x3 ^ key1)
        x3 = lo0
    return x0, x1, x2, x3


@ngjit
def uniform2(index, block, stream, k0, k1):  # noqa: ANN001, ANN201 - Numba kernel
    """Two independent doubles in [0, 1) with 53 random bits each, for one counter value."""
    i = np.uint64(index)
    x0, x1, x2, x3 = philox4x32(
        np.uint32(i & _MASK32), np.uint32(i >> _SHIFT32), block, stream, k0, k1
    )
    a = (np.uint64(x0) >> np.uint64(5)) * np.uint64(67108864) + (np.uint64(x1) >> np.uint64(6))
    b = (np.uint64(x2) >> np.uint64(5)) * np.uint64(67108864) + (np.uint64(x3) >> np.uint64(6))
    return float(a) * _INV_2_53, float(b) * _INV_2_53


@ngjit
def normal2(index, block, stream, k0, k1):  # noqa: ANN001, ANN201 - Numba kernel
    """Two independent standard normal draws for one (index, block, stream).

    Marsaglia's polar method: no sine or cosine, so about twice as fast as Box-Muller here. A
    rejected attempt moves to the next counter value by setting bits 8 and up of the stream word
    (stream ids stay below 256), so every sample's draws remain a pure function of its counter.
    """
    attempt = 0
    while True:
        a, b = uniform2(index, block, stream + (attempt << 8), k0, k1)
        v1 = 2.0 * a - 1.0
        v2 = 2.0 * b - 1.0
        s = v1 * v1 + v2 * v2
        if 0.0 < s < 1.0:
            factor = math.sqrt(-2.0 * math.log(s) / s)
            return v1 * factor, v2 * factor
        attempt += 1


@ngjit
def below(index, block, stream, k0, k1, n):  # noqa: ANN001, ANN201 - Numba kernel
    """A uniform integer in [0, n) (n >= 1), from one counter value."""
    u, _ = uniform2(index, block, stream, k0, k1)
    k = int(u * n)
    return k if k < n else n - 1
