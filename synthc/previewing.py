"""Previews without a build: the first samples of a spec, generated in memory and drawn."""

from __future__ import annotations

from synthc import generators
from synthc.compiler.compiling import CompiledSpec
from synthc.outputs.image_grid import decode_pngs, grid_png
from synthc.outputs.preview import points_preview_png
from synthc.outputs.table_preview import table_preview_png
from synthc.outputs.webdataset import IMAGE_EXTENSIONS


def preview_png(compiled: CompiledSpec, samples: int) -> bytes:
    """A PNG of the spec's first ``samples`` samples: an image grid, or plots of table rows."""
    spec = compiled.spec
    generator = generators.get(spec.generator.kind)
    stop = min(samples, spec.samples)
    if "parquet" not in generator.formats:
        files = generator.generate(spec.generator, spec.seed, 0, stop)
        images = [next(f[ext] for ext in IMAGE_EXTENSIONS if ext in f) for _, f in files]
        return grid_png(decode_pngs(images))
    table = {
        name: getattr(column, "to_numpy", lambda c=column: c)()
        for name, column in generator.generate(spec.generator, spec.seed, 0, stop).items()
    }
    return (points_preview_png if "x0" in table else table_preview_png)(table)
