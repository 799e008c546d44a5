"""The compile notice finds Numba's cache index files without importing Numba."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys

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
