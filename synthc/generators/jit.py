"""The one place that decides how synthc compiles kernels with Numba.

Every kernel uses these aliases so the flags are uniform: `cache=True` keeps the compile cost out
of warm starts, `nogil=True` lets threads overlap kernels with I/O, and `fastmath` stays off
because it would make results depend on the compiler's reassociation choices. It also holds the
64-bit wrapping arithmetic (`add64`, `mul64`) that gives kernels the compiled results when they
run as plain Python (NUMBA_DISABLE_JIT=1).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
from pathlib import Path

import numba
import numpy as np


def _kernel_cache_dir() -> str:
    """A Numba cache directory keyed by the source of every kernel module.

    Numba invalidates a cached kernel only when the kernel's own file changes, not when a kernel
    it calls (say the RNG in another file) does; a stale cache would silently produce other
    bytes. Keying the directory on every generator module that defines or calls kernels makes
    any such edit a fresh cache, while edits elsewhere (configs, orchestration) keep it.
    """
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        source = path.read_bytes()
        if b"ngjit" in source or b"numba" in source:  # kernel modules only: editing a config
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + source)
    user_dir = os.environ.get("NUMBA_CACHE_DIR")
    base = user_dir or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "synthc", "numba"
    )
    current = os.path.join(base, digest.hexdigest()[:16])
    if not user_dir:
        _prune(Path(base), Path(current))
    return current


#: cache directories of other kernel versions are removed once unused for this long
STALE_SECONDS = 30 * 24 * 3600
_CACHE_NAME = re.compile(r"^[0-9a-f]{16}$")


def _prune(base: Path, current: Path) -> None:
    """Mark ``current`` as used and remove synthc's own stale sibling caches (older kernel
    sources, unused for STALE_SECONDS); a directory the user chose is never touched."""
    with contextlib.suppress(OSError):
        current.mkdir(parents=True, exist_ok=True)
        os.utime(current)
        cutoff = time.time() - STALE_SECONDS
        for entry in base.iterdir():
            ours = entry != current and _CACHE_NAME.match(entry.name) and entry.is_dir()
            if ours and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)


# CACHE_DIR is created by numba.config's environment reader, out of mypy's sight
numba.config.CACHE_DIR = _kernel_cache_dir()  # type: ignore[attr-defined]

#: An integer argument of a kernel: a Python int, or a NumPy integer (an array element, a cast).
Int = int | np.integer

#: A serial, cached, GIL-free kernel.
ngjit = numba.njit(cache=True, nogil=True, fastmath=False)

#: NUMBA_DISABLE_JIT=1: every kernel runs as plain Python (CI reruns the kernel tests that way).
JIT_DISABLED = bool(numba.config.DISABLE_JIT)  # type: ignore[attr-defined]  # as CACHE_DIR

# 64-bit integer arithmetic that wraps around. Compiled uint64 arithmetic wraps silently; plain
# NumPy uint64 scalars wrap too but warn (an error under the test suite), so without the compiler
# the same sums and products are taken in Python integers and masked to 64 bits.
_MASK64 = (1 << 64) - 1

if JIT_DISABLED:

    def add64(a: np.uint64, b: np.uint64) -> np.uint64:
        """``a + b`` modulo 2**64."""
        return np.uint64((int(a) + int(b)) & _MASK64)

    def mul64(a: np.uint64, b: np.uint64) -> np.uint64:
        """``a * b`` modulo 2**64."""
        return np.uint64((int(a) * int(b)) & _MASK64)

else:

    @ngjit
    def add64(a: np.uint64, b: np.uint64) -> np.uint64:
        """``a + b`` modulo 2**64."""
        return a + b

    @ngjit
    def mul64(a: np.uint64, b: np.uint64) -> np.uint64:
        """``a * b`` modulo 2**64."""
        return a * b
