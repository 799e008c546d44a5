"""Templates shared across a spec repository: include/import search the spec's directory, then the
repository root (or --templates DIR), and never leave those roots."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import spec_text

from synthc import api
from synthc.errors import SpecError, UsageError

BASE = """\
synthc: 1
version: "1.0.0"
description: shared base
seed: {{ var('seed', 7) }}
splits: {train: 0.8, test: 0.2}
output: {format: parquet, shard_size: 100}
"""
MACROS = """\
{% macro roll(noise) -%}
kind: manifold
  shape: swiss_roll
  noise: {{ noise }}
{%- endmacro %}
"""
LINES = """\
{% include 'specs/_base/base.yaml.j2' %}
{% import 'specs/_base/macros.j2' as m %}
name: lines
samples: 200
generator:
  {{ m.roll(0.05) }}
"""


def repository(root: Path) -> Path:
    """A git work tree with specs/_base/ (a base and macros) and specs/ocr/lines.yaml."""
    (root / "specs" / "_base").mkdir(parents=True)
    (root / "specs" / "ocr").mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "specs" / "_base" / "base.yaml.j2").write_text(BASE)
    (root / "specs" / "_base" / "macros.j2").write_text(MACROS)
    spec = root / "specs" / "ocr" / "lines.yaml"
    spec.write_text(LINES)
    return spec


def test_a_spec_includes_and_imports_templates_by_their_repository_path(tmp_path, monkeypatch):
    spec = repository(tmp_path)
    monkeypatch.chdir(tmp_path)
    compiled = api.compile_spec("specs/ocr/lines.yaml")
    assert compiled.spec.name == "lines" and compiled.spec.seed == 7
    assert [(r.path, r.role) for r in compiled.inputs] == [
        ("specs/ocr/lines.yaml", "spec"),
        ("specs/_base/base.yaml.j2", "template"),
        ("specs/_base/macros.j2", "template"),
    ]
    assert compiled.inputs[0].real == spec.resolve()


def test_templates_dir_overrides_the_repository_root(tmp_path, monkeypatch):
    spec = repository(tmp_path)
    spec.write_text(LINES.replace("specs/_base/", "_base/"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError, match="not found"):
        api.validate("specs/ocr/lines.yaml")  # _base/ is not at the repository root
    assert api.validate("specs/ocr/lines.yaml", templates="specs").name == "lines"
    with pytest.raises(UsageError, match="--templates nowhere: does not exist; give the"):
        api.validate("specs/ocr/lines.yaml", templates="nowhere")  # said 'not a directory'
    with pytest.raises(UsageError, match="--templates specs/ocr/lines.yaml: not a directory"):
        api.validate("specs/ocr/lines.yaml", templates="specs/ocr/lines.yaml")


def test_the_spec_directory_is_searched_first(tmp_path, monkeypatch):
    spec = repository(tmp_path)
    local = tmp_path / "specs" / "ocr" / "specs" / "_base"
    local.mkdir(parents=True)
    (local / "base.yaml.j2").write_text(BASE.replace("{{ var('seed', 7) }}", "99"))
    monkeypatch.chdir(tmp_path)
    assert api.validate(spec).seed == 99


def test_an_error_in_a_shared_template_points_into_it(tmp_path, monkeypatch, cli):
    repository(tmp_path)
    base = tmp_path / "specs" / "_base" / "base.yaml.j2"
    base.write_text(BASE.replace("seed: {{ var('seed', 7) }}", "seed: {{ missing }}"))
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("validate", "specs/ocr/lines.yaml")
    assert code == 2
    assert err.startswith("specs/_base/base.yaml.j2:4:")
    assert "undefined variable 'missing'" in err
    # a value error found after rendering points into the template too
    base.write_text(BASE.replace("seed: {{ var('seed', 7) }}", "seed: -3"))
    code, _, err = cli("validate", "specs/ocr/lines.yaml")
    assert code == 2 and err.startswith("specs/_base/base.yaml.j2:4:7: seed:"), err


def test_a_missing_template_names_where_it_was_searched(tmp_path, monkeypatch, cli):
    spec = repository(tmp_path)
    spec.write_text("{% include 'specs/_base/nope.j2' %}\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("validate", "specs/ocr/lines.yaml")
    assert code == 2
    assert (
        "include 'specs/_base/nope.j2' not found in the spec's directory (specs/ocr) or the "
        "repository root (.)" in err
    )


@pytest.mark.parametrize(
    "name",
    ["../../../secret.yaml", "{root}/secret.yaml", "specs/_base/link.yaml", "specs/ocr/../../../x"],
)
def test_no_name_or_symlink_leaves_the_roots(tmp_path, name, cli):
    repo = tmp_path / "repo"
    spec = repository(repo)
    secret = tmp_path / "secret.yaml"
    secret.write_text("secret: 1\n")
    (repo / "specs" / "_base" / "link.yaml").symlink_to(secret)
    spec.write_text(f"a: 1\n{{% include '{name.format(root=tmp_path)}' %}}\n")
    code, _, err = cli("validate", spec)
    assert code == 2
    assert "is outside the spec's directory" in err and "or the repository root" in err
    assert "secret: 1" not in err


def test_a_symlink_between_the_roots_is_followed(tmp_path):
    spec = repository(tmp_path)
    (tmp_path / "specs" / "ocr" / "base.yaml.j2").symlink_to(Path("..") / "_base" / "base.yaml.j2")
    spec.write_text(LINES.replace("'specs/_base/base.yaml.j2'", "'base.yaml.j2'"))
    compiled = api.compile_spec(spec)
    assert compiled.inputs[1].path == "specs/_base/base.yaml.j2"


def test_outside_a_repository_only_the_spec_directory_is_searched(
    tmp_path, write_spec, monkeypatch
):
    (tmp_path / "part.yaml").write_text("seed: 3\n")
    text = spec_text().replace("seed: 7\n", "{% include 'part.yaml' %}\n")
    spec = write_spec(text)
    compiled = api.compile_spec(spec)
    assert compiled.spec.seed == 3
    assert [r.role for r in compiled.inputs] == ["spec", "template"]
    # outside git, paths are relative to the spec's directory (the spec, named from elsewhere
    # by an absolute path, by its name), never absolute
    assert [r.path for r in compiled.inputs] == ["spec.yaml", "part.yaml"]
    monkeypatch.chdir(tmp_path.parent)  # under the current directory: relative to it
    assert api.compile_spec(spec).inputs[0].path == f"{tmp_path.name}/spec.yaml"


def test_templates_option_on_plan_and_preview(tmp_path, monkeypatch, cli):
    spec = repository(tmp_path)
    spec.write_text(LINES.replace("specs/_base/", "_base/"))
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("plan", "specs/ocr/lines.yaml", "--templates", "specs")
    assert code == 0 and "200 samples" in out, err
    code, out, err = cli(
        "preview", "specs/ocr/lines.yaml", "--templates", "specs", "-o", "p.png", "-n", "50"
    )
    assert code == 0 and Path("p.png").is_file(), err
