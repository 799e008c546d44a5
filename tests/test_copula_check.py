"""The copula's plain-Python positive-definiteness check agrees with eigh wherever it answers."""

from __future__ import annotations

import numpy as np

from synthc.generators.tabular.copula import (
    CLEAR_COLUMNS,
    clearly_positive_definite,
    correlation_matrix,
    not_positive_definite,
)


def correlations(rng: np.random.Generator, k: int, scale: float) -> dict[str, dict[str, float]]:
    """Random correlations among k columns, each drawn in (-scale, scale)."""
    names = [f"c{i}" for i in range(k)]
    return {
        a: {b: float(rng.uniform(-scale, scale)) for b in names[i + 1 :]}
        for i, a in enumerate(names)
    }


def test_a_matrix_passed_without_numpy_is_passed_by_eigh():
    rng = np.random.default_rng(7)
    clear = judged = 0
    for _ in range(1500):
        k = int(rng.integers(2, 13))
        correlation = correlations(rng, k, float(rng.choice([0.3, 0.6, 0.95])))
        names = [f"c{i}" for i in range(k)]
        bad = not_positive_definite(correlation_matrix(names, correlation))
        if clearly_positive_definite(names, correlation):
            clear += 1
            assert bad is None, correlation
        else:
            judged += 1
    assert clear > 300 and judged > 300  # both ways taken


def test_matrices_near_the_limit_are_left_to_eigh():
    names = ["x", "y"]
    for r in (1 - 1e-7, 1 - 1e-10, 1 - 1e-12):  # eigenvalue 1 - r: below the margin
        correlation = {"x": {"y": r}}
        assert not clearly_positive_definite(names, correlation)
    assert not_positive_definite(correlation_matrix(names, {"x": {"y": 1 - 1e-12}})) is not None
    assert not_positive_definite(correlation_matrix(names, {"x": {"y": 1 - 1e-7}})) is None


def test_large_matrices_are_left_to_eigh():
    names = [f"c{i}" for i in range(CLEAR_COLUMNS + 1)]
    assert not clearly_positive_definite(names, {})
    assert clearly_positive_definite(names[:CLEAR_COLUMNS], {})
