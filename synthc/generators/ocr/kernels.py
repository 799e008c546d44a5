"""Numba kernels of the OCR generator: moving pixel columns and rows for distortion."""

from __future__ import annotations

import numpy as np

from synthc.generators.jit import ngjit


@ngjit
def shift_columns(pixels: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    """out[y + offsets[x], x] = pixels[y, x] (``out`` zeroed, taller by max(offsets))."""
    h, w, c = pixels.shape
    for y in range(h):
        for x in range(w):
            for k in range(c):
                out[y + offsets[x], x, k] = pixels[y, x, k]


@ngjit
def shift_rows(pixels: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
    """out[y, x + offsets[y]] = pixels[y, x] (``out`` zeroed, wider by max(offsets))."""
    h, w, c = pixels.shape
    for y in range(h):
        d = offsets[y]
        for x in range(w):
            for k in range(c):
                out[y, x + d, k] = pixels[y, x, k]
