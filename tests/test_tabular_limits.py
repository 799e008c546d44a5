"""Extreme parameters of tabular columns: the kernels give the same values compiled and as plain
Python, and parameters whose values would overflow are spec errors at their field."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from synthc.generators import jit, rng
from synthc.generators.tabular import kernels


def plain_and_compiled(
    run: Callable[[], list[np.ndarray]], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``run()`` with every tabular kernel as plain Python (even those this process compiled
    already), then compiled."""
    with monkeypatch.context() as patch:
        for module in (kernels, rng, jit):
            for kernel in vars(module).values():
                if isinstance(kernel, jit.Kernel):
                    patch.setattr(kernel, "_made", None)
        with jit.plain_python():
            plain = run()
    return plain, run()


def test_an_overflowing_exp_is_inf_compiled_and_as_plain_python(monkeypatch):
    def run() -> list[np.ndarray]:
        out = [np.empty(64) for _ in range(3)]
        kernels.lognormal(0, 3, 5, 709.0, 1.0, out[0])
        kernels.lognormal_rows(0, 3, 5, np.linspace(700.0, 1000.0, 64), np.ones(64), out[1])
        z = np.linspace(-20.0, 20.0, 64)
        kernels.quantile(kernels.Q_LOGNORMAL, np.array([700.0, 1.0]), z, out[2])
        return out

    # Python's math.exp raised OverflowError where compiled exp gives inf
    plain, compiled = plain_and_compiled(run, monkeypatch)
    for a, b in zip(plain, compiled, strict=True):
        assert np.isinf(b).any() and np.isfinite(b).any()
        assert a.tobytes() == b.tobytes()
