"""A fractal catalog must hold a system for every class the spec draws."""

from __future__ import annotations

import json

import pytest

SIERPINSKI = {
    "maps": [
        [[0.5, 0, 0], [0, 0.5, 0]],
        [[0.5, 0, 0.5], [0, 0.5, 0]],
        [[0.5, 0, 0], [0, 0.5, 0.5]],
    ],
    "probabilities": [0.25, 0.25, 0.5],
}
SPEC = """\
synthc: 1
name: catalog-classes
seed: 1
samples: {classes}
generator:
  kind: fractal
  classes: {classes}
  instances: 1
  system: {{catalog: {catalog}}}
  render: {{size: 16, points: 500}}
"""


def write_catalog(tmp_path, kind: str, systems: int) -> str:
    if kind == "json":
        (tmp_path / "cat.json").write_text(json.dumps({"classes": [SIERPINSKI] * systems}))
        return "cat.json"
    (tmp_path / "cat").mkdir()
    rows = "0.5,0,0,0.5,0,0,0.25\n0.5,0,0,0.5,0.5,0,0.25\n0.5,0,0,0.5,0,0.5,0.5\n"
    for k in range(systems):
        (tmp_path / "cat" / f"class{k}.csv").write_text(rows)
    return "cat"


@pytest.mark.parametrize("kind", ["json", "dir"])
def test_a_catalog_of_fewer_systems_than_classes_is_a_spec_error(cli, tmp_path, kind):
    """It validated, and the build stopped on an internal error (IndexError) at class 2."""
    catalog = write_catalog(tmp_path, kind, 2)
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(classes=3, catalog=catalog))
    code, out, err = cli("validate", spec)
    assert (code, out) == (2, "")
    assert err == (
        f"{spec}:9:21: generator.system.catalog: catalog {catalog!r} has 2 systems for 3 classes\n"
    )


def test_a_catalog_of_as_many_systems_as_classes_or_more_builds(cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(classes=2, catalog=write_catalog(tmp_path, "json", 3)))
    assert cli("build", spec, "-o", tmp_path / "out", "--workers", "1", "-q")[0] == 0


def test_only_the_systems_of_the_spec_s_classes_are_probed(cli, tmp_path):
    """Validating probed every system of the catalog (about 1 ms each): a 1,000,000-class
    catalog took about 20 minutes to validate a spec of 2 classes. Systems past ``classes``
    are never drawn, so a degenerate one there is not the spec's problem."""
    degenerate = {"maps": [[[0, 0, 0], [0, 0, 0]]], "probabilities": [1]}
    (tmp_path / "cat.json").write_text(json.dumps({"classes": [SIERPINSKI, degenerate]}))
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(classes=1, catalog="cat.json"))
    assert cli("validate", spec)[0] == 0
    spec.write_text(SPEC.format(classes=2, catalog="cat.json"))
    code, _, err = cli("validate", spec)
    assert code == 2 and "catalog 'cat.json': classes[1].maps: degenerate" in err


def test_systems_written_beside_a_catalog_are_refused(cli, tmp_path):
    """The catalog replaced them without a word: the spec's own systems were never drawn."""
    write_catalog(tmp_path, "json", 1)
    spec = tmp_path / "spec.yaml"
    written = json.dumps([SIERPINSKI])
    spec.write_text(SPEC.format(classes=1, catalog=f"cat.json, systems: {written}"))
    code, _, err = cli("validate", spec)
    assert code == 2
    assert "generator.system.systems: give the systems or a catalog, not both" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
