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

import functools
import hashlib
import math

import numpy as np

from synthc.generators.jit import Int, Kernel, ngjit

#: Philox4x32's multipliers and Weyl key increments (Salmon et al.)
_PHILOX_INTS = (0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85)
_M0, _M1, _W0, _W1 = (np.uint64(value) for value in _PHILOX_INTS)
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


_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


def _philox_words(c0: int, c1: int, c2: int, c3: int, k0: int, k1: int) -> tuple[int, ...]:
    """:func:`philox4x32` in Python integers: the four output words as ints."""
    x0, x1, x2, x3 = c0 & _M32, c1 & _M32, c2 & _M32, c3 & _M32
    key0, key1 = k0 & _M32, k1 & _M32
    m0, m1, w0, w1 = _PHILOX_INTS
    for r in range(10):
        if r > 0:
            key0 = (key0 + w0) & _M32
            key1 = (key1 + w1) & _M32
        p0 = m0 * x0
        p1 = m1 * x2
        x0, x1, x2, x3 = (p1 >> 32) ^ x1 ^ key0, p1 & _M32, (p0 >> 32) ^ x3 ^ key1, p0 & _M32
    return x0, x1, x2, x3


def _philox4x32_plain(
    c0: Int, c1: Int, c2: Int, c3: Int, k0: Int, k1: Int
) -> tuple[np.uint32, np.uint32, np.uint32, np.uint32]:
    """:func:`philox4x32` in Python integers, the same words: what runs when the kernels run as
    plain Python (a tiny shard, one sample, NUMBA_DISABLE_JIT), five times faster than the
    kernel's NumPy scalars there."""
    x0, x1, x2, x3 = _philox_words(int(c0), int(c1), int(c2), int(c3), int(k0), int(k1))
    return np.uint32(x0), np.uint32(x1), np.uint32(x2), np.uint32(x3)


@functools.partial(Kernel, plain=_philox4x32_plain)
def philox4x32(
    c0: Int, c1: Int, c2: Int, c3: Int, k0: Int, k1: Int
) -> tuple[np.uint32, np.uint32, np.uint32, np.uint32]:
    """Philox4x32 with 10 rounds: four uint32 counter words and two key words in, four out."""
    x0 = np.uint32(c0)
    x1 = np.uint32(c1)
    x2 = np.uint32(c2)
    x3 = np.uint32(c3)
    key0 = np.uint32(k0)
    key1 = np.uint32(k1)
    for r in range(10):
        if r > 0:
            # Added in 64 bits and masked: the same 32-bit wrap compiled or not (a uint32 sum
            # overflows with a warning in plain NumPy, as under NUMBA_DISABLE_JIT=1).
            key0 = np.uint32((np.uint64(key0) + _W0) & _MASK32)
            key1 = np.uint32((np.uint64(key1) + _W1) & _MASK32)
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


def _uniform2_plain(index: Int, block: Int, stream: Int, k0: Int, k1: Int) -> tuple[float, float]:
    """:func:`uniform2` in Python integers and floats, the same bits (plain-Python kernels)."""
    i = int(index) & _M64
    x0, x1, x2, x3 = _philox_words(i & _M32, i >> 32, int(block), int(stream), int(k0), int(k1))
    a = (x0 >> 5) * 67108864 + (x1 >> 6)
    b = (x2 >> 5) * 67108864 + (x3 >> 6)
    return float(a) * _INV_2_53, float(b) * _INV_2_53


@functools.partial(Kernel, plain=_uniform2_plain)
def uniform2(index: Int, block: Int, stream: Int, k0: Int, k1: Int) -> tuple[float, float]:
    """Two independent doubles in [0, 1) with 53 random bits each, for one counter value."""
    i = np.uint64(index)
    x0, x1, x2, x3 = philox4x32(
        np.uint32(i & _MASK32), np.uint32(i >> _SHIFT32), np.int64(block), np.int64(stream), k0, k1
    )
    a = (np.uint64(x0) >> np.uint64(5)) * np.uint64(67108864) + (np.uint64(x1) >> np.uint64(6))
    b = (np.uint64(x2) >> np.uint64(5)) * np.uint64(67108864) + (np.uint64(x3) >> np.uint64(6))
    return float(a) * _INV_2_53, float(b) * _INV_2_53


@ngjit
def normal2(index: Int, block: Int, stream: Int, k0: Int, k1: Int) -> tuple[float, float]:
    """Two independent standard normal draws for one (index, block, stream).

    Marsaglia's polar method: no sine or cosine, so about twice as fast as Box-Muller here. A
    rejected attempt moves to the next counter value by setting bits 8 and up of the stream word
    (stream ids stay below 256), so every sample's draws remain a pure function of its counter.
    """
    attempt = 0
    while True:
        a, b = uniform2(index, np.int64(block), np.int64(stream + (attempt << 8)), k0, k1)
        v1 = 2.0 * a - 1.0
        v2 = 2.0 * b - 1.0
        s = v1 * v1 + v2 * v2
        if 0.0 < s < 1.0:
            factor = math.sqrt(-2.0 * math.log(s) / s)
            return v1 * factor, v2 * factor
        attempt += 1


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Marsaglia & Tsang's 128-layer tables for the normal ziggurat (J. Stat. Softw. 5(8), 2000)."""
    m1 = 2147483648.0
    dn = tn = 3.442619855899
    vn = 9.91256303526217e-3
    kn = np.zeros(128, dtype=np.int64)
    wn = np.zeros(128, dtype=np.float64)
    fn = np.zeros(128, dtype=np.float64)
    q = vn / math.exp(-0.5 * dn * dn)
    kn[0] = int((dn / q) * m1)
    wn[0] = q / m1
    wn[127] = dn / m1
    fn[0] = 1.0
    fn[127] = math.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        kn[i + 1] = int((dn / tn) * m1)
        tn = dn
        fn[i] = math.exp(-0.5 * dn * dn)
        wn[i] = dn / m1
    return kn, wn, fn


_ZIG_K, _ZIG_W, _ZIG_F = _ziggurat_tables()
_ZIG_R = 3.442619855899


@ngjit
def _ziggurat(
    word: Int, layer: Int, index: Int, block: Int, stream: Int, k0: Int, k1: Int
) -> float:
    """One standard normal from a 32-bit word and a 7-bit layer."""
    hz = np.int64(np.int32(np.uint32(word)))
    if abs(hz) < _ZIG_K[layer]:
        return hz * _ZIG_W[layer]
    return _ziggurat_slow(hz, layer, index, block, stream, k0, k1)


@ngjit
def _ziggurat_slow(
    hz: Int, iz: Int, index: Int, block: Int, stream: Int, k0: Int, k1: Int
) -> float:
    """The ziggurat's rare paths (about 1.2% of draws). Extra uniforms come from counters whose
    stream word has bits 8 and up set, so they stay a pure function of the sample."""
    extra = 1
    while True:
        x = hz * _ZIG_W[iz]
        if iz == 0:  # the base strip's tail: Marsaglia's exact tail method
            while True:
                a, b = uniform2(index, block, stream + (extra << 8), k0, k1)
                extra += 1
                x = -math.log(1.0 - a) / _ZIG_R
                y = -math.log(1.0 - b)
                if y + y >= x * x:
                    break
            return _ZIG_R + x if hz > 0 else -_ZIG_R - x
        a, b = uniform2(index, block, stream + (extra << 8), k0, k1)
        extra += 1
        if _ZIG_F[iz] + a * (_ZIG_F[iz - 1] - _ZIG_F[iz]) < math.exp(-0.5 * x * x):
            return x
        # Rejected: a fresh word and layer from a fresh counter value.
        a, b = uniform2(index, block, stream + (extra << 8), k0, k1)
        extra += 1
        hz = np.int64(np.int32(np.uint32(np.uint64(b * 4294967296.0))))
        iz = np.int64(int(a * 128.0) & 127)
        if abs(hz) < _ZIG_K[iz]:
            return hz * _ZIG_W[iz]


#: the ziggurat's tables as Python numbers, for :func:`_normal3_plain`
_ZIG_K_LIST = [int(k) for k in _ZIG_K]
_ZIG_W_LIST = [float(w) for w in _ZIG_W]


def _ziggurat_plain(
    word: int, layer: int, index: Int, block: int, stream: int, k0: Int, k1: Int
) -> float:
    """:func:`_ziggurat` in Python numbers, the same bits; the rare paths as the kernel's."""
    hz = word - 0x100000000 if word & 0x80000000 else word
    if abs(hz) < _ZIG_K_LIST[layer]:
        return np.float64(hz * _ZIG_W_LIST[layer])  # as the kernel's NumPy product
    return _ziggurat_slow(hz, layer, index, block, stream, k0, k1)


def _normal3_plain(
    index: Int, block: Int, stream: Int, k0: Int, k1: Int
) -> tuple[float, float, float]:
    """:func:`normal3` in Python integers, the same bits (plain-Python kernels)."""
    i = int(index) & _M64
    block, stream = int(block), int(stream)
    x0, x1, x2, x3 = _philox_words(i & _M32, i >> 32, block, stream, int(k0), int(k1))
    z0 = _ziggurat_plain(x0, x3 & 127, index, block, stream, k0, k1)
    z1 = _ziggurat_plain(x1, (x3 >> 7) & 127, index, block, stream + (1 << 20), k0, k1)
    z2 = _ziggurat_plain(x2, (x3 >> 14) & 127, index, block, stream + (2 << 20), k0, k1)
    return z0, z1, z2


@functools.partial(Kernel, plain=_normal3_plain)
def normal3(index: Int, block: Int, stream: Int, k0: Int, k1: Int) -> tuple[float, float, float]:
    """Three independent standard normals from one Philox call (ziggurat, 128 layers).

    Three output words give the values and the fourth gives each one's layer, so value bits and
    layer bits never overlap (the flaw Doornik (2005) found in the original ziggurat).
    """
    i = np.uint64(index)
    block = np.int64(block)
    stream = np.int64(stream)
    x0, x1, x2, x3 = philox4x32(
        np.uint32(i & _MASK32), np.uint32(i >> _SHIFT32), block, stream, k0, k1
    )
    layers = np.uint32(x3)
    z0 = _ziggurat(x0, np.int64(layers & np.uint32(127)), index, block, stream, k0, k1)
    z1 = _ziggurat(
        x1,
        np.int64((layers >> np.uint32(7)) & np.uint32(127)),
        index,
        block,
        stream + (1 << 20),
        k0,
        k1,
    )
    z2 = _ziggurat(
        x2,
        np.int64((layers >> np.uint32(14)) & np.uint32(127)),
        index,
        block,
        stream + (2 << 20),
        k0,
        k1,
    )
    return z0, z1, z2


def _below_plain(index: Int, block: Int, stream: Int, k0: Int, k1: Int, n: Int) -> int:
    """:func:`below` on :func:`_uniform2_plain`, the same integer (plain-Python kernels)."""
    u, _ = _uniform2_plain(index, block, stream, k0, k1)
    k = int(u * n)
    return k if k < n else n - 1


@functools.partial(Kernel, plain=_below_plain)
def below(index: Int, block: Int, stream: Int, k0: Int, k1: Int, n: Int) -> int:
    """A uniform integer in [0, n) (n >= 1), from one counter value."""
    u, _ = uniform2(index, np.int64(block), np.int64(stream), k0, k1)
    k = int(u * n)
    return k if k < n else n - 1
