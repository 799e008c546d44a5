"""Class systems: sampled from (seed, class) alone, or read from a catalog; and their jitter.

A system is ``(maps, probabilities)`` with ``maps`` of shape ``(m, 6)`` holding ``a, b, c, d, e, f``
(``x' = a x + b y + e``, ``y' = c x + d y + f``). Class ``k``'s system depends only on
``(seed, k, system config)``, so adding classes never changes existing ones. Rejected candidates
(degenerate, divergent, collapsed, or under the filling rate) are resampled from the next
counter block, deterministically, and counted.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthc.errors import BuildError
from synthc.generators.fractal import kernels
from synthc.generators.fractal.catalog import abs_dets, det_probabilities, system_json
from synthc.generators.fractal.config import SystemConfig
from synthc.generators.rng import derive_key

MAX_ATTEMPTS = 10_000
#: a system whose largest |det| is below this draws a line or a point, not a fractal
MIN_DET = 1e-4
#: fewer occupied cells than this (of 64 x 64) is a collapsed attractor
MIN_FILL = 0.01
PROBE_POINTS = 20_000
GRID = 64
_BLOCKS_PER_ATTEMPT = 64


@dataclass(frozen=True)
class System:
    """An IFS: rows (a, b, c, d, e, f) of affine maps and their probabilities."""

    maps: np.ndarray  # (m, 6)
    probabilities: np.ndarray  # (m,)

    def to_json(self) -> dict[str, Any]:
        return system_json(self.maps, self.probabilities)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> System:
        rows = [[a, b, c, d, e, f] for (a, b, e), (c, d, f) in data["maps"]]
        return cls(np.array(rows, dtype=np.float64), np.array(data["probabilities"], float))


@dataclass
class Search:
    """Systems found so far and why candidates were rejected (for the manifest)."""

    systems: dict[int, System] = field(default_factory=dict)
    rejections: Counter[str] = field(default_factory=Counter)


def class_system(config: SystemConfig, seed: int, k: int, search: Search) -> System:
    """Class ``k``'s system, sampled and checked (cached in ``search``)."""
    cached = search.systems.get(k)
    if cached is not None:
        return cached
    k0, k1 = derive_key(seed, f"fractal/system/{config.sampler}")
    for attempt in range(MAX_ATTEMPTS):
        u = kernels.uniforms(k, attempt * _BLOCKS_PER_ATTEMPT, 100, 0, k0, k1)
        low, high = config.maps
        m = low + min(int(u[0] * (high - low + 1)), high - low)
        if config.sampler == "sigma_factor":
            maps = _sigma_factor_maps(m, u[1:])
            if maps is None:
                search.rejections["sigma_factor_infeasible"] += 1
                continue
        else:
            maps = 2.0 * u[1 : 1 + 6 * m].reshape(m, 6) - 1.0
        dets = abs_dets(maps)
        if dets.max() < MIN_DET:
            search.rejections["degenerate_det"] += 1
            continue
        probabilities = dets / dets.sum()
        fill = kernels.occupancy(maps, probabilities, k, k0, k1, PROBE_POINTS, GRID)
        if fill < 0:
            search.rejections["divergent"] += 1
            continue
        if fill < MIN_FILL:
            search.rejections["collapsed"] += 1
            continue
        if config.sampler == "fractaldb" and fill < config.fill_rate:
            search.rejections["below_fill_rate"] += 1
            continue
        system = System(maps, probabilities)
        search.systems[k] = system
        return system
    field = "fill_rate" if config.sampler == "fractaldb" else "sampler"
    rejected = ", ".join(f"{n} {why}" for why, n in search.rejections.most_common())
    raise BuildError(
        f"generator.system.{field}: class {k}: no acceptable {config.sampler} system in "
        f"{MAX_ATTEMPTS:,} attempts (rejected so far: {rejected})"
        + (f"; lower fill_rate ({config.fill_rate:g})" if field == "fill_rate" else "")
    )


def _sigma_factor_maps(m: int, u: np.ndarray) -> np.ndarray | None:
    """Anderson & Farrell's sigma-factor constraint: sum over maps of (s1 + 2 s2) = alpha with
    alpha ~ U(0.5 (5 + m), 0.5 (6 + m)) and 0 <= s2 <= s1 <= 1. Each map's share c_i of alpha is
    Dirichlet(1, ..., 1); s2 is uniform on the interval that keeps s2 <= s1 <= 1."""
    alpha = 0.5 * (5 + m) + 0.5 * u[0]
    weights = -np.log1p(-u[1 : 1 + m])  # exponential draws make a flat Dirichlet
    shares = alpha * weights / weights.sum()
    if shares.max() > 3.0:
        return None
    maps = np.empty((m, 6))
    for i in range(m):
        c = shares[i]
        lo, hi = max(0.0, (c - 1.0) / 2.0), c / 3.0
        s2 = lo + (hi - lo) * u[1 + m + i]
        s1 = c - 2.0 * s2
        theta, phi = 2 * math.pi * u[1 + 2 * m + i], 2 * math.pi * u[1 + 3 * m + i]
        d1 = 1.0 if u[1 + 4 * m + i] < 0.5 else -1.0
        d2 = 1.0 if u[1 + 5 * m + i] < 0.5 else -1.0
        rot_t = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
        rot_p = np.array([[math.cos(phi), -math.sin(phi)], [math.sin(phi), math.cos(phi)]])
        linear = rot_t @ np.diag([s1, s2]) @ rot_p @ np.diag([d1, d2])
        e, f = 2 * u[1 + 6 * m + i] - 1, 2 * u[1 + 7 * m + i] - 1
        maps[i] = [linear[0, 0], linear[0, 1], linear[1, 0], linear[1, 1], e, f]
    return maps


def jittered(system: System, factor: float, which: int) -> System:
    """``system`` with map ``which``'s linear part scaled by ``factor``, shrunk if needed so its
    largest singular value stays below the system's own largest (contractivity kept)."""
    maps = system.maps.copy()
    linear = maps[which, :4].reshape(2, 2) * factor
    limit = max(float(np.linalg.norm(r[:4].reshape(2, 2), 2)) for r in system.maps)
    limit = min(limit, 0.999) if limit < 1 else limit
    norm = float(np.linalg.norm(linear, 2))
    if norm > limit > 0:
        linear *= limit / norm
    maps[which, :4] = linear.reshape(4)
    keep = abs_dets(maps).sum() <= 0
    return System(maps, system.probabilities if keep else det_probabilities(maps))
