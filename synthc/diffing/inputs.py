"""Input files that differ between two sides: ``provenance.inputs`` lists compared.

Each list holds ``{"path", "role", "sha256"}`` entries, as the manifest records them and as a
compiled spec's inputs give them. A file is matched by its path and role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

InputFile = Mapping[str, str]
#: the role of the spec itself
SPEC = "spec"


@dataclass(frozen=True)
class InputChange:
    """One input file added, removed or changed (other content); a side's sha256 is None where
    the file is not on that side."""

    path: str
    role: str
    change: Literal["added", "removed", "changed"]
    old_sha256: str | None
    new_sha256: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "role": self.role,
            "change": self.change,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
        }


def input_files(value: Any) -> list[InputFile] | None:
    """``value`` (``provenance.inputs`` of an untrusted manifest) as input entries, or None
    when it is not a list of ``{"path", "role", "sha256"}`` strings (not recorded, or broken)."""
    if not isinstance(value, list):
        return None
    keys = ("path", "role", "sha256")
    entries: list[InputFile] = []
    for entry in value:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in keys):
            return None
        entries.append({k: entry[k] for k in keys})
    return entries


def compare_inputs(old: Sequence[InputFile], new: Sequence[InputFile]) -> list[InputChange]:
    """The input files that differ, in the order of ``old`` then the files only ``new`` has.

    The spec is the one input whose path depends on where it was named from (outside git,
    relative to the current directory): one spec a side, of the same bytes, is no change."""
    specs = [[e for e in side if e["role"] == SPEC] for side in (old, new)]
    if all(len(side) == 1 for side in specs) and specs[0][0]["sha256"] == specs[1][0]["sha256"]:
        old = [e for e in old if e["role"] != SPEC]
        new = [e for e in new if e["role"] != SPEC]
    before = {(e["path"], e["role"]): e["sha256"] for e in old}
    after = {(e["path"], e["role"]): e["sha256"] for e in new}
    changes: list[InputChange] = []
    for (path, role), digest in before.items():
        if (path, role) not in after:
            changes.append(InputChange(path, role, "removed", digest, None))
        elif after[(path, role)] != digest:
            changes.append(InputChange(path, role, "changed", digest, after[(path, role)]))
    for (path, role), digest in after.items():
        if (path, role) not in before:
            changes.append(InputChange(path, role, "added", None, digest))
    return changes
