"""One BLAS thread in synthc's own processes.

NumPy's OpenBLAS starts a thread per core when NumPy is imported, and those threads spin for a
while after every call. synthc's kernels never call BLAS, and what planning solves with it (a
copula's correlation matrix, a rotation) has a few rows: the threads would only take CPU from
the workers and make the process multi-threaded, which keeps a cold build from forking its
compile helper (synthc.compile_ahead). It also takes the machine's core count out of what
planning computes with BLAS (how OpenBLAS splits a computation between threads can change its
last bits).

Only synthc's own processes (synthc.own_process) set it, before NumPy is imported; a user's own
``OPENBLAS_NUM_THREADS`` wins.
"""

from __future__ import annotations

import os

VARIABLE = "OPENBLAS_NUM_THREADS"


def one_blas_thread() -> None:
    """Ask OpenBLAS, when it is loaded later in this process or its children, for one thread
    (unless the user chose a number)."""
    os.environ.setdefault(VARIABLE, "1")
