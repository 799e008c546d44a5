"""The manifest's provenance: every input file with its role and sha256, the git state of the
spec repository (read with the real git), --require-clean, and byte-identical no-op rebuilds."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import spec_text

from synthc import api
from synthc.errors import OutputError, UsageError
from synthc.generators.ocr.resources import trdg_root
from synthc.git_state import OUTSIDE, GitUnavailable, git_state

OCR = """\
{% include '_base/common.yaml.j2' %}
name: words
samples: 20
generator:
  kind: ocr_text
  text: {source: dict, dictionary: words.txt, words: [1, 2]}
  fonts: {paths: [fonts/Aller_Bd.ttf]}
  size: 24
  background: {kinds: [plain]}
output: {shard_size: 10}
"""
COMMON = "synthc: 1\nseed: 5\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def commit_all(repo: Path, message: str = "specs") -> str:
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed spec repository: an OCR spec with a base template, a word list and a font,
    a manifold spec, and an ignored output folder."""
    root = tmp_path / "repo"
    (root / "specs" / "_base").mkdir(parents=True)
    (root / "specs" / "fonts").mkdir()
    git(tmp_path, "init", "-q", str(root))
    (root / ".gitignore").write_text("out/\n")
    (root / "specs" / "_base" / "common.yaml.j2").write_text(COMMON)
    (root / "specs" / "words.yaml").write_text(OCR)
    (root / "specs" / "words.txt").write_text("alpha\nbeta\ngamma\n")
    shutil.copy(trdg_root() / "fonts" / "latin" / "Aller_Bd.ttf", root / "specs" / "fonts")
    (root / "specs" / "roll.yaml").write_text(spec_text(name="roll", samples=200))
    commit_all(root)
    return root


def test_the_manifest_records_every_input_and_the_commit(repo, monkeypatch):
    monkeypatch.chdir(repo)
    out = Path("out", "words")
    api.build("specs/words.yaml", out, workers=1)
    text = (out / "manifest.json").read_text()
    provenance = json.loads(text)["provenance"]
    assert provenance["inputs"] == [
        {"path": "specs/words.yaml", "role": "spec", "sha256": sha256(repo / "specs/words.yaml")},
        {
            "path": "specs/_base/common.yaml.j2",
            "role": "template",
            "sha256": sha256(repo / "specs/_base/common.yaml.j2"),
        },
        {
            "path": "specs/words.txt",
            "role": "dictionary",
            "sha256": sha256(repo / "specs/words.txt"),
        },
        {
            "path": "specs/fonts/Aller_Bd.ttf",
            "role": "font",
            "sha256": sha256(repo / "specs/fonts/Aller_Bd.ttf"),
        },
    ]
    assert provenance["git"] == {
        "commit": git(repo, "rev-parse", "HEAD"),
        "path": "specs/words.yaml",
        "dirty": False,
    }
    assert json.loads(text)["spec"]["source"] == "specs/words.yaml"
    assert str(repo) not in text  # no absolute path of this machine
    assert api.verify(out) == 2


def test_trdg_data_is_recorded_portably_and_never_makes_the_tree_dirty(repo):
    spec = repo / "specs" / "trdg.yaml"
    spec.write_text(
        OCR.replace("dictionary: words.txt", "language: en").replace(
            "fonts: {paths: [fonts/Aller_Bd.ttf]}", "fonts: {language: latin}"
        )
    )
    commit_all(repo)
    compiled = api.compile_spec(spec)
    roles = {r.role for r in compiled.inputs}
    assert roles == {"spec", "template", "dictionary", "font"}
    assert ("trdg:dicts/en.txt", "dictionary") in [(r.path, r.role) for r in compiled.inputs]
    fonts = [r.path for r in compiled.inputs if r.role == "font"]
    assert fonts == sorted(fonts) and all(p.startswith("trdg:fonts/latin/") for p in fonts)
    assert git_state(spec, compiled.inputs).dirty is False


def test_dirty_names_edited_untracked_and_ignored_inputs(repo):
    spec = repo / "specs" / "words.yaml"
    assert git_state(spec, api.compile_spec(spec).inputs).uncommitted == ()
    (repo / "specs" / "_base" / "common.yaml.j2").write_text(COMMON + "# edited\n")
    (repo / "specs" / "words.txt").unlink()
    (repo / "out").mkdir()
    (repo / "out" / "words.txt").write_text("delta\n")  # ignored by .gitignore
    spec.write_text(OCR.replace("dictionary: words.txt", "dictionary: ../out/words.txt"))
    state = git_state(spec, api.compile_spec(spec).inputs)
    assert state.dirty and state.commit == git(repo, "rev-parse", "HEAD")
    assert [path for path, _ in state.uncommitted] == [
        "out/words.txt",
        "specs/_base/common.yaml.j2",
        "specs/words.yaml",
    ]
    (repo / "specs" / "new.txt").write_text("x\n")  # untracked, but not an input
    git(repo, "add", "specs")  # staged is not committed
    state = git_state(spec, api.compile_spec(spec).inputs)
    assert "specs/new.txt" not in dict(state.uncommitted)
    assert "specs/words.yaml" in dict(state.uncommitted)


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
def test_an_edit_git_is_told_not_to_look_at_is_still_dirty(repo, flag):
    """``git diff`` passes over such a file: its bytes are compared with HEAD's blob."""
    spec = repo / "specs" / "roll.yaml"
    git(repo, "update-index", flag, "specs/roll.yaml")
    assert git_state(spec, api.compile_spec(spec).inputs).uncommitted == ()
    spec.write_text(spec_text(name="roll", samples=300))
    state = git_state(spec, api.compile_spec(spec).inputs)
    assert dict(state.uncommitted) == {"specs/roll.yaml": "differs from HEAD"}


def test_a_spec_linked_from_another_repository_is_judged_by_the_links_one(repo, tmp_path):
    """Not by the repository the link leads into: its commit does not hold the link."""
    other = tmp_path / "other"
    git(tmp_path, "init", "-q", str(other))
    (other / "roll.yaml").write_text(spec_text(name="roll", samples=200))
    commit_all(other)
    link = repo / "specs" / "linked.yaml"
    link.symlink_to(other / "roll.yaml")
    commit_all(repo)
    state = git_state(link, api.compile_spec(link).inputs)
    assert (state.commit, state.path) == (git(repo, "rev-parse", "HEAD"), "specs/linked.yaml")
    assert [why for _, why in state.uncommitted] == [OUTSIDE]


def test_a_symlink_re_pointed_since_head_is_dirty(repo):
    """Every file read is committed, but HEAD's links lead to others: a clean checkout of the
    recorded commit would make other data."""
    base = repo / "specs" / "_base"
    (base / "v2.j2").write_text(COMMON.replace("seed: 5", "seed: 6"))
    (base / "cur.j2").symlink_to("common.yaml.j2")
    for folder, seed in (("one", 200), ("two", 300)):
        (repo / "specs" / folder).mkdir()
        (repo / "specs" / folder / "n.j2").write_text(f"samples: {seed}\n")
    (repo / "specs" / "linked").symlink_to("one")
    spec = repo / "specs" / "roll.yaml"
    body = spec_text(name="roll").replace("synthc: 1\n", "").replace("seed: 7\n", "")
    includes = "{% include '_base/cur.j2' %}\n{% include 'linked/n.j2' %}\n"
    spec.write_text(includes + body.replace("samples: 1000\n", ""))
    commit_all(repo)
    assert git_state(spec, api.compile_spec(spec).inputs).uncommitted == ()
    (base / "cur.j2").unlink()
    (base / "cur.j2").symlink_to("v2.j2")
    (repo / "specs" / "linked").unlink()
    (repo / "specs" / "linked").symlink_to("two")
    state = git_state(spec, api.compile_spec(spec).inputs)
    assert dict(state.uncommitted) == {
        "specs/_base/cur.j2": "differs from HEAD",
        "specs/linked": "differs from HEAD",
    }


def test_a_fonts_dir_link_re_pointed_since_head_is_dirty(repo):
    specs = repo / "specs"
    (specs / "fonts").rename(specs / "fonts_v1")
    (specs / "fonts_v2").mkdir()
    shutil.copy(trdg_root() / "fonts" / "latin" / "Lato-Bold.ttf", specs / "fonts_v2")
    (specs / "fonts").symlink_to("fonts_v1")
    spec = specs / "words.yaml"
    spec.write_text(OCR.replace("paths: [fonts/Aller_Bd.ttf]", "dir: fonts"))
    commit_all(repo)
    out = repo / "out" / "words"
    api.build(spec, out, dry_run=True, require_clean=True)
    (specs / "fonts").unlink()
    (specs / "fonts").symlink_to("fonts_v2")
    with pytest.raises(UsageError, match="\n  specs/fonts: differs from HEAD$"):
        api.build(spec, out, dry_run=True, require_clean=True)


def test_a_font_deleted_from_a_fonts_dir_since_head_is_dirty(repo):
    """Every font read is committed, but HEAD's folder holds one more: its checkout makes other
    data."""
    fonts = repo / "specs" / "fonts"
    shutil.copy(trdg_root() / "fonts" / "latin" / "Lato-Bold.ttf", fonts)
    spec = repo / "specs" / "words.yaml"
    spec.write_text(OCR.replace("paths: [fonts/Aller_Bd.ttf]", "dir: fonts"))
    commit_all(repo)
    out = repo / "out" / "words"
    api.build(spec, out, dry_run=True, require_clean=True)
    (fonts / "Lato-Bold.ttf").unlink()
    with pytest.raises(UsageError, match="specs/fonts/Lato-Bold.ttf: deleted since HEAD from"):
        api.build(spec, out, dry_run=True, require_clean=True)


def test_a_clean_filter_the_repository_configures_is_not_run(repo, tmp_path):
    """git diff ran it on every changed input: a command of the repository's own config (a
    shared copy of a repository, .git included)."""
    marker = tmp_path / "ran"
    git(repo, "config", "filter.x.clean", f"touch '{marker}'; cat")
    git(repo, "config", "filter.x.required", "true")
    (repo / ".gitattributes").write_text("*.j2 filter=x\n")
    commit_all(repo)
    # git add runs the filter only on files whose stat differs from the index's (or is racy)
    marker.unlink(missing_ok=True)
    template = repo / "specs" / "_base" / "common.yaml.j2"
    os.utime(template, ns=(1, 1))  # its stat no longer the index's: git reads it again
    spec = repo / "specs" / "words.yaml"
    assert git_state(spec, api.compile_spec(spec).inputs).uncommitted == ()
    template.write_text(COMMON + "# edited\n")
    state = git_state(spec, api.compile_spec(spec).inputs)
    assert dict(state.uncommitted) == {"specs/_base/common.yaml.j2": "differs from HEAD"}
    assert not marker.exists()


def add_submodule(parent: Path, library: Path, where: str) -> None:
    git(parent, "-c", "protocol.file.allow=always", "submodule", "-q", "add", str(library), where)


def test_a_template_in_a_submodule_is_judged_by_the_submodule(repo, tmp_path):
    """Clean when committed in the submodule's HEAD and that HEAD is the one the repository's
    HEAD records; else dirty, naming the submodule. A submodule inside it the same way."""
    inner, lib = tmp_path / "inner", tmp_path / "lib"
    for library in (inner, lib):
        git(tmp_path, "init", "-q", str(library))
    (inner / "seed.j2").write_text("seed: 5\n")
    commit_all(inner, "inner")
    (lib / "common.yaml.j2").write_text("synthc: 1\n{% include 'shared/inner/seed.j2' %}\n")
    add_submodule(lib, inner, "inner")
    commit_all(lib, "lib")
    add_submodule(repo, lib, "shared")
    git(repo / "shared", "-c", "protocol.file.allow=always", "submodule", "-q", "update", "--init")
    spec = repo / "specs" / "words.yaml"
    spec.write_text(OCR.replace("_base/common.yaml.j2", "shared/common.yaml.j2"))
    commit_all(repo)
    inputs = api.compile_spec(spec).inputs
    assert [r.path for r in inputs if r.role == "template"] == [
        "shared/common.yaml.j2",
        "shared/inner/seed.j2",
    ]
    assert git_state(spec, inputs).uncommitted == ()
    (repo / "shared" / "inner" / "seed.j2").write_text("seed: 6\n")
    assert git_state(spec, api.compile_spec(spec).inputs).uncommitted == (
        ("shared/inner/seed.j2", "differs from HEAD in the submodule shared/inner"),
    )
    commit_all(repo / "shared" / "inner", "a new seed")  # not recorded by shared's HEAD
    ((path, why),) = git_state(spec, api.compile_spec(spec).inputs).uncommitted
    assert path == "shared/inner/seed.j2" and why.startswith("the submodule shared/inner is at")


def test_require_clean_refuses_uncommitted_inputs_before_writing(repo, cli):
    spec = repo / "specs" / "roll.yaml"
    out = repo / "out" / "roll"
    (repo / "specs" / "part.yaml").write_text("seed: 9\n")
    spec.write_text(spec_text(name="roll", samples=200).replace("seed: 7\n", "") + "")
    spec.write_text(spec.read_text() + "{% include 'part.yaml' %}\n")
    code, _, err = cli("build", spec, "-o", out, "--require-clean", "--workers", "1")
    assert code == 2
    assert "--require-clean: 2 input(s)" in err
    assert "specs/part.yaml: not committed" in err and "specs/roll.yaml: differs from HEAD" in err
    assert not out.exists()
    commit_all(repo)
    code, _, err = cli("build", spec, "-o", out, "--require-clean", "--workers", "1")
    assert code == 0, err
    assert api.load_manifest(out)["provenance"]["git"]["dirty"] is False


def test_an_input_outside_the_repository_is_not_committed(repo, tmp_path, cli):
    """A template from --templates outside the work tree: no commit holds it, so it is dirty
    and --require-clean refuses it (trdg's data, pinned by version and sha256, is exempt:
    test_trdg_data_is_recorded_portably_and_never_makes_the_tree_dirty)."""
    shared = tmp_path / "templates"
    (shared / "_base").mkdir(parents=True)
    (shared / "_base" / "seed.j2").write_text("seed: 7\n")
    spec = repo / "specs" / "roll.yaml"
    spec.write_text(spec_text(name="roll").replace("seed: 7\n", "{% include '_base/seed.j2' %}\n"))
    commit_all(repo)
    state = git_state(spec, api.compile_spec(spec, templates=shared).inputs)
    ((path, why),) = state.uncommitted
    assert path.endswith("templates/_base/seed.j2") and why.startswith("outside the repository")
    out = repo / "out" / "roll"
    code, _, err = cli("build", spec, "-o", out, "--templates", shared, "--require-clean")
    assert code == 2 and not out.exists()
    assert "seed.j2: outside the repository" in err


def test_require_clean_refuses_outside_git(tmp_path, write_spec, cli):
    spec = write_spec(spec_text(samples=200))
    code, _, err = cli("build", spec, "-o", tmp_path / "out", "--require-clean")
    assert code == 2
    assert "not in a git work tree" in err and "--require-clean" in err
    assert not (tmp_path / "out").exists()


def test_no_absolute_path_of_the_machine_reaches_the_manifest(repo, tmp_path, monkeypatch, cli):
    """Outside a repository the inputs are recorded relative to the spec's directory (the spec
    itself, named by an absolute path from elsewhere, by its name), and reproduce finds them
    from there; inside one relative to its root, spec.source too, however the spec was named."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "seed.j2").write_text("seed: 7\n")
    spec = tmp_path / "specs" / "spec.yaml"
    spec.write_text(spec_text(samples=200).replace("seed: 7\n", "{% include 'seed.j2' %}\n"))
    out, shared = tmp_path / "out", tmp_path / "shared"
    monkeypatch.chdir(repo)  # elsewhere than the spec
    code, _, err = cli("build", spec, "-o", out, "--templates", shared, "--workers", "1")
    assert code == 0, err
    text = (out / "manifest.json").read_text()
    manifest = json.loads(text)
    assert manifest["provenance"]["git"] is None
    assert manifest["spec"]["source"] == "spec.yaml"
    assert [(i["path"], i["role"]) for i in manifest["provenance"]["inputs"]] == [
        ("spec.yaml", "spec"),
        ("../shared/seed.j2", "template"),
    ]
    assert str(tmp_path) not in text
    monkeypatch.chdir(spec.parent)
    code, said, err = cli("reproduce", out, "--templates", shared, "--workers", "1")
    assert code == 0 and "reproduced" in said, err
    monkeypatch.chdir(tmp_path)  # outside the repository: its spec named by an absolute path
    api.build(repo / "specs" / "roll.yaml", repo / "out" / "roll", workers=1)
    text = (repo / "out" / "roll" / "manifest.json").read_text()
    assert json.loads(text)["spec"]["source"] == "specs/roll.yaml"
    assert str(tmp_path) not in text


def test_a_repository_without_commits_or_without_git_gives_no_state(tmp_path, monkeypatch):
    root = tmp_path / "fresh"
    root.mkdir()
    git(tmp_path, "init", "-q", str(root))
    spec = root / "spec.yaml"
    spec.write_text(spec_text(samples=200))
    inputs = api.compile_spec(spec).inputs
    with pytest.raises(GitUnavailable, match="has no commit yet"):
        git_state(spec, inputs)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(GitUnavailable, match="git program is not installed"):
        git_state(spec, inputs)
    result = api.build(spec, tmp_path / "out", workers=1)
    assert api.load_manifest(result.out)["provenance"]["git"] is None


def test_a_spec_in_a_repository_git_cannot_read_is_warned_about(tmp_path, write_spec, cli):
    """The manifest then records no git state: said, with git's reason; a spec outside any
    repository is not warned about."""
    outside = write_spec(spec_text(samples=200))
    code, _, err = cli("build", outside, "-o", tmp_path / "a", "--workers", "1")
    assert code == 0 and "git" not in err, err
    root = tmp_path / "fresh"
    root.mkdir()
    git(tmp_path, "init", "-q", str(root))
    (root / "spec.yaml").write_text(spec_text(samples=200))
    code, _, err = cli("build", root / "spec.yaml", "-o", tmp_path / "b", "--workers", "1")
    assert code == 0
    assert "the manifest records no git state (provenance.git: null)" in err
    assert "has no commit yet" in err
    (root / ".git").rename(root / "moved")
    (root / ".git").write_text(f"gitdir: {root / 'gone'}\n")  # a worktree whose repository moved
    code, _, err = cli("build", root / "spec.yaml", "-o", tmp_path / "b", "--require-clean")
    assert code == 2 and "fatal: not a git repository: " in err, err
    assert "is not in a git work tree" not in err


def test_git_dir_in_the_environment_does_not_redirect_the_reading(repo, tmp_path, monkeypatch):
    other = tmp_path / "other"
    git(tmp_path, "init", "-q", str(other))
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    spec = repo / "specs" / "roll.yaml"
    state = git_state(spec, api.compile_spec(spec).inputs)
    monkeypatch.delenv("GIT_DIR")
    assert state.commit == git(repo, "rev-parse", "HEAD")


def test_a_noop_rebuild_keeps_the_manifest_byte_identical(repo):
    spec = repo / "specs" / "roll.yaml"
    out = repo / "out" / "roll"
    api.build(spec, out, workers=1)
    before = (out / "manifest.json").read_bytes()
    (repo / "README").write_text("a later commit\n")
    later = commit_all(repo, "unrelated")
    assert not api.build(spec, out, workers=1).built
    assert (out / "manifest.json").read_bytes() == before  # the commit that made the data
    assert json.loads(before)["provenance"]["git"]["commit"] != later


def test_require_clean_certifies_an_up_to_date_manifest_that_recorded_dirty_inputs(repo):
    """Built from an uncommitted edit, then committed unchanged: the data is up to date. A plain
    build leaves the manifest as it is; --require-clean records the clean commit in it (its
    shards untouched), so a release never certifies a manifest saying dirty."""
    spec = repo / "specs" / "roll.yaml"
    out = repo / "out" / "roll"
    spec.write_text(spec.read_text() + "# an edit\n")
    api.build(spec, out, workers=1)
    assert api.load_manifest(out)["provenance"]["git"]["dirty"] is True
    shards = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    before = (out / "manifest.json").read_bytes()
    head = commit_all(repo, "the edit")
    assert api.build(spec, out, workers=1).up_to_date
    assert (out / "manifest.json").read_bytes() == before
    notes: list[str] = []
    assert api.build(spec, out, workers=1, require_clean=True, log=notes.append).up_to_date
    manifest = api.load_manifest(out)
    assert manifest["provenance"]["git"] == {
        "commit": head,
        "path": "specs/roll.yaml",
        "dirty": False,
    }
    assert {k: v for k, v in manifest.items() if k != "provenance"} == {
        k: v for k, v in json.loads(before).items() if k != "provenance"
    }
    assert len(notes) == 1 and "provenance.git now records commit" in notes[0]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")} == shards
    assert shards and api.verify(out) == len(shards)


def test_require_clean_rebuilds_a_replaced_shard_before_it_certifies(repo):
    """Certifying rewrites the manifest, with each shard's sha256: a shard replaced with its
    size and mtime kept is rebuilt first (it was certified with a sha256 it did not have)."""
    spec = repo / "specs" / "roll.yaml"
    out = repo / "out" / "roll"
    spec.write_text(spec.read_text() + "# an edit\n")
    api.build(spec, out, workers=1)
    head = commit_all(repo, "the edit")
    shard = out / "test" / "test-00000.parquet"
    good, before = shard.read_bytes(), shard.stat()
    shard.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])
    os.utime(shard, ns=(before.st_atime_ns, before.st_mtime_ns))
    notes: list[str] = []
    result = api.build(spec, out, workers=1, require_clean=True, log=notes.append)
    assert (result.built, result.kept, result.up_to_date) == (1, 1, False)
    assert "rebuilding them: test/test-00000.parquet" in notes[0]
    assert shard.read_bytes() == good
    assert api.load_manifest(out)["provenance"]["git"]["commit"] == head
    assert api.verify(out) == 2


def test_an_edited_template_rewrites_the_manifest_but_no_shard(repo):
    spec = repo / "specs" / "words.yaml"
    out = repo / "out" / "words"
    api.build(spec, out, workers=1)
    shards = {p: p.stat().st_mtime_ns for p in out.rglob("*.tar")}
    base = repo / "specs" / "_base" / "common.yaml.j2"
    base.write_text(COMMON + "# a comment\n")
    result = api.build(spec, out, workers=1)
    assert result.built == 0 and not result.up_to_date
    provenance = api.load_manifest(out)["provenance"]
    assert provenance["inputs"][1]["sha256"] == sha256(base)
    assert provenance["git"]["dirty"] is True
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.tar")} == shards


HOSTILE = [
    ("provenance", [], "provenance: must be an object"),
    ("provenance", {"inputs": {}, "git": None}, "provenance.inputs: must be a list"),
    ("provenance", {"inputs": [{"path": "a"}], "git": None}, "provenance.inputs[0]: must be"),
    (
        "provenance",
        {"inputs": [{"path": "a\nb", "role": "spec", "sha256": "0" * 64}], "git": None},
        "provenance.inputs[0].path",
    ),
    (
        "provenance",
        {"inputs": [{"path": "a", "role": "evil", "sha256": "0" * 64}], "git": None},
        "provenance.inputs[0].role",
    ),
    (
        "provenance",
        {"inputs": [{"path": "a", "role": "spec", "sha256": "xyz"}], "git": None},
        "provenance.inputs[0].sha256",
    ),
    ("provenance", {"inputs": [], "git": "HEAD"}, "provenance.git: must be null or an object"),
    (
        "provenance",
        {"inputs": [], "git": {"commit": "1" * 40, "path": "s.yaml", "dirty": "no"}},
        "provenance.git.dirty",
    ),
    (
        "provenance",
        {"inputs": [], "git": {"commit": "$(rm -rf /)", "path": "s.yaml", "dirty": True}},
        "provenance.git.commit",
    ),
]


@pytest.mark.parametrize(("key", "value", "message"), HOSTILE)
def test_a_hostile_provenance_is_refused_in_one_line(built, cli, key, value, message):
    _, out = built
    manifest = json.loads((out / "manifest.json").read_text())
    manifest[key] = value
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(OutputError, match=message.replace("[", r"\[").replace("$", r"\$")):
        api.load_manifest(out)
    code, _, err = cli("verify", out)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_manifest_without_provenance_still_verifies(built, cli):
    _, out = built
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["provenance"]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    code, _, err = cli("verify", out)
    assert code == 0, err
