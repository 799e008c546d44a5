"""The one place that confines a path read from an output directory (state, manifest) to it."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from synthc.errors import OutputError


def confined_name(name: object) -> str | None:
    """Why ``name`` is not a plain relative path inside an output directory, or None if it is."""
    if not isinstance(name, str):
        return f"a path must be a string, not {type(name).__name__}"
    if not name:
        return "empty path"
    if "\0" in name or "\\" in name:
        return "a NUL or backslash in a path"
    if any(ord(c) < 32 for c in name):
        return "a control character in a path"
    if name.startswith("/"):
        return "an absolute path"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "a path with an empty, '.' or '..' part"
    return None


def confine(out: Path, name: object, source: str) -> Path:
    """``out / name`` if ``name`` names a place inside ``out`` even after resolving symlinks.

    ``source`` names the file ``name`` was read from, for the error. Raises OutputError naming
    the entry otherwise: an output directory is untrusted input, so a bad entry is never
    followed (no read, write or deletion through it).
    """
    why = confined_name(name)
    if why is None:
        assert isinstance(name, str)
        root = out.resolve()
        target = (out / PurePosixPath(name)).resolve()
        if target != root and root in target.parents:
            return out / name
        why = "it leaves the output directory (through a symlink)"
    raise OutputError(f"{source}: entry {name!r} is refused: {why}; synthc follows no such path")
