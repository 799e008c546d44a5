"""preview writes beside the build output by default, never into an output directory."""

from __future__ import annotations

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
