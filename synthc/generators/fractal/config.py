"""Spec model of the IFS fractal generator (FractalDB / Anderson & Farrell style)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from synthc import limits
from synthc.errors import counted
from synthc.generators.base import PART_CONFIG, ConfigPart, GeneratorConfig
from synthc.generators.holes import is_hole
from synthc.generators.memory import facts_problem, sample_problem

Path = tuple[str | int, ...]
#: the highest fill_rate the fractaldb sampler is allowed to ask for. Measured over 3,000
#: candidates per map count (64 x 64 grid, 20,000 probe points): at least 0.6% of candidates
#: reach 0.6 for every count from 2 to 16 maps (so a class needs about 170 attempts of the
#: 10,000 allowed), 0.7 is reached by 0 to 0.07% and nothing reached 0.76.
FRACTALDB_MAX_FILL_RATE = 0.6
#: one-map candidates that pass the samplers' checks, measured over 30,000 (a single map's orbit
#: is a point or a curve): 0.1% at any fill_rate, 0.017% at 0.1, so a class of one map found
#: none in its 10,000 attempts once in 10,000 at fill_rate 0 and once in five at 0.1
FRACTALDB_ONE_MAP_PASS = 0.001
#: bytes per pixel the render kernel holds besides the image (float64 counts, int8 last map,
#: bool hits) when it draws a density, patch or colour image
KERNEL_BYTES_PER_PIXEL = 10
#: given probabilities must sum to 1 within this; they are then divided by their sum
PROBABILITY_TOLERANCE = 1e-6
#: a system whose largest |det| is below this draws a line or a point, not a fractal (the
#: samplers reject such candidates; given systems are refused)
MIN_DET = 1e-4
#: the sigma-factor sampler: each map's s1 + 2 s2 is at most 1 + 2 x 1 (0 <= s2 <= s1 <= 1), and
#: alpha, the sum over m maps, is drawn from U(SIGMA_ALPHA_LOW(m), SIGMA_ALPHA_LOW(m) + 0.5)
SIGMA_MAX_SHARE = 3.0


#: the most maps a sampled system has
MAX_MAPS = 16


def sigma_alpha_low(m: int) -> float:
    """The smallest alpha the sigma-factor sampler draws for ``m`` maps (Anderson & Farrell)."""
    return 0.5 * (5 + m)


def sigma_feasible(m: int) -> bool:
    """Whether ``m`` maps can reach the sigma-factor sampler's alpha: only when the smallest
    alpha it draws is below the most m maps can give (alpha exactly at the bound has
    probability zero)."""
    return sigma_alpha_low(m) < SIGMA_MAX_SHARE * m


def _abs_det(a: float, b: float, c: float, d: float) -> float:
    """|ad - bc| without NaN: a product beyond the floats counts as infinite."""
    value = abs(a * d - b * c)
    return value if not math.isnan(value) else math.inf


def given_system_problems(
    maps: Sequence[Sequence[Sequence[float]]], probabilities: Sequence[float]
) -> list[tuple[Path, str]]:
    """What is wrong with a system a spec or catalog gives (maps ``[[a, b, e], [c, d, f]]``),
    judged without arrays: probabilities finite, >= 0 and summing to 1 within
    PROBABILITY_TOLERANCE; maps not all degenerate (largest |det| at least MIN_DET, as the
    samplers require). The chaos-game check (divergent, collapsed) is systems.given_problems."""
    problems: list[tuple[Path, str]] = []
    negative = [(j, p) for j, p in enumerate(probabilities) if not p >= 0]
    for j, p in negative:
        problems.append((("probabilities", j), f"must be >= 0, not {p:g}"))
    total = math.fsum(probabilities)
    if not negative and not abs(total - 1.0) <= PROBABILITY_TOLERANCE:
        problems.append(
            (
                ("probabilities",),
                f"must sum to 1 (within {PROBABILITY_TOLERANCE:g}); these sum to {total:.9g}",
            )
        )
    if all(len(m) == 2 and all(len(r) == 3 for r in m) for m in maps):
        largest = max(_abs_det(m[0][0], m[0][1], m[1][0], m[1][1]) for m in maps)
        if largest < MIN_DET:
            problems.append(
                (
                    ("maps",),
                    f"degenerate: the largest |det| of the linear parts is {largest:.3g}, under "
                    f"{MIN_DET:g}, so the system draws a line or a point, not a fractal "
                    "(the samplers reject these too)",
                )
            )
    return problems


def _range_problems(at: Path, pair: Sequence[float], low: float, high: float) -> Iterable[Any]:
    if not low <= pair[0] <= pair[1] <= high:
        yield (at, f"must be [low, high] with {low:g} <= low <= high <= {high:g}")


def _prefixed(part: str, rule: Callable[[], Iterable[Any]]) -> Iterable[Any]:
    for path, message in rule():
        yield ((part, *path), message)


class CatalogSystem(ConfigPart):
    """One class's system: maps [[a, b, e], [c, d, f]] and their probabilities."""

    maps: list[list[list[float]]] = Field(min_length=1, max_length=64)
    probabilities: list[float] = Field(min_length=1, max_length=64)


class SystemConfig(ConfigPart):
    """How each class's iterated function system is chosen."""

    maps: list[int] = Field(
        [2, 4], min_length=2, max_length=2, description="Inclusive range of affine maps per system."
    )
    sampler: Literal["sigma_factor", "fractaldb"] = Field(
        "sigma_factor",
        description="sigma_factor: contractive maps from singular values with Anderson & "
        "Farrell's sigma-factor constraint; fractaldb: parameters U(-1, 1), kept when the "
        "filling rate reaches fill_rate (Kataoka et al.).",
    )
    fill_rate: float = Field(
        0.2,
        ge=0,
        le=1,
        description="fractaldb sampler: minimum filling rate, the fraction of the 64 x 64 cells "
        "of the attractor's bounding square that 20,000 points occupy (resolution-free).",
    )
    catalog: str | None = Field(
        None,
        description="Use these systems instead of sampling: a synthc catalog.json, a FractalDB "
        "CSV (rows a,b,c,d,e,f,p) or .npy (n x 2 x 3) per class, or a directory of them "
        "(classes in file-name order). Relative to the spec's directory.",
    )

    systems: list[CatalogSystem] | None = Field(
        None,
        description="The systems themselves, one per class (filled from `catalog` when given).",
    )
    #: filled at compile time: the catalog files read, portable names with sha256 (synthc.inputs)
    resolved: SkipJsonSchema[list[dict[str, str]] | None] = Field(
        None, description="(set by synthc) the catalog files."
    )

    def rules(self) -> list[Callable[[], Iterable[Any]]]:
        maps = functools.partial(_range_problems, ("maps",), self.maps, 1, MAX_MAPS)
        return [maps, self._sigma_factor_problems, self._fill_rate_problems, self._source_problems]

    def _source_problems(self) -> Iterable[Any]:
        # a spec's own; resolve_files fills systems from the catalog after these rules
        if self.catalog is not None and self.systems is not None:
            yield (
                ("systems",),
                "give the systems or a catalog, not both: the catalog's would replace these",
            )

    def _sigma_factor_problems(self) -> Iterable[Any]:
        low, high = self.maps
        if self.sampler != "sigma_factor" or self.systems is not None or not 1 <= low <= high:
            return
        # counts past MAX_MAPS are the range rule's to report (and maps: [1, 10**18] a loop)
        infeasible = [m for m in range(low, min(high, MAX_MAPS) + 1) if not sigma_feasible(m)]
        if infeasible:
            m = infeasible[-1]
            feasible = next(n for n in range(m, m + 100) if sigma_feasible(n))
            yield (
                ("maps",),
                f"the sigma_factor sampler cannot make a system of {m} map"
                f"{'s' if m > 1 else ''}: it draws alpha = sum of s1 + 2 s2 >= "
                f"{sigma_alpha_low(m):g}, and {m} map{'s give' if m > 1 else ' gives'} at most "
                f"{SIGMA_MAX_SHARE * m:g} (0 <= s2 <= s1 <= 1); use at least {feasible} maps",
            )

    def _fill_rate_problems(self) -> Iterable[Any]:
        if self.sampler != "fractaldb" or self.systems is not None:
            return
        if tuple(self.maps) == (1, 1):  # other counts below 2 are the range rule's
            yield (
                ("maps",),
                "the fractaldb sampler cannot make systems of one map reliably: a single "
                f"map's orbit is a point or a curve, and about {FRACTALDB_ONE_MAP_PASS:.1%} "
                "of candidates pass its checks, so classes run out of attempts; use at least "
                "2 maps",
            )
        elif self.fill_rate > FRACTALDB_MAX_FILL_RATE:
            yield (
                ("fill_rate",),
                f"the fractaldb sampler cannot reach a filling rate of {self.fill_rate:g}: "
                f"use at most {FRACTALDB_MAX_FILL_RATE:g} (FractalDB uses 0.2)",
            )


class PngConfig(ConfigPart):
    """How images are stored as PNG."""

    level: int = Field(
        1,
        ge=0,
        le=9,
        description="zlib level. 1 by default: level 6 made binary 256 px images about 8% "
        "smaller but took about 3x as long to encode (benchmarks/fractal.py).",
    )
    binary: Literal["gray", "1bit"] = Field(
        "gray", description="How black-and-white images are stored: 8-bit grayscale or 1-bit."
    )


class RenderConfig(ConfigPart):
    """How each image is drawn."""

    size: int = Field(256, ge=8, le=4096, description="Image width and height in pixels.")
    points: int = Field(100_000, ge=100, le=100_000_000, description="Chaos-game points.")
    mode: Literal["binary", "density", "patch"] = Field(
        "binary",
        description="binary: a hit pixel is white; density: log of the hit count; patch: every "
        "point stamps the image's random 3 x 3 patch (Anderson & Farrell).",
    )
    color: Literal[False, "map", "random"] = Field(
        False,
        description="false: grayscale; map: each map draws in its own random colour; random: "
        "one random colour per fractal.",
    )
    background: Literal["black", "uniform", "plasma"] = Field(
        "black", description="black, a uniform random colour, or plasma (diamond-square) noise."
    )
    png: PngConfig = Field(default_factory=lambda: PngConfig.model_validate({}))


class InstanceConfig(ConfigPart):
    """How the images of one class differ."""

    jitter: list[float] | None = Field(
        [0.8, 1.1],
        min_length=2,
        max_length=2,
        description="One random map's linear part is scaled by a factor in this range (then "
        "shrunk if needed to stay contractive); null: no jitter.",
    )
    flip: bool = Field(True, description="Mirror half of the images left to right.")

    def rules(self) -> list[Callable[[], Iterable[Any]]]:
        return [self._jitter_problems]

    def _jitter_problems(self) -> Iterable[Any]:
        if self.jitter is not None:
            yield from _range_problems(("jitter",), self.jitter, 0.01, 10)


class MultiConfig(ConfigPart):
    """Several fractals per image, each with its class and box."""

    per_image: list[int] = Field(
        [1, 5], min_length=2, max_length=2, description="Inclusive range of fractals per image."
    )
    scale: list[float] = Field(
        [0.15, 0.6],
        min_length=2,
        max_length=2,
        description="Side of each fractal's box as a fraction of the image side.",
    )

    def rules(self) -> list[Callable[[], Iterable[Any]]]:
        return [
            functools.partial(_range_problems, ("per_image",), self.per_image, 1, 64),
            functools.partial(_range_problems, ("scale",), self.scale, 0.01, 1),
        ]


class FractalConfig(GeneratorConfig):
    """Classes of iterated function systems rendered by the chaos game."""

    model_config = ConfigDict(**PART_CONFIG, strict=True)

    kind: Literal["fractal"] = Field(description="Generator kind.")
    classes: int = Field(ge=1, le=1_000_000, description="One IFS system per class.")
    instances: int = Field(
        ge=1, le=10**12, description="Images per class; samples must be classes x instances."
    )
    system: SystemConfig = Field(default_factory=lambda: SystemConfig.model_validate({}))
    render: RenderConfig = Field(default_factory=lambda: RenderConfig.model_validate({}))
    instance: InstanceConfig = Field(default_factory=lambda: InstanceConfig.model_validate({}))
    multi: MultiConfig | None = Field(None, description="Several fractals per image.")

    def expected_samples(self) -> int | None:
        return self.classes * self.instances

    def size_problems(self, samples: int, shard_size: int) -> Iterable[tuple[Any, ...]]:
        channels = 3 if self.render.color else 1
        # the image, its PNG encoding's copy, and the kernel's per-pixel counts, last map and hit
        need = self.render.size**2 * (2 * channels + KERNEL_BYTES_PER_PIXEL)
        what = f"a {self.render.size} px image with {channels} channel(s)"
        problems = [sample_problem(("generator", "render", "size"), need, what)]
        fractals = self.multi.per_image[1] if self.multi is not None else 1
        points = self.render.points * fractals
        if points > limits.MAX_SAMPLE_POINTS:
            at = ("generator", "render", "points")
            what = f"{points:,} chaos-game points per image are"
            if fractals > 1:
                what = (
                    f"{self.render.points:,} points x {fractals} fractals (multi.per_image) "
                    f"make {points:,} chaos-game points per image,"
                )
            limit = f"{limits.MAX_SAMPLE_POINTS:,} (synthc.limits.MAX_SAMPLE_POINTS)"
            problems.append((at, f"{what} over the limit of {limit}"))
        if self.system.systems is None:
            # catalog.json and the class cache: 7 numbers per map (a..f and p) for every class
            numbers = self.classes * self.system.maps[-1] * 7
            what = f"{self.classes:,} class systems of up to {self.system.maps[-1]} maps"
            problems.append(facts_problem(("generator", "classes"), numbers, what, 24))
        yield from (p for p in problems if p is not None)

    def semantic_problems(self) -> Iterable[Any]:
        for rule in self.semantic_rules():
            yield from rule()

    def semantic_rules(self) -> list[Callable[[], Iterable[Any]]]:
        # Each part on its own: an invalid render or instance part does not hide the others.
        rules: list[Callable[[], Iterable[Any]]] = [self._catalog_problems]
        for part in ("system", "instance", "multi"):
            model = getattr(self, part)
            if model is not None and not is_hole(model):
                rules += [functools.partial(_prefixed, part, rule) for rule in model.rules()]
        return rules

    def _catalog_problems(self) -> Iterable[Any]:
        systems = self.system.systems
        if systems is not None:
            if len(systems) < self.classes:
                yield (
                    ("classes",),
                    f"the catalog has {counted(len(systems), 'system')} for "
                    f"{counted(self.classes, 'class', 'classes')}",
                )
            for k, entry in enumerate(systems):
                if len(entry.maps) != len(entry.probabilities):
                    yield (("system", "systems", k), "needs one probability per map")
                if any(len(m) != 2 or any(len(r) != 3 for r in m) for m in entry.maps):
                    yield (("system", "systems", k, "maps"), "each map is [[a, b, e], [c, d, f]]")
                for path, message in given_system_problems(entry.maps, entry.probabilities):
                    yield (("system", "systems", k, *path), message)
