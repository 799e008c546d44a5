"""Generator kinds, looked up by the spec's ``generator.kind``: the one registry.

A kind is a module (usually a folder) that exports ``GENERATOR``, an instance of a
:class:`~synthc.generators.base.TableGenerator` or :class:`~synthc.generators.base.FileGenerator`
subclass. Adding a kind is a new folder plus one line in :data:`KINDS`; an installed package
can add one without touching synthc through the entry point group ``synthc.generators``
(``name = "package.module"``). Everything else (the spec's ``generator`` union, the JSON
schema, planning, shards, previews, the card) reads the generator's contract.

An installed kind is checked as it is loaded (:func:`get`): one package claims it, its module
imports, and its ``GENERATOR`` is a table or file generator whose ``kind`` and ``Config``'s
``kind`` field (``Literal["name"]``) are the entry point's name. A kind that fails is a
:class:`KindError` naming the entry point, the package and what to change. A package claiming
a built-in kind's name is not used for it: the built-in kind wins.
"""

from __future__ import annotations

import functools
import importlib
import typing
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from synthc.errors import SynthcError
from synthc.generators.base import FileGenerator, Generator, GeneratorConfig, TableGenerator

#: kind -> module that exports ``GENERATOR``. Modules are imported on first use so that a
#: build pays only for the generators its spec names.
KINDS: dict[str, str] = {
    "fractal": "synthc.generators.fractal",
    "manifold": "synthc.generators.manifold",
    "ocr_text": "synthc.generators.ocr",
    "tabular": "synthc.generators.tabular",
}

#: kind -> its kernel side: the module of NumPy and Numba code that draws the samples. The kind's
#: module (:data:`KINDS`) holds its config side (models, validation, declarations, facts that
#: need no arrays), which is all compiling and ``synthc validate`` import; the generator imports
#: its kernel side here, by name, the first time it draws. A kind not listed has one module.
KERNEL_SIDES: dict[str, str] = {
    "fractal": "synthc.generators.fractal.drawing",
    "manifold": "synthc.generators.manifold.drawing",
    "ocr_text": "synthc.generators.ocr.drawing",
    "tabular": "synthc.generators.tabular.drawing",
}

#: the entry point group through which installed packages add generator kinds
ENTRY_POINT_GROUP = "synthc.generators"


class KindError(SynthcError):
    """An installed generator kind that cannot be used: two packages claim it, its module does
    not import, or its ``GENERATOR`` breaks the contract (the message says what to change).
    A spec naming the kind reports it at ``generator.kind``."""

    exit_code = 2


@dataclass(frozen=True)
class Claim:
    """An installed package's entry point for a generator kind."""

    module: str
    #: the distribution that declares the entry point, and its version (None when unknown)
    package: str | None
    version: str | None

    def describe(self, kind: str) -> str:
        where = f"entry point '{kind} = {self.module}'"
        if self.package is not None:
            where += f" of package {self.package} {self.version}"
        return where


def kinds() -> list[str]:
    """Every generator kind synthc knows, sorted."""
    return sorted(_table())


def known(kind: str) -> bool:
    """Whether ``kind`` is a generator kind (a built-in one is known without reading the
    installed packages' entry points)."""
    return kind in KINDS or kind in _installed()


def get(kind: str) -> Generator[Any]:
    """The generator of ``kind``; raises KeyError for an unknown kind, :class:`KindError` for
    an installed kind that cannot be used."""
    if kind in KINDS:
        generator: Generator[Any] = importlib.import_module(KINDS[kind]).GENERATOR
        return generator
    return _checked(kind, _installed()[kind])


def package(kind: str) -> str | None:
    """The distribution that installs ``kind`` (its version is part of every task key), or
    None for a built-in kind."""
    if kind in KINDS:
        return None
    claims = _installed().get(kind, ())
    return claims[0].package if len(claims) == 1 else None


def shadowed(kind: str) -> tuple[Claim, ...]:
    """The installed packages' claims on built-in ``kind``, which are never used."""
    return _installed().get(kind, ()) if kind in KINDS else ()


def _checked(kind: str, claims: tuple[Claim, ...]) -> Generator[Any]:
    """The generator an installed package's entry point names, checked against the contract."""
    if len(claims) > 1:
        raise KindError(
            f"generator kind {kind!r} is claimed by "
            + " and by ".join(c.describe(kind) for c in claims)
            + "; uninstall one, or rename the kind in one of them"
        )
    (claim,) = claims
    where = claim.describe(kind)
    try:
        module = importlib.import_module(claim.module)
    except Exception as error:
        raise KindError(
            f"generator kind {kind!r}: {where} failed to import: {type(error).__name__}: {error}"
        ) from error
    generator = getattr(module, "GENERATOR", None)
    if not isinstance(generator, TableGenerator | FileGenerator):
        found = "no GENERATOR" if generator is None else f"GENERATOR {type(generator).__name__}"
        raise KindError(
            f"generator kind {kind!r}: {where}: module {claim.module} has {found}; it must "
            "export GENERATOR, an instance of a TableGenerator or FileGenerator subclass"
        )
    files = isinstance(generator, FileGenerator)
    writes, previews = (
        (("webdataset",), ("images",)) if files else (("parquet",), ("table", "points"))
    )
    base = "FileGenerator" if files else "TableGenerator"
    if not generator.formats or any(f not in writes for f in generator.formats):
        raise KindError(
            f"generator kind {kind!r}: {where}: its formats are {generator.formats!r:.80}; a "
            f"{base} writes {writes[0]} only (leave formats out)"
        )
    if generator.preview not in previews:
        raise KindError(
            f"generator kind {kind!r}: {where}: its preview is {generator.preview!r:.40}; a "
            f"{base}'s is one of {', '.join(previews)}"
        )
    said = getattr(generator, "kind", None)
    if said != kind:
        raise KindError(
            f"generator kind {kind!r}: {where}: its GENERATOR.kind is {said!r}; the entry "
            f"point's name is the kind specs name, so the two must be the same"
        )
    for model in _config_models(getattr(generator, "Config", None)):
        if not (isinstance(model, type) and issubclass(model, GeneratorConfig)):
            raise KindError(
                f"generator kind {kind!r}: {where}: its Config is {model!r}; it must be a "
                "GeneratorConfig subclass (or an annotated union of them)"
            )
        field = model.model_fields.get("kind")
        tags = typing.get_args(field.annotation) if field is not None else ()
        if field is None or typing.get_origin(field.annotation) is not typing.Literal:
            name = model.__name__
            raise KindError(
                f"generator kind {kind!r}: {where}: its Config {name} must declare "
                f'kind: Literal["{kind}"] (the spec\'s generator union tells kinds apart by it)'
            )
        if tags != (kind,):
            raise KindError(
                f"generator kind {kind!r}: {where}: its Config {model.__name__} declares kind "
                f'as Literal{list(tags)}; it must be Literal["{kind}"]'
            )
    return generator


def _config_models(config: Any) -> list[Any]:
    """The models of a generator's ``Config``: itself, or the members of an annotated union."""
    if typing.get_origin(config) is typing.Annotated:
        return _config_models(typing.get_args(config)[0])
    members = typing.get_args(config)
    if members and typing.get_origin(config) is not None:
        return [m for member in members for m in _config_models(member)]
    return [config]


def kernel_side(kind: str) -> ModuleType:
    """The module of ``kind``'s kernel side (:data:`KERNEL_SIDES`), imported on first use; for
    a kind with one module, the module of its generator's class."""
    if kind in KERNEL_SIDES:
        return importlib.import_module(KERNEL_SIDES[kind])
    return importlib.import_module(type(get(kind)).__module__)


def _table() -> dict[str, Any]:
    """:data:`KINDS`, then the kinds installed packages add (a built-in kind wins)."""
    return {**_installed(), **KINDS}


@functools.cache
def _installed() -> dict[str, tuple[Claim, ...]]:
    """Every kind installed packages claim, with each package's claim (one, unless two
    packages claim the same name: :func:`get` says so)."""
    from importlib.metadata import entry_points

    found: dict[str, dict[str, Claim]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        dist = point.dist
        package = dist.metadata["Name"] if dist is not None else None
        claim = Claim(point.value, package, dist.version if dist is not None else None)
        # one package seen twice on the path (an editable install and a copy) is one claim
        found.setdefault(point.name, {}).setdefault(f"{package}:{point.value}", claim)
    return {kind: tuple(claims.values()) for kind, claims in found.items()}
