"""examples/spec-repo with the real git, make and ninja, in a temporary copy committed to git:
Make and Ninja build every dataset once, rebuild exactly the datasets whose inputs changed, and
do nothing (touching no file) when nothing did; a release build refuses uncommitted inputs; the
manifest records the commit; ``synthc reproduce`` proves a dataset and catches a flipped byte.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "spec-repo"
#: dataset name -> its spec, relative to the repository root
DATASETS = {
    "swiss-roll": "manifold/swiss_roll.yaml",
    "customers": "tabular/customers.yaml",
    "shapes": "fractal/shapes.yaml",
}
TEMPLATE = "_base/common.yaml.j2"


def synthc_command() -> str:
    """The synthc these tests run, as a shell word list: the venv's script, else -m synthc."""
    exe = Path(sys.executable).with_name("synthc")
    if exe.exists():
        return shlex.quote(str(exe))
    return f"{shlex.quote(sys.executable)} -m synthc"


def run(repo: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), cwd=repo, capture_output=True, text=True, timeout=600, check=False
    )


def git(repo: Path, *args: str) -> str:
    done = run(repo, "git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def make(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(repo, "make", f"SYNTHC={synthc_command()}", *args)


def ninja(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(repo, "ninja", *args)


def synthc(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(repo, *shlex.split(synthc_command()), *args)


def example_repository(where: Path) -> Path:
    """A copy of the example, its build.ninja pointed at this synthc, committed to git."""
    copy = where / "spec-repo"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("out", ".ninja_*"))
    ninja_file = copy / "build.ninja"
    text = ninja_file.read_text()
    assert "\nsynthc = synthc\n" in text
    ninja_file.write_text(text.replace("\nsynthc = synthc\n", f"\nsynthc = {synthc_command()}\n"))
    git(copy, "init", "-q")
    git(copy, "add", ".")
    git(copy, "commit", "-qm", "the example spec repository")
    return copy


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh copy of the example committed to git, nothing built."""
    return example_repository(tmp_path)


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = example_repository(tmp_path_factory.mktemp("built"))
    done = make(repo, "-j2")
    assert done.returncode == 0, done.stderr
    return repo


@pytest.fixture
def built(built_once: Path, tmp_path: Path) -> Path:
    """A copy of the example after ``make -j2`` (mtimes kept, so it is up to date)."""
    copy = tmp_path / "spec-repo"
    shutil.copytree(built_once, copy, symlinks=True)
    return copy


def files(repo: Path) -> dict[str, int]:
    """Every file outside .git with its mtime in nanoseconds."""
    found = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if rel.parts[0] != ".git" and path.is_file():
            found[rel.as_posix()] = path.stat().st_mtime_ns
    return found


def manifests(repo: Path) -> dict[str, int]:
    return {name: (repo / "out" / name / "manifest.json").stat().st_mtime_ns for name in DATASETS}


def edit(repo: Path, name: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in ``name``, its mtime newer than every output (however
    coarse the file system's clock), so make and ninja see the edit."""
    path = repo / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    newest = max(files(repo).values())
    stamp = max(time.time_ns(), newest + 1_000_000)
    os.utime(path, ns=(stamp, stamp))


def rebuilt(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


# -- what works from the example alone ------------------------------------------------------


def test_three_datasets_of_different_kinds_include_the_shared_base_template():
    kinds = set()
    for spec in DATASETS.values():
        text = (EXAMPLE / spec).read_text()
        assert f'{{% include "{TEMPLATE}" %}}' in text
        kinds.add(re.search(r"^  kind: (\w+)$", text, re.M)[1])
    assert kinds == {"manifold", "tabular", "fractal"}
    base = (EXAMPLE / TEMPLATE).read_text()
    assert "seed:" in base and "output:" in base


def test_make_and_ninja_run_one_build_per_dataset_with_its_depfile(repo):
    planned = make(repo, "-n")
    assert planned.returncode == 0, planned.stderr
    ninja_plan = ninja(repo, "-t", "commands")
    assert ninja_plan.returncode == 0, ninja_plan.stderr
    for name, spec in DATASETS.items():
        assert f"build {spec} -o out/{name} --depfile out/{name}.d" in planned.stdout
        # ninja's own depfile: it moves the file into .ninja_deps and deletes it
        ninja_depfile = f"out/{name}/manifest.json.d"
        assert f"build {spec} -o out/{name} --depfile {ninja_depfile}" in ninja_plan.stdout
    assert planned.stdout.count(" build ") == ninja_plan.stdout.count(" build ") == 3
    for built_file in ("out/customers/manifest.json", "out/customers.d", ".ninja_log"):
        ignored = run(repo, "git", "check-ignore", "-q", built_file)
        assert ignored.returncode == 0, f"git does not ignore {built_file}"


# -- with h5's --depfile, provenance and shared template search -----------------------------


def test_make_builds_everything_then_does_nothing_touching_no_file(repo):
    first = make(repo, "-j2")
    assert first.returncode == 0, first.stderr
    for name in DATASETS:
        assert (repo / "out" / name / "manifest.json").is_file()
        depfile = (repo / "out" / f"{name}.d").read_text()
        assert depfile.startswith(f"out/{name}/manifest.json:")
        assert TEMPLATE in depfile and DATASETS[name] in depfile
    before = files(repo)
    second = make(repo, "-j2")
    assert second.returncode == 0, second.stderr
    assert "synthc" not in second.stdout and "Nothing to be done" in second.stdout
    assert files(repo) == before


def test_make_rebuilds_exactly_the_datasets_that_read_an_edited_file(built):
    repo = built
    assert "synthc" not in make(repo, "-j2").stdout  # the copy is up to date
    before = manifests(repo)
    edit(repo, TEMPLATE, "seed: 2024", "seed: 2025")
    done = make(repo, "-j2")
    assert done.returncode == 0, done.stderr
    assert rebuilt(before, manifests(repo)) == set(DATASETS)  # every spec includes it

    before = manifests(repo)
    edit(repo, DATASETS["swiss-roll"], "noise: 0.05", "noise: 0.1")
    done = make(repo, "-j2")
    assert done.returncode == 0, done.stderr
    assert rebuilt(before, manifests(repo)) == {"swiss-roll"}
    assert done.stdout.count(" build ") == 1

    still = files(repo)
    assert "synthc" not in make(repo, "-j2").stdout
    assert files(repo) == still


def test_ninja_builds_everything_then_rebuilds_exactly_the_dependents(repo):
    first = ninja(repo)
    assert first.returncode == 0, first.stdout + first.stderr
    assert all((repo / "out" / name / "manifest.json").is_file() for name in DATASETS)
    before = files(repo)
    second = ninja(repo)
    assert second.returncode == 0 and "no work to do" in second.stdout
    assert files(repo) == before

    before = manifests(repo)
    edit(repo, TEMPLATE, "seed: 2024", "seed: 2025")
    assert ninja(repo).returncode == 0
    assert rebuilt(before, manifests(repo)) == set(DATASETS)

    before = manifests(repo)
    edit(repo, DATASETS["customers"], "lam: 3", "lam: 4")
    done = ninja(repo)
    assert done.returncode == 0, done.stdout
    assert rebuilt(before, manifests(repo)) == {"customers"}
    assert "no work to do" in ninja(repo).stdout


def test_make_still_sees_the_templates_after_ninja_ran_in_the_same_copy(built):
    """ninja deletes each depfile it reads; had it read make's out/NAME.d, a later make would
    miss every template and data file and leave the datasets stale."""
    repo = built
    assert ninja(repo).returncode == 0
    before = manifests(repo)
    edit(repo, TEMPLATE, "seed: 2024", "seed: 2025")
    done = make(repo, "-j2")
    assert done.returncode == 0, done.stderr
    assert rebuilt(before, manifests(repo)) == set(DATASETS)


def test_the_manifest_records_the_commit_and_every_input(built):
    repo = built
    manifest = json.loads((repo / "out" / "customers" / "manifest.json").read_text())
    provenance = manifest["provenance"]
    head = git(repo, "rev-parse", "HEAD")
    assert provenance["git"] == {"commit": head, "path": DATASETS["customers"], "dirty": False}
    inputs = [(i["path"], i["role"]) for i in provenance["inputs"]]
    assert inputs[:2] == [(DATASETS["customers"], "spec"), (TEMPLATE, "template")]


def test_require_clean_refuses_an_uncommitted_edit_naming_the_file(built):
    repo = built
    edit(repo, TEMPLATE, "seed: 2024", "seed: 2025")
    refused = synthc(repo, "build", DATASETS["shapes"], "-o", "out/shapes", "--require-clean")
    assert refused.returncode == 2
    assert TEMPLATE in refused.stderr
    release = make(repo, "release")
    assert release.returncode != 0 and TEMPLATE in release.stderr
    git(repo, "commit", "-qam", "a new seed")
    assert make(repo, "release").returncode == 0


def test_reproduce_passes_then_names_the_shard_with_a_flipped_byte(built):
    repo = built
    proved = synthc(repo, "reproduce", "out/shapes", "--workers", "1")
    assert proved.returncode == 0, proved.stderr
    assert "out/shapes: reproduced" in proved.stdout
    assert "changed since the build" not in proved.stderr

    shard = repo / "out" / "shapes" / "train" / "train-00000.tar"
    data = bytearray(shard.read_bytes())
    data[600] ^= 0xFF
    shard.write_bytes(bytes(data))
    failed = synthc(repo, "reproduce", "out/shapes", "--workers", "1")
    assert failed.returncode == 1
    assert "train/train-00000.tar: its file in the output directory has sha256" in failed.stderr
    assert "test-00000" not in failed.stderr


def test_reproduce_names_an_input_edited_since_the_build_before_building(built):
    repo = built
    edit(repo, TEMPLATE, "seed: 2024", "seed: 2025")
    failed = synthc(repo, "reproduce", "out/customers", "--workers", "1")
    assert failed.returncode == 1
    lines = failed.stderr.splitlines()
    named = next(i for i, line in enumerate(lines) if f"{TEMPLATE} (template)" in line)
    assert "changed since the build" in lines[named]
    assert named < next(i for i, line in enumerate(lines) if "does not reproduce" in line)
    assert "content_sha256: rebuilt" in failed.stderr
