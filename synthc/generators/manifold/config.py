"""Spec models of the manifold generator: one pydantic model per shape, chosen by ``shape``.

A shape's model holds its fields and rules, its formula and what its intrinsic coordinates and
labels mean: the config side, which imports no NumPy. Adding a shape is a new class here, listed
in :data:`ManifoldConfig`, plus its kernel in ``kernels.py`` and the line of ``drawing.py`` that
calls it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import ConfigDict, Field

from synthc.errors import counted
from synthc.generators.base import PART_CONFIG, GeneratorConfig
from synthc.generators.memory import facts_problem, table_shard_problem

Path = tuple[str | int, ...]
#: copies of a shard's numbers alive at once: the shape's natural coordinates, the clean and
#: observed points, and Arrow buffers while Parquet encodes them (measured: 2.6 for a
#: 150,000-row shard of 256-dimensional rotated blobs, 2.2 for swiss_roll)
SHARD_MEMORY_FACTOR = 3
#: the largest magnitude of any number a shape takes (noise, radii, turns, pitch, centres,
#: stds): products of a few of them (a helix's pitch times its turns, a centre plus a std times
#: a normal draw, a rotation's sums) stay far inside float64's 1.8e308, so every coordinate is
#: finite, the same in plain Python (which raises on cos(inf)) as compiled (which gives NaN)
MAX_MAGNITUDE = 1e100


class ManifoldBase(GeneratorConfig):
    """Fields every shape has (noise and the ambient embedding), and what each shape states."""

    model_config = ConfigDict(**PART_CONFIG, strict=True)

    kind: Literal["manifold"] = Field(description="Generator kind.")
    noise: float = Field(
        0.0,
        ge=0,
        le=MAX_MAGNITUDE,
        allow_inf_nan=False,
        description="Std of the Gaussian noise added to every observed coordinate.",
    )
    ambient_dim: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="Dimension of the observed points (>= the shape's natural dimension); "
        "default: the natural dimension. Extra coordinates are zero before rotation and noise.",
    )
    rotate: bool = Field(
        False,
        description="Rotate the zero-padded points by a seeded random orthogonal matrix "
        "(recorded in the manifest as generator.facts.rotation).",
    )

    intrinsic_names: ClassVar[tuple[str, ...]] = ()
    classes: ClassVar[int] = 0
    #: how a point is made, recorded in the manifest as generator.facts.formula
    formula: ClassVar[str]
    #: what the label's values mean (shapes with classes)
    label_meaning: ClassVar[str] = ""

    @property
    def natural_dim(self) -> int:
        return 3

    @property
    def intrinsic_dim(self) -> int:
        return len(self.intrinsic_names)

    @property
    def out_dim(self) -> int:
        """Dimension of the observed (and clean) points."""
        return self.ambient_dim or self.natural_dim

    def intrinsic_descriptions(self) -> list[str]:
        """What each intrinsic coordinate ``u<k>`` is, and its range."""
        return []

    def size_problems(self, samples: int, shard_size: int) -> Iterable[tuple[Any, ...]]:
        if self.rotate:
            at = ("generator", "ambient_dim" if self.ambient_dim else "rotate")
            yield from _some(facts_problem(at, self.out_dim**2, "a rotation of this dimension"))
        # index, x and clean_x per dimension, the intrinsic coordinates and a label
        numbers = 2 + 2 * self.out_dim + self.intrinsic_dim
        yield from _some(
            table_shard_problem(min(samples, shard_size), numbers, SHARD_MEMORY_FACTOR)
        )

    def semantic_problems(self) -> Iterable[tuple[Path, str]]:
        for rule in self.semantic_rules():
            yield from rule()

    @classmethod
    def shape_name(cls) -> str:
        """The shape this model is, known even when a spec's misspelt ``shape`` chose it."""
        return str(get_args(cls.model_fields["shape"].annotation)[0])

    def semantic_rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        """Each shape's rules, judged one by one (a shape adds its own to this list)."""
        return [self._ambient_problems]

    def _ambient_problems(self) -> Iterable[tuple[Path, str]]:
        if self.ambient_dim is not None and self.ambient_dim < self.natural_dim:
            yield (
                ("ambient_dim",),
                f"must be >= {self.natural_dim}, the natural dimension of {self.shape_name()}",
            )


class SwissRoll(ManifoldBase):
    """scikit-learn's make_swiss_roll."""

    shape: Literal["swiss_roll"]
    hole: bool = Field(False, description="Remove the centre cell of the 3x3 (t, height) grid.")
    intrinsic_names: ClassVar[tuple[str, ...]] = ("t", "height")
    formula: ClassVar[str] = (
        "t = 1.5*pi*(1 + 2*U1), h = 21*U2; point (t cos t, h, t sin t) "
        "(hole: (t, h) uniform on the 3x3 grid of pi x 7 cells without the centre cell)"
    )

    def intrinsic_descriptions(self) -> list[str]:
        return ["t, the angle along the roll, in [1.5pi, 4.5pi]", "height, in [0, 21]"]


class SCurve(ManifoldBase):
    """scikit-learn's make_s_curve."""

    shape: Literal["s_curve"]
    intrinsic_names: ClassVar[tuple[str, ...]] = ("t", "height")
    formula: ClassVar[str] = "t = 3*pi*(U1 - 0.5), h = 2*U2; point (sin t, h, sign(t)(cos t - 1))"

    def intrinsic_descriptions(self) -> list[str]:
        return ["t, the angle along the curve, in [-1.5pi, 1.5pi]", "height, in [0, 2]"]


class Sphere(ManifoldBase):
    """The unit ``dim``-sphere in R^(dim+1), uniform."""

    shape: Literal["sphere"]
    dim: int = Field(2, ge=1, le=1024, description="Intrinsic dimension d of the sphere S^d.")
    formula: ClassVar[str] = "x = g / |g| with g ~ N(0, I_(d+1)); uniform on the unit d-sphere"

    @property
    def natural_dim(self) -> int:
        return self.dim + 1

    @property
    def intrinsic_dim(self) -> int:
        return self.dim

    def intrinsic_descriptions(self) -> list[str]:
        d = self.dim
        return [
            f"hyperspherical angle phi_{k + 1} in [0, pi]"
            if k < d - 1
            else f"hyperspherical angle phi_{d} in [0, 2pi)"
            for k in range(d)
        ]


class Torus(ManifoldBase):
    """A ring torus in R^3, uniform with respect to surface area."""

    shape: Literal["torus"]
    R: float = Field(2.0, gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False, description="Major radius.")
    r: float = Field(
        1.0, gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False, description="Minor (tube) radius, < R."
    )
    intrinsic_names: ClassVar[tuple[str, ...]] = ("theta", "phi")
    formula: ClassVar[str] = (
        "theta ~ U(0, 2pi), phi with density (R + r cos phi) / (2 pi R); "
        "point ((R + r cos phi) cos theta, (R + r cos phi) sin theta, r sin phi)"
    )

    def intrinsic_descriptions(self) -> list[str]:
        return [
            "theta, the angle around the torus axis, in [0, 2pi)",
            "phi, the angle around the tube, in [0, 2pi)",
        ]

    def semantic_rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [*super().semantic_rules(), self._radius_problems]

    def _radius_problems(self) -> Iterable[tuple[Path, str]]:
        if self.r >= self.R:
            yield (
                ("r",),
                f"the tube radius r ({self.r:g}) must be < the major radius R "
                f"({self.R:g}) for a ring torus",
            )


class Helix(ManifoldBase):
    """A circular helix around the z axis."""

    shape: Literal["helix"]
    turns: float = Field(
        3.0, gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False, description="Number of turns."
    )
    radius: float = Field(1.0, gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False, description="Radius.")
    pitch: float = Field(
        1.0, gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False, description="Rise per turn along z."
    )
    intrinsic_names: ClassVar[tuple[str, ...]] = ("t",)
    formula: ClassVar[str] = (
        "t = 2*pi*turns*U; point (radius cos t, radius sin t, pitch t / (2 pi))"
    )

    def intrinsic_descriptions(self) -> list[str]:
        return [f"t, the helix angle, in [0, {2 * self.turns:g}pi)"]


class Moons(ManifoldBase):
    """scikit-learn's make_moons: two interleaving half circles."""

    shape: Literal["moons"]
    intrinsic_names: ClassVar[tuple[str, ...]] = ("t",)
    classes: ClassVar[int] = 2
    formula: ClassVar[str] = (
        "t = pi*U, label ~ Bernoulli(0.5); label 0: (cos t, sin t); "
        "label 1: (1 - cos t, 0.5 - sin t)"
    )
    label_meaning: ClassVar[str] = "0 = outer moon, 1 = inner moon"

    @property
    def natural_dim(self) -> int:
        return 2

    def intrinsic_descriptions(self) -> list[str]:
        return ["t, the angle along the moon, in [0, pi)"]


class Circles(ManifoldBase):
    """scikit-learn's make_circles: a unit circle around a smaller one."""

    shape: Literal["circles"]
    factor: float = Field(0.8, gt=0, lt=1, description="Radius of the inner circle.")
    intrinsic_names: ClassVar[tuple[str, ...]] = ("t",)
    classes: ClassVar[int] = 2
    formula: ClassVar[str] = (
        "t = 2*pi*U, label ~ Bernoulli(0.5); label 0: (cos t, sin t); "
        "label 1: factor (cos t, sin t)"
    )
    label_meaning: ClassVar[str] = "0 = outer circle, 1 = inner circle"

    @property
    def natural_dim(self) -> int:
        return 2

    def intrinsic_descriptions(self) -> list[str]:
        return ["t, the angle around the circle, in [0, 2pi)"]


class Blobs(ManifoldBase):
    """scikit-learn's make_blobs: isotropic Gaussian clusters."""

    shape: Literal["blobs"]
    dim: int = Field(2, ge=1, le=4096, description="Number of features.")
    centers: int | list[list[float]] = Field(
        3,
        description="Number of centres (drawn uniformly in center_box from the seed) or the "
        "centres themselves, each a list of dim numbers.",
    )
    cluster_std: float | list[float] = Field(
        1.0, description="Std of each cluster: one number, or one per centre."
    )
    center_box: list[float] = Field(
        [-10.0, 10.0],
        min_length=2,
        max_length=2,
        description="[low, high] bounds for drawn centres.",
    )
    formula: ClassVar[str] = (
        "label c uniform over the centres; point = centre[c] + cluster_std[c] * N(0, I)"
    )
    label_meaning: ClassVar[str] = "index of the centre in generator.facts.centers"

    @property
    def natural_dim(self) -> int:
        return self.dim

    @property
    def n_centers(self) -> int:
        return self.centers if isinstance(self.centers, int) else len(self.centers)

    @property
    def classes(self) -> int:  # type: ignore[override]
        return self.n_centers

    def size_problems(self, samples: int, shard_size: int) -> Iterable[tuple[Any, ...]]:
        yield from super().size_problems(samples, shard_size)
        at = ("generator", "centers" if isinstance(self.centers, int) else "dim")
        numbers = self.n_centers * self.dim
        yield from _some(
            facts_problem(at, numbers, f"{self.n_centers:,} centres of dim {self.dim}")
        )

    def semantic_rules(self) -> list[Callable[[], Iterable[tuple[Path, str]]]]:
        return [
            *super().semantic_rules(),
            self._centre_problems,
            self._std_problems,
            self._box_problems,
            self._magnitude_problems,
        ]

    def _centre_problems(self) -> Iterable[tuple[Path, str]]:
        if isinstance(self.centers, int) and self.centers < 1:
            yield (("centers",), "need at least one centre")
        if isinstance(self.centers, list):
            if not self.centers:
                yield (("centers",), "need at least one centre")
            for i, centre in enumerate(self.centers):
                if len(centre) != self.dim:
                    yield (("centers", i), f"has {len(centre)} coordinates, dim is {self.dim}")

    def _std_problems(self) -> Iterable[tuple[Path, str]]:
        stds = self.cluster_std if isinstance(self.cluster_std, list) else [self.cluster_std]
        if isinstance(self.cluster_std, list) and len(stds) != self.n_centers:
            yield (
                ("cluster_std",),
                f"has {counted(len(stds), 'value')} for {counted(self.n_centers, 'centre')}",
            )
        for i, std in enumerate(stds):
            if not std >= 0:
                yield (
                    ("cluster_std",) + ((i,) if isinstance(self.cluster_std, list) else ()),
                    "must be >= 0",
                )

    def _box_problems(self) -> Iterable[tuple[Path, str]]:
        low, high = self.center_box
        if not low < high:
            yield (("center_box",), "low must be < high")

    def _magnitude_problems(self) -> Iterable[tuple[Path, str]]:
        stds = self.cluster_std
        groups: list[list[tuple[Path, float]]] = [
            [(("center_box", i), v) for i, v in enumerate(self.center_box)],
            [
                (("centers", i, j), v)
                for i, centre in enumerate(self.centers if isinstance(self.centers, list) else [])
                for j, v in enumerate(centre)
            ],
            [(("cluster_std", i), v) for i, v in enumerate(stds)]
            if isinstance(stds, list)
            else [(("cluster_std",), stds)],
        ]
        for numbers in groups:
            bad = [(at, value) for at, value in numbers if abs(value) > MAX_MAGNITUDE]
            # each of a pair (center_box's two ends); a long list says it once, with its count
            shown = bad if len(bad) <= _EACH_TOO_LARGE else bad[:1]
            for at, value in shown:
                message = f"{value:g} is too large: at most {MAX_MAGNITUDE:g} in magnitude"
                if len(bad) > len(shown):
                    message += (
                        f"; {len(bad):,} values of {at[0]} are, the last at "
                        f"{at[0]}{''.join(f'[{i}]' for i in bad[-1][0][1:])}"
                    )
                yield (at, message)


#: too-large values of one field reported one by one; more are reported once, counted
_EACH_TOO_LARGE = 2


def _some(problem: Any) -> Iterable[Any]:
    return () if problem is None else (problem,)


ManifoldConfig = Annotated[
    SwissRoll | SCurve | Sphere | Torus | Helix | Moons | Circles | Blobs,
    Field(discriminator="shape"),
]
