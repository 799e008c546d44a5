"""Shared test helpers: write specs into tmp dirs, run the CLI in-process or as users do."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthc.cli import main

ROOT = Path(__file__).resolve().parents[1]


def spec_text(
    *,
    name: str = "tiny",
    samples: int = 1000,
    shard_size: int = 300,
    generator: str = "kind: manifold\n  shape: swiss_roll\n  noise: 0.05",
    splits: str = "{train: 0.8, test: 0.2}",
    seed: int = 7,
) -> str:
    """A small valid spec."""
    return (
        "synthc: 1\n"
        f"name: {name}\n"
        'version: "1.0.0"\n'
        "description: a tiny test dataset\n"
        f"seed: {seed}\n"
        f"samples: {samples}\n"
        f"splits: {splits}\n"
        "generator:\n"
        f"  {generator}\n"
        "output:\n"
        "  format: parquet\n"
        f"  shard_size: {shard_size}\n"
    )


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write spec text to ``tmp_path/<name>`` and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def built(cli, write_spec, tmp_path):
    """A tiny manifold spec (1,000 samples, shards of 300) built into ``tmp_path/out``;
    returns (spec, out)."""
    spec = write_spec(spec_text(samples=1000, shard_size=300))
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0, err
    return spec, out


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """Run ``synthc ARGS`` in this process; return (exit code, stdout, stderr)."""

    def run(*args: str | Path) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def run_synthc(*args: str | Path, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``synthc`` console script as a user would."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    exe = Path(sys.executable).with_name("synthc")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "synthc"]
    return subprocess.run(
        [*command, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, **kwargs
    )


@contextlib.contextmanager
def loopback_cluster(workers: int) -> Iterator[str]:
    """A Dask scheduler and ``workers`` worker processes on loopback (the LocalCluster that
    `--executor dask` starts, which also gives this process its environment back); yields its
    address."""
    from synthc.executors.dask import _local_cluster

    with _local_cluster(workers) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server on loopback for the module, with the AWS variables pointing at it."""
    from store_servers import moto_s3

    with moto_s3(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_server: str) -> str:
    """A fresh bucket on the module's S3 server; its name."""
    import s3fs
    from store_servers import fresh_bucket

    return fresh_bucket(s3fs.S3FileSystem())
