"""Numba kernels of the manifold generator: one per shape, plus embedding and noise.

Every kernel fills preallocated arrays for the global sample indices ``start .. start + n - 1``;
coordinates are stored as ``(dim, n)`` so each coordinate is a contiguous column. Random draws
come from Philox with the global index as counter: stream 0 for the point, 1 for the noise,
2 for the class label; ``block`` numbers a sample's successive draws.
"""

from __future__ import annotations

import math

import numpy as np

from synthc.generators.jit import ngjit
from synthc.generators.rng import below, normal2, normal3, uniform2

# Stream ids and constant blocks are np.int64, not literals: Numba compiles an RNG kernel once
# more for each combination of literal arguments it is called with.
POINTS, NOISE, LABELS = (np.int64(k) for k in range(3))
TORUS_MAX_TRIES = 64
_PI = math.pi


@ngjit
def swiss_roll(start: int, k0: int, k1: int, hole: bool, nat: np.ndarray, u: np.ndarray) -> None:
    """t*cos t, height, t*sin t with t in [1.5pi, 4.5pi], height in [0, 21] (scikit-learn)."""
    for i in range(nat.shape[1]):
        a, b = uniform2(start + i, np.int64(0), POINTS, k0, k1)
        if hole:
            cell = below(start + i, np.int64(1), POINTS, k0, k1, 8)
            if cell >= 4:  # the 3x3 grid without its centre cell
                cell += 1
            t = _PI * (1.5 + cell // 3) + _PI * a
            h = 7.0 * (cell % 3) + 7.0 * b
        else:
            t = 1.5 * _PI * (1.0 + 2.0 * a)
            h = 21.0 * b
        nat[0, i] = t * math.cos(t)
        nat[1, i] = h
        nat[2, i] = t * math.sin(t)
        u[0, i] = t
        u[1, i] = h


@ngjit
def s_curve(start: int, k0: int, k1: int, nat: np.ndarray, u: np.ndarray) -> None:
    """sin t, height, sign(t)(cos t - 1) with t in [-1.5pi, 1.5pi], height in [0, 2]."""
    for i in range(nat.shape[1]):
        a, b = uniform2(start + i, np.int64(0), POINTS, k0, k1)
        t = 3.0 * _PI * (a - 0.5)
        h = 2.0 * b
        nat[0, i] = math.sin(t)
        nat[1, i] = h
        nat[2, i] = math.copysign(1.0, t) * (math.cos(t) - 1.0) if t != 0.0 else 0.0
        u[0, i] = t
        u[1, i] = h


@ngjit
def sphere(start: int, k0: int, k1: int, nat: np.ndarray, u: np.ndarray) -> None:
    """Uniform on the unit sphere S^d in R^(d+1): a normalised Gaussian vector, and its angles."""
    m = nat.shape[0]
    d = m - 1
    for i in range(nat.shape[1]):
        norm = 0.0
        attempt = 0
        while norm == 0.0:  # an all-zero Gaussian vector is possible only in principle
            block = attempt * ((m + 1) // 2)
            for j in range(0, m, 2):
                z1, z2 = normal2(start + i, block + j // 2, POINTS, k0, k1)
                nat[j, i] = z1
                if j + 1 < m:
                    nat[j + 1, i] = z2
            norm = 0.0
            for j in range(m):
                norm += nat[j, i] * nat[j, i]
            norm = math.sqrt(norm)
            attempt += 1
        for j in range(m):
            nat[j, i] /= norm
        # Hyperspherical angles: phi_k = atan2(|x[k:]|, x[k-1]) in [0, pi] for k < d,
        # phi_d = atan2(x[d], x[d-1]) in [0, 2pi).
        tail = nat[d, i] * nat[d, i]
        for k in range(d - 1, 0, -1):
            tail += nat[k, i] * nat[k, i]
            u[k - 1, i] = math.atan2(math.sqrt(tail), nat[k - 1, i])
        last = math.atan2(nat[d, i], nat[d - 1, i])
        u[d - 1, i] = last + 2.0 * _PI if last < 0.0 else last


@ngjit
def torus(
    start: int, k0: int, k1: int, big_r: float, small_r: float, nat: np.ndarray, u: np.ndarray
) -> None:
    """Uniform by surface area: theta uniform, phi by rejection with density R + r cos phi."""
    for i in range(nat.shape[1]):
        a, _ = uniform2(start + i, np.int64(0), POINTS, k0, k1)
        theta = 2.0 * _PI * a
        phi = 0.0
        for attempt in range(TORUS_MAX_TRIES):
            c, accept = uniform2(start + i, 1 + attempt, POINTS, k0, k1)
            phi = 2.0 * _PI * c
            if accept * (big_r + small_r) < big_r + small_r * math.cos(phi):
                break
        ring = big_r + small_r * math.cos(phi)
        nat[0, i] = ring * math.cos(theta)
        nat[1, i] = ring * math.sin(theta)
        nat[2, i] = small_r * math.sin(phi)
        u[0, i] = theta
        u[1, i] = phi


@ngjit
def helix(
    start: int,
    k0: int,
    k1: int,
    turns: float,
    radius: float,
    pitch: float,
    nat: np.ndarray,
    u: np.ndarray,
) -> None:
    """radius*cos t, radius*sin t, pitch*t/(2pi) with t in [0, 2pi*turns)."""
    for i in range(nat.shape[1]):
        a, _ = uniform2(start + i, np.int64(0), POINTS, k0, k1)
        t = 2.0 * _PI * turns * a
        nat[0, i] = radius * math.cos(t)
        nat[1, i] = radius * math.sin(t)
        nat[2, i] = pitch * t / (2.0 * _PI)
        u[0, i] = t


@ngjit
def moons(start: int, k0: int, k1: int, nat: np.ndarray, u: np.ndarray, label: np.ndarray) -> None:
    """Outer moon (cos t, sin t), inner moon (1 - cos t, 0.5 - sin t), t in [0, pi)."""
    for i in range(nat.shape[1]):
        a, _ = uniform2(start + i, np.int64(0), POINTS, k0, k1)
        t = _PI * a
        cls = below(start + i, np.int64(0), LABELS, k0, k1, 2)
        if cls == 0:
            nat[0, i] = math.cos(t)
            nat[1, i] = math.sin(t)
        else:
            nat[0, i] = 1.0 - math.cos(t)
            nat[1, i] = 0.5 - math.sin(t)
        u[0, i] = t
        label[i] = cls


@ngjit
def circles(
    start: int, k0: int, k1: int, factor: float, nat: np.ndarray, u: np.ndarray, label: np.ndarray
) -> None:
    """Outer unit circle (label 0) and inner circle of radius factor (label 1), t in [0, 2pi)."""
    for i in range(nat.shape[1]):
        a, _ = uniform2(start + i, np.int64(0), POINTS, k0, k1)
        t = 2.0 * _PI * a
        cls = below(start + i, np.int64(0), LABELS, k0, k1, 2)
        radius = 1.0 if cls == 0 else factor
        nat[0, i] = radius * math.cos(t)
        nat[1, i] = radius * math.sin(t)
        u[0, i] = t
        label[i] = cls


@ngjit
def blobs(
    start: int,
    k0: int,
    k1: int,
    centers: np.ndarray,
    stds: np.ndarray,
    nat: np.ndarray,
    label: np.ndarray,
) -> None:
    """centre[c] + std[c] * N(0, I) with the cluster c uniform over the centres."""
    m = nat.shape[0]
    for i in range(nat.shape[1]):
        cls = below(start + i, np.int64(0), LABELS, k0, k1, centers.shape[0])
        for j in range(0, m, 2):
            z1, z2 = normal2(start + i, j // 2, POINTS, k0, k1)
            nat[j, i] = centers[cls, j] + stds[cls] * z1
            if j + 1 < m:
                nat[j + 1, i] = centers[cls, j + 1] + stds[cls] * z2
        label[i] = cls


@ngjit
def embed_and_noise(
    start: int,
    k0: int,
    k1: int,
    nat: np.ndarray,
    rotation: np.ndarray,
    noise: float,
    clean: np.ndarray,
    observed: np.ndarray,
) -> None:
    """clean = rotation @ pad(nat) (or pad(nat)); observed = clean + noise * N(0, I)."""
    m = nat.shape[0]
    dim = clean.shape[0]
    rotate = rotation.shape[0] > 0
    for i in range(nat.shape[1]):
        for d in range(dim):
            if rotate:
                s = 0.0
                for j in range(m):
                    s += rotation[d, j] * nat[j, i]
                clean[d, i] = s
            else:
                clean[d, i] = nat[d, i] if d < m else 0.0
        if noise > 0.0:
            for d in range(0, dim, 3):
                z0, z1, z2 = normal3(start + i, d // 3, NOISE, k0, k1)
                observed[d, i] = clean[d, i] + noise * z0
                if d + 1 < dim:
                    observed[d + 1, i] = clean[d + 1, i] + noise * z1
                if d + 2 < dim:
                    observed[d + 2, i] = clean[d + 2, i] + noise * z2
        else:
            for d in range(dim):
                observed[d, i] = clean[d, i]


#: the argument types :func:`embed_and_noise` is called with (synthc.compile_ahead)
_EMBED = "(i8, i8, i8, f8[:, ::1], f8[:, ::1], f8, f8[:, ::1], f8[:, ::1])"


def compile_embed() -> None:
    """Compile (or load from the cache) :func:`embed_and_noise` for the argument types a batch
    gives it."""
    embed_and_noise.compile_for(_EMBED)


@ngjit
def standard_normals(count: int, k0: int, k1: int) -> np.ndarray:
    """``count`` standard normals for dataset-level quantities (index j, block 0, stream 0)."""
    out = np.empty(count, dtype=np.float64)
    for j in range(count):
        out[j], _ = normal2(j, np.int64(0), POINTS, k0, k1)
    return out


@ngjit
def standard_uniforms(count: int, k0: int, k1: int) -> np.ndarray:
    """``count`` uniforms in [0, 1) for dataset-level quantities (index j, block 0, stream 0)."""
    out = np.empty(count, dtype=np.float64)
    for j in range(count):
        out[j], _ = uniform2(j, np.int64(0), POINTS, k0, k1)
    return out
