"""Whether a path lies in (or is) a synthc output directory, whose files are the build's, or
is a manifest or an output directory given where a spec was meant."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from synthc.errors import OutputError, SpecError, UsageError
from synthc.outputs.manifest import MANIFEST_FILE, MANIFEST_FORMAT, SPEC_FILE, read_manifest
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


#: how a synthc manifest starts (its first field, whatever its format version)
_MANIFEST_START = re.compile(
    r'\A\s*\{\s*"format"\s*:\s*"' + re.escape(MANIFEST_FORMAT.partition("/")[0]) + "/"
)


@contextlib.contextmanager
def compiling(spec: Path | str | None) -> Iterator[None]:
    """Around compiling the spec file ``spec`` (None: a text, not a file): when it fails, a
    synthc manifest or output directory given as ``spec`` is the UsageError that says to give
    the spec (:func:`refuse_output_as_spec`), checked only then."""
    try:
        yield
    except (SpecError, UsageError):
        refuse_output_as_spec(spec)
        raise


def refuse_output_as_spec(spec: Path | str | None) -> None:
    """UsageError when ``spec``, given as a spec file, is a synthc manifest or output directory
    (its manifest read as a spec made a screenful of spec errors): the spec is meant, or the
    copy the build wrote beside its manifest. None (a spec's text) and URLs pass."""
    if spec is None or "://" in str(spec):
        return
    path = Path(spec)
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return  # compiling says what is wrong with it
    if stat.S_ISDIR(mode) and (is_synthc_output(path) or _is_manifest(path / MANIFEST_FILE)):
        what, place = "a synthc output directory", path
    elif stat.S_ISREG(mode) and _is_manifest(path):
        what, place = "a synthc dataset manifest", path.parent
    else:
        return
    copy = place / SPEC_FILE
    also = f" (or the copy of it the build wrote, {copy})" if copy.is_file() else ""
    raise UsageError(f"{path}: is {what}, not a spec; give the spec it was built from{also}")


def _is_manifest(path: Path) -> bool:
    """Whether ``path`` is a regular file starting as a synthc manifest does."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return False
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            start = file.read(256)
    except OSError:
        return False
    return _MANIFEST_START.match(start.decode("utf-8", "replace")) is not None
