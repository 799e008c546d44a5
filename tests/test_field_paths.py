"""How a problem names the place in the spec it is about (synthc.compiler.paths)."""

from __future__ import annotations

import pytest

from synthc import api
from synthc.compiler.paths import format_path
from synthc.errors import SpecError


def test_field_paths_quote_keys_a_dot_could_misread(tmp_path):
    """``splits..`` read as an empty step: a split named ``..`` (or ``v1.0``) is quoted."""
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "synthc: 1\nname: q\nseed: 1\nsamples: 10\n"
        'splits: {"..": 0.5, "v1.0": -1, train: 1.5}\n'
        "generator: {kind: manifold, shape: moons}\n"
    )
    with pytest.raises(SpecError) as caught:
        api.validate(spec)
    paths = {problem.path for problem in caught.value.problems}
    assert {"splits['..']", "splits['v1.0']"} <= paths
    assert format_path(["generator", "centers", 1]) == "generator.centers[1]"
    assert format_path(["weights", True, None]) == "weights.true.null"
    assert format_path(["a b", 1.5, "class-1"]) == "['a b'][1.5].class-1"
