"""End to end: build a spec, read it as users do, rebuild it as make would."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
from conftest import spec_text

from synthc import api
from synthc.errors import SpecError, UsageError
from synthc.outputs.state import STATE_DIR


def mtimes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_build_writes_shards_manifest_card_and_spec(built):
    spec, out = built
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dataset"] == {
        "name": "tiny",
        "version": "1.0.0",
        "description": "a tiny test dataset",
    }
    assert manifest["seed"] == 7 and manifest["samples"] == 1000
    assert manifest["splits"]["train"]["samples"] == 800
    assert [s["path"] for s in manifest["splits"]["train"]["shards"]] == [
        f"train/train-0000{i}.parquet" for i in range(3)
    ]
    assert manifest["splits"]["test"]["range"] == [800, 1000]
    assert {"numpy", "numba", "polars", "python"} <= set(manifest["libraries"])
    names = [c["name"] for c in manifest["schema"]["columns"]]
    assert names[:4] == ["index", "x0", "x1", "x2"] and {"clean_x0", "u0", "u1"} <= set(names)
    assert all(c["description"] for c in manifest["schema"]["columns"])
    assert (out / "spec.yaml").read_text() == spec.read_text()
    assert "shape: swiss_roll" in (out / "spec.rendered.yaml").read_text()
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "- train/train-00000.parquet" in card
    assert (out / "preview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_shards_read_with_pyarrow_and_polars(built):
    _, out = built
    manifest = api.load_manifest(out)
    table = pq.read_table(out / "train" / "train-00001.parquet")
    assert table.num_rows == 300
    assert table.column("index").to_pylist() == list(range(300, 600))
    frame = pl.read_parquet(out / "train" / "*.parquet")
    assert frame.height == 800 and frame["index"].to_list() == list(range(800))
    assert [c["name"] for c in manifest["schema"]["columns"]] == frame.columns
    assert frame.schema["x0"] == pl.Float64 and frame.schema["index"] == pl.Int64
    test = pl.read_parquet(out / "test" / "test-00000.parquet")
    assert test["index"].min() == 800 and test.height == 200
    # Observed = clean + noise: the difference is the noise, with the spec's std.
    noise = (frame["x0"] - frame["clean_x0"]).to_numpy()
    assert 0.03 < noise.std() < 0.07


def test_verify_passes_then_names_a_corrupt_and_a_missing_shard(built, cli):
    _, out = built
    code, stdout, _ = cli("verify", out)
    assert code == 0 and "ok" in stdout
    shard = out / "train" / "train-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    (out / "test" / "test-00000.parquet").unlink()
    code, _, stderr = cli("verify", out)
    assert code == 1
    assert "train/train-00001.parquet: sha256" in stderr
    assert "test/test-00000.parquet: missing" in stderr


def test_unchanged_rebuild_touches_nothing(built, cli):
    spec, out = built
    before = mtimes(out)
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "up to date" in stdout
    assert mtimes(out) == before


def test_changed_spec_rebuilds_only_changed_shards_and_removes_stale(built, cli, write_spec):
    spec, out = built
    # Counts instead of fractions with the same boundaries: all keys but the test shard's stay.
    write_spec(spec_text(samples=1000, shard_size=300, splits="{train: 800, test: 200}"))
    before = mtimes(out)
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "built 0 shard(s), kept 4" in stdout
    after = mtimes(out)
    for i in range(3):
        name = f"train/train-0000{i}.parquet"
        assert after[name] == before[name]
    # Fewer samples: train shrinks to two shards; the third is removed, the test shard rebuilt.
    write_spec(spec_text(samples=750, shard_size=300, splits="{train: 600, test: 150}"))
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "built 1 shard(s), kept 2, removed 1" in stdout
    assert not (out / "train" / "train-00002.parquet").exists()
    assert mtimes(out)["train/train-00000.parquet"] == before["train/train-00000.parquet"]
    assert api.verify(out) == 3  # shards checked: train 2, test 1
    assert api.load_manifest(out)["samples"] == 750


def test_force_rebuilds_every_shard_with_identical_bytes(built, cli):
    spec, out = built
    before = {p: (out / p).read_bytes() for p in mtimes(out) if p.endswith(".parquet")}
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1", "--force")
    assert code == 0 and "built 4 shard(s)" in stdout
    assert before == {p: (out / p).read_bytes() for p in before}


def test_tampered_shard_is_rebuilt(built, cli):
    spec, out = built
    shard = out / "train" / "train-00000.parquet"
    good = shard.read_bytes()
    shard.write_bytes(b"garbage")
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "built 1 shard(s), kept 3" in stdout
    assert shard.read_bytes() == good


def test_refuses_foreign_directory_and_never_deletes_foreign_files(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=600, shard_size=300))
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    code, _, stderr = cli("build", spec, "-o", foreign)
    assert code == 2 and "not a synthc output" in stderr
    assert sorted(os.listdir(foreign)) == ["thesis.tex"]

    out = tmp_path / "out"
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    (out / "notes.txt").write_text("mine")
    (out / "train" / "train-00009.parquet").write_text("not synthc's")
    write_spec(spec_text(samples=300, shard_size=300, splits="{train: 1.0}"))
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "removed 2" in stdout
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "train" / "train-00009.parquet").read_text() == "not synthc's"
    assert not (out / "test").exists()


def test_dry_run_writes_nothing(cli, write_spec, tmp_path):
    spec = write_spec(spec_text())
    out = tmp_path / "out"
    code, stdout, _ = cli("build", spec, "-o", out, "--dry-run")
    assert code == 0 and "would build 4 shard(s)" in stdout
    assert not out.exists()


def test_default_output_is_outputs_slash_name(cli, write_spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = write_spec(spec_text(name="named-set", samples=200, shard_size=100))
    code, stdout, _ = cli("build", spec, "--workers", "1")
    assert code == 0
    assert (tmp_path / "outputs" / "named-set" / "manifest.json").is_file()
    assert (tmp_path / "outputs" / "named-set" / STATE_DIR).is_dir()


def test_vars_override_template_defaults(cli, tmp_path):
    spec = Path(__file__).parents[1] / "specs" / "swiss_roll.yaml"
    out = tmp_path / "out"
    code, _, err = cli(
        "build",
        spec,
        "-o",
        out,
        "--workers",
        "1",
        "--var",
        "samples=2000",
        "--var",
        "shard_size=1000",
    )
    assert code == 0, err
    manifest = api.load_manifest(out)
    assert manifest["samples"] == 2000
    assert manifest["spec"]["vars"] == {"samples": 2000, "shard_size": 1000}
    x = pl.read_parquet(out / "train" / "*.parquet")["x1"].to_numpy()
    assert np.all((x > -1) & (x < 22))


def test_the_card_escapes_control_characters_and_keeps_cells_whole(write_spec, tmp_path):
    """A spec's strings reach README.md escaped: a description made with YAML escapes
    (``"\\e[2J"``) cannot clear the terminal of someone printing the card, a category value
    with ``|`` stays in its table cell, and a version is one printable line."""
    spec = write_spec(
        "synthc: 1\nname: card\nversion: '1.0'\n"
        'description: "line one\\nred \\e[31mtext\\e[0m \\u2028 end"\n'
        "seed: 1\nsamples: 10\n"
        "generator:\n  kind: tabular\n  columns:\n"
        '    d: {dist: categorical, values: ["x|y", "\\e[2Jz"]}\n'
    )
    out = api.build(spec, tmp_path / "out", workers=1).out
    card = (out / "README.md").read_text()
    assert "\x1b" not in card and "\u2028" not in card
    assert "line one\nred \\x1b[31mtext\\x1b[0m \\u2028 end" in card
    (row,) = [line for line in card.splitlines() if line.startswith("| `d` |")]
    assert row.count(" | ") == 2 and "x\\|y" in row  # three cells: the | is escaped
    bad = write_spec(
        'synthc: 1\nname: v\nversion: "1.0\\n---"\nseed: 1\nsamples: 10\n'
        "generator: {kind: manifold, shape: moons}\n",
        "v.yaml",
    )
    with pytest.raises(SpecError, match="version: must be one line of printable text"):
        api.validate(bad)


def replace_keeping_stat(path: Path, data: bytes) -> None:
    """Put ``data`` in ``path`` and give it back its mtime (as ``cp -p`` or ``rsync -a`` do)."""
    before = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_shard_replaced_with_its_size_and_time_is_rebuilt_before_a_new_manifest(
    cli, write_spec, tmp_path
):
    # kept on size and mtime, its state entry's sha256 went into the new manifest: the
    # manifest said a sha256 that the bytes on disk did not have (verify failed on it)
    spec = write_spec(spec_text(samples=4300, shard_size=2000, splits="{train: 4000, test: 300}"))
    out = tmp_path / "out"
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    shard = out / "test" / "test-00000.parquet"  # not read by the preview (4000 samples)
    good = shard.read_bytes()
    damaged = bytearray(good)
    damaged[100] ^= 0xFF
    replace_keeping_stat(shard, bytes(damaged))
    (out / "manifest.json").unlink()
    code, stdout, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "built 1 shard(s), kept 2" in stdout, err
    assert (
        "1 kept shard(s) do not hold the bytes the build state records for them (their size "
        "and time match, their sha256 does not); rebuilding them: test/test-00000.parquet"
    ) in err
    assert shard.read_bytes() == good
    assert api.verify(out) == 3


def test_a_planted_state_entry_for_another_shards_bytes_is_rebuilt(built, cli):
    # the state is untrusted: an entry with the size and mtime of other bytes kept them
    spec, out = built
    shard, other = out / "train" / "train-00002.parquet", out / "test" / "test-00000.parquet"
    good = shard.read_bytes()
    shard.write_bytes(other.read_bytes())  # 200 samples of the same columns: a shard still
    state_file = out / STATE_DIR / "state.json"
    state = json.loads(state_file.read_text())
    entry = state["shards"]["train/train-00002.parquet"]
    entry.update(bytes=shard.stat().st_size, mtime_ns=shard.stat().st_mtime_ns)
    state_file.write_text(json.dumps(state))
    (out / "manifest.json").unlink()
    code, stdout, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "built 1 shard(s), kept 3" in stdout, err
    assert "rebuilding them: train/train-00002.parquet" in err
    assert shard.read_bytes() == good
    assert api.verify(out) == 4


def test_an_up_to_date_rebuild_hashes_no_shard(built, cli, monkeypatch):
    # up to date is judged by size and mtime alone: the manifest is left as it is, not
    # rewritten, so no shard is read
    from synthc.dir_target import DirectoryTarget

    def hashing(*args):
        raise AssertionError("an up-to-date build hashed its shards")

    monkeypatch.setattr(DirectoryTarget, "replaced_shards", hashing)
    spec, out = built
    code, stdout, _ = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "up to date" in stdout


def test_a_manifest_rewrite_hashes_only_shards_changed_or_moved_since_they_were_hashed(
    built, cli, monkeypatch, tmp_path
):
    # the shards this machine wrote, untouched since (change time and inode as recorded), are
    # not read again; a copy elsewhere (other inodes, as an unpacked download) is hashed once
    import synthc.dir_target

    hashed: list[str] = []
    real = synthc.dir_target.handle_sha256

    def counting(handle):
        hashed.append(handle.name)
        return real(handle)

    monkeypatch.setattr(synthc.dir_target, "handle_sha256", counting)
    spec, out = built
    (out / "manifest.json").unlink()
    code, stdout, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "built 0 shard(s), kept 4" in stdout, err
    assert hashed == []

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)  # copy2: mtimes kept, change times and inodes new
    (copy / "manifest.json").unlink()
    code, stdout, err = cli("build", spec, "-o", copy, "--workers", "1")
    assert code == 0 and "built 0 shard(s), kept 4" in stdout, err
    assert len(hashed) == 4
    (copy / "manifest.json").unlink()
    code, stdout, err = cli("build", spec, "-o", copy, "--workers", "1")
    assert code == 0 and "kept 4" in stdout and len(hashed) == 4, err  # known since
    assert api.verify(copy) == 4


class Refusing:
    """An executor that fails before any task runs, as Dask does on a version mismatch or an
    unreachable scheduler, or as a Ctrl-C there."""

    name = "dask"
    workers = 1

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def run(self, fn, items, where, read_roots, gil_free=False, report=None):
        raise self.error
        yield  # a generator, as executors are


@pytest.mark.parametrize("error", [UsageError("version mismatch"), KeyboardInterrupt()])
def test_a_first_build_that_fails_before_any_shard_leaves_nothing(write_spec, tmp_path, error):
    # it left new/out/.synthc/state.json (and the folders) behind
    spec = write_spec(spec_text(samples=100, shard_size=50))
    with pytest.raises(type(error)):
        api.build(spec, tmp_path / "new" / "out", executor=Refusing(error))
    assert not (tmp_path / "new").exists()
    # an output that was there keeps its state and files
    out = api.build(spec, tmp_path / "out", workers=1).out
    (out / "train" / "train-00000.parquet").unlink()
    before = sorted(p.name for p in out.rglob("*"))
    with pytest.raises(type(error)):
        api.build(spec, out, executor=Refusing(error))
    assert sorted(p.name for p in out.rglob("*") if p.name != "manifest.json") == [
        name for name in before if name != "manifest.json"
    ]
    assert (out / STATE_DIR / "state.json").exists()


class PlacingThenFailing(Refusing):
    """An executor whose worker put a shard in place before the build failed, its result not
    yet back (a Dask worker's, at a Ctrl-C): ``where`` is the output it writes into."""

    def run(self, fn, items, where, read_roots, gil_free=False, report=None):
        train = Path(where) / "train"
        train.mkdir(parents=True, exist_ok=True)
        (train / "train-00000.parquet").write_bytes(b"a shard")
        (Path(where) / "val").mkdir()  # and a split folder with nothing in it yet
        raise self.error
        yield


def test_a_failed_first_build_keeps_its_state_when_a_shard_was_put_in_place(write_spec, tmp_path):
    """Its state stays (the next build adopts the output, and rebuilds the shard it never
    recorded); with only empty split folders made, they go with the state."""
    spec = write_spec(spec_text(samples=100, shard_size=50))
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        api.build(spec, out, executor=PlacingThenFailing(KeyboardInterrupt()))
    assert (out / STATE_DIR / "state.json").exists()
    rebuilt = api.build(spec, out, workers=1)
    assert rebuilt.built == len(rebuilt.plan.tasks) == api.verify(out)


class PutsOneThenFails:
    """Puts its first shard in place, then fails before handing it back (a Dask batch cut
    short): the shard is there, unrecorded."""

    name = "dask"
    workers = 1

    def run(self, fn, items, where, read_roots, gil_free=False, report=None):
        fn(items[0], where, read_roots)
        raise UsageError("version mismatch")
        yield


def test_a_first_build_that_put_a_shard_keeps_its_state(write_spec, tmp_path):
    # the next build refused the directory: "not empty and not a synthc output"
    spec = write_spec(spec_text(samples=100, shard_size=50))
    with pytest.raises(UsageError):
        api.build(spec, tmp_path / "out", executor=PutsOneThenFails())
    assert (tmp_path / "out" / STATE_DIR / "state.json").exists()
    result = api.build(spec, tmp_path / "out", workers=1)
    assert result.built == len(result.plan.tasks)
