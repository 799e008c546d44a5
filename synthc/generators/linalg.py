"""Dense linear algebra whose results shape shard bytes: one pinned implementation per operation.

Policy. A factorisation that decides sample bits (the copula's Cholesky factor, the manifold's
rotation) lives here, and each is pinned to one implementation: changing it is a format change,
because it moves the bits of every dataset that uses it. New operations are written out in plain
float64 loops with a fixed operation order, so their bits depend only on IEEE-754 arithmetic and
not on the BLAS/LAPACK NumPy links (OpenBLAS, MKL and Accelerate differ in blocking, summation
order and fused multiply-adds). Products of these matrices with samples are such loops too,
inside the Numba kernels (``correlated_normals``, ``embed_and_noise``).

One operation predates the policy and keeps LAPACK: the QR behind :func:`haar_orthogonal`. A
written-out Householder QR agrees with it only to about 1e-15 and differs in most entries' last
bits (measured: 85 of 100 entries at dim 10, 15,592 of 16,384 at dim 128), so switching would
change every rotated dataset. Its bits can therefore depend on the LAPACK NumPy uses; numpy is
in every task key, and the matrix is recorded in full in the manifest (generator.facts.rotation).
Likewise NumPy's own ``cholesky`` differs from :func:`cholesky` in the last bits of most
factors above 2 x 2 (933 of 975 random correlation matrices up to 40 x 40), so the written-out
factor stays.

Checks that only accept or refuse a spec (the copula's positive-definiteness test) may use
LAPACK freely: they never shape bytes.
"""

from __future__ import annotations

import math

import numpy as np


def cholesky(matrix: np.ndarray) -> np.ndarray:
    """The lower-triangular L with L @ L.T == matrix (a checked, positive definite matrix).

    Written out (Cholesky-Banachiewicz, row by row) so the factor, and so every correlated
    sample, is the same bits whatever BLAS NumPy was built with.
    """
    k = matrix.shape[0]
    lower = np.zeros((k, k))
    for r in range(k):
        for c in range(r + 1):
            s = float(matrix[r, c])
            for j in range(c):
                s -= lower[r, j] * lower[c, j]
            lower[r, c] = math.sqrt(s) if r == c else s / lower[c, c]
    return lower


def haar_orthogonal(gaussian: np.ndarray) -> np.ndarray:
    """The Haar-random orthogonal matrix made from a square matrix of standard normals.

    QR by LAPACK (through NumPy), with the signs of R's diagonal moved into Q so the distribution
    is uniform over the orthogonal group (Mezzadri, "How to generate random matrices from the
    classical compact groups", 2007).
    """
    q, r = np.linalg.qr(gaussian)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    return np.ascontiguousarray(q * signs)
