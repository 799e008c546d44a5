"""Dataset-level quantities of a manifold dataset, fixed by (seed, config): rotation and centres."""

from __future__ import annotations

import functools

import numpy as np

from synthc.generators.linalg import haar_orthogonal
from synthc.generators.manifold import kernels
from synthc.generators.manifold.config import Blobs, ManifoldBase
from synthc.generators.rng import derive_key


def random_rotation(seed: int, dim: int) -> np.ndarray:
    """A Haar-random orthogonal ``dim x dim`` matrix from the seed's "rotation" stream."""
    k0, k1 = derive_key(seed, "manifold/rotation")
    gaussian = kernels.standard_normals(dim * dim, k0, k1).reshape(dim, dim)
    return haar_orthogonal(gaussian)


def blob_centers(seed: int, config: Blobs) -> np.ndarray:
    """Explicit centres as given, or ``centers`` points uniform in ``center_box``."""
    if isinstance(config.centers, list):
        return np.asarray(config.centers, dtype=np.float64).reshape(len(config.centers), config.dim)
    k0, k1 = derive_key(seed, "manifold/centers")
    low, high = config.center_box
    uniforms = kernels.standard_uniforms(config.centers * config.dim, k0, k1)
    return (low + (high - low) * uniforms).reshape(config.centers, config.dim)


def blob_stds(config: Blobs) -> np.ndarray:
    """One standard deviation per centre."""
    if isinstance(config.cluster_std, list):
        return np.asarray(config.cluster_std, dtype=np.float64)
    return np.full(config.n_centers, float(config.cluster_std))


def rotation_for(seed: int, config: ManifoldBase) -> np.ndarray:
    """The rotation a config uses (an empty 0 x 0 array when it does not rotate)."""
    if not config.rotate:
        return np.zeros((0, 0), dtype=np.float64)
    return _cached_rotation(seed, config.out_dim)


@functools.lru_cache(maxsize=8)
def _cached_rotation(seed: int, dim: int) -> np.ndarray:
    # Every shard of a build needs the same matrix; a worker computes it once.
    return random_rotation(seed, dim)
