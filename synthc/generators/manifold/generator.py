"""The manifold generator: schema, dataset facts and batch generation for every shape."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from synthc.generators.base import Column, PreviewKind, Table, TableGenerator
from synthc.generators.manifold import kernels
from synthc.generators.manifold.config import (
    Blobs,
    Circles,
    Helix,
    ManifoldBase,
    ManifoldConfig,
    Moons,
    SCurve,
    Sphere,
    SwissRoll,
    Torus,
)
from synthc.generators.manifold.facts import blob_centers, blob_stds, rotation_for
from synthc.generators.rng import derive_key

FORMULAS = {
    "swiss_roll": "t = 1.5*pi*(1 + 2*U1), h = 21*U2; point (t cos t, h, t sin t) "
    "(hole: (t, h) uniform on the 3x3 grid of pi x 7 cells without the centre cell)",
    "s_curve": "t = 3*pi*(U1 - 0.5), h = 2*U2; point (sin t, h, sign(t)(cos t - 1))",
    "sphere": "x = g / |g| with g ~ N(0, I_(d+1)); uniform on the unit d-sphere",
    "torus": "theta ~ U(0, 2pi), phi with density (R + r cos phi) / (2 pi R); "
    "point ((R + r cos phi) cos theta, (R + r cos phi) sin theta, r sin phi)",
    "helix": "t = 2*pi*turns*U; point (radius cos t, radius sin t, pitch t / (2 pi))",
    "moons": "t = pi*U, label ~ Bernoulli(0.5); label 0: (cos t, sin t); "
    "label 1: (1 - cos t, 0.5 - sin t)",
    "circles": "t = 2*pi*U, label ~ Bernoulli(0.5); label 0: (cos t, sin t); "
    "label 1: factor (cos t, sin t)",
    "blobs": "label c uniform over the centres; point = centre[c] + cluster_std[c] * N(0, I)",
}


def _intrinsic_descriptions(config: ManifoldBase) -> list[str]:
    if isinstance(config, SwissRoll):
        return ["t, the angle along the roll, in [1.5pi, 4.5pi]", "height, in [0, 21]"]
    if isinstance(config, SCurve):
        return ["t, the angle along the curve, in [-1.5pi, 1.5pi]", "height, in [0, 2]"]
    if isinstance(config, Sphere):
        d = config.dim
        return [
            f"hyperspherical angle phi_{k + 1} in [0, pi]"
            if k < d - 1
            else f"hyperspherical angle phi_{d} in [0, 2pi)"
            for k in range(d)
        ]
    if isinstance(config, Torus):
        return [
            "theta, the angle around the torus axis, in [0, 2pi)",
            "phi, the angle around the tube, in [0, 2pi)",
        ]
    if isinstance(config, Helix):
        return [f"t, the helix angle, in [0, {2 * config.turns:g}pi)"]
    if isinstance(config, Moons):
        return ["t, the angle along the moon, in [0, pi)"]
    if isinstance(config, Circles):
        return ["t, the angle around the circle, in [0, 2pi)"]
    return []


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
                f"noise-free coordinate {d} of the point on the {config.shape}, {embedding}",
            )
            for d in range(dim)
        ]
        columns += [
            Column(f"u{k}", "float64", f"intrinsic coordinate {k}: {text}")
            for k, text in enumerate(_intrinsic_descriptions(config))
        ]
        if config.classes:
            meaning = {
                "moons": "0 = outer moon, 1 = inner moon",
                "circles": "0 = outer circle, 1 = inner circle",
                "blobs": "index of the centre in generator.facts.centers",
            }[config.shape]
            columns.append(Column("label", "int64", f"class, known by construction: {meaning}"))
        return columns

    def facts(self, config: ManifoldConfig, seed: int) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "shape": config.shape,
            "formula": FORMULAS[config.shape],
            "natural_dim": config.natural_dim,
            "ambient_dim": config.out_dim,
            "intrinsic_dim": config.intrinsic_dim,
            "noise_std": config.noise,
            "rotation": rotation_for(seed, config).tolist() if config.rotate else None,
        }
        if isinstance(config, Blobs):
            facts["centers"] = blob_centers(seed, config).tolist()
            facts["cluster_std"] = blob_stds(config).tolist()
        return facts

    def generate(self, config: ManifoldConfig, seed: int, start: int, stop: int) -> Table:
        n = stop - start
        k0, k1 = derive_key(seed, "manifold")
        nat = np.empty((config.natural_dim, n), dtype=np.float64)
        u = np.empty((config.intrinsic_dim, n), dtype=np.float64)
        label = np.empty(n, dtype=np.int64)
        self._shape_kernel(config, seed, start, k0, k1, nat, u, label)
        dim = config.out_dim
        clean = np.empty((dim, n), dtype=np.float64)
        observed = np.empty((dim, n), dtype=np.float64)
        kernels.embed_and_noise(
            start, k0, k1, nat, rotation_for(seed, config), float(config.noise), clean, observed
        )
        table: Table = {f"x{d}": observed[d] for d in range(dim)}
        table.update({f"clean_x{d}": clean[d] for d in range(dim)})
        table.update({f"u{k}": u[k] for k in range(config.intrinsic_dim)})
        if config.classes:
            table["label"] = label
        return table

    @staticmethod
    def _shape_kernel(
        config: ManifoldBase,
        seed: int,
        start: int,
        k0: int,
        k1: int,
        nat: np.ndarray,
        u: np.ndarray,
        label: np.ndarray,
    ) -> None:
        if isinstance(config, SwissRoll):
            kernels.swiss_roll(start, k0, k1, config.hole, nat, u)
        elif isinstance(config, SCurve):
            kernels.s_curve(start, k0, k1, nat, u)
        elif isinstance(config, Sphere):
            kernels.sphere(start, k0, k1, nat, u)
        elif isinstance(config, Torus):
            kernels.torus(start, k0, k1, config.R, config.r, nat, u)
        elif isinstance(config, Helix):
            kernels.helix(start, k0, k1, config.turns, config.radius, config.pitch, nat, u)
        elif isinstance(config, Moons):
            kernels.moons(start, k0, k1, nat, u, label)
        elif isinstance(config, Circles):
            kernels.circles(start, k0, k1, config.factor, nat, u, label)
        elif isinstance(config, Blobs):
            kernels.blobs(start, k0, k1, blob_centers(seed, config), blob_stds(config), nat, label)
        else:  # pragma: no cover - the config union lists every shape
            raise TypeError(f"no kernel for {type(config).__name__}")


GENERATOR = ManifoldGenerator()
