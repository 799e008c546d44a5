"""Generator kinds, looked up by the spec's ``generator.kind``: the one registry.

A kind is a module (usually a folder) that exports ``GENERATOR``, an instance of a
:class:`~synthc.generators.base.TableGenerator` or :class:`~synthc.generators.base.FileGenerator`
subclass. Adding a kind is a new folder plus one line in :data:`KINDS`; an installed package
can add one without touching synthc through the entry point group ``synthc.generators``
(``name = "package.module"``). Everything else (the spec's ``generator`` union, the JSON
schema, planning, shards, previews, the card) reads the generator's contract.
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Any

from synthc.generators.base import Generator

#: kind -> module that exports ``GENERATOR``. Modules are imported on first use so that a
#: build pays only for the generators its spec names.
KINDS: dict[str, str] = {
    "fractal": "synthc.generators.fractal",
    "manifold": "synthc.generators.manifold",
    "ocr_text": "synthc.generators.ocr",
    "tabular": "synthc.generators.tabular",
}

#: kind -> its kernel side: the module of NumPy and Numba code that draws the samples. The kind's
#: module (:data:`KINDS`) holds its config side (models, validation, declarations, facts that
#: need no arrays), which is all compiling and ``synthc validate`` import; the generator imports
#: its kernel side here, by name, the first time it draws. A kind not listed has one module.
KERNEL_SIDES: dict[str, str] = {
    "fractal": "synthc.generators.fractal.drawing",
    "manifold": "synthc.generators.manifold.drawing",
    "ocr_text": "synthc.generators.ocr.drawing",
    "tabular": "synthc.generators.tabular.drawing",
}

#: the entry point group through which installed packages add generator kinds
ENTRY_POINT_GROUP = "synthc.generators"


def kinds() -> list[str]:
    """Every generator kind synthc knows, sorted."""
    return sorted(_table())


def known(kind: str) -> bool:
    """Whether ``kind`` is a generator kind (a built-in one is known without reading the
    installed packages' entry points)."""
    return kind in KINDS or kind in _installed()


def get(kind: str) -> Generator[Any]:
    """The generator of ``kind``; raises KeyError for an unknown kind."""
    module = importlib.import_module(KINDS[kind] if kind in KINDS else _installed()[kind])
    generator: Generator[Any] = module.GENERATOR
    return generator


def kernel_side(kind: str) -> ModuleType:
    """The module of ``kind``'s kernel side (:data:`KERNEL_SIDES`), imported on first use; for
    a kind with one module, the module of its generator's class."""
    if kind in KERNEL_SIDES:
        return importlib.import_module(KERNEL_SIDES[kind])
    return importlib.import_module(type(get(kind)).__module__)


def _table() -> dict[str, str]:
    """:data:`KINDS`, then the kinds installed packages add (a built-in kind wins)."""
    return {**_installed(), **KINDS}


@functools.cache
def _installed() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}
