"""One side of a diff: a built output (from its manifest) or a spec (compiled and planned).

Both become a :class:`Side` with the same facts: the fields that shape the data, the seed, the
vars, the input files, the library versions and the shards. A manifest is untrusted: it has
passed ``read_manifest``'s shape check, and everything that check does not cover is read
tolerantly (a missing or malformed section is "not recorded").
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from synthc.compiler.models import Spec
from synthc.compiler.planning import Plan
from synthc.diffing.fields import ABSENT
from synthc.diffing.inputs import InputFile, input_files
from synthc.diffing.shards import ShardInfo


@dataclass(frozen=True)
class Side:
    """What a diff compares of one side."""

    label: str
    kind: Literal["output", "spec"]
    #: the spec sections that shape data: name, samples, splits (as sample ranges), output,
    #: generator (its resolved config)
    fields: dict[str, Any]
    seed: Any
    variables: dict[str, Any]
    #: ``{"path", "role", "sha256"}`` per input file; None when not recorded
    inputs: list[InputFile] | None
    #: library name -> version; None when not recorded
    libraries: dict[str, str] | None
    shards: tuple[ShardInfo, ...]
    #: the manifest's content hash (a built side only)
    content_sha256: str | None = None


def side_of_manifest(label: str, manifest: Mapping[str, Any]) -> Side:
    """The side of a built output whose manifest passed ``read_manifest``."""
    dataset = manifest.get("dataset")
    generator = manifest["generator"]
    splits = manifest["splits"]
    spec = manifest.get("spec")
    provenance = manifest.get("provenance")
    libraries = manifest.get("libraries")
    fields = {
        "name": dataset.get("name", ABSENT) if isinstance(dataset, dict) else ABSENT,
        "samples": manifest["samples"],
        "splits": {name: split["range"] for name, split in splits.items()},
        "output": manifest.get("output", ABSENT),
        "generator": generator.get("config", ABSENT),
    }
    shards = tuple(
        ShardInfo(
            name,
            shard["path"],
            shard["first_sample"],
            shard["first_sample"] + shard["samples"],
            shard["task_key"],
            shard["sha256"],
        )
        for name, split in splits.items()
        for shard in split["shards"]
    )
    variables = spec.get("vars") if isinstance(spec, dict) else None
    return Side(
        label,
        "output",
        fields,
        manifest.get("seed", ABSENT),
        variables if isinstance(variables, dict) else {},
        input_files(provenance.get("inputs")) if isinstance(provenance, dict) else None,
        libraries if _is_versions(libraries) else None,
        shards,
        manifest["content_sha256"],
    )


def side_of_spec(
    label: str,
    spec: Spec,
    plan: Plan,
    variables: Mapping[str, Any],
    inputs: Sequence[InputFile] | None,
    libraries: Mapping[str, str],
) -> Side:
    """The side of a compiled spec and its plan (never built): the values its manifest would
    record, and ``libraries`` as installed now."""
    fields = _as_json(
        {
            "name": spec.name,
            "samples": plan.samples,
            "splits": {name: list(bounds) for name, bounds in plan.splits.items()},
            "output": spec.output.model_dump(mode="json"),
            "generator": spec.generator.model_dump(mode="json"),
        }
    )
    shards = tuple(ShardInfo(t.split, t.path, t.start, t.stop, t.key) for t in plan.tasks)
    return Side(
        label,
        "spec",
        fields,
        spec.seed,
        _as_json(dict(variables)),
        None if inputs is None else [dict(e) for e in inputs],
        dict(libraries),
        shards,
    )


def _as_json(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as the manifest would hold it (tuples become lists, others their text)."""
    loaded: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return loaded


def _is_versions(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
