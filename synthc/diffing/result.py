"""Two sides compared: the fields, seed, vars, inputs, libraries and shards that differ.

The content is identical when every shard is unchanged (equal task keys, and equal sha256 when
both sides are built) and no shard was added or removed; other differences (a new name, vars
that render the same spec) are reported but leave the content identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthc.diffing.fields import FieldChange, changed_fields
from synthc.diffing.inputs import InputChange, compare_inputs
from synthc.diffing.shards import KINDS, ShardChangeKind, SplitDiff, compare_shards
from synthc.diffing.sides import Side


@dataclass(frozen=True)
class DatasetDiff:
    """What differs between ``old`` and ``new``."""

    old: Side
    new: Side
    seed: FieldChange | None
    fields: tuple[FieldChange, ...]
    variables: tuple[FieldChange, ...]
    #: None when a side does not record its input files
    inputs: tuple[InputChange, ...] | None
    #: None when a side does not record its library versions
    libraries: tuple[FieldChange, ...] | None
    splits: tuple[SplitDiff, ...]

    @property
    def identical(self) -> bool:
        """Whether both sides hold the same content (see the module docstring)."""
        same_hash = (
            self.old.content_sha256 is None
            or self.new.content_sha256 is None
            or self.old.content_sha256 == self.new.content_sha256
        )
        return same_hash and all(split.identical for split in self.splits)

    def count(self, change: ShardChangeKind) -> int:
        """Shards with this kind of change, over all splits."""
        return sum(len(split.of(change)) for split in self.splits)

    def to_json(self) -> dict[str, Any]:
        """The same facts as one JSON object (keys documented in the README)."""
        return {
            "old": {"path": self.old.label, "kind": self.old.kind},
            "new": {"path": self.new.label, "kind": self.new.kind},
            "identical": self.identical,
            "seed": None if self.seed is None else self.seed.to_json(),
            "fields": [f.to_json() for f in self.fields],
            "vars": [v.to_json() for v in self.variables],
            "inputs": None if self.inputs is None else [i.to_json() for i in self.inputs],
            "libraries": (
                None if self.libraries is None else [lib.to_json() for lib in self.libraries]
            ),
            "splits": {split.name: split.to_json() for split in self.splits},
            "counts": {kind: self.count(kind) for kind in KINDS},
        }


def diff_sides(old: Side, new: Side) -> DatasetDiff:
    """Compare two sides."""
    seed = changed_fields(old.seed, new.seed, "seed")
    inputs = None
    if old.inputs is not None and new.inputs is not None:
        inputs = tuple(compare_inputs(old.inputs, new.inputs))
    libraries = None
    if old.libraries is not None and new.libraries is not None:
        libraries = tuple(changed_fields(old.libraries, new.libraries))
    return DatasetDiff(
        old,
        new,
        seed[0] if seed else None,
        tuple(changed_fields(old.fields, new.fields)),
        tuple(changed_fields(old.variables, new.variables)),
        inputs,
        libraries,
        tuple(compare_shards(old.shards, new.shards)),
    )
