"""The files a build reads, as the manifest's ``provenance.inputs`` records them.

An :class:`InputRecord` is one file: ``path`` as the manifest shows it (relative to the spec
repository's root when the file is inside it; package data as ``trdg:fonts/...``; else as the
user wrote it), its ``role``, the sha256 of its bytes, and ``real``, the resolved file on this
machine (for reading it again and for depfiles; never recorded).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: what a file is to the build, in the manifest's words
ROLES = ("spec", "template", "font", "text", "dictionary", "background", "catalog")


@dataclass(frozen=True)
class InputRecord:
    """One file the compile read or the build will read (see the module doc)."""

    path: str
    role: str
    sha256: str
    real: Path

    def to_json(self) -> dict[str, str]:
        """The manifest's entry: ``{"path", "role", "sha256"}`` (``real`` stays on this machine)."""
        return {"path": self.path, "role": self.role, "sha256": self.sha256}


def spell(real: Path, repository: Path | None, written: str) -> str:
    """``real`` relative to ``repository`` (POSIX separators) when inside it, else ``written``."""
    if repository is not None:
        root = Path(os.path.realpath(repository))
        if real.is_relative_to(root) and real != root:
            return real.relative_to(root).as_posix()
    return written


def ordered(
    spec: InputRecord, templates: Iterable[InputRecord], generated: Iterable[InputRecord]
) -> tuple[InputRecord, ...]:
    """The spec, then templates in first-read order, then the generator's inputs sorted by
    (role, path); a file (by its real path) only once, where it first appears."""
    seen: set[Path] = set()
    result = []
    for record in (spec, *templates, *sorted(generated, key=lambda r: (r.role, r.path))):
        if record.real not in seen:
            seen.add(record.real)
            result.append(record)
    return tuple(result)
