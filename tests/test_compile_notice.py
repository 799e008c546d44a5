"""The compile notice finds Numba's cache index files without importing Numba."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import synthc.generators
from synthc.generators.jit import Kernel


def every_kernel() -> list[Kernel]:
    for info in pkgutil.walk_packages(synthc.generators.__path__, "synthc.generators."):
        importlib.import_module(info.name)
    found: dict[int, Kernel] = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("synthc.generators") and module is not None:
            for value in vars(module).values():
                if isinstance(value, Kernel):
                    found[id(value)] = value
    return list(found.values())


def test_the_index_path_is_where_numba_keeps_it():
    kernels = every_kernel()
    assert len(kernels) > 20
    for kernel in kernels:
        dispatcher = kernel.dispatcher()
        assert kernel.cache_index() == dispatcher._cache._cache_file._index_path, kernel.__name__


def test_deciding_the_notice_imports_no_numba(tmp_path):
    code = (
        "import sys\n"
        "from synthc.compile_notice import compile_notice\n"
        "print(compile_notice('manifold'), 'numba' in sys.modules)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.startswith("compiling the manifold kernels (first build on this machine")
    assert result.stdout.split()[-1] == "False"


PLAIN_THEN_COMPILED = """
import sys
from synthc.generators.jit import plain_python
from synthc.generators.manifold import facts, kernels
from synthc.generators.rng import derive_key

k0, k1 = derive_key(11, "manifold/rotation")
with plain_python():
    plain = [kernels.standard_normals(n, k0, k1) for n in (4, 100, 256)]
    uniforms = kernels.standard_uniforms(300, k0, k1)
    rotation = facts.random_rotation(11, 16)  # 256 draws: plain
print("numba" in sys.modules)
compiled = [kernels.standard_normals(n, k0, k1) for n in (4, 100, 256)]
same = [a.tobytes() == b.tobytes() for a, b in zip(plain, compiled)]
same.append(uniforms.tobytes() == kernels.standard_uniforms(300, k0, k1).tobytes())
facts.PLAIN_DRAWS = 0  # the same rotation from the compiled kernel
same.append(rotation.tobytes() == facts.random_rotation(11, 16).tobytes())
print(same)
"""


def test_kernels_run_as_plain_python_give_the_compiled_bits():
    """plain_python() runs kernels without starting Numba, with the bits Numba gives."""
    result = subprocess.run(
        [sys.executable, "-c", PLAIN_THEN_COMPILED], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["False", "[True, True, True, True, True]"]


DEADLINE_MISSED = """
import sys
from synthc.generators.jit import PlainTooSlow, plain_if_quick
from synthc.generators.manifold import kernels

def guarded(kernel):
    def compute():
        try:
            return kernel(50, 1, 2)
        except Exception:  # a generator's own error handling must not hide the deadline
            return None
    return compute

quick = plain_if_quick(guarded(kernels.standard_normals), 60.0)
print("numba" in sys.modules)
late = plain_if_quick(guarded(kernels.standard_uniforms), -1.0)  # due at once
print("numba" in sys.modules, issubclass(PlainTooSlow, Exception), late is not None)
same = late.tobytes() == kernels.standard_uniforms(50, 1, 2).tobytes()
print(same, quick.tobytes() == kernels.standard_normals(50, 1, 2).tobytes())
"""


def test_plain_if_quick_makes_compiled_what_misses_its_deadline():
    """Within its deadline a computation runs as plain Python (no Numba); a kernel called
    after it raises PlainTooSlow, which no ``except Exception`` swallows, and the computation
    is made again compiled. Both give the compiled bits."""
    result = subprocess.run(
        [sys.executable, "-c", DEADLINE_MISSED], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == ["False", "True False True", "True True"]


def test_each_built_in_kind_keeps_its_kernels_in_its_package_folder():
    """The notice of a built-in kind looks in one cache folder: every kernel of the kind's
    package (the kind's own, not the shared RNG's) keeps its index there."""
    from synthc import compile_notice, generators

    kernels = every_kernel()
    for kind in generators.KERNEL_SIDES:
        folder = os.path.dirname(os.path.abspath(generators.kernel_side(kind).__file__ or ""))
        own = [k for k in kernels if os.path.dirname(k.py_func.__code__.co_filename) == folder]
        assert own, kind
        expected = compile_notice.cache_folder(compile_notice._package_folder(kind))
        assert {os.path.dirname(k.cache_index()) for k in own} == {expected}, kind


def test_deciding_the_notice_imports_no_numpy_and_follows_the_cache(tmp_path):
    """For each built-in kind with kernels, the notice is said on an empty cache and not once
    one of the kind's kernels is cached, and deciding imports neither NumPy nor the kernels."""
    code = (
        "import sys\n"
        "from synthc.compile_notice import compile_notice\n"
        "for kind in ('fractal', 'manifold', 'tabular'):\n"
        "    print(kind, compile_notice(kind) is not None, 'numpy' in sys.modules)\n"
        "from synthc.generators.manifold import kernels\n"
        "kernels.standard_uniforms(5, 1, 2)\n"  # compiles one manifold kernel into the cache
        "print('manifold', compile_notice('manifold') is not None)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert result.stdout.splitlines() == [
        "fractal True False",
        "manifold True False",
        "tabular True False",
        "manifold False",
    ]


def test_an_index_of_another_python_leaves_the_kind_cold(tmp_path, monkeypatch):
    """Two Pythons may share a cache directory: only this one's index files count."""
    from synthc import compile_notice
    from synthc.generators.jit import INDEX_SUFFIX, _cache_choice

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    _cache_choice.cache_clear()  # it is read once per process: here, this test's
    try:
        folder = Path(compile_notice.cache_folder(compile_notice._package_folder("manifold")))
        folder.mkdir(parents=True)
        (folder / "kernels.embed_and_noise-10.py27.nbi").touch()
        assert compile_notice.compile_notice("manifold") is not None
        (folder / f"kernels.embed_and_noise-10{INDEX_SUFFIX}").touch()
        assert compile_notice.compile_notice("manifold") is None
    finally:
        _cache_choice.cache_clear()  # the next test reads its own
