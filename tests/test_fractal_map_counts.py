"""Every map count a spec may ask for (up to config.MAX_MAPS) can be sampled."""

from __future__ import annotations

import hashlib

import pytest

from synthc.generators.fractal.config import MAX_MAPS, SystemConfig
from synthc.generators.fractal.systems import Search, class_system


@pytest.mark.parametrize("sampler", ["sigma_factor", "fractaldb"])
def test_systems_of_the_most_maps_are_sampled(sampler):
    """sigma_factor drew 100 uniforms per attempt and needs 8 per map and 2 more: a system of
    13 to 16 maps failed the build with an internal error (IndexError)."""
    config = SystemConfig.model_validate({"maps": [MAX_MAPS, MAX_MAPS], "sampler": sampler})
    system = class_system(config, 3, 0, Search())
    assert system.maps.shape == (MAX_MAPS, 6)


@pytest.mark.parametrize(
    ("maps", "sampler", "digest"),
    [
        ([2, 4], "sigma_factor", "d12b610783822376"),
        ([2, 4], "fractaldb", "627a62349559c11d"),
        ([2, 12], "sigma_factor", "23ede61b0a68e70d"),
        ([2, 12], "fractaldb", "bb9365fc003e3bb1"),
    ],
)
def test_systems_of_up_to_twelve_maps_are_as_before(maps, sampler, digest):
    config = SystemConfig.model_validate({"maps": maps, "sampler": sampler})
    h = hashlib.sha256()
    for k in range(5):
        system = class_system(config, 3, k, Search())
        h.update(system.maps.tobytes())
        h.update(system.probabilities.tobytes())
    assert h.hexdigest()[:16] == digest
