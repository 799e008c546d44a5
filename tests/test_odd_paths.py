"""Directory and file names that are legal but awkward: glob characters, bytes that are not
UTF-8. A build either handles them like any name or refuses them before it starts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_synthc, spec_text

import synthc


def test_glob_characters_in_an_output_directory_are_its_name(tmp_path, write_spec, cli):
    small, big = write_spec(spec_text(samples=100)), write_spec(spec_text(samples=200), "b.yaml")
    bracket = tmp_path / "out[1]"
    assert cli("build", small, "-o", bracket)[0] == 0  # polars read out[1] as a pattern
    assert (bracket / "manifest.json").is_file()
    # o?t beside oat: each is checked and read alone, never the other's shards
    assert cli("build", big, "-o", tmp_path / "oat")[0] == 0
    assert cli("build", small, "-o", tmp_path / "o?t")[0] == 0
    code, _, err = cli("verify", tmp_path / "o?t")
    assert code == 0, err
    dataset = synthc.open(tmp_path / "o?t")
    assert sum(dataset[s].lazy().collect().height for s in ("train", "test")) == 100


def test_glob_characters_are_a_name_where_a_shards_footer_is_read(tmp_path, write_spec, cli):
    # the footer was read as a pattern: out[1]/ matched nothing (every shard "unreadable" to
    # verify and a verified read), and an empty split's schema was another folder's
    spec = write_spec(spec_text(samples=20, splits="{train: 1.0, none: 0.0}"))
    bracket = tmp_path / "out[1]"
    assert cli("build", spec, "-o", bracket)[0] == 0
    code, _, err = cli("verify", bracket)
    assert code == 0, err
    dataset = synthc.open(bracket, verify=True)
    assert dataset["train"].lazy().collect().height == 20
    assert dataset["none"].lazy().collect_schema() == dataset["train"].lazy().collect_schema()


def test_names_that_are_not_utf8_are_refused_before_anything_is_written(tmp_path, cli):
    folder = tmp_path / os.fsdecode(b"d\xff")
    folder.mkdir()
    (folder / "spec.yaml").write_text(spec_text(samples=100))
    out = tmp_path / "out"
    code, _, err = cli("build", folder / "spec.yaml", "-o", out)
    assert code == 2 and err.count("\n") == 1, err
    assert "not UTF-8" in err and "\\udcff" in err, err
    assert not out.exists()  # it failed writing the manifest, after every shard

    (tmp_path / "spec.yaml").write_text(spec_text(samples=100))
    odd = tmp_path / os.fsdecode(b"out\xfe")
    code, _, err = cli("build", tmp_path / "spec.yaml", "-o", odd)
    assert code == 2 and "output directory's name is not UTF-8" in err, err
    assert not Path(odd).exists()


@pytest.mark.parametrize(
    "command",
    [
        ["build", "{spec}", "-o", "{long}"],
        ["plan", "{spec}", "-o", "{long}"],
        ["verify", "{long}"],
        ["preview", "{spec}", "-o", "{long}.png"],
        ["build", "{spec}", "-o", "{out}", "--depfile", "{long}.d"],
    ],
    ids=["build", "plan", "verify", "preview", "depfile"],
)
def test_a_name_longer_than_the_file_system_takes_is_a_usage_error(
    command, tmp_path, write_spec, cli
):
    """A path typed with a name over 255 bytes: what is wrong and what to do, exit 2; it was an
    internal error (OSError: File name too long) asking to be reported."""
    spec = write_spec(spec_text(samples=100))
    long = tmp_path / ("a" * 300)
    where = {"spec": spec, "long": long, "out": tmp_path / "out"}
    code, out, err = cli(*(part.format(**where) for part in command))
    assert (code, out) == (2, "")
    assert err.startswith("synthc: error: ") and "internal error" not in err
    assert "file name too long" in err and err.rstrip().endswith("give a shorter path")
    assert not (tmp_path / "out" / "manifest.json").exists()


@pytest.mark.parametrize("encoding", ["ascii", "ascii:strict"])
def test_output_the_encoding_cannot_hold_is_escaped(tmp_path, monkeypatch, encoding):
    folder = tmp_path / "dé"
    folder.mkdir()
    spec = folder / "spé.yaml"
    spec.write_text(spec_text(samples=100))
    monkeypatch.setenv("PYTHONIOENCODING", encoding)
    ok = run_synthc("validate", spec)
    assert (ok.returncode, ok.stdout) == (0, f"{tmp_path}/d\\xe9/sp\\xe9.yaml: ok\n"), ok.stderr
    spec.write_text(spec_text(samples=100).replace("name: tiny", "name: tïny"))
    bad = run_synthc("validate", spec)
    assert bad.returncode == 2 and "internal error" not in bad.stderr
    assert "d\\xe9/sp\\xe9.yaml" in bad.stderr and "Traceback" not in bad.stderr


def test_a_line_break_in_a_name_stays_on_its_line(tmp_path, cli):
    """Errors escaped it; the result lines on stdout printed it, breaking one line in two."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=100, shard_size=50))
    out, picture = tmp_path / "o\nd", tmp_path / "p\nn.png"
    for args in (
        ("plan", spec, "-o", out),
        ("build", spec, "-o", out, "--workers", "1"),
        ("verify", out),
        ("preview", spec, "-o", picture),
        ("sample", spec, "-i", "0", "-o", tmp_path / "s\nd"),
    ):
        code, stdout, err = cli(*args)
        assert code == 0, err
        broken = [line for line in stdout.splitlines() if line.startswith(("d", "n."))]
        assert not broken and "\\n" in stdout.splitlines()[-1], (args, stdout)


def test_a_spec_named_with_a_line_break_is_refused_before_a_build(tmp_path, cli):
    """The build wrote a manifest recording the name, which verify then refused."""
    spec = tmp_path / "s\nl.yaml"
    spec.write_text(spec_text(samples=100, shard_size=50))
    code, _, err = cli("build", spec, "-o", tmp_path / "out", "--workers", "1")
    assert code == 2 and "control character" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_line_break_in_a_path_stays_inside_its_error_line(tmp_path, cli):
    """An error quoting such a path printed it in two lines (each line of a message was taken
    for one of synthc's own); verify's list of problems still has a line per problem."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=100, shard_size=50))
    out = tmp_path / "o\nd"
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    code, _, err = cli("sample", spec, "-i", "0", "-o", out / "x")
    assert code == 2 and len(err.splitlines()) == 1 and "o\\nd" in err
    (out / "train" / "train-00000.parquet").unlink()
    code, _, err = cli("verify", out)
    lines = err.splitlines()
    assert code == 1 and len(lines) == 3, err
    assert lines[0].endswith("o\\nd: 1 problem(s), 3 shard(s) listed:")
    assert lines[1] == "train/train-00000.parquet: missing"
    assert lines[2].startswith("to repair: run ")
