"""synthc reproduce DIR: rebuild from the recorded spec copy, vars and inputs, compare hashes.

The manifests here are written by this synthc, then given the ``provenance`` a build records
(``{"inputs": [{"path", "role", "sha256"}], "git": {"commit", "path", "dirty"} | null}``) or
made hostile by hand: the spec's location and the input checks are read from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from synthc import api

COMMON = (
    "synthc: 1\n"
    'version: "1.0.0"\n'
    "description: a tiny reproducible dataset\n"
    "seed: 7\n"
    "splits: {train: 0.8, test: 0.2}\n"
    "output:\n"
    "  format: parquet\n"
    "  shard_size: 100\n"
)
SPEC = (
    '{% include "common.yaml.j2" %}\n'
    "name: tiny\n"
    "samples: {{ var('samples', 1000) }}\n"
    "generator:\n"
    "  kind: manifold\n"
    "  shape: swiss_roll\n"
    "  noise: 0.05\n"
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def patch_manifest(out: Path, **changes: object) -> None:
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def provenance(root: Path, *names: str, git: object = None) -> dict[str, object]:
    """The provenance a build records for these files (the first is the spec)."""
    roles = ["spec", *["template"] * (len(names) - 1)]
    inputs = [
        {"path": name, "role": role, "sha256": sha256(root / name)}
        for name, role in zip(names, roles, strict=True)
    ]
    return {"inputs": inputs, "git": git}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli) -> Path:
    """``specs/tiny.yaml`` including ``specs/common.yaml.j2``, built with ``--var samples=300``
    into ``out`` from the project directory (the current directory of each test)."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "common.yaml.j2").write_text(COMMON)
    (tmp_path / "specs" / "tiny.yaml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("build", "specs/tiny.yaml", "-o", "out", "--var", "samples=300")
    assert code == 0, err
    return tmp_path


def test_an_untouched_dataset_reproduces_with_its_recorded_vars(project, cli):
    code, out, err = cli("reproduce", "out", "--workers", "1")
    assert code == 0, err
    assert "out: reproduced: 4 shard(s)" in out
    assert "changed" not in err and "differs" not in err


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_a_spec_with_windows_line_endings_reproduces(tmp_path, monkeypatch, cli, ending):
    """The spec copy was written with its line endings made LF while the provenance recorded
    the file's sha256, so an untouched dataset of a CRLF spec (git's autocrlf) did not
    reproduce: provenance.inputs[spec].sha256 differed."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "common.yaml.j2").write_bytes(COMMON.encode())
    Path("tiny.yaml").write_bytes(SPEC.replace("\n", ending).encode())
    code, _, err = cli("build", "tiny.yaml", "-o", "out", "--var", "samples=200")
    assert code == 0, err
    assert sha256(Path("out/spec.yaml")) == sha256(Path("tiny.yaml"))  # the spec as written
    code, out, err = cli("reproduce", "out", "--workers", "1")
    assert code == 0, err
    assert "out: reproduced: 3 shard(s)" in out and "differ" not in err


def test_a_manifest_without_provenance_is_placed_by_its_spec_source(project, cli):
    path = project / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.pop("provenance", None)  # as an older synthc wrote it
    path.write_text(json.dumps(manifest))
    code, out, err = cli("reproduce", "out")
    assert code == 0, err
    assert "no provenance (built by an older synthc)" in err
    assert "specs/tiny.yaml (spec.source)" in err


def test_one_flipped_byte_fails_naming_the_shard(project, cli):
    shard = project / "out" / "train" / "train-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    code, _, err = cli("reproduce", "out")
    assert code == 1
    assert "does not reproduce: 1 of 4 shard(s) differ" in err
    assert "train/train-00001.parquet: its file in the output directory has sha256" in err
    assert "train-00000" not in err and "test-00000" not in err
    # the rebuild matches the manifest: the file is damaged, the generator is not to blame
    assert "not a pure function" not in err and "the rebuild matches the manifest" in err
    (project / "out" / "train" / "train-00000.parquet").unlink()
    code, _, err = cli("reproduce", "out")
    assert (
        code == 1 and "train/train-00000.parquet: its file in the output directory: missing" in err
    )
    assert "not a pure function" not in err and "the rebuild matches the manifest" in err


def test_recorded_vars_that_make_more_samples_than_recorded_build_nothing(
    project, cli, monkeypatch
):
    # a downloaded manifest of 300 samples recording samples=900000 rebuilt all 900,000
    from synthc import reproducing

    def no_build(*args, **kwargs):
        raise AssertionError("rebuilt")

    monkeypatch.setattr(reproducing, "_build", no_build)
    manifest = json.loads((project / "out" / "manifest.json").read_text())
    patch_manifest(project / "out", spec={**manifest["spec"], "vars": {"samples": 900_000}})
    code, _, err = cli("reproduce", "out")
    assert code == 1 and err.count("\n") == 1, err
    assert "out/manifest.json: does not reproduce: the recorded spec and vars make 900,000" in err
    assert "the manifest records 300; nothing was rebuilt" in err


def test_a_shard_far_larger_or_too_long_a_name_is_one_line_without_hashing(
    project, cli, monkeypatch
):
    from synthc.outputs import verify

    monkeypatch.setattr(verify, "handle_sha256", _small_files_only(verify.handle_sha256))
    os.truncate(project / "out" / "train" / "train-00001.parquet", 50 << 30)  # sparse
    manifest = json.loads((project / "out" / "manifest.json").read_text())
    manifest["splits"]["train"]["shards"][0]["path"] = long = f"train/{'a' * 5000}.parquet"
    (project / "out" / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = cli("reproduce", "out")
    assert code == 1 and "Traceback" not in err and "internal error" not in err
    assert (
        f"train/train-00001.parquet: its file in the output directory has {50 << 30} bytes" in err
    )
    assert f"{long}: " in err and "a path part longer than 255 bytes" in err


def _small_files_only(sha256):
    def hashed(handle):
        assert os.fstat(handle.fileno()).st_size < 1 << 30
        return sha256(handle)

    return hashed


def test_the_spec_is_built_from_the_recorded_copy_at_its_recorded_location(project, cli):
    # The spec file itself changed since: the recorded copy is what is rebuilt, and the
    # include still resolves from the spec's folder.
    (project / "specs" / "tiny.yaml").write_text(SPEC.replace("0.05", "0.5"))
    code, out, err = cli("reproduce", "out")
    assert code == 0, err
    assert "reproduced" in out


def test_a_changed_include_is_named_before_building_and_every_shard_differs(project, cli):
    patch_manifest(
        project / "out", provenance=provenance(project, "specs/tiny.yaml", "specs/common.yaml.j2")
    )
    (project / "specs" / "common.yaml.j2").write_text(COMMON.replace("seed: 7", "seed: 8"))
    code, _, err = cli("reproduce", "out")
    assert code == 1
    lines = err.splitlines()
    named = next(i for i, line in enumerate(lines) if "specs/common.yaml.j2 (template)" in line)
    assert "changed since the build" in lines[named]
    assert named < next(i for i, line in enumerate(lines) if "building" in line)
    assert "specs/tiny.yaml" not in lines[named]  # the spec itself is unchanged
    assert "4 of 4 shard(s) differ" in err
    for shard in ("train/train-00000.parquet", "train/train-00001.parquet", "test/test-00000"):
        assert f"  {shard}" in err and "rebuilt with sha256" in err
    assert "content_sha256: rebuilt" in err
    assert "(1 recorded input(s) not as built, named above)" in err


def test_quiet_names_the_changed_inputs_in_the_error_at_most_twenty(project, cli):
    """-q logs nothing before the build: the error said they were "named above" (nowhere);
    and a forged manifest's 100,000 entries were one line each."""
    recorded = provenance(project, "specs/tiny.yaml", "specs/common.yaml.j2")
    recorded["inputs"] += [
        {"path": f"specs/gone{n}.j2", "role": "template", "sha256": "0" * 64} for n in range(25)
    ]
    patch_manifest(project / "out", provenance=recorded)
    code, _, err = cli("reproduce", "out", "-q")
    assert code == 1
    assert "named above" not in err
    assert "  input specs/gone0.j2 (template): missing" in err
    assert err.count(": missing") == 20 and "  and 5 more recorded input(s) not as built" in err
    code, _, err = cli("reproduce", "out")
    assert err.count(": missing") == 20 and "synthc: and 5 more recorded input(s)" in err
    assert "(25 recorded input(s) not as built, named above)" in err


def test_a_missing_input_is_named(project, cli):
    (project / "extra.txt").write_text("words\n")
    recorded = provenance(project, "specs/tiny.yaml", "specs/common.yaml.j2", "extra.txt")
    (project / "extra.txt").unlink()
    patch_manifest(project / "out", provenance=recorded)
    code, _, err = cli("reproduce", "out")
    assert "input extra.txt (template): missing" in err
    # the shards reproduce, but the rebuild read no such file: the manifest claims an input
    # the data was not made from
    assert code == 1
    assert "does not reproduce: 0 of 4 shard(s) differ; 1 manifest field(s) differ" in err
    assert '  provenance.inputs[extra.txt]: recorded {"role": "template", "sha256"' in err
    assert "rebuilt (absent)" in err


def test_the_repository_root_is_the_git_work_tree_holding_the_current_directory(
    project, cli, monkeypatch
):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "specs"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "specs"], cwd=project, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    facts = {"commit": head, "path": "specs/tiny.yaml", "dirty": False}
    recorded = provenance(project, "specs/tiny.yaml", "specs/common.yaml.j2", git=facts)
    patch_manifest(project / "out", provenance=recorded)
    monkeypatch.chdir(project / "specs")  # anywhere in the work tree
    code, out, err = cli("reproduce", "../out")
    assert code == 0, err
    assert "input" not in err and "repository is at" not in err

    (project / "notes.md").write_text("later\n")
    subprocess.run([*git, "add", "notes.md"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "later"], cwd=project, check=True)
    code, _, err = cli("reproduce", "../out")
    assert code == 0, err
    assert f"the dataset was built at {head[:12]}" in err


def test_a_symlinked_spec_file_stands_where_its_link_is(tmp_path, monkeypatch, cli):
    """Includes are searched beside the link, so the manifest places the spec there and
    reproduce compiles it there (it once placed it at the link's target, whose folder lacks the
    include)."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "specs" / "common.yaml.j2").write_text(COMMON)
    (tmp_path / "shared" / "tiny.yaml").write_text(SPEC)
    (tmp_path / "specs" / "tiny.yaml").symlink_to(Path("..", "shared", "tiny.yaml"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "specs", "shared"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "specs"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("build", "specs/tiny.yaml", "-o", "out", "--var", "samples=300")
    assert code == 0, err
    recorded = json.loads((tmp_path / "out" / "manifest.json").read_text())["provenance"]
    assert recorded["git"]["path"] == "specs/tiny.yaml" and not recorded["git"]["dirty"]
    assert recorded["inputs"][0]["path"] == "shared/tiny.yaml"
    code, _, err = cli("reproduce", "out", "--workers", "1")
    assert code == 0, err


def test_a_spec_in_a_submodule_reproduces_from_the_enclosing_repository(tmp_path, monkeypatch, cli):
    """Its provenance is the submodule's (commit, path); reproduce run where it was built, in
    the enclosing work tree, finds the submodule that holds the commit."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    library, project = tmp_path / "library", tmp_path / "project"
    for repo in (library, project):
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (library / "common.yaml.j2").write_text(COMMON)
    (library / "tiny.yaml").write_text(SPEC)
    subprocess.run([*git, "add", "."], cwd=library, check=True)
    subprocess.run([*git, "commit", "-qm", "specs"], cwd=library, check=True)
    add = ["-c", "protocol.file.allow=always", "submodule", "-q", "add", str(library), "shared"]
    subprocess.run([*git, *add], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "shared specs"], cwd=project, check=True)
    monkeypatch.chdir(project)
    code, _, err = cli("build", "shared/tiny.yaml", "-o", "out", "--var", "samples=300")
    assert code == 0, err
    code, _, err = cli("reproduce", "out", "--workers", "1")
    assert code == 0, err
    assert "taking the submodule shared, which holds commit" in err


def test_a_git_build_needs_its_repository(project, cli, tmp_path_factory, monkeypatch):
    facts = {"commit": "a" * 40, "path": "specs/tiny.yaml", "dirty": True}
    recorded = provenance(project, "specs/tiny.yaml", "specs/common.yaml.j2", git=facts)
    patch_manifest(project / "out", provenance=recorded)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    code, _, err = cli("reproduce", project / "out")
    assert code == 2
    assert "run reproduce inside a clone of it, or give --root DIR" in err
    code, out, err = cli("reproduce", project / "out", "--root", project)
    assert code == 0, err
    assert "built from uncommitted changes" in err
    assert "does not hold commit aaaaaaaaaaaa: is it the one the dataset was built from?" in err


def test_root_places_a_build_made_outside_git(project, cli, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    code, _, err = cli("reproduce", project / "out")
    assert code == 2
    assert "the spec's directory does not exist" in err
    code, _, err = cli("reproduce", project / "out", "--root", project)
    assert code == 0, err


def test_a_wrong_root_is_named_as_the_one_given(project, cli):
    """The errors told a user who gave --root to give --root DIR."""
    code, _, err = cli("reproduce", "out", "--root", project / "nowhere")
    assert code == 2 and "nowhere: not a directory; give the root of the spec repository" in err
    code, _, err = cli("reproduce", "out", "--root", project / "out")
    assert code == 2 and "the spec's directory does not exist; is --root " in err, err
    assert "give --root DIR" not in err


def test_library_versions_that_differ_are_reported(project, cli):
    manifest = json.loads((project / "out" / "manifest.json").read_text())
    libraries = {**manifest["libraries"], "numpy": "0.0.1", "long": "9" * 500}
    patch_manifest(project / "out", libraries=libraries, synthc_version="0.0.0")
    code, _, err = cli("reproduce", "out")
    assert code == 0, err
    assert "version differs: numpy: 0.0.1 at the build" in err
    assert "version differs: synthc: 0.0.0 at the build" in err
    assert f"version differs: long: {'9' * 79}… at the build, not installed now" in err


def test_a_manifest_that_misdescribes_its_data_does_not_reproduce(project, cli):
    """Equal shards are not enough: every field that describes the data is the rebuild's too."""
    path = project / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["seed"] = 12345
    manifest["dataset"]["name"] = "other"
    manifest["generator"]["config"]["noise"] = 0.5
    manifest["generator"]["facts"]["noise_std"] = 0.25
    manifest["splits"]["training"] = manifest["splits"].pop("train")
    manifest["schema"]["columns"][1]["description"] = "other"  # a schema of another shape is
    # no manifest's (refused before anything is rebuilt)
    manifest["output"]["shard_size"] = 100.0  # the same number, not the same JSON
    manifest["generator"]["config"]["rotate"] = "DEEP"
    manifest["provenance"]["inputs"].append({"path": "x", "role": "text", "sha256": "0" * 64})
    deep = "[" * 500 + "false" + "]" * 500  # as deep as the manifest reader takes under pytest
    path.write_text(json.dumps(manifest).replace('"DEEP"', deep))
    code, _, err = cli("reproduce", "out")
    assert code == 1, err
    assert "0 of 4 shard(s) differ; 10 manifest field(s) differ from the rebuild's" in err
    for line in (
        "  seed: recorded 12345, rebuilt 7",
        '  dataset.name: recorded "other", rebuilt "tiny"',
        "  generator.config.noise: recorded 0.5, rebuilt 0.05",
        f"  generator.config.rotate: recorded {'[' * 59}…, rebuilt false",
        "  generator.facts.noise_std: recorded 0.25, rebuilt 0.05",
        '  schema.columns[1].description: recorded "other", rebuilt "observed',
        "  output.shard_size: recorded 100.0, rebuilt 100",
        "  splits.train: recorded (absent), rebuilt {",
        "  splits.training: recorded {",
        '  provenance.inputs[x]: recorded {"role": "text", "sha256": "000',
    ):
        assert any(shown.startswith(line) for shown in err.splitlines()), line
    assert all(len(line) < 200 for line in err.splitlines())


def test_fields_nested_deeper_than_python_recurses_are_compared():
    from synthc.reproducing import compare_fields

    def nested(leaf: object) -> object:
        value = leaf
        for _ in range(20_000):
            value = [value]
        return value

    recorded = {"splits": {}, "generator": {"config": {"rotate": nested(1)}}}
    rebuilt = {"splits": {}, "generator": {"config": {"rotate": nested(2)}}}
    (difference,) = compare_fields(recorded, rebuilt)
    assert str(difference) == f"generator.config.rotate{'[0]' * 30}…: recorded 1, rebuilt 2"
    (difference,) = compare_fields(recorded, {**rebuilt, "generator": {"config": {}}})
    assert str(difference) == f"generator.config.rotate: recorded {'[' * 59}…, rebuilt (absent)"


def test_build_facts_paths_and_versions_may_differ(project, cli):
    """What differs between two builds of the same inputs on two machines is not compared."""
    path = project / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["build"].update(seconds=99.0, workers=64, started="2001-01-01T00:00:00+00:00")
    manifest["spec"]["source"] = "/home/someone/specs/tiny.yaml"
    manifest["libraries"]["polars"] = "0.0.1"
    path.write_text(json.dumps(manifest))
    code, out, err = cli("reproduce", "out", "--workers", "1")
    assert code == 0, err
    assert "reproduced" in out and "version differs: polars: 0.0.1" in err


def test_the_python_api_returns_what_it_found(project):
    result = api.reproduce("out", workers=1)
    assert result.identical and result.differences == ()
    assert result.shards == 4
    assert result.spec == Path("specs/tiny.yaml")
    assert result.inputs == () and result.libraries == ()


# -- a hostile or broken output directory: one clear line, never a traceback ----------------


SPEC_AT = {"role": "spec", "sha256": "0" * 64}


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"provenance": []}, 1, "provenance: must be an object with 'inputs' and 'git'"),
        (
            {"provenance": {"inputs": [{"path": 1}], "git": None}},
            1,
            "provenance.inputs[0]: must be an object with path, role and sha256",
        ),
        (
            {"provenance": {"inputs": [], "git": {"commit": 1}}},
            1,
            "provenance.git: must be null or an object with commit, path, dirty",
        ),
        ({"provenance": {"inputs": [], "git": None}}, 1, "must list one input with role 'spec'"),
        (
            {"provenance": {"inputs": [{"path": "../../x.yaml", **SPEC_AT}], "git": None}},
            2,
            "the recorded spec path '../../x.yaml' leaves",
        ),
        (
            {"provenance": {"inputs": [{"path": "/etc/x.yaml", **SPEC_AT}], "git": None}},
            2,
            "the recorded spec path '/etc/x.yaml' leaves",
        ),
        (
            {"provenance": {"inputs": [{"path": "a\nb", **SPEC_AT}], "git": None}},
            1,
            "provenance.inputs[0].path: must be a non-empty path without control characters",
        ),
        ({"spec": {"source": "specs/tiny.yaml", "vars": []}}, 1, "spec.vars must map names"),
        ({"spec": "x"}, 1, "spec must be an object"),
    ],
)
def test_a_hostile_manifest_is_one_clear_error(project, cli, changes, code, message):
    if isinstance(changes.get("spec"), dict):
        manifest = json.loads((project / "out" / "manifest.json").read_text())
        changes = {"spec": {**manifest["spec"], **changes["spec"]}}
    patch_manifest(project / "out", **changes)
    got, out, err = cli("reproduce", "out")
    assert got == code, err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err and out == ""


def test_an_input_outside_the_repository_is_not_read(project, cli):
    recorded = provenance(project, "specs/tiny.yaml", "specs/common.yaml.j2")
    recorded["inputs"].append({"path": "/etc/passwd", "role": "text", "sha256": "0" * 64})
    recorded["inputs"].append({"path": "../../../etc/passwd", "role": "text", "sha256": "0" * 64})
    patch_manifest(project / "out", provenance=recorded)
    code, _, err = cli("reproduce", "out")
    assert err.count("not checked: outside the repository and the spec's folder") == 2
    assert code == 1  # and the rebuild read neither
    assert "  provenance.inputs[/etc/passwd]: recorded" in err
    assert "  provenance.inputs[../../../etc/passwd]: recorded" in err


def test_the_spec_copy_must_be_the_recorded_one(project, cli):
    copy = project / "out" / "spec.yaml"
    copy.write_text(copy.read_text().replace("0.05", "0.5"))
    code, _, err = cli("reproduce", "out")
    assert code == 1
    assert "spec.yaml: does not match the sha256 the manifest records" in err
    copy.unlink()
    copy.symlink_to(project / "specs" / "tiny.yaml")
    code, _, err = cli("reproduce", "out")
    assert code == 1
    assert "'spec.yaml' is refused" in err and "symlink" in err


def test_problems_in_the_spec_copy_and_the_recorded_vars_name_the_output_directory(project, cli):
    """Not the user's spec, nor a --var no one gave: the text and the values are the copy's."""
    path = project / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    copy = project / "out" / "spec.yaml"
    text = copy.read_text().replace("name: tiny\n", "name: tiny\n{% include '/etc/passwd' %}\n")
    copy.write_text(text)
    manifest["spec"]["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    path.write_text(json.dumps(manifest))
    code, _, err = cli("reproduce", "out")
    assert code == 2
    assert err.startswith("out/spec.yaml:3:1: include '/etc/passwd' is outside the spec's"), err
    assert "tiny.yaml" not in err

    manifest["spec"]["vars"] = {"samples": -5, "other": 1}
    copy.write_text(text.replace("{% include '/etc/passwd' %}\n", ""))
    manifest["spec"]["sha256"] = sha256(copy)
    path.write_text(json.dumps(manifest))
    code, _, err = cli("reproduce", "out")
    assert code == 2
    assert "(from the recorded var samples=-5, spec.vars in out/manifest.json)" in err
    assert (
        "the recorded var other=1, spec.vars in out/manifest.json: the spec never reads 'other'"
    ) in err
    assert "--var" not in err


def test_a_manifest_of_many_recorded_vars_is_named_in_bounded_lines(project, cli):
    # each unread var was a line listing every name the spec reads, and looked up among them:
    # a forged spec copy and manifest made reproduce print gigabytes, for hours
    path = project / "out" / "manifest.json"
    manifest = json.loads(path.read_text())
    copy = project / "out" / "spec.yaml"
    reads = " ".join(f"var('name{i}')" for i in range(300))
    copy.write_text(copy.read_text() + f"# {reads}\n")
    manifest["spec"]["sha256"] = sha256(copy)
    manifest["spec"]["vars"] = {"samples": 300, **{f"other{i}": i for i in range(2000)}}
    path.write_text(json.dumps(manifest))
    code, _, err = cli("reproduce", "out")
    lines = err.splitlines()
    assert code == 2 and len(lines) == 22 and max(map(len, lines)) < 500, err[:2000]
    assert "the recorded var other0=0, spec.vars in out/manifest.json: the spec never" in err
    assert "; it reads name0, name1, name10, name100" in err and " and 281 more" in err
    assert "1,980 more recorded vars (spec.vars in out/manifest.json) the spec never reads" in err


def test_usage_errors(project, cli):
    code, _, err = cli("reproduce", "out", "--workers", "0")
    assert code == 2 and "--workers must be >= 1" in err
    code, _, err = cli("reproduce", "nowhere")
    assert code == 2 and "nowhere: does not exist" in err


def test_templates_dir_given_to_the_build_is_given_to_reproduce(tmp_path, monkeypatch, capsys):
    from synthc.cli import main

    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.yaml.j2").write_text(COMMON)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "tiny.yaml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    api.build("specs/tiny.yaml", "out", variables={"samples": 300}, templates="shared", workers=1)
    assert main(["reproduce", "out", "--templates", "shared", "--workers", "1"]) == 0
    assert "reproduced" in capsys.readouterr().out
    # without it, the include is not found where the spec stands: a spec error, not a difference
    assert main(["reproduce", "out", "--workers", "1"]) == 2
    assert "common.yaml.j2" in capsys.readouterr().err


def test_a_data_package_not_installed_is_one_line_not_one_per_input(tmp_path, monkeypatch):
    """An OCR dataset records every trdg font and dictionary it read; reproduced where trdg
    is not installed (a lean install), they are one line saying so, not a hundred 'missing'."""
    from small_datasets import write_spec

    from synthc.outputs import origin
    from synthc.outputs.manifest import read_manifest

    monkeypatch.chdir(tmp_path)
    out = api.build(write_spec(tmp_path, "ocr_text"), tmp_path / "out", workers=1).out
    manifest = read_manifest(out)
    provenance = origin.read_provenance(out, manifest)
    assert provenance is not None
    trdg_inputs = [i for i in provenance.inputs if i.path.startswith("trdg:")]
    assert len(trdg_inputs) > 1
    location = origin.locate_spec(out, manifest, provenance, None)
    assert origin.changed_inputs(provenance, location) == []  # trdg installed: as built
    monkeypatch.setattr(origin, "package_roots", lambda: [])  # as where it is not
    (change,) = origin.changed_inputs(provenance, location)
    assert str(change) == (
        f"trdg:* ({len(trdg_inputs)} recorded input(s)): missing: trdg, whose data they are, "
        "is not installed here"
    )


def test_a_shard_listed_many_times_is_read_once(project, cli, monkeypatch):
    """Each entry's file was hashed: a shard listed 20,000 times, 20,000 times."""
    from synthc import reproducing

    manifest = json.loads((project / "out" / "manifest.json").read_text())
    split = next(iter(manifest["splits"].values()))
    first = split["shards"][0]
    split["shards"] += [first] * 30
    patch_manifest(project / "out", splits=manifest["splits"])
    read: list[str] = []
    original = reproducing.regular_state

    def counted(path, *args, **kwargs):
        read.append(Path(path).name)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(reproducing, "regular_state", counted)
    code, _, err = cli("reproduce", "out")
    assert code == 1 and f"{first['path']}: the manifest lists it twice" in err, err
    assert read.count(Path(first["path"]).name) == 1


def test_an_input_listed_many_times_is_hashed_once(project, cli, monkeypatch):
    """Each entry's file was hashed: a large template listed 100,000 times, 100,000 times."""
    from synthc.outputs import origin

    entry = {"path": "specs/common.yaml.j2", "role": "template", "sha256": "0" * 64}
    recorded = provenance(project, "specs/tiny.yaml", "specs/common.yaml.j2")
    recorded["inputs"] += [entry, {**entry, "path": "specs/../specs/common.yaml.j2"}] * 20
    patch_manifest(project / "out", provenance=recorded)
    hashed: list[str] = []
    original = origin._bounded_sha256

    def counted(path):
        hashed.append(Path(path).name)
        return original(path)

    monkeypatch.setattr(origin, "_bounded_sha256", counted)
    code, _, err = cli("reproduce", "out")
    assert code == 1 and "specs/common.yaml.j2 (template): changed since the build" in err, err
    assert hashed.count("common.yaml.j2") == 1
