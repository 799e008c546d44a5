"""Codes of the distributions ``kernels.quantile`` inverts for the Gaussian copula: the column
models (config side) name theirs without importing the kernels or NumPy.

The numba kernels compile these values in, so this file names numba: the kernel cache key
(``synthc.generators.jit``) covers the files whose text does, and an edit here recompiles.
"""

from __future__ import annotations

Q_NORMAL, Q_UNIFORM, Q_LOGNORMAL, Q_EXPONENTIAL, Q_POISSON, Q_BINOMIAL, Q_BERNOULLI = range(7)
Q_INTEGER = 7  # uniform on span integers from low: integers, dates, timestamps
