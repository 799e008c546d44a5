"""The counter-based RNG: Philox known answers, and the distributions built on it."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from synthc.generators import rng
from synthc.generators.rng import below, derive_key, normal2, normal3, philox4x32, uniform2

# CI also runs these with NUMBA_DISABLE_JIT=1 (pytest -m kernel): the kernels as plain Python.
pytestmark = pytest.mark.kernel

KNOWN_ANSWERS = [  # Random123's kat_vectors for philox4x32 with 10 rounds
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize(("counter", "key", "expected"), KNOWN_ANSWERS)
def test_philox_known_answers(counter, key, expected):
    assert tuple(int(v) for v in philox4x32(*counter, *key)) == expected


@pytest.mark.parametrize(("counter", "key", "expected"), KNOWN_ANSWERS)
def test_philox_in_python_integers_gives_the_same_words(counter, key, expected):
    """The plain version plain-Python kernels run, against the answers and the kernel's own
    Python on random words (NumPy scalars, uint64 inputs as the kernels pass them)."""
    plain = rng._philox4x32_plain
    assert tuple(int(v) for v in plain(*counter, *key)) == expected
    words = np.random.default_rng(5).integers(0, 2**32, size=(300, 6), dtype=np.uint64)
    for row in words:
        got = plain(*row)
        assert all(type(v) is np.uint32 for v in got)
        assert got == philox4x32.py_func(*row)


PURE_PYTHON_DRAWS = """
import sys
import numpy as np
from pydantic import TypeAdapter
from synthc.generators.manifold import GENERATOR
adapter = TypeAdapter(GENERATOR.Config)
for shape in ("swiss_roll", "sphere", "blobs"):
    config = adapter.validate_python({"kind": "manifold", "shape": shape, "noise": 0.1})
    table = GENERATOR.generate(config, 3, 4_294_967_000, 4_294_967_600)
    sys.stdout.write(np.stack([table[name] for name in sorted(table)]).tobytes().hex() + "\\n")
"""


def test_pure_python_kernels_draw_the_same_bits_as_compiled_ones():
    """Without JIT (NUMBA_DISABLE_JIT=1) Philox wraps at 32 bits exactly as compiled code does,
    so the CI run of the kernels as Python checks the same numbers the builds write; the indices
    straddle 2**32 so the counter's high word is exercised too."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    pure = subprocess.run(
        [sys.executable, "-W", "error", "-c", PURE_PYTHON_DRAWS],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    compiled = subprocess.run(
        [sys.executable, "-W", "error", "-c", PURE_PYTHON_DRAWS],
        env={k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_JIT"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(pure) == 3 and pure == compiled


@numba.njit
def _draw(kind, n, k0, k1):
    out = np.empty(3 * n)
    for i in range(n):
        if kind == 0:
            out[2 * i], out[2 * i + 1] = uniform2(i, 0, 0, k0, k1)
        elif kind == 1:
            out[2 * i], out[2 * i + 1] = normal2(i, 0, 0, k0, k1)
        elif kind == 2:
            out[3 * i], out[3 * i + 1], out[3 * i + 2] = normal3(i, 0, 0, k0, k1)
        else:
            out[i] = below(i, 0, 0, k0, k1, 7)
    return out[: (3 if kind == 2 else 1 if kind == 3 else 2) * n]


def _ks_normal(x: np.ndarray) -> float:
    x = np.sort(x)
    cdf = 0.5 * (1 + np.array([math.erf(v / math.sqrt(2)) for v in x]))
    n = len(x)
    return float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))


def test_uniforms_in_unit_interval_with_right_moments():
    u = _draw(0, 100_000, 1, 2)
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.003 and abs(u.var() - 1 / 12) < 0.001
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


@pytest.mark.parametrize("kind", [1, 2], ids=["polar", "ziggurat"])
def test_normals_are_standard_normal(kind):
    z = _draw(kind, 40_000, 3, 4)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    # KS critical value at alpha = 0.001 for n = 80k-120k is about 0.0069.
    assert _ks_normal(z) < 0.0069
    assert abs(np.mean(np.abs(z) > 3) - 0.0027) < 0.0008  # the tails are there too


def test_below_is_uniform_over_its_range():
    k = _draw(3, 70_000, 5, 6).astype(int)
    counts = np.bincount(k, minlength=7)
    assert k.min() == 0 and k.max() == 6
    chi2 = float(((counts - 10_000) ** 2 / 10_000).sum())
    assert chi2 < 22.5  # chi-square, 6 degrees of freedom, alpha = 0.001


def test_keys_depend_on_seed_and_stream_and_are_stable():
    keys = [derive_key(1, "a"), derive_key(2, "a"), derive_key(1, "b"), derive_key(2, "b")]
    assert len(set(keys)) == len(keys)  # every pair differs, not just neighbours
    assert derive_key(7, "manifold") == derive_key(7, "manifold")
    # A regression pin: changing the derivation changes every dataset, so it must be deliberate.
    assert derive_key(0, "manifold") == (2881064124, 874014955)
    with pytest.raises(ValueError):
        derive_key(-1, "x")


def test_stale_kernel_caches_of_other_sources_are_pruned(tmp_path):
    import os
    import time

    from synthc.generators import jit

    current = tmp_path / "0123456789abcdef"
    stale = tmp_path / "fedcba9876543210"
    recent = tmp_path / "aaaaaaaaaaaaaaaa"
    other = tmp_path / "not-a-cache"
    for directory in (stale, recent, other):
        directory.mkdir()
    old = time.time() - jit.STALE_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    jit._prune(tmp_path, current)
    assert current.is_dir() and recent.is_dir() and other.is_dir()
    assert not stale.exists()


@numba.njit
def _compiled_draws(kind, rows):
    out = np.empty((rows.shape[0], 3))
    for r in range(rows.shape[0]):
        index, block, stream, k0, k1 = rows[r, 0], rows[r, 1], rows[r, 2], rows[r, 3], rows[r, 4]
        if kind == 0:
            out[r, 0], out[r, 1] = uniform2(index, block, stream, k0, k1)
        elif kind == 1:
            out[r, 0], out[r, 1] = normal2(index, block, stream, k0, k1)
        elif kind == 2:
            out[r, 0], out[r, 1], out[r, 2] = normal3(index, block, stream, k0, k1)
        else:
            out[r, 0] = below(index, block, stream, k0, k1, 1 + (index % 1000))
    return out


@pytest.mark.parametrize(
    ("kind", "plain"),
    [
        (0, rng._uniform2_plain),
        (2, rng._normal3_plain),
        (3, lambda i, b, s, k0, k1: rng._below_plain(i, b, s, k0, k1, 1 + (i % 1000))),
    ],
    ids=["uniform2", "normal3", "below"],
)
def test_python_number_versions_draw_the_compiled_bits(kind, plain):
    """What tiny builds run instead of Numba (jit.plain_python) gives every bit the compiled
    kernels give: indices straddling 2**32, blocks and streams as the generators use them, and
    enough normal3 draws that the ziggurat's rare paths (its tail included) are taken."""
    gen = np.random.default_rng(11)
    n = 6_000
    rows = np.empty((n, 5), dtype=np.int64)
    rows[:, 0] = gen.integers(2**32 - n, 2**32 + n, size=n)
    rows[: n // 2, 0] = np.arange(n // 2)
    rows[:, 1] = gen.integers(0, 40, size=n)
    rows[:, 2] = gen.integers(0, 16, size=n)
    rows[:, 3:] = gen.integers(0, 2**32, size=(n, 2))
    compiled = _compiled_draws(kind, rows)
    width = {0: 2, 1: 2, 2: 3, 3: 1}[kind]
    got = np.array(
        [np.atleast_1d(plain(*(int(v) for v in row)))[:width] for row in rows], dtype=np.float64
    )
    assert np.array_equal(got.view(np.uint64), compiled[:, :width].view(np.uint64))
    if kind == 2:  # the rare paths were exercised: values past the base strip's edge
        assert np.sum(np.abs(got) > rng._ZIG_R) > 0
