"""preview.png: the first samples of a dataset drawn as the generator declares (its ``preview``).

In: the preview kind, a :class:`Caption` (dataset name, sample count, column meanings) and
either samples generated in memory (``synthc preview``) or the first shards on disk (a build).
Out: PNG bytes. ``images``: a grid of the first images; ``points``: scatter plots of the ``x``
coordinates; ``table``: one distribution plot per column (both drawn by outputs.raster with
Pillow, imported only when a preview is drawn).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from synthc.errors import OutputError
from synthc.generators.base import PreviewKind, Samples, Table
from synthc.outputs import raster
from synthc.outputs.caption import Caption
from synthc.outputs.image_grid import decode_pngs, grid_png
from synthc.outputs.parquet import for_polars
from synthc.outputs.points_plot import points_preview_png
from synthc.outputs.table_plot import table_preview_png
from synthc.outputs.webdataset import IMAGE_EXTENSIONS, read_tar_members

if TYPE_CHECKING:
    import polars as pl

T = TypeVar("T")

__all__ = [
    "Caption",
    "default_samples",
    "load_drawing",
    "preview_of_samples",
    "preview_of_shards",
]

#: samples a preview shows unless told otherwise, by preview kind
PREVIEW_SAMPLES: dict[PreviewKind, int] = {"images": 16, "points": 4000, "table": 4000}


def default_samples(kind: PreviewKind) -> int:
    """How many samples a preview of ``kind`` shows by default."""
    return PREVIEW_SAMPLES[kind]


def load_drawing(kind: PreviewKind) -> None:
    """Import what drawing a preview of ``kind`` needs (Pillow and its fonts; polars to read
    table shards). A build calls it in a thread while its shards are made elsewhere (worker
    processes, a Dask cluster), so the drawing after them does not wait for the imports."""
    from PIL import Image, ImageDraw

    del Image, ImageDraw
    for size in (raster.TITLE, raster.PANEL_TITLE, raster.LABEL, raster.TICK, raster.NOTE):
        raster.font(size)
    if kind != "images":
        import polars

        del polars


def preview_of_samples(
    kind: PreviewKind, generated: Table | Samples, caption: Caption | None = None
) -> bytes:
    """A PNG of samples generated in memory (all of them: the caller chose how many)."""
    if isinstance(generated, Samples):
        found = (next((f[ext] for ext in IMAGE_EXTENSIONS if ext in f), None) for _, f in generated)
        images = [image for image in found if image is not None]  # a sample may hold none
        return grid_png(decode_pngs(images), title=(caption or Caption()).title(len(images)))
    import polars as pl  # tables only: an image build need not load it (0.1 s)

    return _draw_table(kind, pl.DataFrame(dict(generated)), caption or Caption())


def preview_of_shards(
    kind: PreviewKind,
    shards: Sequence[Path],
    caption: Caption | None = None,
    names: Sequence[str] | None = None,
) -> bytes:
    """A PNG of the first samples of a build, read back from its first shards (in plan order)
    rather than generated again. OutputError naming the shard (by ``names``, where a shard is
    known to the user by another name than its path) for one that cannot be read back: a
    shard a build kept on the output's state is only as good as that state."""
    limit = default_samples(kind)
    named = list(names) if names is not None else [str(shard) for shard in shards]
    if kind == "images":
        pngs: list[bytes] = []
        images = []
        for shard, name in zip(shards, named, strict=True):
            read = _read_back(
                name,
                lambda: read_tar_members(shard, limit - len(pngs)),  # noqa: B023
                str(shard),
            )
            pngs += read
            images += _read_back(name, lambda: decode_pngs(read), str(shard))  # noqa: B023
            if len(pngs) >= limit:
                break
        return grid_png(images, title=(caption or Caption()).title(len(pngs)))
    import polars as pl  # tables only: an image build need not load it (0.1 s)

    # only the columns the build writes: a kept shard is only as good as the state that
    # vouched for it, and one of 20,000 coordinates took minutes and gigabytes to project
    columns = list(caption.descriptions) if caption is not None and caption.descriptions else None
    frames: list[pl.DataFrame] = []
    rows = 0
    for shard, name in zip(shards, named, strict=True):
        frame = _read_back(
            name,
            lambda: pl.read_parquet(
                for_polars(shard),  # noqa: B023
                columns=columns,
                n_rows=limit - rows,  # noqa: B023
                glob=False,
            ),
        )
        frames.append(frame)
        rows += frame.height
        if rows >= limit:
            break
    frame = pl.concat(frames, how="vertical") if frames else pl.DataFrame()
    return _draw_table(kind, frame, caption or Caption())


def _read_back(name: str, read: Callable[[], T], path: str | None = None) -> T:
    """``read()``; any failure (polars', tarfile's, Pillow's many kinds) is an OutputError
    naming the shard ``name`` (where a reader's own error names its ``path``, a download's
    temporary file for an object store, by ``name`` too)."""
    try:
        return read()
    except OutputError as error:
        text = str(error)
        if path is not None and text.startswith(path):
            text = name + text[len(path) :]
        raise OutputError(f"preview.png: {text}") from None
    except Exception as error:  # noqa: BLE001 - readers raise many kinds on a foreign file
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise OutputError(
            f"preview.png: {name} cannot be read back ({first:.200}); the output's state "
            "vouched for it: `synthc build --force` makes every shard again"
        ) from None


def _draw_table(kind: PreviewKind, frame: pl.DataFrame, caption: Caption) -> bytes:
    if kind == "points":
        return points_preview_png(frame, caption)
    return table_preview_png(frame, caption)
