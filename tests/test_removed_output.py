"""An output directory removed, or locked by another build, is said to be: what to do next."""

from __future__ import annotations

import shutil

from conftest import spec_text

from synthc.dir_target import DirectoryTarget
from synthc.outputs.state import build_lock


def test_an_output_removed_mid_build_is_named_as_removed(tmp_path, write_spec, cli, monkeypatch):
    spec = write_spec(spec_text(samples=1000, shard_size=100))
    out = tmp_path / "out"
    record = DirectoryTarget.record_shard
    calls = []

    def remove_then_record(self, state, shard):
        calls.append(shard)
        if len(calls) == 3:  # `rm -rf out` while the build runs
            shutil.rmtree(out)
        record(self, state, shard)

    monkeypatch.setattr(DirectoryTarget, "record_shard", remove_then_record)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1
    assert "was removed while the build wrote it; rerun the build" in err
    assert "Dask" not in err
    assert "Traceback" not in err


def test_a_second_build_of_a_directory_says_to_rerun_once_the_first_finished(
    tmp_path, write_spec, cli
):
    spec, out = write_spec(spec_text(samples=100)), tmp_path / "out"
    out.mkdir()
    with build_lock(out):  # the first build, still running
        code, _, err = cli("build", spec, "-o", out)
    assert code == 2
    assert "another synthc build is writing this directory; rerun once it has finished" in err
    assert cli("build", spec, "-o", out)[0] == 0
