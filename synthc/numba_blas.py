"""Numba's BLAS check without the import of SciPy's whole linear-algebra package.

The first time a process compiles a Numba kernel or loads one from the cache, Numba imports
``numba.np.arraymath``, which checks for a BLAS (for ``np.dot`` and the like, which synthc's
kernels never call) with ``import scipy.linalg.cython_blas`` when SciPy is installed. That
statement runs ``scipy/linalg/__init__.py`` first, which imports most of scipy.linalg: 0.1 to
0.45 s with SciPy 1.17 on a 2-core machine, in every build that runs a compiled kernel. The
module Numba asks for is one small extension module of its own: loaded by itself from its file,
as the import system would load it, it takes about 0.02 s, and Numba's import finds it in
``sys.modules``. Numba then makes the same check, against the same module.

Only synthc's own processes take this shortcut (synthc.own_process calls :func:`enable` in the
`synthc` command and the local executor's spawned workers), never a program that imports synthc
as a library, nor a Dask worker: in those, code that imports ``scipy.linalg`` later would not
find ``cython_blas`` as an attribute of the package until it imports it by name. Nothing is done
when scipy.linalg, this module or Numba's check is loaded already, when SciPy is not installed,
or when the file is not where SciPy keeps it; a module that fails to load is left to Numba's own
import.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import threading

NAME = "scipy.linalg.cython_blas"

_state = {"own": False}
_lock = threading.Lock()


def enable() -> None:
    """Let Numba's start in this process (synthc's own) load SciPy's BLAS module alone."""
    _state["own"] = True


def load_blas_alone() -> bool:
    """Before Numba starts, in synthc's own processes: load ``scipy.linalg.cython_blas`` by
    itself, without ``scipy.linalg``; True if it was loaded here."""
    if not _state["own"]:
        return False
    with _lock:
        if NAME in sys.modules or "scipy.linalg" in sys.modules:
            return False
        if "numba.np.arraymath" in sys.modules:  # Numba made its check already
            return False
        try:
            import scipy  # its package start (library paths, config); cheap in itself
        except ImportError:
            return False
        folders = list(getattr(scipy, "__path__", []))
        for folder in folders:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = os.path.join(folder, "linalg", "cython_blas" + suffix)
                if os.path.isfile(path):
                    return _load(path)
        return False


def _load(path: str) -> bool:
    spec = importlib.util.spec_from_file_location(NAME, path)
    if spec is None or spec.loader is None:
        return False
    try:
        module = importlib.util.module_from_spec(spec)
        sys.modules[NAME] = module
        spec.loader.exec_module(module)
    except Exception:  # noqa: BLE001 - Numba imports it its own way, and reports what fails
        sys.modules.pop(NAME, None)
        return False
    return True
