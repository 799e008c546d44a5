"""Whether a build will compile its generator's Numba kernels first, and the line that says so.

Numba compiles a kernel on its first call and caches it on disk (synthc.generators.jit picks
the cache directory). A build whose generator has no kernel in the cache would sit at 0 samples
while it compiles; the driver prints :func:`compile_notice` instead. The cache is judged by
numba's own index files, looked for where Numba writes them (synthc.generators.jit), so
deciding imports no Numba: none of the kernels the generator's package holds has one. For a
built-in kind that is read from the cache folder of its package's own folder, where every one
of its kernels is defined, without importing its kernel side (NumPy and the kernel modules,
0.2-0.4 s that a cold build's compile helper would wait for); a kind an installed package adds
is asked for its kernels (``Kernel.cache_index``). A partly warm cache (a config that calls a
kernel never compiled here) says nothing; so does a generator without kernels or a run with
NUMBA_DISABLE_JIT.
"""

from __future__ import annotations

import os
import sys

from synthc import generators
from synthc.generators.jit import INDEX_SUFFIX, Kernel, cache_folder, jit_disabled

#: seconds a cold compile took per generator kind with an empty NUMBA_CACHE_DIR, on a 2-core
#: machine (a one-worker build, cold minus warm: fractal_small.yaml; 100,000 rows of
#: swiss_roll.yaml and churn.yaml); rounded, since it is said as "about". 0: not worth a line
#: (OCR's two small kernels, used only by some distortions).
COMPILE_SECONDS = {"fractal": 5, "manifold": 3, "tabular": 4, "ocr_text": 0}


def compile_notice(kind: str) -> str | None:
    """The line to print before building ``kind`` when its kernels are not cached, else None."""
    seconds = COMPILE_SECONDS.get(kind)
    if seconds == 0 or jit_disabled():
        return None
    if kind in generators.KERNEL_SIDES:  # built in: every kernel in its package's folder
        if _any_index_in(cache_folder(_package_folder(kind))):
            return None
    else:
        kernels = _kernels(kind)
        if not kernels or any(os.path.isfile(kernel.cache_index()) for kernel in kernels):
            return None
    about = f", about {seconds} s" if seconds is not None else ""
    return f"compiling the {kind} kernels (first build on this machine{about})"


def _package_folder(kind: str) -> str:
    """The folder of ``kind``'s package, found without running its kernel side."""
    return os.path.dirname(
        os.path.abspath(sys.modules[type(generators.get(kind)).__module__].__file__ or "")
    )


def _any_index_in(folder: str) -> bool:
    """Whether ``folder`` holds a Numba cache index file of this Python's."""
    try:
        with os.scandir(folder) as entries:
            return any(entry.name.endswith(INDEX_SUFFIX) for entry in entries)
    except OSError:
        return False


def _kernels(kind: str) -> list[Kernel]:
    """The kernels in the modules of ``kind``'s package (its own and those its kernel side
    imports, which this imports)."""
    side = generators.kernel_side(kind)
    package = side.__package__ or side.__name__  # the generator's folder
    found: dict[int, Kernel] = {}
    for name, loaded in list(sys.modules.items()):
        if loaded is not None and (name == package or name.startswith(package + ".")):
            for value in vars(loaded).values():
                if isinstance(value, Kernel):
                    found[id(value)] = value
    return list(found.values())
