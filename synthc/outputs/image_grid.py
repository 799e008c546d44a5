"""preview.png for image datasets: the first images side by side in a grid, under a title."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from synthc import limits
from synthc.outputs.raster import fit_text, font

if TYPE_CHECKING:
    from PIL import Image

GAP = 2
#: pixels of the title strip above the images (none without a title), and of its text
TITLE_HEIGHT = 20
TITLE_SIZE = 13
#: pixels of one preview tile at most: 16 tiles of 4096 x 4096 RGB images made a 2.4 GB build
TILE_PIXELS = 512 * 512


def grid_png(images: Sequence[Image.Image], columns: int | None = None, title: str = "") -> bytes:
    """Tile ``images`` (any modes; shown as RGB) under ``title`` (cut to the sheet's width).
    Equal sizes make a square grid; mixed sizes (text lines) are stacked at their own size.
    No images (a generator whose files are not images): a strip that says so."""
    if not images:
        sheet = _said(NO_IMAGES)
    elif len({image.size for image in images}) > 1:
        sheet = _stacked(images)
    else:
        sheet = _grid(images, columns)
    if title:
        sheet = _titled(sheet, title)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


#: what a preview of samples without image files shows
NO_IMAGES = "no image files (.png, .jpg) in these samples"


def _said(text: str) -> Image.Image:
    """A white strip with ``text`` on it."""
    from PIL import Image, ImageDraw

    sheet = Image.new("RGB", (8 + int(font(TITLE_SIZE).getlength(text)), TITLE_HEIGHT), "white")
    ImageDraw.Draw(sheet).text((4, 3), text, fill=(0, 0, 0), font=font(TITLE_SIZE))
    return sheet


def _grid(images: Sequence[Image.Image], columns: int | None) -> Image.Image:
    from PIL import Image

    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    width, height = images[0].size
    sheet = Image.new("RGB", (columns * (width + GAP) - GAP, rows * (height + GAP) - GAP), "white")
    for n, image in enumerate(images):
        tile = image.convert("RGB")
        if tile.size != (width, height):
            tile = tile.resize((width, height))
        sheet.paste(tile, ((n % columns) * (width + GAP), (n // columns) * (height + GAP)))
    return sheet


def _stacked(images: Sequence[Image.Image]) -> Image.Image:
    """Lines of one height (horizontal text) one under another; columns of one width
    (vertical text) side by side."""
    from PIL import Image

    side_by_side = len({image.width for image in images}) == 1
    if side_by_side:
        width = sum(image.width for image in images) + GAP * (len(images) - 1)
        height = max(image.height for image in images)
    else:
        width = max(image.width for image in images)
        height = sum(image.height for image in images) + GAP * (len(images) - 1)
    sheet = Image.new("RGB", (width, height), "white")
    offset = 0
    for image in images:
        sheet.paste(image.convert("RGB"), (offset, 0) if side_by_side else (0, offset))
        offset += (image.width if side_by_side else image.height) + GAP
    return sheet


def _titled(sheet: Image.Image, title: str) -> Image.Image:
    """``sheet`` under a strip with ``title``, cut with an ellipsis to the sheet's width."""
    from PIL import Image, ImageDraw

    text = fit_text(title, TITLE_SIZE, sheet.width - 8)
    titled = Image.new("RGB", (sheet.width, sheet.height + TITLE_HEIGHT), "white")
    titled.paste(sheet, (0, TITLE_HEIGHT))
    if text:
        ImageDraw.Draw(titled).text((4, 3), text, fill=(0, 0, 0), font=font(TITLE_SIZE))
    return titled


def decode_pngs(blobs: Sequence[bytes], max_pixels: int = TILE_PIXELS) -> list[Image.Image]:
    """Encoded images (PNG, JPEG) to loaded Pillow images, each shrunk (aspect kept) to at
    most ``max_pixels`` pixels so a preview of large images stays small in memory.

    ValueError for an image of more than synthc.limits.MAX_IMAGE_PIXELS pixels, from its
    header before it is decoded (images read back from kept shards are only as good as the
    state that vouched for them: 16 of 13,000 x 13,000 pixels, 640 KB each, took over a
    minute and 1.3 GB, and Pillow's warnings)."""
    from PIL import Image

    images = []
    for blob in blobs:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(blob))
        with opened as image:
            width, height = image.size
            if width * height > limits.MAX_IMAGE_PIXELS:
                raise ValueError(
                    f"an image of {width} x {height} pixels, over synthc.limits.MAX_IMAGE_PIXELS "
                    f"({limits.MAX_IMAGE_PIXELS})"
                )
            image.load()
            if width * height > max_pixels:
                scale = math.sqrt(max_pixels / (width * height))
                size = (max(1, int(width * scale)), max(1, int(height * scale)))
                images.append(image.resize(size, Image.Resampling.BOX))
            else:
                images.append(image.copy())
    return images
