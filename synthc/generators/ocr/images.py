"""Background images an OCR spec names, decoded and checked with Pillow at compile time (a
broken one is refused with its position); no NumPy."""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings
from pathlib import Path

import PIL
from PIL import Image, UnidentifiedImageError

from synthc import limits
from synthc.atomic import write_atomic
from synthc.cache_files import cache_path


def decode_image(data: bytes, shown: str) -> Image.Image:
    """The RGB image encoded in ``data``; ValueError naming ``shown`` if it is not one Pillow
    can decode, or has more than synthc.limits.MAX_IMAGE_PIXELS pixels (checked from the header,
    before decoding). Pillow's own decompression-bomb guard stays on behind it."""
    _guard_on()
    too_big = (
        f"{shown!r} has more pixels than the limit of {limits.MAX_IMAGE_PIXELS} "
        "(synthc.limits.MAX_IMAGE_PIXELS)"
    )
    try:
        with warnings.catch_warnings():
            # the check below replaces Pillow's warning; its error (2x its limit) stays
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as picture:
                if picture.width * picture.height > limits.MAX_IMAGE_PIXELS:
                    raise ValueError(
                        f"{shown!r} has {picture.width} x {picture.height} pixels, over the limit "
                        f"of {limits.MAX_IMAGE_PIXELS} (synthc.limits.MAX_IMAGE_PIXELS)"
                    )
                return picture.convert("RGB")
    except Image.DecompressionBombError:
        raise ValueError(too_big) from None
    except ValueError:
        raise
    except UnidentifiedImageError:
        raise ValueError(f"{shown!r} is not an image Pillow can decode (unknown format)") from None
    except (OSError, SyntaxError, EOFError) as error:
        raise ValueError(
            f"{shown!r} is not an image Pillow can decode ({_first_line(error)})"
        ) from None


def check_image(data: bytes, shown: str) -> None:
    """Raise ValueError naming ``shown`` unless ``data`` decodes as an image (see decode_image).

    Bytes that decoded once are remembered on disk by their sha256, beside the fonts' coverage
    and keyed also by Pillow's version and both pixel limits, so compiling the same spec again
    does not decode its images again (about 10 ms each); a refused image is decoded every time.
    """
    _guard_on()
    checked = _checked_dir()
    if checked is None:  # no cache (synthc.cache_files.cache_path)
        decode_image(data, shown)
        return
    mark = checked / hashlib.sha256(data).hexdigest()
    if mark.is_file():
        return
    decode_image(data, shown)
    with contextlib.suppress(OSError):
        write_atomic(mark, b"")


def _guard_on() -> None:
    if Image.MAX_IMAGE_PIXELS is None:
        Image.MAX_IMAGE_PIXELS = limits.MAX_IMAGE_PIXELS  # never run with the guard off


def _checked_dir() -> Path | None:
    """Where checked images are marked: per Pillow version, synthc's and Pillow's pixel limits
    (None: no cache)."""
    under = f"pillow-{PIL.__version__}-max-{limits.MAX_IMAGE_PIXELS}-{Image.MAX_IMAGE_PIXELS}"
    found = cache_path("checked-images", under)
    return None if found is None else Path(found)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
