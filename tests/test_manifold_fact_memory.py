"""A manifold's large facts (blob centres, a rotation) cost about their own size to record."""

from __future__ import annotations

import tracemalloc

import pytest
from pydantic import TypeAdapter

from synthc.generators.manifold.config import ManifoldConfig
from synthc.generators.manifold.generator import GENERATOR
from synthc.outputs.fact_files import split_facts


@pytest.mark.parametrize(
    ("config", "numbers", "fact"),
    [
        ({"shape": "blobs", "dim": 512, "centers": 256}, 512 * 256, "facts/centers.npy"),
        ({"shape": "sphere", "dim": 511, "rotate": True}, 512 * 512, "facts/rotation.npy"),
    ],
)
def test_large_facts_are_recorded_without_python_lists(config, numbers, fact):
    """facts() returned them as nested lists, which split_facts turned back into an array: the
    peak was 7 to 8 times the array (24-byte floats, list pointers, the copy), about 2 GB for
    the largest blob centres MAX_FACT_BYTES admits (256 MiB)."""
    parsed = TypeAdapter(ManifoldConfig).validate_python({"kind": "manifold", **config})
    GENERATOR.facts(parsed, 1)  # kernels compiled or loaded, the rotation cached
    tracemalloc.start()
    try:
        _, files = split_facts(GENERATOR.facts(parsed, 1))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fact in files
    assert peak < 4 * numbers * 8
