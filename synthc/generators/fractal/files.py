"""Fractal file resolution: ``system.catalog`` read through the spec's reader into the config."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from synthc import generators
from synthc.errors import counted
from synthc.generators.fractal.catalog import load_catalog
from synthc.generators.fractal.config import CatalogSystem, FractalConfig
from synthc.inputs import FileProblem, FileProblems, InputError, Reader

#: where a problem with the catalog points
CATALOG_FIELD: tuple[str | int, ...] = ("system", "catalog")


def resolve_files(config: FractalConfig, reader: Reader) -> FractalConfig:
    """``config`` with ``system.catalog`` loaded through ``reader`` (synthc.inputs: allowed roots,
    regular files, size limits) into ``system.systems``, and the files read recorded, as portable
    names with their sha256, in ``system.resolved``."""
    if config.system.resolved is not None:
        raise FileProblem(("system", "resolved"), "is set by synthc, not written in a spec")
    written = config.system.catalog
    if written is None:
        if config.system.systems is not None:
            _check_given(config.system.systems[: config.classes], None)
        return config
    field = CATALOG_FIELD
    try:
        catalog = load_catalog(reader, written)
    except InputError as error:
        if error.missing:
            raise FileProblem(field, f"no catalog {written!r} beside the spec") from None
        raise FileProblem(field, str(error)) from None
    except (OSError, ValueError) as error:
        raise FileProblem(field, f"cannot read the catalog: {error}") from None
    if len(catalog.classes) < config.classes:
        # the spec's own systems are counted by FractalConfig's rules; a catalog is read after
        raise FileProblem(
            field,
            f"catalog {written!r} has {counted(len(catalog.classes), 'system')} for "
            f"{counted(config.classes, 'class', 'classes')}",
        )
    systems, problems = [], []
    for label, data in catalog.classes:
        try:
            systems.append(CatalogSystem.model_validate(data))
        except ValidationError as error:
            problems += [_catalog_problem(label, e) for e in error.errors(include_url=False)]
    if problems:
        raise FileProblems(field, [f"catalog {written!r}: {p}" for p in problems])
    used = systems[: config.classes]
    _check_given(used, (written, [label for label, _ in catalog.classes]))
    system = config.system.model_copy(update={"systems": systems, "resolved": catalog.files})
    return config.model_copy(update={"system": system})


def _check_given(systems: list[CatalogSystem], catalog: tuple[str, list[str]] | None) -> None:
    """Refuse the first given system the samplers would reject (systems.given_problems), at
    ``system.systems[k]`` of the spec, or at ``system.catalog`` naming the catalog's class.
    Callers pass the systems of the spec's classes only: those past them are never drawn, and
    probing each (about 1 ms) made a large catalog take minutes to validate for a few classes."""
    check = generators.kernel_side("fractal").given_system_problems  # NumPy, kernels: only now
    for k, entry in enumerate(systems):
        problems = check(entry.maps, entry.probabilities)
        if not problems:
            continue
        if catalog is None:
            path, message = problems[0]
            raise FileProblem(("system", "systems", k, *path), message)
        written, labels = catalog
        raise FileProblems(
            CATALOG_FIELD,
            [f"catalog {written!r}: {labels[k]}{_spelled(path)}: {m}" for path, m in problems],
        )


def _spelled(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _catalog_problem(label: str, error: Any) -> str:
    """One pydantic error of catalog class ``label`` as ``classes[3].maps[0]: message``."""
    where = label + _spelled(tuple(error["loc"]))
    if error["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return f"{where}: must be an object with maps and probabilities"
    return f"{where}: {error['msg']}"
