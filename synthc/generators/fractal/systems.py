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
from synthc.generators.fractal.config import (
    MAX_MAPS,
    MIN_DET,
    SIGMA_MAX_SHARE,
    SystemConfig,
    given_system_problems,
    sigma_alpha_low,
)
from synthc.generators.rng import derive_key

MAX_ATTEMPTS = 10_000
#: fewer occupied cells than this (of 64 x 64) is a collapsed attractor
MIN_FILL = 0.01
PROBE_POINTS = 20_000
GRID = 64
_BLOCKS_PER_ATTEMPT = 64
#: uniforms one attempt draws: the map count, then sigma_factor's alpha and 8 per map (fractaldb:
#: 6 per map). Its blocks hold 2 * _BLOCKS_PER_ATTEMPT on stream 0; the rest are stream 1's.
_ATTEMPT_UNIFORMS = 2 + 8 * MAX_MAPS
#: the Philox key of the chaos-game check of given systems: the same for every seed, so whether
#: a catalog is accepted does not depend on the spec's seed
_GIVEN_CHECK_KEY = "fractal/given-system-check"
#: given probabilities within this of the |det| rule follow it, as sampled systems' do
_DET_RULE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class System:
    """An IFS: rows (a, b, c, d, e, f) of affine maps and their probabilities; with
    ``follows_dets`` the probabilities are the |det| rule's, and a jitter recomputes them."""

    maps: np.ndarray  # (m, 6)
    probabilities: np.ndarray  # (m,)
    follows_dets: bool = True

    def to_json(self) -> dict[str, Any]:
        return system_json(self.maps, self.probabilities)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> System:
        """A given system (spec or catalog): its probabilities divided by their sum (validation
        kept that within PROBABILITY_TOLERANCE of 1). They follow the |det| rule under jitter
        only when they are that rule's (as a synthc catalog.json's and FractalDB's CSVs are);
        any others are drawn as given."""
        rows = [[a, b, c, d, e, f] for (a, b, e), (c, d, f) in data["maps"]]
        maps = np.array(rows, dtype=np.float64)
        given = np.array(data["probabilities"], float)
        probabilities = given / given.sum()
        total = abs_dets(maps).sum()
        follows = bool(
            0 < total < np.inf
            and np.all(np.abs(det_probabilities(maps) - probabilities) <= _DET_RULE_TOLERANCE)
        )
        return cls(maps, probabilities, follows)


def given_problems(
    maps: list[list[list[float]]], probabilities: list[float]
) -> list[tuple[tuple[str | int, ...], str]]:
    """What keeps a given system (maps ``[[a, b, e], [c, d, f]]``) from being drawn, by the
    rules sampled candidates must pass: config.given_system_problems (probabilities, degenerate
    maps), then the samplers' chaos-game probe, which refuses an orbit that leaves the finite
    numbers or collapses (a point: one contractive map) and one that covers under MIN_FILL of
    the grid."""
    problems = given_system_problems(maps, probabilities)
    if problems:
        return problems
    system = System.from_json({"maps": maps, "probabilities": probabilities})
    k0, k1 = derive_key(0, _GIVEN_CHECK_KEY)
    fill = kernels.occupancy(system.maps, system.probabilities, 0, k0, k1, PROBE_POINTS, GRID)
    if fill < 0:
        return [
            (
                ("maps",),
                "the chaos game leaves the finite numbers or collapses to a point (maps that do "
                "not contract on average, or one contractive map): the samplers reject these",
            )
        ]
    if fill < MIN_FILL:
        return [
            (
                ("maps",),
                f"collapsed: {PROBE_POINTS:,} chaos-game points occupy {fill:.2%} of the "
                f"{GRID} x {GRID} cells of the attractor's bounding square, under "
                f"{MIN_FILL:.0%} (the samplers reject these)",
            )
        ]
    return []


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
        u = _attempt_uniforms(k, attempt, k0, k1)
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


def _attempt_uniforms(k: int, attempt: int, k0: int, k1: int) -> np.ndarray:
    """Class ``k``'s uniforms for ``attempt``: its own blocks of stream 0 (the first 100 as
    drawn before systems of 13 to 16 maps needed more), then the same blocks of stream 1."""
    first = attempt * _BLOCKS_PER_ATTEMPT
    own = 2 * _BLOCKS_PER_ATTEMPT
    head = kernels.uniforms(k, first, own, 0, k0, k1)
    tail = kernels.uniforms(k, first, _ATTEMPT_UNIFORMS - own, 1, k0, k1)
    return np.concatenate([head, tail])


def _sigma_factor_maps(m: int, u: np.ndarray) -> np.ndarray | None:
    """Anderson & Farrell's sigma-factor constraint: sum over maps of (s1 + 2 s2) = alpha with
    alpha ~ U(0.5 (5 + m), 0.5 (6 + m)) and 0 <= s2 <= s1 <= 1. Each map's share c_i of alpha is
    Dirichlet(1, ..., 1); s2 is uniform on the interval that keeps s2 <= s1 <= 1."""
    alpha = sigma_alpha_low(m) + 0.5 * u[0]
    weights = -np.log1p(-u[1 : 1 + m])  # exponential draws make a flat Dirichlet
    shares = alpha * weights / weights.sum()
    if shares.max() > SIGMA_MAX_SHARE:
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
    largest singular value stays below the system's own largest (contractivity kept). The
    probabilities follow the |det| rule when the system's do (sampled systems, as Anderson &
    Farrell's jitter); given ones that are not that rule's are kept: the jitter moves maps only."""
    maps = system.maps.copy()
    linear = maps[which, :4].reshape(2, 2) * factor
    limit = max(float(np.linalg.norm(r[:4].reshape(2, 2), 2)) for r in system.maps)
    limit = min(limit, 0.999) if limit < 1 else limit
    norm = float(np.linalg.norm(linear, 2))
    if norm > limit > 0:
        linear *= limit / norm
    maps[which, :4] = linear.reshape(4)
    keep = not system.follows_dets or abs_dets(maps).sum() <= 0
    probabilities = system.probabilities if keep else det_probabilities(maps)
    return System(maps, probabilities, system.follows_dets)
