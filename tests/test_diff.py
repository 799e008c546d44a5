"""synthc diff OLD NEW: changed fields as dotted paths, seed/vars/inputs, shards per split;
exit 0 identical content, 1 differs, 2 usage or spec error; --json for CI."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import spec_text

from synthc import api
from synthc.diffing.fields import ABSENT, FieldChange, changed_fields
from synthc.diffing.inputs import InputChange, compare_inputs, input_files
from synthc.diffing.shards import ShardChange, ShardInfo, SplitDiff, compare_shards
from synthc.diffing.text import _split_lines

# --- the comparisons, on plain values ---


def test_changed_fields_are_dotted_paths_with_lists_by_index():
    old = {"generator": {"noise": 0.1, "shape": "swiss_roll", "ranges": [1, 2, 3]}, "seed": 7}
    new = {"generator": {"noise": 0.2, "shape": "swiss_roll", "ranges": [1, 5]}, "extra": None}
    assert changed_fields(old, new) == [
        FieldChange("generator.noise", 0.1, 0.2),
        FieldChange("generator.ranges[1]", 2, 5),
        FieldChange("generator.ranges[2]", 3, ABSENT),
        FieldChange("seed", 7, ABSENT),
        FieldChange("extra", ABSENT, None),
    ]
    assert FieldChange("seed", 7, ABSENT).to_json() == {"path": "seed", "old": 7}


def test_changed_fields_compare_as_json_spells_them():
    assert changed_fields({"a": 1}, {"a": 1.0}) == [FieldChange("a", 1, 1.0)]
    assert changed_fields({"a": 1}, {"a": True}) == [FieldChange("a", 1, True)]
    assert changed_fields({"a": {}}, {"a": []}) == [FieldChange("a", {}, [])]
    assert changed_fields({"a": [1]}, {"a": [1]}) == []
    assert changed_fields({"odd.key": 1}, {"odd.key": 2})[0].path == '["odd.key"]'


def test_deeply_nested_values_do_not_exhaust_the_stack():
    old: list = []
    new: list = []
    a, b = old, new
    for _ in range(50_000):
        a.append([])
        b.append([])
        a, b = a[0], b[0]
    b.append(1)
    (change,) = changed_fields(old, new)
    assert change.path.endswith("[0][0]") and change.new == 1


def test_inputs_compare_by_path_and_role():
    old = [
        {"path": "spec.yaml", "role": "spec", "sha256": "a"},
        {"path": "base.j2", "role": "template", "sha256": "b"},
        {"path": "gone.txt", "role": "text", "sha256": "c"},
    ]
    new = [
        {"path": "spec.yaml", "role": "spec", "sha256": "a"},
        {"path": "base.j2", "role": "template", "sha256": "B"},
        {"path": "words.txt", "role": "dictionary", "sha256": "d"},
    ]
    assert compare_inputs(old, new) == [
        InputChange("base.j2", "template", "changed", "b", "B"),
        InputChange("gone.txt", "text", "removed", "c", None),
        InputChange("words.txt", "dictionary", "added", None, "d"),
    ]
    assert compare_inputs(old, old) == []


def test_the_spec_named_from_another_directory_is_no_change():
    """Outside git the spec is recorded relative to the current directory: the same file
    diffed from its own folder showed as removed and added."""
    old = [{"path": "specs/a.yaml", "role": "spec", "sha256": "a"}]
    assert compare_inputs(old, [{"path": "a.yaml", "role": "spec", "sha256": "a"}]) == []
    assert [
        c.change for c in compare_inputs(old, [{**old[0], "path": "b.yaml", "sha256": "b"}])
    ] == [
        "removed",
        "added",
    ]


def test_recorded_inputs_are_read_tolerantly():
    good = [{"path": "a", "role": "spec", "sha256": "x", "extra": 1}]
    assert input_files(good) == [{"path": "a", "role": "spec", "sha256": "x"}]
    assert input_files(None) is None
    assert input_files({"path": "a"}) is None
    assert input_files([{"path": "a", "role": "spec", "sha256": 3}]) is None


def test_shards_match_by_path_and_compare_keys_then_hashes():
    old = [
        ShardInfo("train", "t0", 0, 10, "k0", "h0"),
        ShardInfo("train", "t1", 10, 20, "k1", "h1"),
        ShardInfo("train", "t2", 20, 30, "k2", "h2"),
        ShardInfo("test", "s0", 30, 40, "k3", "h3"),
    ]
    new = [
        ShardInfo("train", "t0", 0, 10, "k0", "h0"),
        ShardInfo("train", "t1", 10, 20, "k1", "other bytes"),
        ShardInfo("train", "t3", 30, 35, "k9"),
        ShardInfo("val", "v0", 35, 40, "k8"),
    ]
    train, test, val = compare_shards(old, new)
    assert [(s.path, s.change) for s in train.shards] == [
        ("t0", "unchanged"),
        ("t1", "changed"),
        ("t2", "removed"),
        ("t3", "added"),
    ]
    assert train.of("added")[0].new == (30, 35) and train.of("removed")[0].old == (20, 30)
    assert test.to_json()["removed"] == [{"path": "s0", "old": [30, 40]}]
    assert [s.change for s in val.shards] == ["added"]
    # a spec side has no sha256: equal keys are enough
    (same,) = compare_shards(old[:1], [ShardInfo("train", "t0", 0, 10, "k0")])
    assert same.identical


# --- synthc diff on built outputs and specs ---


def test_an_output_and_its_unchanged_spec_are_identical(built, cli):
    spec, out = built
    code, stdout, stderr = cli("diff", out, spec)
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[:2] == [f"--- {out} (output)", f"+++ {spec} (spec)"]
    assert "  unchanged  3 shard(s), samples [0, 800)" in lines
    assert lines[-1] == "content identical"
    assert cli("diff", out, out)[0] == 0


def test_a_config_change_shows_dotted_fields_vars_and_changed_shards(built, cli, write_spec):
    spec, out = built
    templated = spec_text(samples=1000, shard_size=300).replace(
        "noise: 0.05", 'noise: {{ var("noise", 0.05) }}'
    )
    write_spec(templated)
    code, stdout, _ = cli("diff", out, spec, "--var", "noise=0.1")
    assert code == 1
    assert "generator.noise: 0.05 -> 0.1" in stdout
    assert "var noise: (absent) -> 0.1" in stdout
    assert "split train: 0 unchanged, 3 changed, 0 added, 0 removed" in stdout
    assert "  changed    train/train-00002.parquet  [600, 800)" in stdout
    assert stdout.splitlines()[-1].startswith("content differs: 4 shard(s) changed")


def test_more_samples_add_shards_with_their_ranges(built, cli, write_spec, tmp_path):
    spec, out = built
    bigger = write_spec(spec_text(samples=1300, shard_size=300), "bigger.yaml")
    code, stdout, _ = cli("diff", out, bigger)
    assert code == 1
    assert "samples: 1000 -> 1300" in stdout and "splits.train[1]: 800 -> 1040" in stdout
    assert "  unchanged  2 shard(s), samples [0, 600)" in stdout
    assert "  changed    train/train-00002.parquet  [600, 800) -> [600, 900)" in stdout
    assert "  added      train/train-00003.parquet  [900, 1040)" in stdout
    assert "  changed    test/test-00000.parquet  [800, 1000) -> [1040, 1300)" in stdout
    code, stdout, _ = cli("diff", bigger, out)  # the other way round: removed
    assert "  removed    train/train-00003.parquet  [900, 1040)" in stdout


def test_two_outputs_compare_hashes_and_seed(built, cli, write_spec, tmp_path):
    _, out = built
    other = write_spec(spec_text(samples=1000, shard_size=300, seed=8), "seeded.yaml")
    assert cli("build", other, "-o", tmp_path / "seeded", "--workers", "1")[0] == 0
    code, stdout, _ = cli("diff", out, tmp_path / "seeded", "--json")
    assert code == 1
    data = json.loads(stdout)
    assert set(data) == {
        "old", "new", "identical", "seed", "fields", "vars", "inputs", "libraries", "splits",
        "counts",
    }  # fmt: skip
    assert data["old"] == {"path": str(out), "kind": "output"}
    assert data["identical"] is False and data["seed"] == {"path": "seed", "old": 7, "new": 8}
    assert data["counts"] == {"unchanged": 0, "changed": 4, "added": 0, "removed": 0}
    assert data["splits"]["test"]["changed"] == [
        {"path": "test/test-00000.parquet", "old": [800, 1000], "new": [800, 1000]}
    ]
    assert data["libraries"] == []


def test_a_shard_whose_recorded_hash_differs_is_changed(built, cli, tmp_path):
    _, out = built
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["splits"]["train"]["shards"][1]["sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, stdout, _ = cli("diff", out, copy)
    assert code == 1 and "  changed    train/train-00001.parquet  [300, 600)" in stdout


def test_recorded_inputs_are_compared_and_old_manifests_lack_them(built, cli, tmp_path):
    _, out = built
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(out, old)
    shutil.copytree(out, new)
    for where, digest in ((old, "a" * 64), (new, "b" * 64)):
        manifest = json.loads((where / "manifest.json").read_text())
        manifest["provenance"] = {
            "inputs": [
                {"path": "specs/tiny.yaml", "role": "spec", "sha256": "c" * 64},
                {"path": "specs/_base/base.yaml.j2", "role": "template", "sha256": digest},
            ],
            "git": None,
        }
        (where / "manifest.json").write_text(json.dumps(manifest))
    code, stdout, _ = cli("diff", old, new)
    assert code == 0  # the inputs differ, the content does not
    assert f"input changed template specs/_base/base.yaml.j2 (sha256 {'a' * 12} -> {'b' * 12})" in (
        stdout
    )
    data = api.diff(old, new).to_json()
    assert data["inputs"] == [
        {
            "path": "specs/_base/base.yaml.j2",
            "role": "template",
            "change": "changed",
            "old_sha256": "a" * 64,
            "new_sha256": "b" * 64,
        }
    ]
    legacy = tmp_path / "legacy"  # a manifest written before provenance was recorded
    shutil.copytree(out, legacy)
    manifest = json.loads((legacy / "manifest.json").read_text())
    del manifest["provenance"]
    (legacy / "manifest.json").write_text(json.dumps(manifest))
    assert api.diff(legacy, new).to_json()["inputs"] is None
    assert f"inputs: not recorded in {legacy}" in cli("diff", legacy, new)[1]


def test_hostile_manifest_values_stay_on_one_line(built, cli, tmp_path):
    _, out = built
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["generator"]["config"]["shape"] = "evil\n\x1b[2Jline"
    manifest["splits"]["train"]["shards"][0]["path"] = "train/\nfake line"
    manifest["spec"] = "not an object"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, stdout, stderr = cli("diff", out, copy)
    assert code == 1 and "Traceback" not in stderr
    assert "fake line" not in stdout.splitlines() and "\x1b" not in stdout
    assert 'generator.shape: "swiss_roll" -> "evil\\n\\u001b[2Jline"' in stdout
    # a malformed provenance section makes the manifest unreadable: refused in one line
    manifest["provenance"] = {"inputs": "nope"}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, stdout, stderr = cli("diff", out, copy)
    assert code == 2 and "provenance" in stderr and len(stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("problem", ["missing", "not an output", "bad manifest", "spec error"])
def test_usage_and_spec_errors_exit_2(built, cli, write_spec, tmp_path, problem):
    spec, out = built
    side = {
        "missing": tmp_path / "nope",
        "not an output": tmp_path / "empty",
        "bad manifest": tmp_path / "bad",
        "spec error": write_spec(spec_text().replace("seed: 7", "seed: x"), "bad.yaml"),
    }[problem]
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("[1, 2")
    code, stdout, stderr = cli("diff", out, side)
    assert code == 2 and not stdout
    assert str(side) in stderr and "Traceback" not in stderr


def test_a_side_that_is_there_but_no_file_or_folder_is_named_as_what_it_is(built, cli, tmp_path):
    # a FIFO or a symlink loop was "no such file or directory"
    _, out = built
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "loop").symlink_to("loop")
    for side, what in [("fifo", "not a regular file"), ("loop", "symbolic links")]:
        code, stdout, stderr = cli("diff", out, tmp_path / side)
        assert code == 2 and not stdout and what in stderr, stderr
        assert "no such file" not in stderr and len(stderr.splitlines()) == 1


def test_options_that_shape_a_spec_are_refused_between_two_built_datasets(built, cli):
    # --var samples=5 was ignored, and the diff said "content identical"
    _, out = built
    code, stdout, stderr = cli("diff", out, out, "--var", "samples=5")
    assert code == 2 and not stdout and "both sides are built datasets" in stderr


def test_unchanged_ranges_of_related_tables_are_told_apart():
    # each table numbers its own rows: [0, 80) of customers and [0, 402) of orders were one range
    shards = (
        ShardChange("customers/train/train-00000.parquet", "unchanged", (0, 80), (0, 80)),
        ShardChange("orders/train/train-00000.parquet", "unchanged", (0, 402), (0, 402)),
    )
    line = _split_lines(SplitDiff("train", shards))[1]
    assert line.endswith("samples customers/train [0, 80); orders/train [0, 402)"), line
    plain = (ShardChange("train/train-00000.parquet", "unchanged", (0, 5), (0, 5)),)
    assert _split_lines(SplitDiff("train", plain))[1].endswith("samples [0, 5)")


def test_two_specs_are_planned_never_built(cli, write_spec, tmp_path):
    old = write_spec(spec_text(samples=1000, shard_size=300), "old.yaml")
    new = write_spec(spec_text(samples=1000, shard_size=300, seed=9), "new.yaml")
    code, stdout, _ = cli("diff", old, new)
    assert code == 1
    assert stdout.splitlines()[2] == "seed: 7 -> 9"
    assert "split test: 0 unchanged, 1 changed, 0 added, 0 removed" in stdout
    assert cli("diff", old, old)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.yaml", "old.yaml"]
