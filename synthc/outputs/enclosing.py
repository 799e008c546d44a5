"""Whether a path lies in (or is) a synthc output directory, whose files are the build's."""

from __future__ import annotations

import os
from pathlib import Path

from synthc.errors import OutputError, UsageError
from synthc.outputs.manifest import read_manifest
from synthc.outputs.state import is_synthc_output


def enclosing_output(path: Path, *, itself: bool = False) -> Path | None:
    """The synthc output directory holding ``path`` (or ``path`` itself with ``itself``), as
    spelt and as resolved, or None. An unresolvable path (a symlink loop) is a UsageError."""
    try:
        places = [*_target_and_parents(path, itself), *path.resolve().parents]
    except (OSError, RuntimeError) as error:
        raise UsageError(f"{path}: cannot be resolved ({error}); choose another -o") from None
    for place in places:
        if is_synthc_output(place) or _holds_manifest(place):
            return place
    return None


def _target_and_parents(path: Path, itself: bool) -> list[Path]:
    """``path``'s absolute parents, led by ``path`` itself when ``itself``; ``..`` taken
    literally (``out/../x`` is beside ``out``, not in it: the resolved parents, checked too,
    are where a symlink really leads)."""
    absolute = Path(os.path.normpath(path.absolute()))
    return [absolute, *absolute.parents] if itself else list(absolute.parents)


def _holds_manifest(directory: Path) -> bool:
    try:
        read_manifest(directory)
    except OutputError:
        return False  # no manifest, or someone else's manifest.json
    return True
