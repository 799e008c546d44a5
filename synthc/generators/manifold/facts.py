"""Dataset-level quantities of a manifold dataset, fixed by the seed: rotations and drawn points."""

from __future__ import annotations

import contextlib
import functools

import numpy as np

from synthc.generators.jit import plain_python
from synthc.generators.linalg import haar_orthogonal
from synthc.generators.manifold import kernels
from synthc.generators.rng import derive_key

#: numbers drawn as plain Python at most (about 0.1 ms each, the same bits as compiled): the
#: rotation and centres of a small dataset then need no Numba, so a build whose shards are all
#: current, or its manifest, does not wait for Numba to start (about 0.5 s)
PLAIN_DRAWS = 256


def random_rotation(seed: int, dim: int) -> np.ndarray:
    """A Haar-random orthogonal ``dim x dim`` matrix from the seed's "rotation" stream."""
    k0, k1 = derive_key(seed, "manifold/rotation")
    count = dim * dim
    with plain_python() if count <= PLAIN_DRAWS else contextlib.nullcontext():
        gaussian = kernels.standard_normals(count, k0, k1).reshape(dim, dim)
    return haar_orthogonal(gaussian)


@functools.lru_cache(maxsize=8)
def cached_rotation(seed: int, dim: int) -> np.ndarray:
    """:func:`random_rotation`, computed once per worker: every shard of a build needs it."""
    return random_rotation(seed, dim)


def uniform_points(
    seed: int, stream: str, count: int, dim: int, low: float, high: float
) -> np.ndarray:
    """``count`` points uniform in ``[low, high)^dim`` from the seed's ``stream``."""
    k0, k1 = derive_key(seed, stream)
    with plain_python() if count * dim <= PLAIN_DRAWS else contextlib.nullcontext():
        uniforms = kernels.standard_uniforms(count * dim, k0, k1)
    return (low + (high - low) * uniforms).reshape(count, dim)
