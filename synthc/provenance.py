"""The files a build reads, as the manifest's ``provenance.inputs`` records them.

An :class:`InputRecord` is one file: ``path`` as the manifest shows it (relative to the spec
repository's root when the file is inside it; package data as ``trdg:fonts/...``; else relative
to the spec's directory, the spec itself relative to the current directory or by its name:
never an absolute path of the machine, :func:`spell`), its ``role``, the sha256 of its bytes,
``real``, the resolved file on this machine (for reading it again and for depfiles; never
recorded), ``opened``, the absolute path it was opened by when a symlink led from there to
``real`` (a depfile names both, so ``make -L`` sees the link re-pointed; never recorded), and
``package``, true for package data.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
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
    opened: Path | None = field(default=None, compare=False)
    #: package data (trdg's fonts and word lists): versioned by its package's version and
    #: pinned by its sha256, so git does not judge it wherever the package is installed
    package: bool = False

    @property
    def local_paths(self) -> tuple[Path, ...]:
        """``real``, then ``opened`` if a symlink led there: what a depfile names."""
        return (self.real,) if self.opened is None else (self.real, self.opened)

    def to_json(self) -> dict[str, str]:
        """The manifest's entry: ``{"path", "role", "sha256"}`` (``real`` stays on this machine)."""
        return {"path": self.path, "role": self.role, "sha256": self.sha256}


def through(opened: Path, real: Path) -> Path | None:
    """``opened`` made absolute (symlinks kept) when it differs from ``real``, the file it
    resolves to: a symlink on it led there. None when it is ``real``, or when its ``..`` would
    lead elsewhere once made absolute."""
    absolute = Path(os.path.abspath(opened))
    if absolute == real or Path(os.path.realpath(absolute)) != real:
        return None
    return absolute


def spell(real: Path, repository: Path | None, folder: Path) -> str:
    """How the manifest names the file ``real`` (resolved): relative to ``repository`` when
    inside it, else relative to ``folder`` (the spec's directory; ``..`` as needed), POSIX
    separators, never an absolute path of this machine (on another drive: its name alone)."""
    if repository is not None:
        root = Path(os.path.realpath(repository))
        if real.is_relative_to(root) and real != root:
            return real.relative_to(root).as_posix()
    try:
        return Path(os.path.relpath(real, os.path.realpath(folder))).as_posix()
    except ValueError:  # Windows: another drive than the spec's
        return real.name


def spell_spec(real: Path, repository: Path | None) -> str:
    """How the manifest names the spec file ``real`` (resolved), ``spec.source`` as its
    ``provenance``: relative to ``repository`` when inside it, else relative to the current
    directory when under it (``reproduce`` looks for it there), else its file name."""
    try:
        cwd = Path(os.path.realpath(Path.cwd()))
    except OSError:  # the current directory was removed
        cwd = real.parent
    if repository is None and not real.is_relative_to(cwd):
        return real.name
    return spell(real, repository, cwd)


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
