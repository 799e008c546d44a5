"""synthc's own processes (the `synthc` command, the local executor's spawned workers) let
Numba check for SciPy's BLAS without importing scipy.linalg (synthc.numba_blas): the same
module, loaded alone, which Numba's compiled BLAS calls then use; a program that imports synthc
keeps the usual import, and the shards are the same bytes either way.

Each case runs in a fresh interpreter, where nothing has imported SciPy or Numba yet."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# a manifold too big for plain-Python kernels (synthc.plain_first): the build loads Numba
SPEC = """\
synthc: 1
name: blas
seed: 3
samples: 20000
generator: {kind: manifold, shape: swiss_roll, noise: 0.1}
output: {shard_size: 10000}
"""

# Runs ``{call}``, then reports what it loaded, and checks Numba's BLAS works: np.dot of two
# matrices is compiled to a call into scipy.linalg.cython_blas's dgemm.
PROBE = textwrap.dedent(
    """
    import json, sys
    {call}
    import numpy as np
    import numba
    import numba.np.arraymath as arraymath

    product = numba.njit(lambda a, b: np.dot(a, b))
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4)
    print(json.dumps({{
        "linalg": "scipy.linalg" in sys.modules,
        "blas": "scipy.linalg.cython_blas" in sys.modules,
        "have_blas": bool(arraymath._HAVE_BLAS),
        "dot": bool(np.array_equal(product(a, b), a @ b)),
    }}))
    """
)


def _probe(call: str, *args: str) -> dict[str, bool]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(call=call), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _shards(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*.parquet"))
    }


def _command(spec: Path, out: Path) -> str:
    # main() without argv, as the `synthc` command calls it; the probe runs after it returns
    return (
        f"sys.argv = ['synthc', 'build', {str(spec)!r}, '-o', {str(out)!r}, '-q', "
        "'--workers', '1']\n"
        "from synthc.cli import main\n"
        "assert main() == 0"
    )


def test_the_command_loads_the_blas_module_alone_and_writes_the_same_bytes(tmp_path):
    spec = tmp_path / "blas.yaml"
    spec.write_text(SPEC)
    alone = _probe(_command(spec, tmp_path / "command"))
    assert alone == {"linalg": False, "blas": True, "have_blas": True, "dot": True}
    library = _probe(
        "from synthc.cli import main\n"
        f"assert main(['build', {str(spec)!r}, '-o', {str(tmp_path / 'library')!r}, '-q'])"
        " == 0"
    )
    assert library == {"linalg": True, "blas": True, "have_blas": True, "dot": True}
    shards = _shards(tmp_path / "command")
    assert len(shards) == 2 and shards == _shards(tmp_path / "library")


def test_spawned_workers_load_it_alone():
    call = (
        "from synthc.executors import local\n"
        "local._worker_init()\n"
        "from synthc.generators.jit import _numba\n"
        "_numba()"
    )
    assert _probe(call) == {"linalg": False, "blas": True, "have_blas": True, "dot": True}


def test_a_program_importing_synthc_keeps_the_usual_import():
    call = "from synthc.generators.jit import _numba\n_numba()"
    assert _probe(call) == {"linalg": True, "blas": True, "have_blas": True, "dot": True}


def test_nothing_is_done_once_scipy_linalg_is_loaded():
    call = (
        "import scipy.linalg\n"
        "from synthc import numba_blas\n"
        "numba_blas.enable()\n"
        "assert not numba_blas.load_blas_alone()"
    )
    assert _probe(call)["linalg"] is True


def test_without_scipy_nothing_is_loaded():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['scipy'] = None\n"  # import scipy raises ImportError
            "from synthc import numba_blas\n"
            "numba_blas.enable()\n"
            "print(numba_blas.load_blas_alone(), 'scipy.linalg.cython_blas' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
