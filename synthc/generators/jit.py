"""The one place that decides how synthc compiles kernels with Numba.

Every kernel uses these aliases so the flags are uniform: `cache=True` keeps the compile cost out
of warm starts, `nogil=True` lets threads overlap kernels with I/O, and `fastmath` stays off
because it would make results depend on the compiler's reassociation choices.
"""

from __future__ import annotations

import numba

#: A serial, cached, GIL-free kernel.
ngjit = numba.njit(cache=True, nogil=True, fastmath=False)

#: A kernel whose loops may use `numba.prange`.
ngjit_parallel = numba.njit(cache=True, nogil=True, fastmath=False, parallel=True)
