"""Every value of a manifest or state replaced by every other JSON type: exit 0/1, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import spec_text

REPLACEMENTS = [None, [], {}, "x", -1, 1.5, True, "../../outside", 10**30]
#: a build per case is slower than a verify: fewer, one of each kind
STATE_REPLACEMENTS = [None, [], "../../outside", -1, 1.5]


def node_paths(value, prefix=()):
    """Every path to a node of a JSON value (a path is a tuple of keys and indices)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from node_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from node_paths(item, (*prefix, index))


def replaced(value, path, new):
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return copy


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from synthc.cli import main

    root = tmp_path_factory.mktemp("mutations")
    spec = root / "spec.yaml"
    spec.write_text(spec_text(samples=300, shard_size=200))
    assert main(["build", str(spec), "-o", str(root / "out"), "--workers", "1"]) == 0
    return spec, root / "out"


def test_every_manifest_mutation_is_a_clean_verify_result(built, cli):
    _, out = built
    original = (out / "manifest.json").read_text()
    manifest = json.loads(original)
    paths = [p for p in node_paths(manifest) if not (p and p[0] in ("libraries", "build"))]
    try:
        for path in paths:
            for new in REPLACEMENTS:
                (out / "manifest.json").write_text(json.dumps(replaced(manifest, path, new)))
                code, _, err = cli("verify", out)
                assert code in (0, 1) and "Traceback" not in err, (path, new, err)
    finally:
        (out / "manifest.json").write_text(original)
    assert len(paths) > 50


def test_every_state_mutation_is_refused_or_harmless(built, cli):
    spec, out = built
    state_file = out / ".synthc" / "state.json"
    original = state_file.read_text()
    state = json.loads(original)
    outside = out.parent / "outside"
    outside.write_text("precious")
    try:
        for path in node_paths(state):
            for new in STATE_REPLACEMENTS:
                state_file.write_text(json.dumps(replaced(state, path, new)))
                code, _, err = cli("build", spec, "-o", out, "--workers", "1")
                # a state naming another dataset is refused as a usage error (exit 2)
                refused = code == 2 and path == ("dataset",) and "holds the dataset" in err
                assert code in (0, 1) or refused, (path, new, err)
                assert "Traceback" not in err, (path, new, err)
                assert outside.read_text() == "precious"
                state_file.write_text(original)
    finally:
        state_file.write_text(original)
    assert Path(outside).exists()
