"""Generator kinds, looked up by the spec's ``generator.kind``."""

from __future__ import annotations

import importlib
from typing import Any

from synthc.generators.base import Generator

#: kind -> module that exports ``GENERATOR``. Modules are imported on first use so that a
#: build pays only for the generators its spec names.
_KINDS: dict[str, str] = {
    "fractal": "synthc.generators.fractal",
    "manifold": "synthc.generators.manifold",
    "ocr_text": "synthc.generators.ocr",
    "tabular": "synthc.generators.tabular",
}


def kinds() -> list[str]:
    """Every generator kind synthc knows, sorted."""
    return sorted(_KINDS)


def get(kind: str) -> Generator[Any]:
    """The generator of ``kind``; raises KeyError for an unknown kind."""
    module = importlib.import_module(_KINDS[kind])
    generator: Generator[Any] = module.GENERATOR
    return generator
