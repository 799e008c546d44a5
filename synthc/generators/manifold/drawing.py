"""The manifold generator's kernel side: each shape's kernel call, the rotation and the centres,
and a batch of points (NumPy and Numba; the config side, ``config.py``, needs no arrays)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from synthc.generators.base import Table
from synthc.generators.manifold import facts, kernels
from synthc.generators.manifold.config import (
    Blobs,
    Circles,
    Helix,
    ManifoldConfig,
    Moons,
    SCurve,
    Sphere,
    SwissRoll,
    Torus,
)
from synthc.generators.rng import derive_key


class Batch(NamedTuple):
    """What a shape's kernel fills for the samples ``start ..``, drawing from the Philox key
    ``(k0, k1)``: natural coordinates ``nat`` and intrinsic ones ``u`` (``(dim, n)``), and
    ``label`` (``n``; shapes with classes)."""

    start: int
    k0: int
    k1: int
    nat: np.ndarray
    u: np.ndarray
    label: np.ndarray


def generate(config: ManifoldConfig, seed: int, start: int, stop: int) -> Table:
    """Samples ``[start, stop)`` as columns (ManifoldGenerator.generate)."""
    n = stop - start
    k0, k1 = derive_key(seed, "manifold")
    nat = np.empty((config.natural_dim, n), dtype=np.float64)
    u = np.empty((config.intrinsic_dim, n), dtype=np.float64)
    label = np.empty(n, dtype=np.int64)
    _DRAW[config.shape_name()](config, seed, Batch(start, k0, k1, nat, u, label))
    dim = config.out_dim
    clean = np.empty((dim, n), dtype=np.float64)
    observed = np.empty((dim, n), dtype=np.float64)
    kernels.embed_and_noise(
        start, k0, k1, nat, rotation(config, seed), float(config.noise), clean, observed
    )
    table: Table = {f"x{d}": observed[d] for d in range(dim)}
    table.update({f"clean_x{d}": clean[d] for d in range(dim)})
    table.update({f"u{k}": u[k] for k in range(config.intrinsic_dim)})
    if config.classes:
        table["label"] = label
    return table


def compile_late(config: ManifoldConfig) -> None:
    """Compile (or load) the kernel a batch calls after its shape's (for compile_ahead)."""
    kernels.compile_embed()


def rotation(config: ManifoldConfig, seed: int) -> np.ndarray:
    """The rotation ``config`` uses (an empty 0 x 0 array when it does not rotate)."""
    if not config.rotate:
        return np.zeros((0, 0), dtype=np.float64)
    return facts.cached_rotation(seed, config.out_dim)


def shape_facts(config: ManifoldConfig, seed: int) -> dict[str, Any]:
    """Dataset-level quantities of the shape for the manifest, beyond the common ones."""
    if isinstance(config, Blobs):
        return {"centers": center_points(config, seed), "cluster_std": stds(config)}
    return {}


def center_points(config: Blobs, seed: int) -> np.ndarray:
    """Explicit centres as given, or ``centers`` points uniform in ``center_box``."""
    if isinstance(config.centers, list):
        return np.asarray(config.centers, dtype=np.float64).reshape(len(config.centers), config.dim)
    low, high = config.center_box
    return facts.uniform_points(seed, "manifold/centers", config.centers, config.dim, low, high)


def stds(config: Blobs) -> np.ndarray:
    """One standard deviation per centre."""
    if isinstance(config.cluster_std, list):
        return np.asarray(config.cluster_std, dtype=np.float64)
    return np.full(config.n_centers, float(config.cluster_std))


def _swiss_roll(config: SwissRoll, seed: int, batch: Batch) -> None:
    kernels.swiss_roll(batch.start, batch.k0, batch.k1, config.hole, batch.nat, batch.u)


def _s_curve(config: SCurve, seed: int, batch: Batch) -> None:
    kernels.s_curve(batch.start, batch.k0, batch.k1, batch.nat, batch.u)


def _sphere(config: Sphere, seed: int, batch: Batch) -> None:
    kernels.sphere(batch.start, batch.k0, batch.k1, batch.nat, batch.u)


def _torus(config: Torus, seed: int, batch: Batch) -> None:
    kernels.torus(batch.start, batch.k0, batch.k1, config.R, config.r, batch.nat, batch.u)


def _helix(config: Helix, seed: int, batch: Batch) -> None:
    kernels.helix(
        batch.start,
        batch.k0,
        batch.k1,
        config.turns,
        config.radius,
        config.pitch,
        batch.nat,
        batch.u,
    )


def _moons(config: Moons, seed: int, batch: Batch) -> None:
    kernels.moons(batch.start, batch.k0, batch.k1, batch.nat, batch.u, batch.label)


def _circles(config: Circles, seed: int, batch: Batch) -> None:
    kernels.circles(batch.start, batch.k0, batch.k1, config.factor, batch.nat, batch.u, batch.label)


def _blobs(config: Blobs, seed: int, batch: Batch) -> None:
    kernels.blobs(
        batch.start,
        batch.k0,
        batch.k1,
        center_points(config, seed),
        stds(config),
        batch.nat,
        batch.label,
    )


#: shape -> the call of its kernel, which fills a batch
_DRAW: dict[str, Callable[[Any, int, Batch], None]] = {
    "swiss_roll": _swiss_roll,
    "s_curve": _s_curve,
    "sphere": _sphere,
    "torus": _torus,
    "helix": _helix,
    "moons": _moons,
    "circles": _circles,
    "blobs": _blobs,
}
