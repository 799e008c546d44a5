"""The Dask executor: the same plan on a Dask cluster (started here, on loopback) gives the same
bytes as a local build."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import loopback_cluster, spec_text

from synthc import api
from synthc.errors import UsageError
from synthc.executors.dask import DaskExecutor


@pytest.fixture(scope="module")
def scheduler():
    with loopback_cluster(2) as address:
        yield address


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def test_a_dask_build_equals_a_local_build(scheduler, cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=20_000, shard_size=2_000))
    code, stdout, stderr = cli("build", spec, "-o", tmp_path / "dask", "--scheduler", scheduler)
    assert code == 0, stderr
    assert "built 10 shard(s)" in stdout
    local = api.build(spec, tmp_path / "local", workers=1)
    assert tree(tmp_path / "dask") == tree(local.out)
    build = api.load_manifest(tmp_path / "dask")["build"]
    assert build["executor"] == "dask" and build["workers"] == 2
    api.verify(tmp_path / "dask")
    # an unchanged spec is up to date whichever executor built it
    code, stdout, _ = cli("build", spec, "-o", tmp_path / "dask", "--scheduler", scheduler)
    assert code == 0 and "up to date" in stdout


def test_an_unreachable_scheduler_is_a_usage_error(write_spec, tmp_path):
    spec = write_spec(spec_text(samples=100, shard_size=50))
    executor = DaskExecutor("tcp://127.0.0.1:9", timeout=1)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        api.build(spec, tmp_path / "out", executor=executor)


def test_workers_and_scheduler_do_not_mix(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=100, shard_size=50))
    code, _, stderr = cli("build", spec, "--workers", "2", "--scheduler", "tcp://127.0.0.1:9")
    assert code == 2 and "a Dask cluster has its own workers" in stderr


def test_workers_find_the_files_a_spec_names_beside_it(scheduler, cli, tmp_path):
    # The cluster's worker processes started before this spec was compiled: the spec's read
    # roots travel with its tasks, as the output directory does.
    import shutil

    from synthc.generators.ocr.resources import trdg_root

    specs = tmp_path / "specs"
    specs.mkdir()
    font = sorted((trdg_root() / "fonts" / "latin").glob("*.ttf"))[0]
    shutil.copy(font, specs / "mine.ttf")
    (specs / "words.txt").write_text("alpha\nbeta\ngamma\n")
    spec = specs / "spec.yaml"
    spec.write_text(
        "synthc: 1\nname: beside\nseed: 3\nsamples: 6\n"
        "generator:\n  kind: ocr_text\n"
        "  text: {source: file, path: words.txt}\n"
        "  fonts: {paths: [mine.ttf]}\n"
        "  background: {kinds: [plain]}\n"
        "output: {shard_size: 2}\n"
    )
    code, _, stderr = cli("build", spec, "-o", tmp_path / "dask", "--scheduler", scheduler)
    assert code == 0, stderr
    local = api.build(spec, tmp_path / "local", workers=1)
    tars = {
        p.relative_to(tmp_path / "dask"): p.read_bytes() for p in (tmp_path / "dask").rglob("*.tar")
    }
    assert tars and tars == {
        p.relative_to(local.out): p.read_bytes() for p in local.out.rglob("*.tar")
    }
