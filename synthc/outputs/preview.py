"""preview.png: the first samples of a dataset drawn as the generator declares (its ``preview``).

In: the preview kind and either samples generated in memory (``synthc preview``) or the first
shards on disk (a build). Out: PNG bytes. ``images``: a grid of the first images; ``points``:
scatter panels of the ``x`` coordinates; ``table``: one distribution plot per column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from synthc.generators.base import PreviewKind, Samples, Table
from synthc.outputs.image_grid import decode_pngs, grid_png
from synthc.outputs.parquet import read_table_head
from synthc.outputs.points_plot import points_preview_png
from synthc.outputs.table_plot import table_preview_png
from synthc.outputs.webdataset import IMAGE_EXTENSIONS, read_tar_members

#: samples a preview shows unless told otherwise, by preview kind
PREVIEW_SAMPLES: dict[PreviewKind, int] = {"images": 16, "points": 4000, "table": 4000}


def default_samples(kind: PreviewKind) -> int:
    """How many samples a preview of ``kind`` shows by default."""
    return PREVIEW_SAMPLES[kind]


def preview_of_samples(kind: PreviewKind, generated: Table | Samples) -> bytes:
    """A PNG of samples generated in memory (all of them: the caller chose how many)."""
    if isinstance(generated, Samples):
        images = [next(f[ext] for ext in IMAGE_EXTENSIONS if ext in f) for _, f in generated]
        return grid_png(decode_pngs(images))
    table = {
        name: column.to_numpy() if isinstance(column, pl.Series) else column
        for name, column in generated.items()
    }
    return _draw_table(kind, table)


def preview_of_shards(kind: PreviewKind, shards: Sequence[Path]) -> bytes:
    """A PNG of the first samples of a build, read back from its first shards (in plan order)
    rather than generated again."""
    limit = default_samples(kind)
    if kind == "images":
        pngs: list[bytes] = []
        for shard in shards:
            pngs += read_tar_members(shard, limit - len(pngs))
            if len(pngs) >= limit:
                break
        return grid_png(decode_pngs(pngs))
    return _draw_table(kind, read_table_head(shards[0], limit))


def _draw_table(kind: PreviewKind, table: Mapping[str, np.ndarray]) -> bytes:
    if kind == "points":
        return points_preview_png(table)
    return table_preview_png(table)
