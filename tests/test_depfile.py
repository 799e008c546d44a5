"""Depfiles for make and ninja: the rule's spelling, when it is written, and real make and ninja
runs that rebuild exactly the datasets whose template or word list changed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import spec_text

from synthc import api
from synthc.depfile import DepfileError, escape, make_rule
from synthc.generators.ocr.resources import trdg_root

SYNTHC = Path(sys.executable).with_name("synthc")


#: paths make and ninja both read back (checked with both: tests below and the module doc)
WRITTEN = {
    "a b$c#d.yaml": "a\\ b$$c\\#d.yaml",
    " lead/x y/a${b}~c!d@e+f,g-h_i.j2": "\\ lead/x\\ y/a$${b}~c!d@e+f,g-h_i.j2",
    "café/raw\udcff.j2": "café/raw\udcff.j2",  # UTF-8 and a non-UTF-8 byte, as bytes
    ".hidden/define": ".hidden/define",
}
#: paths one of them reads as something else: what the refusal names
REFUSED = {
    **{f"s.yaml{c}touch": repr(c) for c in ";:|=\\*?[]%()'\"&<>^`"},
    "a\nb": "a line break",
    "a\tb": "a tab",
    "a\x01b": "control character",
    "a\x7fb": "control character",
    "~/x.j2": "starts with '~'",
    "x.j2 ": "ends in a space",
    ".SILENT": "starts with '.'",
    "define": "make directive",
}


def test_paths_are_escaped_or_refused_for_make_and_ninja():
    for path, spelt in WRITTEN.items():
        assert escape(path) == spelt
    for path, what in REFUSED.items():
        with pytest.raises(DepfileError, match="rename it") as refused:
            escape(path)
        assert what in str(refused.value) and repr(path) in str(refused.value), path
    # gcc's -MP: an empty rule for each prerequisite, so make rebuilds when one is gone
    assert make_rule("out/a/manifest.json", ["x.yaml", "t p/y.j2", "x.yaml"]) == (
        "out/a/manifest.json: \\\n x.yaml \\\n t\\ p/y.j2\n\nx.yaml:\n\nt\\ p/y.j2:\n"
    )


def test_the_target_is_spelled_as_the_output_was_given(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "base.j2").write_text("seed: 4\n")
    spec = tmp_path / "specs" / "a.yaml"
    spec.write_text(spec_text(samples=200).replace("seed: 7\n", "{% include 'base.j2' %}\n"))
    code, _, err = cli("build", "specs/a.yaml", "-o", "out/a", "--depfile", "out/a.d")
    assert code == 0, err
    assert Path("out/a.d").read_text() == (
        "out/a/manifest.json: \\\n specs/a.yaml \\\n specs/base.j2\n"
        "\nspecs/a.yaml:\n\nspecs/base.j2:\n"
    )
    # from another directory, files outside it are absolute (a depfile is a local artifact)
    monkeypatch.chdir(tmp_path / "out")
    code, _, err = cli("build", "../specs/a.yaml", "-o", "a", "--depfile", "a/manifest.json.d")
    assert code == 0, err
    spec, base = tmp_path / "specs/a.yaml", tmp_path / "specs/base.j2"
    assert Path("a/manifest.json.d").read_text() == (
        f"a/manifest.json: \\\n {spec} \\\n {base}\n\n{spec}:\n\n{base}:\n"
    )


@pytest.mark.parametrize("out", ["out/a/.", "out//a", "./out/a", "./out/./a/"])
def test_the_target_is_spelled_without_dot_components(tmp_path, monkeypatch, out):
    # the CLI hands a Path, which drops them; the API keeps text as given, and make would
    # not match out/a/./manifest.json to the Makefile's out/a/manifest.json
    monkeypatch.chdir(tmp_path)
    Path("a.yaml").write_text(spec_text(samples=20, shard_size=20))
    api.build("a.yaml", out, depfile="a.d", workers=1)
    assert Path("a.d").read_text().startswith("out/a/manifest.json: \\\n a.yaml\n")


def test_a_target_keeps_dot_dot_and_an_absolute_start():
    from synthc.depfile import target_name

    assert target_name("/x//y/.", "m.json") == "/x/y/m.json"
    assert target_name(".", "m.json") == "m.json"
    assert target_name("../x/../y", "m.json") == "../x/../y/m.json"  # a symlink may be on the way


def test_a_symlinked_template_is_named_as_opened_and_as_resolved(tmp_path, monkeypatch, cli):
    # as the resolved file alone, re-pointing the link was invisible even to make -L
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "v1.j2").write_text("seed: 4\n")
    (tmp_path / "specs" / "cur.j2").symlink_to("v1.j2")
    spec = tmp_path / "specs" / "a.yaml"
    spec.write_text(spec_text(samples=200).replace("seed: 7\n", "{% include 'cur.j2' %}\n"))
    code, _, err = cli("build", "specs/a.yaml", "-o", "out/a", "--depfile", "out/a.d")
    assert code == 0, err
    assert Path("out/a.d").read_text().split("\n\n")[0] == (
        "out/a/manifest.json: \\\n specs/a.yaml \\\n specs/v1.j2 \\\n specs/cur.j2"
    )


def test_written_on_an_up_to_date_build_but_not_on_a_dry_run(tmp_path, write_spec, cli):
    spec = write_spec(spec_text(samples=200))
    out, dep = tmp_path / "out", tmp_path / "out.d"
    assert cli("build", spec, "-o", out, "--dry-run", "--depfile", dep)[0] == 0
    assert sorted(os.listdir(tmp_path)) == ["spec.yaml"]  # the folder was tried, and left as is
    assert cli("build", spec, "-o", out, "--depfile", dep)[0] == 0
    dep.unlink()
    code, stdout, _ = cli("build", spec, "-o", out, "--depfile", dep)
    assert code == 0 and "up to date" in stdout and dep.is_file()


def test_an_up_to_date_build_brings_the_manifest_past_a_touched_input(tmp_path, write_spec):
    spec = write_spec(spec_text(samples=200))
    out = tmp_path / "out"
    api.build(spec, out, workers=1)
    manifest = out / "manifest.json"
    data = manifest.read_bytes()
    later = manifest.stat().st_mtime_ns + 5_000_000_000
    os.utime(spec, ns=(later, later))
    assert api.build(spec, out, workers=1).up_to_date
    assert manifest.stat().st_mtime_ns >= later and manifest.read_bytes() == data


@pytest.mark.parametrize(
    ("depfile", "message"),
    [
        ("out/train/x.d", "only a top-level \\*.d file"),
        ("out/manifest.json", "only a top-level \\*.d file"),
        ("out", "is a directory"),
    ],
)
def test_a_depfile_never_takes_the_builds_own_files(tmp_path, write_spec, cli, depfile, message):
    spec = write_spec(spec_text(samples=200))
    out = tmp_path / "out"
    assert cli("build", spec, "-o", out)[0] == 0
    before = (out / "manifest.json").read_bytes()
    code, _, err = cli("build", spec, "-o", out, "--depfile", tmp_path / depfile)
    assert code == 2 and err.count("\n") == 1
    assert (out / "manifest.json").read_bytes() == before
    assert re.search(message, err), err


def test_a_depfile_ending_in_a_slash_is_refused_before_building(tmp_path, write_spec, cli):
    """``--depfile deps/`` wrote the rule to a file named ``deps``."""
    spec = write_spec(spec_text(samples=200))
    code, _, err = cli("build", spec, "-o", tmp_path / "out", "--depfile", f"{tmp_path}/deps/")
    assert code == 2 and "deps/: names a directory; give the file to write" in err, err
    assert not (tmp_path / "deps").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("link", [False, True])
def test_a_depfile_that_is_an_input_is_refused_before_building(tmp_path, cli, link):
    """``--depfile $<`` in a Makefile once replaced the spec with the rule (a hard link to a
    template is that template)."""
    (tmp_path / "seed.j2").write_text("seed: 7\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200).replace("seed: 7\n", "{% include 'seed.j2' %}\n"))
    depfile = spec
    if link:
        depfile = tmp_path / "seed.d"
        os.link(tmp_path / "seed.j2", depfile)
    before = depfile.read_bytes()
    code, _, err = cli("build", spec, "-o", tmp_path / "out", "--depfile", depfile)
    assert code == 2 and err.count("\n") == 1
    assert ("template" if link else "(spec)") in err and "a file the spec reads" in err, err
    assert depfile.read_bytes() == before
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("depfile", ["x.d", "X.d"])
def test_a_depfile_named_as_a_split_folder_is_refused_before_building(tmp_path, cli, depfile):
    # a split may be called x.d: its folder is the build's, not a top-level depfile (and X.d
    # is the same folder where case is ignored: macOS, Windows)
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200, splits="{train: 0.5, x.d: 0.5}"))
    out = tmp_path / "out"
    code, _, err = cli("build", spec, "-o", out, "--depfile", out / depfile)
    assert code == 2 and err.count("\n") == 1
    assert "the folder of the split x.d" in err, err
    assert not out.exists()


def test_a_path_with_a_newline_is_refused_before_building(tmp_path, cli):
    folder = tmp_path / "a\nb"
    folder.mkdir()
    spec = folder / "spec.yaml"
    spec.write_text(spec_text(samples=200))
    code, _, err = cli("build", spec, "-o", tmp_path / "out", "--depfile", tmp_path / "out.d")
    assert code == 2 and "line break" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("a-file/out.d", "a-file is not a directory"),
        ("a-file/deeper/out.d", "a-file is not a directory"),
        # os.access lets root "write" in /proc; creating a file there fails
        ("/proc/out.d", "cannot create a file in /proc"),
    ],
)
def test_a_depfile_that_cannot_be_written_is_refused_before_building(tmp_path, cli, where, message):
    # found after the build, it would leave a new dataset whose make rule never saw its inputs
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(samples=200))
    (tmp_path / "a-file").write_text("")
    code, _, err = cli("build", spec, "-o", tmp_path / "out", "--depfile", tmp_path / where)
    assert code == 2 and err.count("\n") == 1
    assert "cannot " in err and message in err, err
    assert sorted(os.listdir(tmp_path)) == ["a-file", "spec.yaml"]


# -- real make and ninja ------------------------------------------------------------------
#: the template both ``words`` and ``roll`` include: a name make and ninja must unescape alike
BASE = "_base/com mon$1#.yaml.j2"
OCR = """\
{% include '_base/com mon$1#.yaml.j2' %}
name: words
samples: 12
generator:
  kind: ocr_text
  text: {source: dict, dictionary: words.txt, words: [1, 2]}
  fonts: {paths: [Aller_Bd.ttf]}
  size: 24
  background: {kinds: [plain]}
output: {shard_size: 6}
"""
MAKEFILE = """\
DATASETS := words roll plain
all: $(DATASETS:%=out/%/manifest.json)
out/%/manifest.json: specs/%.yaml
\t{synthc} build $< -o out/$* --workers 1 --depfile out/$*.d
-include $(DATASETS:%=out/%.d)
"""
NINJA = """\
rule synthc
  command = {synthc} build $in -o $dir --workers 1 --depfile $out.d
  depfile = $out.d
  deps = gcc
  description = BUILD $dir
rule synthc_depfile
  command = {synthc} build $in -o $dir --workers 1 --depfile $out.d
  depfile = $out.d
  description = BUILD $dir
build out/words/manifest.json: synthc specs/words.yaml
  dir = out/words
build out/roll/manifest.json: synthc_depfile specs/roll.yaml
  dir = out/roll
build out/plain/manifest.json: synthc specs/plain.yaml
  dir = out/plain
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Three specs: ``words`` (OCR: the base template and a word list), ``roll`` (the base
    template) and ``plain`` (neither), with a Makefile and a build.ninja (whose ``roll`` rule
    reads its depfile without ``deps = gcc``)."""
    assert shutil.which("make") and shutil.which("ninja"), "make and ninja must be installed"
    specs = tmp_path / "specs"
    (specs / "_base").mkdir(parents=True)
    (specs / BASE).write_text("synthc: 1\nseed: 5\n")
    (specs / "words.yaml").write_text(OCR)
    (specs / "words.txt").write_text("alpha\nbeta\n")
    shutil.copy(trdg_root() / "fonts" / "latin" / "Aller_Bd.ttf", specs)
    roll = spec_text(name="roll", samples=200).replace("seed: 7\n", "")
    (specs / "roll.yaml").write_text(roll.replace("synthc: 1\n", f"{{% include '{BASE}' %}}\n"))
    (specs / "plain.yaml").write_text(spec_text(name="plain", samples=200))
    (tmp_path / "Makefile").write_text(MAKEFILE.format(synthc=SYNTHC))
    (tmp_path / "build.ninja").write_text(NINJA.format(synthc=SYNTHC))
    return tmp_path


def run(project: Path, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=project, capture_output=True, text=True)
    assert not check or done.returncode in (0, 1), done.stderr
    return done


def rebuilt_by_make(project: Path, *datasets: str) -> list[str]:
    """The specs ``make`` rebuilt (of ``datasets``, default all three)."""
    only = [f"DATASETS={' '.join(datasets)}"] if datasets else []
    done = run(project, "make", *only)
    assert done.returncode == 0, done.stderr
    return sorted(line.split()[2] for line in done.stdout.splitlines() if " build specs/" in line)


def rebuilt_by_ninja(project: Path) -> list[str]:
    done = run(project, "ninja")
    assert done.returncode == 0, done.stdout
    return sorted(line.split("BUILD ")[1] for line in done.stdout.splitlines() if "BUILD " in line)


def test_make_rebuilds_exactly_the_datasets_that_read_an_edited_file(project):
    assert rebuilt_by_make(project) == ["specs/plain.yaml", "specs/roll.yaml", "specs/words.yaml"]
    assert run(project, "make", "-q").returncode == 0
    assert rebuilt_by_make(project) == []
    base = project / "specs" / BASE
    base.write_text(base.read_text() + "# a comment\n")
    assert rebuilt_by_make(project) == ["specs/roll.yaml", "specs/words.yaml"]
    assert run(project, "make", "-q").returncode == 0
    (project / "specs" / "words.txt").write_text("alpha\nbeta\ngamma\n")
    assert rebuilt_by_make(project) == ["specs/words.yaml"]
    assert run(project, "make", "-q").returncode == 0
    os.utime(project / "specs" / "words.txt")  # touched, content unchanged: up to date
    assert rebuilt_by_make(project) == ["specs/words.yaml"]
    assert run(project, "make", "-q").returncode == 0


def test_ninja_rebuilds_exactly_the_datasets_that_read_an_edited_file(project):
    assert rebuilt_by_ninja(project) == ["out/plain", "out/roll", "out/words"]
    assert "no work to do" in run(project, "ninja", "-n").stdout
    base = project / "specs" / BASE
    base.write_text(base.read_text() + "# a comment\n")
    assert rebuilt_by_ninja(project) == ["out/roll", "out/words"]
    assert "no work to do" in run(project, "ninja", "-n").stdout
    (project / "specs" / "words.txt").write_text("alpha\nbeta\ngamma\n")
    assert rebuilt_by_ninja(project) == ["out/words"]
    assert "no work to do" in run(project, "ninja", "-n").stdout


RESTAT = """\
rule synthc
  command = {synthc} build $in -o $dir --workers 1 --depfile $out.d --restat
  depfile = $out.d
  deps = gcc
  restat = 1
  description = BUILD $dir
rule use
  command = touch $out
  description = BUILD $out
build out/roll/manifest.json: synthc specs/roll.yaml
  dir = out/roll
build trained: use out/roll/manifest.json
"""


def test_with_restat_a_touched_template_rebuilds_nothing_that_depends_on_the_dataset(project):
    """ninja's ``restat = 1`` remembers the check; a manifest time moved forward made it
    rebuild what depends on the dataset though its data did not change."""
    (project / "build.ninja").write_text(RESTAT.format(synthc=SYNTHC))
    assert rebuilt_by_ninja(project) == ["out/roll", "trained"]
    before = (project / "out" / "roll" / "manifest.json").stat().st_mtime_ns
    time.sleep(0.01)
    os.utime(project / "specs" / BASE)  # touched, content unchanged
    assert rebuilt_by_ninja(project) == ["out/roll"]
    assert (project / "out" / "roll" / "manifest.json").stat().st_mtime_ns == before
    assert "no work to do" in run(project, "ninja", "-n").stdout


def test_make_rebuilds_when_an_included_template_is_renamed(project):
    # without an empty rule for each input, make stopped: "No rule to make target ..."
    assert rebuilt_by_make(project, "roll") == ["specs/roll.yaml"]
    roll = project / "specs" / "roll.yaml"
    (project / "specs" / BASE).rename(project / "specs" / "_base" / "renamed.j2")
    roll.write_text(roll.read_text().replace(BASE, "_base/renamed.j2"))
    assert rebuilt_by_make(project, "roll") == ["specs/roll.yaml"]
    assert run(project, "make", "-q", "DATASETS=roll").returncode == 0


def test_make_rebuilds_when_a_font_is_added_to_a_fonts_dir(project):
    """The depfile names the directory too: a font added there was never a prerequisite."""
    fonts = project / "specs" / "fonts"
    fonts.mkdir()
    (project / "specs" / "Aller_Bd.ttf").rename(fonts / "Aller_Bd.ttf")
    words = project / "specs" / "words.yaml"
    words.write_text(OCR.replace("paths: [Aller_Bd.ttf]", "dir: fonts"))
    assert rebuilt_by_make(project, "words") == ["specs/words.yaml"]
    assert " specs/fonts\n" in (project / "out" / "words.d").read_text()
    shutil.copy(trdg_root() / "fonts" / "latin" / "Lato-Bold.ttf", fonts)
    assert rebuilt_by_make(project, "words") == ["specs/words.yaml"]
    assert run(project, "make", "-q", "DATASETS=words").returncode == 0


def test_a_name_that_would_run_a_command_is_refused_before_building(project):
    # make read the rest of the depfile's line after ';' as a recipe and ran it
    (project / "specs" / "s.yaml;touch${IFS}PWNED").write_text("seed: 5\n")
    evil = spec_text(name="evil", samples=200).replace("seed: 7\n", "")
    (project / "specs" / "evil.yaml").write_text(
        evil.replace("synthc: 1\n", "synthc: 1\n{% include 's.yaml;touch${IFS}PWNED' %}\n")
    )
    with (project / "build.ninja").open("a") as ninja:
        ninja.write("build out/evil/manifest.json: synthc specs/evil.yaml\n  dir = out/evil\n")
    done = run(project, "make", "DATASETS=evil", check=False)
    assert done.returncode == 2 and "holds ';'" in done.stderr, done.stderr
    assert not (project / "out").exists() and not (project / "PWNED").exists()
    done = run(project, "ninja", "out/evil/manifest.json", check=False)
    assert done.returncode == 1 and "holds ';'" in done.stdout, done.stdout
    # ninja itself makes the output's folder before running the rule: synthc wrote nothing there
    assert not list((project / "out" / "evil").iterdir()) and not (project / "PWNED").exists()


def test_without_o_the_target_is_the_default_output(tmp_path, monkeypatch, write_spec, cli):
    write_spec(spec_text(name="tiny", samples=200))
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("build", "spec.yaml", "--depfile", "tiny.d")
    assert code == 0, err
    rule = "outputs/tiny/manifest.json: \\\n spec.yaml\n\nspec.yaml:\n"
    assert Path("tiny.d").read_text() == rule
