"""The manifold generator: schema and dataset facts for every shape; its batches are drawn by
the kernel side (``drawing.py``), imported when it first draws."""

from __future__ import annotations

from typing import Any, ClassVar

from synthc import generators
from synthc.generators.base import Column, PreviewKind, Table, TableGenerator
from synthc.generators.manifold.config import ManifoldConfig


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
        drawing = generators.kernel_side(self.kind)
        facts: dict[str, Any] = {
            "shape": config.shape_name(),
            "formula": config.formula,
            "natural_dim": config.natural_dim,
            "ambient_dim": config.out_dim,
            "intrinsic_dim": config.intrinsic_dim,
            "noise_std": config.noise,
            # arrays, not lists: a large one goes to a .npy file as it is (outputs.fact_files)
            "rotation": drawing.rotation(config, seed) if config.rotate else None,
        }
        facts.update(drawing.shape_facts(config, seed))
        return facts

    def compile_ahead(self, config: ManifoldConfig) -> None:
        """The embedding and noise kernel, which every shape's batch calls after its own."""
        generators.kernel_side(self.kind).compile_late(config)

    def generate(self, config: ManifoldConfig, seed: int, start: int, stop: int) -> Table:
        table: Table = generators.kernel_side(self.kind).generate(config, seed, start, stop)
        return table


GENERATOR = ManifoldGenerator()
