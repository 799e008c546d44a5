"""Where kernels are cached when the usual place cannot be written: a batch job or a container
with no home, or a read-only one. Numba refused to compile (`cannot cache function ...: no
locator available`) when neither the cache directory nor the installed package's folder could
be written; synthc now caches in the temporary directory instead, and compiles without a cache
where nothing can be written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CODE = (
    "from synthc.generators.manifold import kernels\n"
    "kernels.standard_uniforms(5, 1, 2)\n"
    "from synthc.generators.jit import cache_writable, kernel_cache_dir\n"
    "print(kernel_cache_dir())\n"
    "print(cache_writable())\n"
)


def _run(env: dict[str, str]) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "NUMBA_CACHE_DIR")}
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, env={**base, **env}
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_a_home_that_cannot_be_written_caches_in_the_temporary_directory(tmp_path):
    home = tmp_path / "home"
    home.write_text("a file, not a directory: nothing can be made under it")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    where, writable = _run({"HOME": str(home), "TMPDIR": str(temporary)})
    assert writable == "True"
    assert Path(where).is_relative_to(temporary / f"synthc-{os.getuid()}" / "numba")
    assert list(Path(where).rglob("*.nbi"))  # the kernel is cached there


def test_a_cache_directory_that_cannot_be_written_compiles_without_a_cache(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file")
    where, writable = _run({"NUMBA_CACHE_DIR": str(blocked / "numba")})
    assert writable == "False"
    assert Path(where).is_relative_to(blocked)


def test_a_temporary_cache_open_to_others_is_not_used(tmp_path):
    """Numba loads what its cache holds: one that another user can write to is not used."""
    home = tmp_path / "home"
    home.write_text("a file")
    temporary = tmp_path / "tmp"
    (temporary / f"synthc-{os.getuid()}").mkdir(parents=True)
    (temporary / f"synthc-{os.getuid()}").chmod(0o777)
    _, writable = _run({"HOME": str(home), "TMPDIR": str(temporary)})
    assert writable == "False" and not list(temporary.rglob("*.nbi"))
