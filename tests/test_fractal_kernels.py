"""The fractal kernels against references: SplitMix64 against Python integers, the chaos game
against a plain-Python one, and small renders against known digests, compiled or not.

CI also runs these with NUMBA_DISABLE_JIT=1 (pytest -m kernel): the kernels as plain Python must
give the same answers, so the 64-bit arithmetic has to wrap there exactly as compiled code does.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from synthc.generators.fractal import kernels
from synthc.generators.jit import add64, mul64

pytestmark = pytest.mark.kernel

MASK64 = (1 << 64) - 1
SIERPINSKI = np.array(
    [
        [0.5, 0.0, 0.0, 0.5, 0.0, 0.0],
        [0.5, 0.0, 0.0, 0.5, 0.5, 0.0],
        [0.5, 0.0, 0.0, 0.5, 0.25, 0.5],
    ]
)
#: five maps: more than the four the binary loop keeps in registers
PENTAGON = np.array(
    [
        [
            0.38,
            0.0,
            0.0,
            0.38,
            0.62 * math.cos(2 * math.pi * q / 5),
            0.62 * math.sin(2 * math.pi * q / 5),
        ]
        for q in range(5)
    ]
)


def splitmix64(state: int) -> tuple[int, int]:
    """SplitMix64 (Steele, Lea and Flood, 2014) in Python integers: (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def test_splitmix64_reference_gives_the_published_sequence():
    state, out = 1234567, []
    for _ in range(3):
        state, z = splitmix64(state)
        out.append(z)
    assert out == [6457827717110365317, 3203168211198807973, 9817491932198370423]


@pytest.mark.parametrize("seed", [0, 1234567, MASK64, 0x9E3779B97F4A7C15, 1 << 63])
def test_splitmix64_kernel_wraps_at_64_bits_like_python_integers(seed):
    state, reference = np.uint64(seed), seed
    for _ in range(50):
        state, z = kernels._next(np.uint64(state))  # compiled, it returns a Python int
        reference, expected = splitmix64(reference)
        assert (int(state), int(z)) == (reference, expected)


@pytest.mark.parametrize(
    ("a", "b"), [(0, 0), (MASK64, 1), (MASK64, MASK64), (1 << 63, 2), (0xDEADBEEF << 20, 12345)]
)
def test_add64_and_mul64_wrap_modulo_2_to_the_64(a, b):
    assert int(add64(np.uint64(a), np.uint64(b))) == (a + b) & MASK64
    assert int(mul64(np.uint64(a), np.uint64(b))) == (a * b) & MASK64


def reference_density(maps, probabilities, seed, x, y, points, window, size):
    """The chaos game and its density counts in plain Python, from the kernels' definitions."""
    cum = [min(total, 1.0) * 4294967295.0 for total in np.cumsum(probabilities)]
    thresholds = [int(np.uint64(t)) for t in cum]
    wx, wy, side = window
    scale = size / side
    counts = np.zeros((size, size))
    state, z = seed, 0
    for p in range(points):
        if p % 2 == 0:
            state, z = splitmix64(state)
            word = z & 0xFFFFFFFF
        else:
            word = z >> 32
        j = sum(word >= t for t in thresholds[:-1])
        a, b, c, d, e, f = maps[j]
        x, y = a * x + b * y + e, c * x + d * y + f
        fx, fy = math.floor((x - wx) * scale), math.floor((y - wy) * scale)
        if 0 <= fx < size and 0 <= fy < size:
            counts[size - 1 - fy, fx] += 1.0
    return counts


@pytest.mark.parametrize("maps", [SIERPINSKI, PENTAGON], ids=["three maps", "five maps"])
def test_chaos_game_density_matches_a_plain_python_chaos_game(maps):
    m = len(maps)
    probabilities = np.full(m, 1.0 / m)
    cum = kernels.cumulative_thresholds(probabilities)
    size, points, seed = 24, 3000, 987654321
    window = (-1.0, -1.0, 2.0) if m == 5 else (0.0, 0.0, 1.0)
    hits = np.zeros((size, size), dtype=np.bool_)
    counts = np.zeros((size, size))
    last = np.full((size, size), -1, np.int8)
    kernels._orbit_general(
        maps,
        cum,
        0,
        m,
        np.uint64(seed),
        0.0,
        0.0,
        points,
        window[0],
        window[1],
        size / window[2],
        size / window[2],
        False,
        kernels.MODE_DENSITY,
        np.zeros((3, 3)),
        hits,
        counts,
        last,
        True,
    )
    expected = reference_density(maps, probabilities, seed, 0.0, 0.0, points, window, size)
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(hits, expected > 0)
    assert counts.sum() > 0.9 * points  # the window holds the attractor


def render_digest(mode: int, channels: int) -> str:
    """sha256 of a tiny two-draw render (three and five maps, one flipped) on a plasma image."""
    maps = np.concatenate([SIERPINSKI, PENTAGON])
    cum = np.concatenate(
        [
            kernels.cumulative_thresholds(np.full(len(s), 1.0 / len(s)))
            for s in (SIERPINSKI, PENTAGON)
        ]
    )
    images = np.zeros((1, 20, 20, channels), dtype=np.uint8)
    kernels.plasma(0.6, np.full(channels, 10.0), np.full(channels, 90.0), 7, 11, 13, images[0])
    windows = np.zeros((2, 3))
    kernels.render(
        np.array([0, 0]),
        np.array([64 * 5, 64 * 5 + 1]),  # image ids
        np.array([0, 0]),  # draw numbers: block 0 gives the counters these digests were made at
        np.array([0, 3, 8]),
        maps,
        cum,
        np.arange(24, dtype=np.uint8).reshape(8, 3) * 10,
        np.array([[0, 0, 14, 14], [6, 4, 20, 20]]),
        np.array([False, True]),
        np.linspace(0.1, 0.9, 18).reshape(2, 3, 3),
        mode,
        600,
        11,
        13,
        images,
        windows,
    )
    return hashlib.sha256(images.tobytes() + windows.tobytes()).hexdigest()[:16]


RENDERS = {  # digests of the compiled kernels (the shards of every example spec come from them)
    (kernels.MODE_BINARY, 1): "5984170be1a87fc1",
    (kernels.MODE_BINARY, 3): "73599be106101916",
    (kernels.MODE_DENSITY, 1): "22d3e0ce785c8fad",
    (kernels.MODE_DENSITY, 3): "e10d53f0fd13a856",
    (kernels.MODE_PATCH, 1): "b74bb9ee4c2754d9",
    (kernels.MODE_PATCH, 3): "2f6178e001fe9742",
}


@pytest.mark.parametrize(("mode", "channels"), sorted(RENDERS))
def test_tiny_renders_give_the_known_digests(mode, channels):
    assert render_digest(mode, channels) == RENDERS[mode, channels]


def test_occupancy_gives_the_known_fill():
    fill = kernels.occupancy(SIERPINSKI, np.full(3, 1.0 / 3), 42, 11, 13, 2000, 16)
    assert fill == 121 / 256


PURE_PYTHON_RENDERS = """
import sys
sys.path.insert(0, sys.argv[1])
from test_fractal_kernels import RENDERS, render_digest
print(" ".join(render_digest(mode, channels) for mode, channels in sorted(RENDERS)))
"""


def test_pure_python_renders_match_compiled_ones():
    """The same tiny renders with Numba's compiler off and on, in fresh processes."""
    here = os.path.dirname(__file__)
    outputs = []
    for disable in ("1", "0"):
        env = {**os.environ, "NUMBA_DISABLE_JIT": disable}
        outputs.append(
            subprocess.run(
                [sys.executable, "-W", "error", "-c", PURE_PYTHON_RENDERS, here],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
    assert outputs[0] == outputs[1]
