"""An output directory is untrusted: its state and manifest never lead synthc outside it."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import spec_text

from synthc import api, limits
from synthc.outputs.state import STATE_DIR, STATE_FILE

STATE = Path(STATE_DIR) / STATE_FILE


def one_line(err: str) -> str:
    """The single line of an error report (and proof that there is exactly one), besides the
    note a build on a cold Numba cache gives first (its kernels compile before the output is
    judged: the generator's facts run them)."""
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if not COMPILING.match(line)]
    assert len(lines) == 1, err
    return lines[0]


#: the note of a build whose kernels are not in the Numba cache yet
COMPILING = re.compile(r"synthc: compiling the \w+ kernels \(first build on this machine")


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every file below ``out``."""
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def built(cli, write_spec, tmp_path):
    """A tiny spec built into tmp_path/out; returns (spec, out)."""
    spec = write_spec(spec_text(samples=600, shard_size=300))
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0, err
    return spec, out


def edit_state(out: Path, edit) -> None:
    state = json.loads((out / STATE).read_text())
    edit(state)
    (out / STATE).write_text(json.dumps(state))


def plant_entry(out: Path, where: str, name: str) -> None:
    """Add an entry named ``name`` to the state's ``where`` ("shards", "files" or "building")."""
    record = {**any_shard_record(out), "path": name}

    def plant(state):
        if where == "shards":
            state["shards"][name] = record
        elif where == "building":
            state.setdefault("building", []).append(name)
        else:
            state["files"][name] = "0" * 64

    edit_state(out, plant)


def any_shard_record(out: Path) -> dict:
    state = json.loads((out / STATE).read_text())
    return dict(next(iter(state["shards"].values())))


# -- 1. paths in the state are confined ------------------------------------------------------


@pytest.mark.parametrize("where", ["shards", "files", "building"])
@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "loop", "backslash"])
def test_state_entries_outside_the_output_are_refused_never_deleted(
    built, cli, tmp_path, where, kind
):
    spec, out = built
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("precious")
    name = {
        "dotdot": "../outside/victim.txt",
        "absolute": str(victim),
        "symlink": "link/victim.txt",
        "loop": "loop/victim.txt",
        "backslash": "..\\outside\\victim.txt",
    }[kind]
    if kind == "symlink":
        (out / "link").symlink_to(outside)
    if kind == "loop":
        (out / "loop").symlink_to("loop")
    plant_entry(out, where, name)
    before = snapshot(out)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    line = one_line(err)
    assert code == 1
    assert repr(name) in line and "state.json" in line
    assert "remove" not in line  # never advises deleting a directory
    assert victim.read_text() == "precious"
    assert snapshot(out) == before  # not a byte written


def test_a_bad_state_is_set_aside_by_force_and_still_nothing_outside_is_touched(
    built, cli, tmp_path
):
    spec, out = built
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    edit_state(out, lambda s: s["shards"].update({"../victim.txt": any_shard_record(out)}))
    code, stdout, err = cli("build", spec, "-o", out, "--workers", "1", "--force")
    assert code == 0, err
    assert "set aside" in err and "Traceback" not in err
    assert victim.read_text() == "precious"
    assert "../victim.txt" not in (out / STATE).read_text()
    assert cli("verify", out)[0] == 0


@pytest.mark.parametrize("where", ["shards", "files", "building"])
@pytest.mark.parametrize("name", [".synthc/state.json", ".synthc/x", ".SYNTHC/lock"])
def test_state_entries_in_synthcs_own_folder_are_refused(built, cli, where, name):
    # a planted entry there was deleted as a shard "no longer in the plan": on a store, the
    # build's own lock went, and a second build ran beside it
    spec, out = built
    plant_entry(out, where, name)
    before = snapshot(out)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and err.count("\n") == 1, err
    assert repr(name) in err and "holds synthc's own state and lock" in err
    assert snapshot(out) == before


@pytest.mark.parametrize(
    "content, words",
    [
        ("[]", "is a list"),
        ('{"format": "synthc-state/1", "files": {}}', "'shards' and 'files'"),
        ('{"format": "synthc-state/1", "shards": [], "files": {}}', "'shards' and 'files'"),
        ('{"format": "synthc-state/1", "shards": {"tr', "not valid JSON"),
        ('{"format": "synthc-state/1", "shards": {"a/b": 3}, "files": {}}', "shards.a/b"),
        ('{"format": "synthc-state/1", "shards": {}, "files": {"x": 1}}', "files.x"),
        ('"state"', "is a str"),
        (
            '{"format": "synthc-state/1", "shards": {}, "files": {}, "building": "a/b.tar"}',
            "building must be a list",
        ),
        (
            '{"format": "synthc-state/1", "shards": {}, "files": {}, "building": ["spec.yaml"]}',
            "is not a shard file",
        ),
    ],
)
def test_malformed_state_is_one_line_error_and_deletes_nothing(built, cli, content, words):
    spec, out = built
    (out / STATE).write_text(content)
    before = snapshot(out)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    line = one_line(err)
    assert code == 1 and words in line and "state.json" in line
    assert "--force" in line and "remove" not in line
    assert snapshot(out) == before


def test_a_fifo_state_is_refused_without_blocking(built, cli):
    spec, out = built
    (out / STATE).unlink()
    os.mkfifo(out / STATE)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and "is not a regular file" in one_line(err)


def test_shard_entry_with_wrong_types_is_refused(built, cli):
    spec, out = built
    edit_state(out, lambda s: next(iter(s["shards"].values())).update(bytes="12"))
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and ".bytes: must be int" in one_line(err)


@pytest.mark.parametrize("count", [-7, 2**63])
def test_shard_stats_that_are_no_counts_are_refused(built, cli, count):
    """A kept shard's stats go into the manifest's generator.stats: a planted state or manifest
    holding a negative or oversized count is refused, not summed into the dataset's record."""
    spec, out = built
    edit_state(out, lambda s: next(iter(s["shards"].values())).update(stats={"redrawn": count}))
    (out / "manifest.json").unlink()
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and ".stats: must map names to counts from 0 below 2**63" in one_line(err)
    assert not (out / "manifest.json").exists()


def test_a_manifest_shard_stat_that_is_no_count_fails_verify(built, cli):
    spec, out = built
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["splits"]["train"]["shards"][0]["stats"] = {"redrawn": -7}
    (out / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = cli("verify", out)
    assert code == 1 and "shards[0].stats: must map names to counts" in err


def test_inputs_in_the_output_are_refused_only_where_the_build_writes(cli, tmp_path):
    """A dataset kept with its spec and other files (a dataset repository built in place)
    builds, from its spec copy too; a file the spec reads that the build writes is refused
    before anything changes."""
    (tmp_path / "noise.yaml").write_text("0.05")
    text = spec_text(samples=60, shard_size=30).replace(
        "noise: 0.05", "noise: {% include 'noise.yaml' %}"
    )
    (tmp_path / "dataset.yaml").write_text(text)
    for spec in ("dataset.yaml", "spec.yaml"):
        code, _, err = cli("build", tmp_path / spec, "-o", tmp_path, "--workers", "1", "--force")
        assert code == 0, err
    (tmp_path / "other.yaml").write_text(text.replace("'noise.yaml'", "'README.md'"))
    (tmp_path / "README.md").write_text("0.05")
    before = snapshot(tmp_path)
    code, _, err = cli("build", tmp_path / "other.yaml", "-o", tmp_path, "--workers", "1")
    assert code == 2 and one_line(err) == (
        f"synthc: error: {tmp_path}: holds README.md, a file the spec reads (template), which "
        "this build writes: copy it out of the output directory and name the copy, or build "
        "into another directory with -o"
    )
    assert snapshot(tmp_path) == before


def test_a_state_folder_that_is_a_file_is_named_for_what_it_is(built, cli):
    """build said '.synthc: cannot create: File exists', and plan -o advised a --force that
    could not help."""
    spec, out = built
    shutil.rmtree(out / STATE_DIR)
    (out / STATE_DIR).write_text("not a folder")
    before = snapshot(out)
    expected = (
        f"synthc: error: {out / STATE_DIR}: is a file, where synthc keeps its build state in a "
        "folder; synthc changed nothing (nor would --force): removing or renaming it is yours "
        "to decide, or choose another directory with -o"
    )
    for command in (("build",), ("build", "--force"), ("plan",)):
        code, _, err = cli(*command, spec, "-o", out)
        assert (code, one_line(err)) == (1, expected), command
    assert snapshot(out) == before


def test_state_size_is_bounded_before_parsing(built, cli, monkeypatch):
    spec, out = built
    monkeypatch.setattr(limits, "MAX_STATE_BYTES", 64)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and "MAX_STATE_BYTES" in one_line(err)


def test_a_symlinked_state_directory_is_refused(built, cli, tmp_path):
    spec, out = built
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / STATE_DIR, elsewhere)
    (out / STATE_DIR).symlink_to(elsewhere)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and "symlink" in one_line(err)


def test_a_symlinked_split_folder_is_never_written_through(built, cli, tmp_path):
    spec, out = built
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(out / STATE_DIR)
    shutil.rmtree(out / "test")
    (out / "test").symlink_to(outside)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1", "--force")
    assert code == 1 and "leaves the output directory" in one_line(err)
    assert list(outside.iterdir()) == []


# -- 2. recovery when the state is lost --------------------------------------------------------


def test_lost_state_is_rebuilt_from_a_verifying_manifest_writing_only_the_state(built, cli):
    spec, out = built
    state = json.loads((out / STATE).read_text())
    shutil.rmtree(out / STATE_DIR)
    before = snapshot(out)
    code, stdout, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0, err
    assert "up to date" in stdout and "rebuilt it from manifest.json" in err
    assert snapshot(out) == {**before, str(STATE): snapshot(out)[str(STATE)]}
    recovered = json.loads((out / STATE).read_text())
    assert recovered["shards"] == state["shards"]
    assert recovered["files"] == state["files"]
    # ... and the next build is an ordinary no-op.
    again = snapshot(out)
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    assert snapshot(out) == again


def test_lost_state_and_a_bad_manifest_lists_what_force_would_take_over(built, cli):
    spec, out = built
    shutil.rmtree(out / STATE_DIR)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["content_sha256"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    line = one_line(err)
    assert code == 2
    assert "take over 8 file(s)" in line and "train/train-00000.parquet" in line
    assert "--force" in line and "notes.txt" not in line and "remove" not in line
    assert snapshot(out) == before
    code, _, err = cli("build", spec, "-o", out, "--workers", "1", "--force")
    assert code == 0, err
    assert "took over 8 file(s)" in err and "left alone" in err
    assert (out / "notes.txt").read_text() == "mine"
    assert cli("verify", out)[0] == 0
    assert "notes.txt" not in (out / STATE).read_text()


def test_a_foreign_directory_without_force_lists_the_files_in_bounds(cli, write_spec, tmp_path):
    spec = write_spec(spec_text(samples=3000, shard_size=100))
    out = tmp_path / "mine"
    (out / "train").mkdir(parents=True)
    for i in range(24):
        (out / "train" / f"train-{i:05d}.parquet").write_text("mine")
    code, _, err = cli("build", spec, "-o", out)
    line = one_line(err)
    assert code == 2 and "take over 24 file(s)" in line and "and 14 more" in line
    assert not (out / STATE_DIR).exists()


@pytest.mark.parametrize("name", ["file:out", "s3:out", "hf:data"])
def test_a_directory_whose_name_has_a_colon_is_built_verified_and_opened(
    cli, write_spec, tmp_path, monkeypatch, name
):
    # polars reads a relative "file:out/x.parquet" as a URL (/out/x.parquet): the build wrote
    # its shards, then failed drawing the preview, and every rerun failed the same way
    import synthc

    spec = write_spec(spec_text(samples=600, shard_size=300))
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("build", spec, "-o", name, "--workers", "1")
    assert code == 0, err
    assert (tmp_path / name / "preview.png").is_file()
    assert cli("verify", name)[0] == 0
    assert len(synthc.open(name)["train"].lazy().collect()) == 480
    assert cli("build", spec, "-o", name)[0] == 0  # and up to date


# -- 4. bad -o and read-only file systems -------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["under_a_file", "proc", "sys", "dev", "shm_escape", "dangling", "is_a_file",
             "symlink_loop"]
)  # fmt: skip
def test_bad_output_paths_are_one_line_usage_errors(cli, write_spec, tmp_path, kind):
    spec = write_spec(spec_text(samples=200, shard_size=100))
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    if kind == "dangling":
        (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    if kind == "symlink_loop":
        (tmp_path / "loop").symlink_to("loop")
    out = {
        "under_a_file": plain / "out",
        "proc": Path("/proc/synthc-test/out"),
        "sys": Path("/sys/synthc-test"),
        "dev": Path("/dev/synthc-test"),
        "shm_escape": Path("/dev/shm/../synthc-test"),
        "dangling": tmp_path / "dangling",
        "is_a_file": plain,
        "symlink_loop": tmp_path / "loop",
    }[kind]
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    line = one_line(err)
    assert code == 2 and str(out) in line
    assert plain.read_text() == "x" and not (tmp_path / "nowhere").exists()


def test_an_output_in_shared_memory_builds(cli, write_spec):
    """/dev/shm is an ordinary tmpfs, a common fast scratch place: it was refused as "under
    /dev, a kernel file system"."""
    spec = write_spec(spec_text(samples=200, shard_size=100))
    out = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="synthc-test-"))
    try:
        code, _, err = cli("build", spec, "-o", out / "out", "--workers", "1")
        assert code == 0, err
        api.verify(out / "out")
    finally:
        shutil.rmtree(out)


def test_an_output_directory_that_cannot_be_created_is_a_usage_error(
    cli, write_spec, tmp_path, monkeypatch
):
    spec = write_spec(spec_text(samples=200, shard_size=100))

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "mkdir", refuse)
    code, _, err = cli("build", spec, "-o", tmp_path / "new", "--workers", "1")
    assert code == 2 and "Read-only file system" in one_line(err)


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def test_noop_rebuild_calls_no_write_syscall(built, cli, monkeypatch):
    """Every write-ish call under the output raises EROFS; the no-op rebuild makes none."""
    import builtins
    import io

    spec, out = built
    root = str(out.resolve())
    calls: list[str] = []

    def under(path) -> bool:
        if isinstance(path, int):
            return False  # a descriptor already open: its opening was checked
        return str(Path(os.fspath(path)).resolve()).startswith(root)

    def guard(name, real, flagged=None):
        def wrapper(*args, **kwargs):
            hit = under(args[0]) if name != "open" else under(args[0]) and flagged(args, kwargs)
            if hit:
                calls.append(f"{name} {args[0]}")
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(args[0]))
            return real(*args, **kwargs)

        return wrapper

    def os_open_writes(args, kwargs):
        flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
        return bool(flags & _WRITE_FLAGS)

    def open_writes(args, kwargs):
        mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
        return any(c in mode for c in "wax+")

    for name in ("mkdir", "rmdir", "unlink", "remove", "replace", "rename", "utime", "chmod"):
        monkeypatch.setattr(os, name, guard(name, getattr(os, name)))
    monkeypatch.setattr(os, "open", guard("open", os.open, os_open_writes))
    monkeypatch.setattr(builtins, "open", guard("open", builtins.open, open_writes))
    monkeypatch.setattr(io, "open", guard("open", io.open, open_writes))
    before = snapshot(out)
    code, stdout, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0 and "up to date" in stdout, err
    assert calls == []
    assert snapshot(out) == before
    # The guard does bite: a build that must write fails with one line, exit 1.
    monkeypatch.undo()
    (out / "README.md").unlink()
    for name in ("mkdir", "unlink", "replace"):
        monkeypatch.setattr(os, name, guard(name, getattr(os, name)))
    monkeypatch.setattr(builtins, "open", guard("open", builtins.open, open_writes))
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and "Read-only file system" in one_line(err)
    assert calls


def _read_only_mount_works(path: Path) -> bool:
    probe = (
        subprocess.run(
            [
                "unshare",
                "--user",
                "--map-root-user",
                "--mount",
                "sh",
                "-c",
                f"mount --bind '{path}' '{path}' && mount -o remount,bind,ro '{path}'",
            ],
            capture_output=True,
        )
        if shutil.which("unshare")
        else None
    )
    return probe is not None and probe.returncode == 0


def test_noop_rebuild_on_a_read_only_mount_succeeds_and_a_real_one_fails_cleanly(built, tmp_path):
    spec, out = built
    # util-linux's unshare with user namespaces makes a real read-only mount; a machine without
    # it fails here rather than hide a skip (the monkeypatched test above covers the logic)
    assert _read_only_mount_works(out), "needs `unshare --user --mount` for a read-only mount"
    synthc = Path(sys.executable).with_name("synthc")

    def build_read_only(*extra: str) -> subprocess.CompletedProcess:
        script = (
            f"mount --bind '{out}' '{out}' && mount -o remount,bind,ro '{out}' && "
            f"exec '{synthc}' build '{spec}' -o '{out}' --workers 1 {' '.join(extra)}"
        )
        return subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
            capture_output=True,
            text=True,
        )

    before = snapshot(out)
    result = build_read_only()
    assert result.returncode == 0 and "up to date" in result.stdout, result.stderr
    assert snapshot(out) == before
    result = build_read_only("--force")
    assert result.returncode == 1 and "Read-only file system" in one_line(result.stderr)
    assert snapshot(out) == before


def test_a_foreign_directory_with_none_of_synthcs_names_writes_beside_them_with_force(
    cli, write_spec, tmp_path
):
    spec = write_spec(spec_text(samples=200, shard_size=100))
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, _, err = cli("build", spec, "-o", out)
    assert code == 2 and "none of its files are synthc's names" in err
    assert "take over 0" not in err and not (out / STATE_DIR).exists()
    code, _, err = cli("build", spec, "-o", out, "--force")
    assert code == 0, err
    assert (out / "notes.txt").read_text() == "mine" and (out / "manifest.json").is_file()


def test_a_state_of_too_many_json_values_is_refused_before_parsing(built, cli, monkeypatch):
    """As a manifest's: the state's values are counted before it is parsed
    (synthc.limits.MAX_JSON_VALUES; lowered here), and nothing is written."""
    spec, out = built
    state = json.loads((out / STATE).read_text())
    state["padding"] = [[] for _ in range(6_000)]
    (out / STATE).write_text(json.dumps(state))
    monkeypatch.setattr(limits, "MAX_JSON_VALUES", 5_000)
    before = snapshot(out)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1 and "JSON values, over the limit of 5,000" in one_line(err)
    assert snapshot(out) == before


# -- 3. state entries and temporaries that would break the output for good --------------------


def _manifest_kept(out: Path, code: int, err: str, words: str) -> None:
    assert code == 1 and words in one_line(err)
    assert (out / "manifest.json").is_file()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("train", "'train' is not a shard file in a split's folder"),
        ("people/train", "'people/train' is not a shard file in a split's folder"),
        (f"train/{'a' * 300}.parquet", "a path part longer than 255 bytes"),
    ],
)
def test_a_shard_entry_that_is_no_shard_file_is_refused_and_force_recovers(built, cli, name, words):
    # a shard entry naming the split's folder made every build (even --force) fail with
    # 'Is a directory' after it had deleted the manifest; a 300-character name, with
    # 'File name too long'
    spec, out = built
    record = {**any_shard_record(out), "path": name, "split": "train"}
    edit_state(out, lambda state: state["shards"].__setitem__(name, record))
    before = snapshot(out)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    _manifest_kept(out, code, err, words)
    assert snapshot(out) == before
    code, _, err = cli("build", spec, "-o", out, "--workers", "1", "--force")
    assert code == 0, err
    assert "set aside (--force)" in err and cli("verify", out)[0] == 0


def test_a_directory_at_a_temporarys_name_is_named_before_the_manifest_is_retracted(built, cli):
    spec, out = built
    partial = out / "train" / "train-00000.parquet.partial"
    partial.mkdir()
    (partial / "x").touch()
    (out / "train" / "train-00001.parquet").touch()  # changed: the build has work to do
    for force in ((), ("--force",)):
        code, _, err = cli("build", spec, "-o", out, "--workers", "1", *force)
        _manifest_kept(out, code, err, f"{partial}: is a directory, not a temporary synthc")
    assert (partial / "x").exists()
    shutil.rmtree(partial)
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    assert cli("verify", out)[0] == 0


@pytest.mark.parametrize(
    ("name", "kind", "named", "what"),
    [
        ("train/train-00001.parquet", "dir", "train/train-00001.parquet", "is a directory"),
        ("train/train-00001.parquet", "fifo", "train/train-00001.parquet", "is a FIFO"),
        ("test", "file", "test", "is a file, where this build writes into a folder"),
        ("README.md", "dir", "README.md", "is a directory"),
        ("spec.yaml", "dir", "spec.yaml", "is a directory"),
        ("preview.png", "dir", "preview.png", "is a directory"),
        ("manifest.json", "dir", "manifest.json", "is a directory"),
    ],
)
def test_something_in_the_way_of_a_file_the_build_writes_is_named_before_the_manifest_goes(
    built, cli, name, kind, named, what
):
    # a folder where a shard goes failed the build only once the manifest was retracted (the
    # output lost its manifest, every rerun failed alike); a FIFO there was replaced
    spec, out = built
    manifest = (out / "manifest.json").read_bytes()
    path = out / name
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    if kind == "dir":
        path.mkdir()
        (path / "yours").touch()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_text("yours")
    for force in ((), ("--force",)):
        code, _, err = cli("build", spec, "-o", out, "--workers", "1", *force)
        line = one_line(err)
        assert code == 1 and line.startswith(f"synthc: error: {out / named}: {what}"), line
        assert "remove it yourself and rebuild (the dataset is unchanged)" in line
        if name != "manifest.json":
            assert (out / "manifest.json").read_bytes() == manifest
    assert (path / "yours").exists() if kind == "dir" else path.exists()
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    assert cli("verify", out)[0] == 0


def test_a_folder_in_place_of_a_shard_to_remove_is_left_alone(built, cli):
    spec, out = built
    name = "train/train-00009.parquet"  # a shard the plan no longer has
    plant_entry(out, "shards", name)
    (out / name).mkdir()
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 0, err
    assert (out / name).is_dir() and name not in (out / STATE).read_text()


def test_a_lost_state_beside_a_huge_listed_file_is_not_rebuilt_by_hashing_it(
    built, cli, monkeypatch
):
    # recovering the state hashed every file the manifest lists: a sparse 50 GB README.md
    # took minutes; a file larger than a manifest may be is not synthc's
    from synthc.outputs import verify

    monkeypatch.setattr(verify, "handle_sha256", _small_files_only(verify.handle_sha256))
    spec, out = built
    shutil.rmtree(out / STATE_DIR)
    os.truncate(out / "README.md", 50 << 30)
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 2 and "no verifying manifest.json" in one_line(err)


def _small_files_only(sha256):
    def hashed(handle):
        assert os.fstat(handle.fileno()).st_size < limits.MAX_MANIFEST_BYTES
        return sha256(handle)

    return hashed
