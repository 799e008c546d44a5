"""synthc build|validate|plan SPEC...: each spec into <out>/<name>, failures do not stop the
others, a summary line per spec, the worst exit status, distinct names checked first."""

from __future__ import annotations

import json

import pytest
from conftest import run_synthc, spec_text


def specs(write_spec, *names: str, **kinds: str):
    """One small spec per name (``kinds`` may replace a spec's text)."""
    return [
        write_spec(
            kinds.get(name, spec_text(name=name, samples=400, shard_size=200)), f"{name}.yaml"
        )
        for name in names
    ]


def test_several_specs_build_into_the_parent_and_rebuild_to_up_to_date(cli, write_spec, tmp_path):
    a, b = specs(write_spec, "a", "b")
    out = tmp_path / "out"
    code, stdout, stderr = cli("build", a, b, "-o", out, "--workers", "1")
    assert code == 0, stderr
    assert (out / "a" / "manifest.json").is_file() and (out / "b" / "manifest.json").is_file()
    lines = stdout.splitlines()
    assert lines[0].startswith(f"{a}: {out / 'a'}: built 3 shard(s)")
    assert lines[1].startswith(f"{b}: {out / 'b'}: built 3 shard(s)")
    assert lines[2] == "synthc: 2 specs, 2 ok, 0 failed"
    assert f"[1/2] {a} -> {out / 'a'}" in stderr
    code, stdout, _ = cli("build", a, b, "-o", out)
    assert code == 0 and stdout.count("up to date") == 2


def test_failures_do_not_stop_the_others_and_the_worst_status_wins(cli, write_spec, tmp_path):
    broken = spec_text(name="broken").replace("seed: 7", "seed: -1")
    a, bad, c = specs(write_spec, "a", "broken", "c", broken=broken)
    out = tmp_path / "out"
    # c's directory holds a build state synthc cannot trust: its build fails (exit 1)
    (out / "c" / ".synthc").mkdir(parents=True)
    (out / "c" / ".synthc" / "state.json").write_text("not json")
    code, stdout, stderr = cli("build", a, bad, c, "-o", out, "--workers", "1")
    assert code == 2
    assert (out / "a" / "manifest.json").is_file()
    assert "seed" in stderr and "state.json" in stderr and "Traceback" not in stderr
    lines = stdout.splitlines()
    assert lines[0].startswith(f"{a}: {out / 'a'}: built")
    assert lines[1] == f"{bad}: spec or usage error (exit 2)"
    assert lines[2] == f"{c}: failed (exit 1)"
    assert lines[3] == "synthc: 3 specs, 1 ok, 2 failed"
    code, stdout, _ = cli("build", a, c, "-o", out)
    assert code == 1 and "up to date" in stdout


@pytest.mark.parametrize(
    ("second", "said"),
    [
        ("same", "both name the dataset 'same'"),
        # out/same and out/Same are one folder on macOS or Windows: the second build found the
        # first's dataset there and stopped, after it was built
        ("Same", "the dataset names 'same' and 'Same' differ only in case"),
    ],
)
def test_two_specs_of_one_folder_are_refused_before_anything_builds(
    cli, write_spec, tmp_path, second, said
):
    a = write_spec(spec_text(name="same"), "a.yaml")
    b = write_spec(spec_text(name=second, seed=8), "b.yaml")
    out = tmp_path / "out"
    for command in ("build", "plan"):
        code, stdout, stderr = cli(command, a, b, "-o", out)
        assert code == 2 and not stdout
        assert f"{a} and {b}: {said}" in stderr
    assert not out.exists()
    if second == "same":
        code, stdout, stderr = cli("validate", a, b)
        assert code == 2 and stdout.count(": ok") == 2 and "both name the dataset" in stderr


def test_one_spec_given_twice_is_said_to_be_given_twice(cli, write_spec, tmp_path, monkeypatch):
    """`synthc build specs/*.yaml specs/a.yaml`: the error said the two 'both name the
    dataset' and to rename one, of a single file."""
    spec = write_spec(spec_text(name="once"), "a.yaml")
    monkeypatch.chdir(tmp_path)
    for command in ("build", "plan", "validate"):
        code, _, stderr = cli(command, spec, "./a.yaml")
        assert code == 2
        assert stderr.splitlines()[-1] == (
            f"synthc: error: {spec} and a.yaml: the same spec given twice (a glob and its name, "
            "say); give each spec once"
        )
    assert not (tmp_path / "outputs").exists()


def test_var_applies_to_every_spec(cli, write_spec, tmp_path):
    templated = spec_text(name="NAME").replace("samples: 1000", 'samples: {{ var("n") }}')
    a = write_spec(templated.replace("NAME", "a"), "a.yaml")
    b = write_spec(templated.replace("NAME", "b"), "b.yaml")
    out = tmp_path / "out"
    code, _, stderr = cli("build", a, b, "-o", out, "--var", "n=300", "--workers", "1")
    assert code == 0, stderr
    for name in ("a", "b"):
        manifest = json.loads((out / name / "manifest.json").read_text())
        assert manifest["samples"] == 300 and manifest["spec"]["vars"] == {"n": 300}


def test_plan_of_several_specs_with_statuses_and_as_json(cli, write_spec, tmp_path):
    a, b = specs(write_spec, "a", "b")
    out = tmp_path / "out"
    assert cli("build", a, "-o", out / "a", "--workers", "1")[0] == 0
    code, stdout, _ = cli("plan", a, b, "-o", out)
    assert code == 0
    assert f"# {a} -> {out / 'a'}" in stdout and f"# {b} -> {out / 'b'}" in stdout
    assert f"{out / 'a'}: keep 3, build 0, remove 0" in stdout
    assert f"{out / 'b'}: keep 0, build 3, remove 0" in stdout
    code, stdout, stderr = cli("plan", a, b, "--json")
    plans = json.loads(stdout)
    assert [p["spec"] for p in plans] == [str(a), str(b)] and plans[1]["name"] == "b"
    assert "synthc: 2 specs, 2 ok, 0 failed" in stderr


def test_default_outputs_are_outputs_slash_name(write_spec, tmp_path):
    a, b = specs(write_spec, "a", "b")
    result = run_synthc("build", a, b, "--workers", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "outputs" / "a" / "manifest.json").is_file()
    assert (tmp_path / "outputs" / "b" / "manifest.json").is_file()
    assert "synthc: 2 specs, 2 ok, 0 failed" in result.stdout


def test_one_depfile_for_several_specs_is_refused_before_anything_builds(cli, write_spec, tmp_path):
    a, b = specs(write_spec, "a", "b")
    out = tmp_path / "out"
    code, _, stderr = cli("build", a, b, "-o", out, "--depfile", tmp_path / "x.d")
    assert code == 2 and "own --depfile" in stderr
    assert not out.exists() and not (tmp_path / "x.d").exists()
