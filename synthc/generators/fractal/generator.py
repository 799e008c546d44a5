"""The fractal generator: its declarations, schema and size estimate (the config side, which
imports no NumPy); its images, catalog and facts are made by the kernel side (``drawing.py``),
imported when it is first needed."""

from __future__ import annotations

from typing import Any, ClassVar

from synthc import generators
from synthc.generators.base import Column, FileGenerator, Samples, tar_sample_bytes
from synthc.generators.fractal.config import FractalConfig
from synthc.generators.fractal.files import CATALOG_FIELD, resolve_files
from synthc.inputs import Reader

#: PNG bytes per pixel at zlib level 1, measured on 256 px images of 40 sigma-factor classes
#: (docs/outputs.md): by mode in grayscale on black; in colour (``color``) on black; and on a
#: plasma background, whose noise dominates, in grayscale and in colour
_PNG_PIXEL_BYTES = {"binary": 0.09, "density": 0.26, "patch": 0.12}
_ONE_BIT_PIXEL_BYTES = 0.045
_COLOUR_PIXEL_BYTES = 0.14
_PLASMA_PIXEL_BYTES = {False: 0.38, True: 0.96}
#: bytes of ``<key>.json`` for one fractal, and for each more fractal of a multi image
_JSON_BYTES = 900
_JSON_BYTES_PER_FRACTAL = 600


class FractalGenerator(FileGenerator[FractalConfig]):
    """Images of IFS fractals with their exact maps as labels."""

    kind: ClassVar[str] = "fractal"
    Config: ClassVar[Any] = FractalConfig
    gil_free: ClassVar[bool] = True
    file_field: ClassVar[tuple[str | int, ...]] = CATALOG_FIELD

    def resolve_files(self, config: FractalConfig, reader: Reader) -> FractalConfig:
        return resolve_files(config, reader)

    def columns(self, config: FractalConfig) -> list[Column]:
        image = "RGB" if config.render.color else "grayscale"
        if not config.render.color and config.render.png.binary == "1bit":
            image = "1-bit" if config.render.mode == "binary" else image
        return [
            Column("png", "image/png", f"{config.render.size} px {image} PNG"),
            Column("cls", "int (text)", "class id of the image's (first) fractal"),
            Column(
                "json",
                "json",
                "sample index, class and instance (the image's identity in every dataset that "
                "holds it), maps [[a,b,e],[c,d,f]] after jitter, probabilities, view window, "
                "flip, jitter, colours, background"
                + (", and a list of fractals with boxes" if config.multi else ""),
            ),
        ]

    def sample_bytes(self, config: FractalConfig) -> float:
        """The PNG from the image's pixels and the measured bytes per pixel of its mode,
        colour and background (raw pixels at zlib level 0), the JSON from its fractals."""
        render = config.render
        coloured = bool(render.color) or render.background != "black"
        if render.png.level == 0:
            per_pixel = 3.0 if coloured else 1.0
        elif render.background == "plasma":
            per_pixel = _PLASMA_PIXEL_BYTES[bool(render.color)]
        elif render.color:
            per_pixel = max(_COLOUR_PIXEL_BYTES, _PNG_PIXEL_BYTES[render.mode])
        elif render.mode == "binary" and render.png.binary == "1bit":
            per_pixel = _ONE_BIT_PIXEL_BYTES
        else:
            per_pixel = _PNG_PIXEL_BYTES[render.mode]
        fractals = sum(config.multi.per_image) / 2 if config.multi else 1
        json_bytes = _JSON_BYTES + _JSON_BYTES_PER_FRACTAL * (fractals - 1)
        return tar_sample_bytes([render.size**2 * per_pixel, json_bytes, 8])

    def extra_files(self, config: FractalConfig, seed: int) -> dict[str, bytes]:
        """catalog.json: every class's base system, importable as ``system.catalog``."""
        files: dict[str, bytes] = generators.kernel_side(self.kind).extra_files(config, seed)
        return files

    def facts(self, config: FractalConfig, seed: int) -> dict[str, Any]:
        facts: dict[str, Any] = generators.kernel_side(self.kind).facts(config, seed)
        return facts

    def compile_ahead(self, config: FractalConfig) -> None:
        """The chaos-game render kernels of ``config``'s mode (and the plasma background's): a
        build compiles the system search's kernels first, these last."""
        generators.kernel_side(self.kind).compile_late(config)

    def generate(self, config: FractalConfig, seed: int, start: int, stop: int) -> Samples:
        samples: Samples = generators.kernel_side(self.kind).generate(config, seed, start, stop)
        return samples


GENERATOR = FractalGenerator()
