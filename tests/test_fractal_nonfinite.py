"""Fractal kernels skip a NaN or far-off point before converting it to a pixel index (the
float-to-int conversion of such values is undefined: on ARM NaN can become 0, a pixel).

Kernel tests: CI reruns them as plain Python (NUMBA_DISABLE_JIT=1), where NumPy warns on the
float overflow these orbits are made of; compiled kernels overflow to inf silently, so the
warnings are silenced for the call."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthc.generators.fractal import kernels

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e300, -1e300])
@pytest.mark.parametrize("flip", [False, True])
def test_a_nonfinite_or_huge_point_maps_to_no_pixel_without_conversion(value, flip):
    # (-2, -2) is off the image even for a 3x3 patch; before the guard x86-64 returned the
    # most negative integer and ARM 0, from an undefined conversion
    for x, y in [(value, 0.5), (0.5, value)]:
        assert kernels._pixel(x, y, 0.0, 0.0, 64.0, 64.0, 64, 64, flip) == (-2, -2)
    # a point on the image is still its pixel, with rows growing downwards
    assert kernels._pixel(0.25, 0.25, 0.0, 0.0, 64.0, 64.0, 64, 64, False) == (16, 47)


@pytest.mark.parametrize("coefficient", [math.nan, 1e300])
def test_an_orbit_that_leaves_the_numbers_paints_nothing(coefficient):
    maps = np.array([[coefficient, 0.0, 0.0, coefficient, 0.0, 0.0]])
    cum = kernels.cumulative_thresholds(np.array([1.0]))
    image = np.zeros((64, 64), dtype=np.uint8)
    state = np.uint64(12345)
    with np.errstate(over="ignore", invalid="ignore"):  # as compiled: inf and NaN, no warning
        kernels._orbit_hits(
            maps, cum, 0, 1, state, 0.5, 0.5, 1000, 0.0, 0.0, 64.0, 64.0, False, image
        )
    assert not image.any()
    hits = np.zeros((64, 64), dtype=np.bool_)
    counts = np.zeros((64, 64), dtype=np.float64)
    last = np.full((64, 64), -1, np.int8)
    patch = np.ones((3, 3), dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for mode in (kernels.MODE_DENSITY, kernels.MODE_PATCH):
            kernels._orbit_general(
                maps,
                cum,
                0,
                1,
                state,
                0.5,
                0.5,
                1000,
                0.0,
                0.0,
                64.0,
                64.0,
                False,
                mode,
                patch,
                hits,
                counts,
                last,
                True,
            )
    assert not hits.any() and not counts.any()
