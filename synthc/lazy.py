"""Modules imported on first use: :func:`lazy_module`, the one way synthc defers a synthc import.

``synthc.api`` names the driver's modules (build, verify, diff, stream, ...) this way, so a
command that builds nothing (``synthc validate``, ``synthc schema``) loads the compiler alone.
A module that uses it also imports the same modules under ``TYPE_CHECKING``, where mypy and
``tests/test_import_graph.py`` (layers, no circles) see them.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module ``name`` and imports it when one of its attributes is first read
    (an import is thread-safe, and once done each read is a dictionary lookup)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def module(self) -> ModuleType:
        """The module, imported now if it was not yet."""
        return importlib.import_module(self._name)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.module(), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """A stand-in for the module ``name`` that imports it on first use (:class:`LazyModule`)."""
    return LazyModule(name)
