"""synthc sample / api.sample: one sample alone, byte for byte the built one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from small_datasets import FILE_KINDS, KINDS, TABLE_KINDS, build, parquet_rows, shard_paths
from small_datasets import tar_samples as built_samples
from small_datasets import write_spec as write_small_spec

from synthc import api, plain_first
from synthc.errors import UsageError
from synthc.generators.jit import kernel_cache_dir


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("sample")
    return {kind: build(root, kind) for kind in KINDS}


def built_files(out: Path) -> dict[str, dict]:
    """Every built file sample by key."""
    paths = shard_paths(out, "train") + shard_paths(out, "val")
    return {s["__key__"]: s for s in built_samples(paths)}


def built_rows(out: Path) -> pl.DataFrame:
    return parquet_rows(shard_paths(out, "train") + shard_paths(out, "val"))


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_file_sample_alone_is_the_built_one(datasets, kind):
    spec, out = datasets[kind]
    built = built_files(out)
    last = len(built) - 1
    for index in (0, 7, last - 2, last):  # both splits, first and last
        assert api.sample(spec, index) == built[f"{index:012d}"]


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_a_row_alone_is_the_built_one(datasets, kind):
    spec, out = datasets[kind]
    rows = built_rows(out)
    for index in (0, 101, 299):
        row = api.sample(spec, index)
        assert isinstance(row, pl.DataFrame)
        assert row.equals(rows.slice(index, 1)) and row.schema == rows.schema


SAMPLE_IN_A_FRESH_PROCESS = """
import sys
from synthc import api, one_sample
if len(sys.argv) > 4:  # the warm deadline
    one_sample.PLAIN_ROW_SECONDS = float(sys.argv[4])
row = api.sample(sys.argv[1], int(sys.argv[2]))
row.write_ipc(sys.argv[3])
print("numba" in sys.modules)
"""


def sample_alone(
    spec: Path, index: int, tmp_path: Path, *settings: str, env: dict[str, str] | None = None
) -> tuple[pl.DataFrame, bool]:
    """Row ``index`` of ``spec`` from api.sample in a new process: (row, whether it imported
    Numba)."""
    target = tmp_path / f"row-{index}.arrow"
    result = subprocess.run(
        [sys.executable, "-c", SAMPLE_IN_A_FRESH_PROCESS, str(spec), str(index), str(target)]
        + list(settings),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return pl.read_ipc(target), result.stdout.split() == ["True"]


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_a_row_alone_needs_no_numba_and_is_the_built_one(datasets, kind, tmp_path):
    """One row runs its kernels as plain Python (no Numba start): the compiled bits. (With a
    deadline no machine misses: what is checked is the path taken, not the machine's speed.)"""
    spec, out = datasets[kind]
    rows = built_rows(out)
    for index in (0, 299):
        row, numba = sample_alone(spec, index, tmp_path, "60")
        assert not numba
        assert row.equals(rows.slice(index, 1)) and row.schema == rows.schema


def test_kernels_not_yet_compiled_give_a_plain_row_longer(datasets, tmp_path, monkeypatch):
    """With an empty Numba cache a row may take longer as plain Python than the warm deadline
    (here 0, which would start Numba at once): compiling would take far longer."""
    spec, out = datasets["tabular"]
    cache = tmp_path / "empty-cache"
    row, numba = sample_alone(spec, 5, tmp_path, "0", env={"NUMBA_CACHE_DIR": str(cache)})
    assert not numba and not any(cache.rglob("*.nbi"))
    assert row.equals(built_rows(out).slice(5, 1))
    # with the kernels compiled (a build with no plain attempt fills the usual cache), the
    # warm deadline of 0 starts Numba
    monkeypatch.setattr(plain_first, "PLAIN_BUILD_SAMPLES", 0)
    api.build(spec, tmp_path / "compiled", workers=1)
    _, numba = sample_alone(spec, 5, tmp_path, "0")
    assert numba


def test_a_row_whose_facts_take_long_as_plain_python_is_made_compiled(
    write_spec, tmp_path, monkeypatch
):
    """Standardised columns estimate their scale from many draws: too slow as plain Python,
    so the row is made again with compiled kernels, the same as the built one. Once the
    build has kept those scales on disk (tabular.scale_cache), the row needs no Numba."""
    # a cache folder of this test's own (the pilot's scales not yet kept), the kernels' as it is
    monkeypatch.setenv("NUMBA_CACHE_DIR", os.path.dirname(kernel_cache_dir()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    spec = write_spec(
        """\
synthc: 1
name: standardised
seed: 3
samples: 50
splits: {train: 0.8, val: 0.2}
generator:
  kind: tabular
  columns:
    age: {dist: uniform, low: 20, high: 80, standardize: true}
    risk: {expr: "2 * age", noise: {dist: normal, std: 1}, standardize: true}
"""
    )
    row, numba = sample_alone(spec, 7, tmp_path)
    assert numba
    out = api.build(spec, tmp_path / "out", workers=1).out
    rows = built_rows(out)
    assert row.equals(rows.slice(7, 1))
    kept, numba = sample_alone(spec, 7, tmp_path)
    assert not numba
    assert kept.equals(row)


def test_the_command_writes_the_files_of_the_tar(cli, datasets, tmp_path):
    spec, out = datasets["fractal"]
    target = tmp_path / "one"
    code, stdout, err = cli("sample", spec, "--index", "50", "-o", target)
    assert code == 0, err
    expected = built_files(out)["000000000050"]
    names = [f"000000000050.{ext}" for ext in expected if ext != "__key__"]
    assert stdout.splitlines() == [str(target / name) for name in names]
    assert sorted(p.name for p in target.iterdir()) == sorted(names)
    for ext, data in expected.items():
        if ext != "__key__":
            assert (target / f"000000000050.{ext}").read_bytes() == data


def test_a_directory_the_sample_cannot_be_written_to_is_a_usage_error(
    cli, datasets, tmp_path, monkeypatch
):
    # it was "internal error: PermissionError: ... '000000000001.png.partial'"
    import errno

    from synthc import one_sample

    def refuse(path, data):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), f"{path}.partial")

    monkeypatch.setattr(one_sample, "write_atomic", refuse)
    spec, _ = datasets["fractal"]
    code, _, err = cli("sample", spec, "--index", "1", "-o", tmp_path / "one")
    assert code == 2, err
    assert err == (
        f"synthc: error: {tmp_path / 'one' / '000000000001.png'}: cannot write the sample: "
        "Permission denied\n"
    )


@pytest.mark.parametrize("kind", ["fractal", "tabular"])
def test_a_file_on_the_way_to_the_directory_is_a_usage_error(cli, datasets, tmp_path, kind):
    # a row's file was "internal error: NotADirectoryError"
    (tmp_path / "file").write_text("")
    spec, _ = datasets[kind]
    code, _, err = cli("sample", spec, "--index", "1", "-o", tmp_path / "file" / "one")
    assert code == 2, err
    assert err.startswith(f"synthc: error: {tmp_path / 'file' / 'one' / '000000000001.'}")
    assert err.endswith(": cannot write the sample: Not a directory\n")


def test_the_command_writes_into_the_working_directory_by_default(
    cli, datasets, tmp_path, monkeypatch
):
    spec, out = datasets["ocr_text"]
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = cli("sample", spec, "-i", "3")
    assert code == 0
    assert stdout.split() == ["000000000003.png", "000000000003.txt", "000000000003.json"]
    assert (tmp_path / "000000000003.txt").read_bytes() == built_files(out)["000000000003"]["txt"]


@pytest.mark.parametrize("kind", ["ocr_text", "manifold"])
def test_out_dash_is_no_directory_named_dash(cli, datasets, tmp_path, monkeypatch, capsys, kind):
    spec, _ = datasets[kind]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        cli("sample", spec, "-i", "3", "-o", "-")
    err = capsys.readouterr().err
    assert caught.value.code == 2 and "no stdout here" in err and "-o ./-" in err
    assert list(tmp_path.iterdir()) == []
    code, stdout, _ = cli("sample", spec, "-i", "3", "-o", "./-")  # a directory, said so
    assert code == 0 and (tmp_path / "-").is_dir() and stdout.startswith("-/000000000003.")


def test_the_command_prints_a_row_as_json(cli, datasets):
    spec, out = datasets["tabular"]
    rows = built_rows(out)
    for index in (4, 250):
        code, stdout, err = cli("sample", spec, "--index", str(index))
        assert code == 0, err
        row = json.loads(stdout)
        expected = rows.row(index, named=True)
        expected["signup"] = expected["signup"].isoformat()
        assert row == expected  # floats exactly, nulls as null, the date in ISO 8601
    nulls = [i for i in range(300) if rows["age"][i] is None]
    code, stdout, _ = cli("sample", spec, "-i", str(nulls[0]))
    assert json.loads(stdout)["age"] is None


def test_a_row_goes_to_a_file_with_out(cli, datasets, tmp_path):
    spec, _ = datasets["manifold"]
    code, stdout, _ = cli("sample", spec, "-i", "12", "-o", tmp_path / "rows")
    assert code == 0
    written = tmp_path / "rows" / "000000000012.json"
    assert stdout.strip() == str(written)
    assert json.loads(written.read_text())["index"] == 12


@pytest.mark.parametrize("index", ["-1", "300", "10000000000000"])
def test_an_index_outside_the_samples_is_a_usage_error(cli, datasets, index):
    spec, _ = datasets["manifold"]
    code, stdout, err = cli("sample", spec, "--index", index)
    assert code == 2 and stdout == ""
    assert f"index {index} is outside [0, 300)" in err
    with pytest.raises(UsageError):
        api.sample(spec, int(index))


def test_the_index_is_required_and_an_integer(cli, datasets):
    spec, _ = datasets["manifold"]
    with pytest.raises(SystemExit) as caught:
        cli("sample", spec)
    assert caught.value.code == 2
    with pytest.raises(SystemExit) as caught:
        cli("sample", spec, "-i", "one")
    assert caught.value.code == 2
    # NumPy's integers are integers (np.int64(3) was "outside [0, 300)"); 1.0 is not one
    assert api.sample(spec, np.int64(3)).equals(api.sample(spec, 3))
    with pytest.raises(UsageError, match="index 1.0 is not an integer"):
        api.sample(spec, 1.0)  # type: ignore[arg-type]


def test_vars_shape_the_sample_as_for_build(cli, write_spec, tmp_path):
    spec = write_spec(
        "synthc: 1\nname: v\nseed: 1\nsamples: {{ var('n', 10) }}\n"
        "generator: {kind: manifold, shape: moons, noise: {{ var('noise', 0.1) }}}\n"
    )
    code, _, err = cli("sample", spec, "-i", "15")
    assert code == 2 and "outside [0, 10)" in err
    code, stdout, _ = cli("sample", spec, "-i", "15", "--var", "n=20", "--var", "noise=0.0")
    assert code == 0
    row = json.loads(stdout)
    assert row["x0"] == row["clean_x0"]
    out = api.build(spec, tmp_path / "out", variables={"n": 20, "noise": 0.0}).out
    assert json.loads(stdout) == pl.read_parquet(out / "train" / "train-00000.parquet").row(
        15, named=True
    )


def test_allow_read_lets_the_spec_read_a_file_elsewhere(cli, datasets, tmp_path):
    _, out = datasets["fractal"]
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    shutil.copy(out / "catalog.json", shelf / "catalog.json")
    spec = tmp_path / "specs" / "from_catalog.yaml"
    spec.parent.mkdir()
    spec.write_text(
        "synthc: 1\nname: c\nseed: 11\ngenerator:\n  kind: fractal\n  classes: 4\n"
        f"  instances: 2\n  system: {{catalog: {shelf / 'catalog.json'}}}\n"
        "  render: {size: 32, points: 2000}\n"
    )
    code, _, err = cli("sample", spec, "-i", "1", "-o", tmp_path / "a")
    assert code == 2 and "allow-read" in err
    code, _, err = cli("sample", spec, "-i", "1", "-o", tmp_path / "a", "--allow-read", shelf)
    assert code == 0, err
    assert (tmp_path / "a" / "000000000001.cls").read_text() == "1"


def test_a_place_inside_an_output_directory_is_refused(cli, datasets, tmp_path):
    spec, out = datasets["fractal"]
    code, _, err = cli("sample", spec, "-i", "0", "-o", out / "extra")
    assert code == 2 and "is inside the output directory" in err
    assert not (out / "extra").exists()
    (tmp_path / "file").write_text("")
    code, _, err = cli("sample", spec, "-i", "0", "-o", tmp_path / "file")
    assert code == 2 and "is not a directory" in err
    # out/../beside names a place beside the output, not in it
    code, _, err = cli("sample", spec, "-i", "0", "-o", out / ".." / "beside")
    assert code == 0, err
    assert (out.parent / "beside" / "000000000000.png").is_file()
    # through a symlink out of the output, the place really is in it
    (tmp_path / "link").symlink_to(out)
    code, _, err = cli("sample", spec, "-i", "0", "-o", tmp_path / "link" / "extra")
    assert code == 2 and "is inside the output directory" in err


def test_a_row_with_no_finite_number_is_still_valid_json(cli, write_spec):
    """A formula that overflows makes inf (and inf - inf NaN): JSON has no such numbers, so
    they are printed as the strings float() reads back, never as bare Infinity or NaN."""
    spec = write_spec(
        "synthc: 1\nname: overflow\nseed: 1\nsamples: 10\n"
        "generator:\n  kind: tabular\n  columns:\n"
        "    a: {dist: normal, mean: 1000, std: 1}\n"
        "    up: {expr: 'exp(a)'}\n    down: {expr: '-exp(a)'}\n"
        "    odd: {expr: 'exp(a) - exp(a)'}\n"
    )
    code, stdout, stderr = cli("sample", spec, "--index", "3")
    assert code == 0, stderr

    def refuse(constant):
        raise AssertionError(f"bare {constant} in {stdout!r}")

    row = json.loads(stdout, parse_constant=refuse)
    assert (row["up"], row["down"], row["odd"]) == ("Infinity", "-Infinity", "NaN")
    assert float(row["up"]) == float("inf") and isinstance(row["a"], float)


@pytest.mark.parametrize("kind", ["ocr_text", "manifold"])
def test_a_file_of_the_samples_name_is_not_replaced_without_force(cli, tmp_path, monkeypatch, kind):
    """A user's 000000000003.png (or .json) in the working directory was silently replaced."""
    spec = write_small_spec(tmp_path, kind)
    target = tmp_path / "here"
    target.mkdir()
    monkeypatch.chdir(target)
    ext = "json" if kind == "manifold" else "png"
    mine = target / f"000000000003.{ext}"
    mine.write_bytes(b"my own file")
    code, stdout, err = cli("sample", spec, "-i", "3", "-o", ".")
    assert code == 2 and stdout == ""
    assert f"000000000003.{ext}: exists and is not this sample's file; give --force" in err
    assert mine.read_bytes() == b"my own file"
    assert sorted(p.name for p in target.iterdir()) == [mine.name]  # no file written at all
    code, stdout, err = cli("sample", spec, "-i", "3", "-o", ".", "--force")
    assert code == 0, err
    made = {p.name: p.read_bytes() for p in target.iterdir()}
    assert made[mine.name] != b"my own file"
    code, again, err = cli("sample", spec, "-i", "3", "-o", ".")  # its own bytes: no harm
    assert code == 0 and again == stdout, err
    assert {p.name: p.read_bytes() for p in target.iterdir()} == made


@pytest.mark.parametrize("index", ["1_0", "\uff15", " 5 ", "5 ", "+5", "0x5", "٣"])
@pytest.mark.parametrize(
    ("command", "option"), [("sample", "--index/-i"), ("preview", "-n")], ids=["index", "n"]
)
def test_counts_and_indexes_are_written_in_ascii_decimal_digits(capsys, index, command, option):
    """int() took '1_0', full-width and Arabic-Indic digits and blanks (`sample -i`, and
    `preview -n`, which drew 1,000 samples for `-n 1_000`)."""
    from synthc.cli import _parser

    flag = option.rpartition("/")[2]
    with pytest.raises(SystemExit) as caught:
        _parser().parse_args([command, "spec.yaml", flag, index])
    assert caught.value.code == 2
    assert f"argument {option}: {index!r} is not a whole number in decimal digits" in (
        capsys.readouterr().err
    )
    parsed = _parser().parse_args([command, "spec.yaml", flag, "10"])
    assert (parsed.index if command == "sample" else parsed.n) == 10
