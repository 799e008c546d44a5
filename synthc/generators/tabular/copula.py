"""The Gaussian copula's correlation matrix: assembly and the positive-definiteness check.

Its Cholesky factor is synthc.generators.linalg.cholesky (see the policy there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Eigenvalues below this count as not positive definite (a matrix this close to singular would
#: make the Cholesky factor, and so the samples, numerically meaningless).
MIN_EIGENVALUE = 1e-10


def correlation_matrix(
    names: Sequence[str], correlation: Mapping[str, Mapping[str, float]]
) -> np.ndarray:
    """The symmetric matrix over ``names`` with ones on the diagonal and 0 where unspecified."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.eye(len(names))
    for a, row in correlation.items():
        for b, r in row.items():
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = r
    return matrix


def not_positive_definite(matrix: np.ndarray) -> tuple[float, list[int]] | None:
    """None if ``matrix`` is positive definite; else its smallest eigenvalue and the indices of
    the variables that carry that eigenvector (the ones whose correlations clash)."""
    values, vectors = np.linalg.eigh(matrix)
    if values[0] > MIN_EIGENVALUE:
        return None
    weights = np.abs(vectors[:, 0])
    culprits = [i for i in range(len(weights)) if weights[i] >= 0.25 * weights.max()]
    return float(values[0]), culprits
