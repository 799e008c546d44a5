"""preview writes beside the build output by default, never into an output directory or over a
file the spec reads."""

from __future__ import annotations

import pytest
from conftest import run_synthc, spec_text


def test_preview_defaults_beside_the_build_output_not_in_the_cwd(tmp_path):
    spec = tmp_path / "specs" / "tiny.yaml"
    spec.parent.mkdir()
    spec.write_text(spec_text(name="tiny"))
    work = tmp_path / "work"
    work.mkdir()
    result = run_synthc("preview", spec, "-n", "50", cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "outputs/tiny.preview.png: preview of 50 sample(s)\n"
    assert [str(p.relative_to(work)) for p in sorted(work.rglob("*"))] == [
        "outputs",
        "outputs/tiny.preview.png",
    ]
    assert (work / "outputs" / "tiny.preview.png").read_bytes().startswith(b"\x89PNG")
    # the build that follows owns outputs/tiny/ and leaves the preview alone
    built = run_synthc("build", spec, "--workers", "1", cwd=work)
    assert built.returncode == 0, built.stderr
    assert (work / "outputs" / "tiny.preview.png").exists()


def test_preview_never_writes_into_an_output_directory(write_spec, tmp_path):
    spec = write_spec(spec_text())
    out = tmp_path / "out"
    assert run_synthc("build", spec, "-o", out, "--workers", "1").returncode == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for target in (out / "preview.png", out / "train" / "mine.png"):
        result = run_synthc("preview", spec, "-o", target)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines() == [
            f"synthc: error: {target}: is inside the output directory {out}, whose files are "
            "the build's; choose a path outside it with -o"
        ]
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert run_synthc("verify", out).returncode == 0


def test_preview_never_writes_over_a_file_the_spec_reads(write_spec, cli, tmp_path):
    """``-o`` naming the spec (a slip in a Makefile) once replaced it with the PNG."""
    spec = write_spec(spec_text())
    before = spec.read_bytes()
    code, _, err = cli("preview", spec, "-o", spec)
    assert code == 2 and err.count("\n") == 1
    assert "a file the spec reads (spec)" in err, err
    assert spec.read_bytes() == before


def test_a_preview_path_ending_in_a_slash_is_refused(write_spec, cli, tmp_path):
    """``-o previews/`` wrote a file named ``previews``."""
    spec = write_spec(spec_text())
    code, _, err = cli("preview", spec, "-o", f"{tmp_path / 'previews'}/")
    assert code == 2 and "previews/: names a directory; give -o the PNG file" in err, err
    assert not (tmp_path / "previews").exists()


def test_a_preview_too_large_to_draw_at_once_is_refused_before_drawing(write_spec, cli, tmp_path):
    # 50 million rows were generated in one call: a MemoryError, an internal error
    rows = write_spec(spec_text(samples=50_000_000, shard_size=10_000))
    code, _, err = cli("preview", rows, "-n", "50000000", "-o", tmp_path / "p.png")
    assert code == 2 and "-n 50,000,000: drawing 50,000,000 rows" in err, err
    assert "use -n <= " in err and not (tmp_path / "p.png").exists()
    fractal = write_spec(
        "synthc: 1\nname: f\nseed: 1\ngenerator:\n  kind: fractal\n  classes: 100\n"
        "  instances: 100\n  render: {size: 32, points: 1000}\n",
        "f.yaml",
    )
    code, _, err = cli("preview", fractal, "-n", "5000", "-o", tmp_path / "p.png")
    assert code == 2 and "at most 1,024 images (synthc.limits.MAX_PREVIEW_IMAGES)" in err, err


def test_a_file_on_the_way_to_the_preview_is_refused_before_drawing(
    write_spec, cli, tmp_path, monkeypatch
):
    """``-o notes.txt/x.png`` drew the preview first, then failed to write it."""
    from synthc import api

    def never(*args, **kwargs):
        raise AssertionError("drew the preview")

    monkeypatch.setattr(api, "_preview_png", never)
    spec = write_spec(spec_text())
    (tmp_path / "notes.txt").write_text("a file")
    for target in (tmp_path / "notes.txt" / "x.png", tmp_path / "notes.txt" / "a" / "x.png"):
        code, _, err = cli("preview", spec, "-o", target)
        assert code == 2 and err.count("\n") == 1, err
        assert f"{tmp_path / 'notes.txt'} is not a directory" in err
    assert (tmp_path / "notes.txt").read_text() == "a file"


@pytest.mark.parametrize("name", ["p.jpg", "p.JPEG", "p.webp"])
def test_a_preview_named_as_another_image_format_is_refused(write_spec, cli, tmp_path, name):
    # it wrote PNG bytes into p.jpg and said nothing
    spec = write_spec(spec_text(samples=100))
    code, _, err = cli("preview", spec, "-o", tmp_path / name)
    assert code == 2 and "the preview is drawn as a PNG" in err and "p.png" in err
    assert not (tmp_path / name).exists()
    code, _, err = cli("preview", spec, "-o", tmp_path / "p.png")
    assert code == 0, err


def test_more_samples_than_the_spec_has_are_said_to_be_fewer(write_spec, cli, tmp_path):
    """-n 5000 of a 20-sample spec drew 20 without a word."""
    spec = write_spec(spec_text(samples=20, shard_size=10))
    code, out, err = cli("preview", spec, "-n", "5000", "-o", tmp_path / "p.png")
    assert code == 0, err
    assert err == (
        "synthc: note: -n 5,000: the spec has only 20 samples; the preview draws them all\n"
    )
    assert out == f"{tmp_path / 'p.png'}: preview of 20 sample(s)\n"
    code, _, err = cli("preview", spec, "-n", "20", "-o", tmp_path / "p.png")
    assert code == 0 and err == ""
