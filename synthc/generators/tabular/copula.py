"""The Gaussian copula's correlation matrix: assembly and the positive-definiteness check.

Its Cholesky factor is synthc.generators.linalg.cholesky (see the policy there). NumPy is
imported by the functions that use it: validating a spec whose matrix is clearly positive
definite (:func:`clearly_positive_definite`, plain Python) needs none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: Eigenvalues below this count as not positive definite (a matrix this close to singular would
#: make the Cholesky factor, and so the samples, numerically meaningless).
MIN_EIGENVALUE = 1e-10
#: :func:`clearly_positive_definite` factors the matrix less this times the identity
CLEAR_MARGIN = 1e-6
#: and tries matrices of at most this many columns (its cost grows as the cube)
CLEAR_COLUMNS = 64


def correlation_matrix(
    names: Sequence[str], correlation: Mapping[str, Mapping[str, float]]
) -> np.ndarray:
    """The symmetric matrix over ``names`` with ones on the diagonal and 0 where unspecified."""
    import numpy as np

    return np.array(_rows(names, correlation), dtype=np.float64).reshape(len(names), len(names))


def not_positive_definite(matrix: np.ndarray) -> tuple[float, list[int]] | None:
    """None if ``matrix`` is positive definite; else its smallest eigenvalue and the indices of
    the variables that carry that eigenvector (the ones whose correlations clash)."""
    import numpy as np

    values, vectors = np.linalg.eigh(matrix)
    if values[0] > MIN_EIGENVALUE:
        return None
    weights = np.abs(vectors[:, 0])
    culprits = [i for i in range(len(weights)) if weights[i] >= 0.25 * weights.max()]
    return float(values[0]), culprits


def clearly_positive_definite(
    names: Sequence[str], correlation: Mapping[str, Mapping[str, float]]
) -> bool:
    """True when the matrix of :func:`correlation_matrix` is positive definite with room to
    spare, so :func:`not_positive_definite` would pass it too; False when that is not clear.

    The Cholesky factorisation (plain Python) of the matrix less CLEAR_MARGIN times the identity
    succeeding shows every eigenvalue is above CLEAR_MARGIN less the rounding error, which for a
    correlation matrix of n <= CLEAR_COLUMNS columns is below n**3 * 2**-52 (6e-11), far above
    MIN_EIGENVALUE; eigh's own error is smaller still. A matrix that fails here is judged by
    :func:`not_positive_definite`, which names the eigenvalue and the clashing columns.
    """
    if len(names) > CLEAR_COLUMNS:
        return False
    matrix = _rows(names, correlation)
    k = len(matrix)
    lower = [[0.0] * k for _ in range(k)]
    for r in range(k):
        for col in range(r + 1):
            s = matrix[r][col] - (CLEAR_MARGIN if r == col else 0.0)
            for j in range(col):
                s -= lower[r][j] * lower[col][j]
            if r == col:
                if not s > 0.0:
                    return False
                lower[r][r] = math.sqrt(s)
            else:
                lower[r][col] = s / lower[col][col]
    return True


def _rows(
    names: Sequence[str], correlation: Mapping[str, Mapping[str, float]]
) -> list[list[float]]:
    """The matrix as rows: ones on the diagonal, each correlation at both of its places."""
    index = {name: i for i, name in enumerate(names)}
    rows = [[1.0 if i == j else 0.0 for j in range(len(names))] for i in range(len(names))]
    for a, row in correlation.items():
        for b, r in row.items():
            rows[index[a]][index[b]] = rows[index[b]][index[a]] = r
    return rows
