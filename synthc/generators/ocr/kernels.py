"""Numba kernels of the OCR generator: moving pixel columns and rows for distortion."""

from __future__ import annotations

from synthc.generators.jit import ngjit


@ngjit
def shift_columns(pixels, offsets, out):
    """out[y + offsets[x], x] = pixels[y, x] (``out`` zeroed, taller by max(offsets))."""
    h, w, c = pixels.shape
    for y in range(h):
        for x in range(w):
            for k in range(c):
                out[y + offsets[x], x, k] = pixels[y, x, k]


@ngjit
def shift_rows(pixels, offsets, out):
    """out[y, x + offsets[y]] = pixels[y, x] (``out`` zeroed, wider by max(offsets))."""
    h, w, c = pixels.shape
    for y in range(h):
        d = offsets[y]
        for x in range(w):
            for k in range(c):
                out[y, x + d, k] = pixels[y, x, k]
