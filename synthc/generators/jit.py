"""The one place that decides how synthc compiles kernels with Numba.

Every kernel uses the decorator ``ngjit`` so the flags are uniform: `cache=True` keeps the
compile cost out of warm starts, `nogil=True` lets threads overlap kernels with I/O, and
`fastmath` stays off because it would make results depend on the compiler's reassociation
choices. It also holds the 64-bit wrapping arithmetic (`add64`, `mul64`) that gives kernels the
compiled results when they run as plain Python (NUMBA_DISABLE_JIT=1). Numba itself is imported
only when a kernel is first used (:class:`Kernel`), so commands that run no kernel
(``synthc validate``) never load it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from synthc import cache_files, numba_cache_lock, numba_start
from synthc.numba_blas import load_blas_alone

if TYPE_CHECKING:
    import numpy as np


def kernel_cache_dir() -> str:
    """A Numba cache directory keyed by the source of every kernel module.

    Numba invalidates a cached kernel only when the kernel's own file changes, not when a kernel
    it calls (say the RNG in another file) does; a stale cache would silently produce other
    bytes. Keying the directory on every generator module that defines or calls kernels makes
    any such edit a fresh cache, while edits elsewhere (configs, orchestration) keep it.
    NUMBA_CACHE_DIR, else XDG_CACHE_HOME or ``~/.cache``, else (no home, or a read-only one:
    a batch job, a container) a private folder in the temporary directory.
    """
    return _cache_choice()[0]


def cache_writable() -> bool:
    """Whether kernels can be cached in :func:`kernel_cache_dir`; else they are compiled without
    a cache (Numba refused to compile with ``cache=True`` where it could write nowhere)."""
    return _cache_choice()[1]


@functools.cache
def _cache_choice() -> tuple[str, bool]:
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        source = path.read_bytes()
        if b"ngjit" in source or b"numba" in source:  # kernel modules only: editing a config
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + source)
    key = digest.hexdigest()[:16]
    user_dir = os.environ.get("NUMBA_CACHE_DIR")
    if user_dir:  # the user's choice, used as it is
        return os.path.join(user_dir, key), _writable(os.path.join(user_dir, key))
    home = cache_files.cache_home()
    if home is not None:
        base = os.path.join(home, "synthc", "numba")
        current = os.path.join(base, key)
        _prune(Path(base), Path(current))
        if _writable(current):
            return current, True
    own = cache_files.own_temporary_dir()
    if own is not None and _writable(os.path.join(own, "numba", key)):
        return os.path.join(own, "numba", key), True
    return os.path.join(own or tempfile.gettempdir(), "numba", key), False


def _writable(directory: str) -> bool:
    """Whether a file can be made in ``directory`` (made if missing)."""
    try:
        os.makedirs(directory, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=directory, prefix=".synthc-probe-")
    except OSError:
        return False
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return True


#: how the names of Numba's cache index files for this Python end
INDEX_SUFFIX = f".py{sys.version_info[0]}{sys.version_info[1]}{getattr(sys, 'abiflags', '')}.nbi"


def cache_folder(source_folder: str) -> str:
    """The folder of the kernel cache where Numba keeps the entries of kernels defined in
    modules of ``source_folder`` (an absolute path): its locator for a chosen cache directory
    names it ``<folder name>_<sha1 of the folder path>``."""
    subpath = (
        os.path.basename(source_folder) + "_" + hashlib.sha1(source_folder.encode()).hexdigest()
    )
    return os.path.join(kernel_cache_dir(), subpath)


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


#: An integer argument of a kernel: a Python int, or a NumPy integer (an array element, a cast).
#: A string, so that importing this module (``compile_notice`` does) imports no NumPy.
Int: TypeAlias = "int | np.integer"


@functools.cache
def _numba() -> Any:
    """Numba, imported when the first kernel is first used, with synthc's cache directory."""
    load_blas_alone()  # in synthc's own processes: without scipy.linalg's package import
    import numba

    numba_cache_lock.install()  # processes that compile at once neither cross nor repeat
    # CACHE_DIR is created by numba.config's environment reader, out of mypy's sight
    numba.config.CACHE_DIR = kernel_cache_dir()  # type: ignore[attr-defined]
    return numba


def jit_disabled() -> bool:
    """Whether NUMBA_DISABLE_JIT asks for plain Python, read as Numba reads it (an integer)."""
    try:
        return int(os.environ.get("NUMBA_DISABLE_JIT", "0")) != 0
    except ValueError:  # Numba warns and keeps its default
        return False


#: per thread: whether kernels not yet made run as plain Python (:func:`plain_python`), and
#: the ``time.monotonic()`` by which they must be done (:func:`plain_if_quick`)
_PLAIN = threading.local()

R = TypeVar("R")


class PlainTooSlow(BaseException):
    """Kernels run as plain Python passed their deadline (:func:`plain_if_quick`). A
    BaseException, so that no ``except Exception`` on the way turns it into another error."""


@contextlib.contextmanager
def plain_python(deadline: float | None = None) -> Iterator[None]:
    """Run the kernels called in this block (and those they call) as plain Python, as under
    NUMBA_DISABLE_JIT and with the same results, unless Numba has already made them: a small
    computation (a manifold's 10 x 10 rotation) then never starts Numba, whose start costs
    about half a second. Only this thread is affected. ``deadline`` (``time.monotonic()``): a
    kernel called after it raises PlainTooSlow; a block inside keeps the outer deadline."""
    before = getattr(_PLAIN, "on", False), getattr(_PLAIN, "deadline", None)
    _PLAIN.on = True
    if deadline is not None:
        _PLAIN.deadline = deadline
    try:
        yield
    finally:
        _PLAIN.on, _PLAIN.deadline = before


def plain_if_quick(
    compute: Callable[[], R],
    seconds: float = 0.0,
    *,
    deadline: float | None = None,
    on_compiled: Callable[[], None] = lambda: None,
) -> R:
    """``compute()`` with its kernels as plain Python if that is done within ``seconds`` (a
    row or two: no Numba start at all), or by ``deadline`` (``time.monotonic()``) when given,
    else ``compute()`` again with compiled kernels, after calling ``on_compiled``. Both give
    the same bits; ``compute`` must keep no state from an attempt that is cut short."""
    try:
        with plain_python(time.monotonic() + seconds if deadline is None else deadline):
            return compute()
    except PlainTooSlow:
        on_compiled()
        return compute()


class Kernel:
    """A serial, cached, GIL-free Numba kernel, made on its first use.

    Importing a module of kernels imports no Numba: the dispatcher is made (and Numba imported)
    when the kernel is first called or when a kernel that calls it is compiled (Numba types it
    through ``_numba_type_``), and each signature is compiled, or loaded from the cache, on its
    first call. So a build compiles and loads only the kernels its spec's modes call. With
    NUMBA_DISABLE_JIT=1 the kernel runs as plain Python (``plain``, where given, instead).
    """

    def __init__(self, function: Callable[..., Any], plain: Callable[..., Any] | None = None):
        functools.update_wrapper(self, function)
        self.py_func = function
        self._plain = plain
        self._made: Any = None

    def dispatcher(self) -> Any:
        """The Numba dispatcher (the plain function when NUMBA_DISABLE_JIT is set). Threads
        that race here make equal dispatchers, one of which is kept: no lock is held while
        Numba, which takes its own, compiles."""
        made = self._made
        if made is None:
            numba = _numba()
            if numba.config.DISABLE_JIT:
                made = self._plain or self.py_func
            else:
                cache = cache_writable()
                made = numba.njit(cache=cache, nogil=True, fastmath=False)(self.py_func)
            self._made = made
        return made

    @property
    def _numba_type_(self) -> Any:
        from numba.core import types

        return types.Dispatcher(self.dispatcher())

    def cache_index(self) -> str:
        """The path of the index file Numba's cache keeps for this kernel once it is compiled,
        found without importing Numba: Numba's cache locator for a chosen cache directory puts
        it in ``CACHE_DIR/<folder>_<sha1 of the folder>/<file>.<qualname>-<line>.py<version>.nbi``.
        """
        source = os.path.abspath(self.py_func.__code__.co_filename)
        stem = os.path.splitext(os.path.basename(source))[0]
        name = self.py_func.__qualname__.replace("<", "").replace(">", "")
        line = self.py_func.__code__.co_firstlineno
        index = f"{stem}.{name}-{line}{INDEX_SUFFIX}"
        return os.path.join(cache_folder(os.path.dirname(source)), index)

    def compile_for(self, signature: str) -> None:
        """Compile (or load from the cache) this kernel for the argument types ``signature``
        (Numba's syntax, e.g. ``"(f8[:, ::1], i8)"``); nothing under NUMBA_DISABLE_JIT."""
        made = self.dispatcher()
        if hasattr(made, "typeof_pyval"):  # a Numba dispatcher, not the plain function
            from numba.core.sigutils import normalize_signature

            # as a tuple of types, as a call compiles it: Numba keys its cache on what
            # compile() is given, so the string would be cached under another key
            args, _ = normalize_signature(signature)
            made.compile(tuple(args))

    def __call__(self, *args: Any) -> Any:
        made = self._made
        if made is None:
            if getattr(_PLAIN, "on", False):
                deadline = getattr(_PLAIN, "deadline", None)
                if deadline is not None and time.monotonic() > deadline:
                    raise PlainTooSlow(self.py_func.__qualname__)
                return (self._plain or self.py_func)(*args)
            made = _timed_start(self, args) if not _STARTED else self.dispatcher()
        return made(*args)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_kernel_named, (self.__module__, self.py_func.__qualname__))


#: set once this process has made its first kernel (whose start :func:`_timed_start` times)
_STARTED: list[bool] = []


def _timed_start(kernel: Kernel, args: tuple[Any, ...]) -> Any:
    """``kernel``'s dispatcher, made ready for ``args``: the first kernel this process makes,
    so Numba starts here. When that kernel comes from Numba's cache, the seconds from Numba's
    import to the loaded kernel are this machine's start (synthc.numba_start records it)."""
    _STARTED.append(True)
    begun = time.monotonic()
    importing = "numba" not in sys.modules  # else a program loaded it: its import is not timed
    made = kernel.dispatcher()
    if not hasattr(made, "typeof_pyval"):  # plain Python (NUMBA_DISABLE_JIT)
        return made
    try:
        made.compile(tuple(made.typeof_pyval(arg) for arg in args))
    except Exception:  # noqa: BLE001 - the call that follows raises it where it belongs
        return made
    stats = made.stats
    if importing and stats.cache_hits and not stats.cache_misses:
        numba_start.record(kernel_cache_dir(), time.monotonic() - begun)
    return made


def _kernel_named(module: str, name: str) -> Kernel:
    kernel: Kernel = getattr(importlib.import_module(module), name)
    return kernel


def ngjit(function: Callable[..., Any]) -> Kernel:
    """The decorator of every kernel (see :class:`Kernel`)."""
    return Kernel(function)


# 64-bit integer arithmetic that wraps around. Compiled uint64 arithmetic wraps silently; plain
# NumPy uint64 scalars wrap too but warn (an error under the test suite), so without the compiler
# the same sums and products are taken in Python integers and masked to 64 bits.
_MASK64 = (1 << 64) - 1


def _add64_plain(a: np.uint64, b: np.uint64) -> np.uint64:
    import numpy as np

    return np.uint64((int(a) + int(b)) & _MASK64)


def _mul64_plain(a: np.uint64, b: np.uint64) -> np.uint64:
    import numpy as np

    return np.uint64((int(a) * int(b)) & _MASK64)


@functools.partial(Kernel, plain=_add64_plain)
def add64(a: np.uint64, b: np.uint64) -> np.uint64:
    """``a + b`` modulo 2**64."""
    return a + b


@functools.partial(Kernel, plain=_mul64_plain)
def mul64(a: np.uint64, b: np.uint64) -> np.uint64:
    """``a * b`` modulo 2**64."""
    return a * b
