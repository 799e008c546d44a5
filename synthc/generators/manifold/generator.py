"""The manifold generator: schema, dataset facts and batch generation for every shape."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from synthc.generators.base import Column, PreviewKind, Table, TableGenerator
from synthc.generators.manifold import kernels
from synthc.generators.manifold.config import Batch, ManifoldConfig
from synthc.generators.rng import derive_key


class ManifoldGenerator(TableGenerator[ManifoldConfig]):
    """Points on a manifold, with their noise-free positions and intrinsic coordinates."""

    kind: ClassVar[str] = "manifold"
    Config: ClassVar[Any] = ManifoldConfig
    preview: ClassVar[PreviewKind] = "points"
    gil_free: ClassVar[bool] = True

    def columns(self, config: ManifoldConfig) -> list[Column]:
        dim = config.out_dim
        embedding = (
            "after zero-padding to ambient_dim and the rotation in generator.facts.rotation"
            if config.rotate
            else "zero-padded to ambient_dim"
            if dim > config.natural_dim
            else "in the shape's own coordinates"
        )
        columns = [
            Column(
                f"x{d}",
                "float64",
                f"observed coordinate {d}: clean_x{d} plus N(0, {config.noise:g}^2) noise",
            )
            for d in range(dim)
        ]
        columns += [
            Column(
                f"clean_x{d}",
                "float64",
                f"noise-free coordinate {d} of the point on the {config.shape_name()}, {embedding}",
            )
            for d in range(dim)
        ]
        columns += [
            Column(f"u{k}", "float64", f"intrinsic coordinate {k}: {text}")
            for k, text in enumerate(config.intrinsic_descriptions())
        ]
        if config.classes:
            meaning = config.label_meaning
            columns.append(Column("label", "int64", f"class, known by construction: {meaning}"))
        return columns

    def facts(self, config: ManifoldConfig, seed: int) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "shape": config.shape_name(),
            "formula": config.formula,
            "natural_dim": config.natural_dim,
            "ambient_dim": config.out_dim,
            "intrinsic_dim": config.intrinsic_dim,
            "noise_std": config.noise,
            "rotation": config.rotation(seed).tolist() if config.rotate else None,
        }
        facts.update(config.shape_facts(seed))
        return facts

    def generate(self, config: ManifoldConfig, seed: int, start: int, stop: int) -> Table:
        n = stop - start
        k0, k1 = derive_key(seed, "manifold")
        nat = np.empty((config.natural_dim, n), dtype=np.float64)
        u = np.empty((config.intrinsic_dim, n), dtype=np.float64)
        label = np.empty(n, dtype=np.int64)
        config.run_kernel(seed, Batch(start, k0, k1, nat, u, label))
        dim = config.out_dim
        clean = np.empty((dim, n), dtype=np.float64)
        observed = np.empty((dim, n), dtype=np.float64)
        kernels.embed_and_noise(
            start, k0, k1, nat, config.rotation(seed), float(config.noise), clean, observed
        )
        table: Table = {f"x{d}": observed[d] for d in range(dim)}
        table.update({f"clean_x{d}": clean[d] for d in range(dim)})
        table.update({f"u{k}": u[k] for k in range(config.intrinsic_dim)})
        if config.classes:
            table["label"] = label
        return table


GENERATOR = ManifoldGenerator()
