"""Imported by worker servers so that forked workers start with Numba initialised.

Numba's first dispatch in a process initialises its target registries (about 0.4 s here); doing
it once in the forkserver saves it in every worker forked from there.
"""

from synthc.generators.jit import ngjit


@ngjit
def _noop(x):  # noqa: ANN001, ANN202
    return x + 1


_noop(1)
