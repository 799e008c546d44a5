"""Manifold generator: clean points satisfy their equations; labels and coordinates are exact."""

from __future__ import annotations

import math
from typing import get_args

import numpy as np
import pytest
from conftest import spec_text
from pydantic import TypeAdapter, ValidationError

from synthc.generators.manifold import GENERATOR, kernels

ADAPTER = TypeAdapter(GENERATOR.Config)
TOL = 1e-9


def config(**fields):
    return ADAPTER.validate_python({"kind": "manifold", **fields})


def clean_points(cfg, table, seed):
    """The clean points in the shape's own coordinates (rotation undone, padding dropped)."""
    dim = cfg.out_dim
    clean = np.stack([table[f"clean_x{d}"] for d in range(dim)])
    rotation = GENERATOR.facts(cfg, seed)["rotation"]
    if rotation is not None:
        clean = np.asarray(rotation).T @ clean
    assert np.all(np.abs(clean[cfg.natural_dim :]) < TOL), "padding must stay zero"
    return clean[: cfg.natural_dim]


def from_intrinsic(cfg, table):
    """Rebuild the clean point from u (and label) with the documented formula."""
    u = [table[f"u{k}"] for k in range(cfg.intrinsic_dim)]
    label = table.get("label")
    shape = cfg.shape
    if shape == "swiss_roll":
        t, h = u
        return np.stack([t * np.cos(t), h, t * np.sin(t)])
    if shape == "s_curve":
        t, h = u
        return np.stack([np.sin(t), h, np.sign(t) * (np.cos(t) - 1)])
    if shape == "sphere":
        d = cfg.dim
        x = np.empty((d + 1, len(u[0])))
        sines = np.ones(len(u[0]))
        for k in range(d):
            x[k] = sines * np.cos(u[k])
            sines = sines * np.sin(u[k])
        x[d] = sines
        return x
    if shape == "torus":
        theta, phi = u
        ring = cfg.R + cfg.r * np.cos(phi)
        return np.stack([ring * np.cos(theta), ring * np.sin(theta), cfg.r * np.sin(phi)])
    if shape == "helix":
        (t,) = u
        return np.stack(
            [cfg.radius * np.cos(t), cfg.radius * np.sin(t), cfg.pitch * t / (2 * np.pi)]
        )
    if shape == "moons":
        (t,) = u
        outer = np.stack([np.cos(t), np.sin(t)])
        inner = np.stack([1 - np.cos(t), 0.5 - np.sin(t)])
        return np.where(label == 0, outer, inner)
    if shape == "circles":
        (t,) = u
        radius = np.where(label == 0, 1.0, cfg.factor)
        return radius * np.stack([np.cos(t), np.sin(t)])
    raise AssertionError(shape)


def equation_residual(cfg, x, table):
    """How far each clean point is from the shape's defining equation."""
    if cfg.shape == "sphere":
        return np.abs(np.sum(x * x, axis=0) - 1)
    if cfg.shape == "torus":
        return np.abs((np.hypot(x[0], x[1]) - cfg.R) ** 2 + x[2] ** 2 - cfg.r**2)
    if cfg.shape == "helix":
        return np.abs(x[0] ** 2 + x[1] ** 2 - cfg.radius**2)
    if cfg.shape == "circles":
        radius = np.where(table["label"] == 0, 1.0, cfg.factor)
        return np.abs(x[0] ** 2 + x[1] ** 2 - radius**2)
    if cfg.shape == "moons":
        centre_y = np.where(table["label"] == 0, 0.0, 0.5)
        centre_x = np.where(table["label"] == 0, 0.0, 1.0)
        return np.abs((x[0] - centre_x) ** 2 + (x[1] - centre_y) ** 2 - 1)
    if cfg.shape == "s_curve":  # x0 = sin t and x2 = sign(t)(cos t - 1) lie on unit circles
        return np.abs(x[0] ** 2 + (np.abs(x[2]) - 1) ** 2 - 1)
    if cfg.shape == "swiss_roll":  # a spiral: the radius equals the angle
        t = table["u0"]
        return np.abs(np.hypot(x[0], x[2]) - t) + np.abs(
            np.arctan2(x[2], x[0]) - np.arctan2(np.sin(t), np.cos(t))
        )
    raise AssertionError(cfg.shape)


SHAPES = [
    {"shape": "swiss_roll"},
    {"shape": "swiss_roll", "hole": True},
    {"shape": "s_curve"},
    {"shape": "sphere", "dim": 1},
    {"shape": "sphere", "dim": 2},
    {"shape": "sphere", "dim": 4},
    {"shape": "torus", "R": 3.0, "r": 1.2},
    {"shape": "helix", "turns": 2.5, "radius": 2.0, "pitch": 0.7},
    {"shape": "moons"},
    {"shape": "circles", "factor": 0.4},
]
EMBEDDINGS = [{}, {"ambient_dim": 7}, {"ambient_dim": 7, "rotate": True}]


@pytest.mark.parametrize("embedding", EMBEDDINGS, ids=["plain", "padded", "rotated"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(map(str, s.values())))
def test_clean_points_satisfy_equations_and_intrinsic_coordinates(shape, embedding):
    cfg = config(noise=0.1, **shape, **embedding)
    table = GENERATOR.generate(cfg, 11, 1000, 3000)
    x = clean_points(cfg, table, 11)
    assert np.max(equation_residual(cfg, x, table)) < TOL
    assert np.max(np.abs(from_intrinsic(cfg, table) - x)) < TOL
    assert [c.name for c in GENERATOR.columns(cfg)] == list(table)


@pytest.mark.parametrize(
    "shape", [*SHAPES, {"shape": "blobs"}], ids=lambda s: "-".join(map(str, s.values()))
)
def test_any_batching_gives_the_same_samples(shape):
    cfg = config(noise=0.2, ambient_dim=6, rotate=True, **shape)
    whole = GENERATOR.generate(cfg, 3, 0, 1000)
    parts = [GENERATOR.generate(cfg, 3, 0, 337), GENERATOR.generate(cfg, 3, 337, 1000)]
    for name, column in whole.items():
        assert np.array_equal(column, np.concatenate([p[name] for p in parts]))
        assert column.tobytes() == GENERATOR.generate(cfg, 3, 0, 1000)[name].tobytes()
    other_seed = GENERATOR.generate(cfg, 4, 0, 1000)
    assert not np.array_equal(whole["x0"], other_seed["x0"])


def test_noise_is_gaussian_with_the_spec_std_and_zero_means_exact():
    cfg = config(shape="swiss_roll", noise=0.3)
    table = GENERATOR.generate(cfg, 1, 0, 30_000)
    residual = np.concatenate([table[f"x{d}"] - table[f"clean_x{d}"] for d in range(3)])
    assert abs(residual.mean()) < 0.006 and abs(residual.std() / 0.3 - 1) < 0.02
    quiet = GENERATOR.generate(config(shape="swiss_roll"), 1, 0, 1000)
    assert all(np.array_equal(quiet[f"x{d}"], quiet[f"clean_x{d}"]) for d in range(3))


def test_rotation_is_orthogonal_seeded_and_recorded():
    cfg = config(shape="moons", ambient_dim=10, rotate=True)
    rotation = np.asarray(GENERATOR.facts(cfg, 5)["rotation"])
    assert rotation.shape == (10, 10)
    assert np.allclose(rotation.T @ rotation, np.eye(10), atol=1e-12)
    assert np.allclose(rotation @ rotation.T, np.eye(10), atol=1e-12)
    assert abs(abs(np.linalg.det(rotation)) - 1) < 1e-12
    assert not np.allclose(rotation, GENERATOR.facts(cfg, 6)["rotation"])
    # The recorded matrix is the one the points went through: clean = Q @ pad(unrotated clean).
    rotated = GENERATOR.generate(cfg, 5, 100, 400)
    plain = GENERATOR.generate(config(shape="moons", ambient_dim=10), 5, 100, 400)
    unrotated = np.stack([plain[f"clean_x{d}"] for d in range(10)])
    assert np.all(unrotated[2:] == 0)
    expected = rotation @ unrotated
    got = np.stack([rotated[f"clean_x{d}"] for d in range(10)])
    assert np.allclose(got, expected, atol=1e-12)
    assert np.array_equal(rotated["label"], plain["label"])
    assert GENERATOR.facts(config(shape="moons"), 5)["rotation"] is None


@pytest.mark.kernel
def test_embedding_kernel_matches_numpy():
    rng = np.random.default_rng(0)
    nat = rng.standard_normal((3, 50))
    rotation = np.linalg.qr(rng.standard_normal((5, 5)))[0]
    clean, observed = np.empty((5, 50)), np.empty((5, 50))
    kernels.embed_and_noise(0, 1, 2, nat, rotation, 0.0, clean, observed)
    padded = np.vstack([nat, np.zeros((2, 50))])
    assert np.allclose(clean, rotation @ padded, atol=1e-13)
    assert np.array_equal(clean, observed)


def test_ranges_follow_scikit_learn():
    roll = GENERATOR.generate(config(shape="swiss_roll"), 2, 0, 20_000)
    assert roll["u0"].min() >= 1.5 * np.pi and roll["u0"].max() <= 4.5 * np.pi
    assert roll["u1"].min() >= 0 and roll["u1"].max() <= 21
    hole = GENERATOR.generate(config(shape="swiss_roll", hole=True), 2, 0, 20_000)
    in_centre = (
        (hole["u0"] > 2.5 * np.pi)
        & (hole["u0"] < 3.5 * np.pi)
        & (hole["u1"] > 7)
        & (hole["u1"] < 14)
    )
    assert not in_centre.any()
    curve = GENERATOR.generate(config(shape="s_curve"), 2, 0, 20_000)
    assert (
        np.abs(curve["u0"]).max() <= 1.5 * np.pi
        and 0 <= curve["u1"].min() <= curve["u1"].max() <= 2
    )


def test_statistics_match_scikit_learn():
    import sklearn.datasets as sklearn

    ours = GENERATOR.generate(config(shape="swiss_roll", noise=0.1), 2, 0, 40_000)
    theirs, _ = sklearn.make_swiss_roll(40_000, noise=0.1, random_state=0)
    for d in range(3):
        assert abs(ours[f"x{d}"].mean() - theirs[:, d].mean()) < 0.15
        assert abs(ours[f"x{d}"].std() / theirs[:, d].std() - 1) < 0.02
    ours = GENERATOR.generate(config(shape="moons", noise=0.05), 2, 0, 40_000)
    theirs, labels = sklearn.make_moons(40_000, noise=0.05, random_state=0)
    for cls in (0, 1):
        for d in range(2):
            mine = ours[f"x{d}"][ours["label"] == cls]
            assert abs(mine.mean() - theirs[labels == cls, d].mean()) < 0.02
            assert abs(mine.std() / theirs[labels == cls, d].std() - 1) < 0.03


def test_labels_balanced_and_blobs_centred():
    for shape in ("moons", "circles"):
        label = GENERATOR.generate(config(shape=shape), 9, 0, 20_000)["label"]
        assert set(np.unique(label)) == {0, 1} and abs(label.mean() - 0.5) < 0.015
    cfg = config(shape="blobs", dim=3, centers=4, cluster_std=[0.5, 1.0, 1.5, 2.0])
    facts = GENERATOR.facts(cfg, 9)
    centres = np.asarray(facts["centers"])
    assert centres.shape == (4, 3) and np.all((centres >= -10) & (centres <= 10))
    table = GENERATOR.generate(cfg, 9, 0, 40_000)
    points = np.stack([table[f"x{d}"] for d in range(3)], axis=1)
    for c in range(4):
        members = points[table["label"] == c]
        assert abs(len(members) / 40_000 - 0.25) < 0.015
        assert np.allclose(members.mean(axis=0), centres[c], atol=0.1)
        assert abs(members.std(axis=0).mean() / facts["cluster_std"][c] - 1) < 0.05
    explicit = config(shape="blobs", centers=[[0, 0], [10, 10]], cluster_std=0.1)
    assert GENERATOR.facts(explicit, 1)["centers"].tolist() == [[0.0, 0.0], [10.0, 10.0]]


def test_torus_is_uniform_by_area():
    cfg = config(shape="torus", R=2.0, r=1.0)
    phi = GENERATOR.generate(cfg, 4, 0, 100_000)["u1"]
    # Area density is proportional to R + r cos(phi): P(cos phi > 0) = 1/2 + r / (pi R).
    assert abs(np.mean(np.cos(phi) > 0) - (0.5 + 1.0 / (math.pi * 2.0))) < 0.01


def test_config_validation():
    with pytest.raises(ValidationError):
        config(shape="swiss_roll", noize=0.1)
    with pytest.raises(ValidationError):
        config(shape="swiss_roll", noise=-1)
    with pytest.raises(ValidationError):
        config(shape="circles", factor=1.5)

    def problems(**fields):
        return [path for path, _ in config(**fields).semantic_problems()]

    assert problems(shape="sphere", dim=3, ambient_dim=3) == [("ambient_dim",)]
    assert problems(shape="torus", R=1.0, r=1.0) == [("r",)]
    assert problems(shape="blobs", dim=2, centers=[[0, 0], [1, 1, 1]]) == [("centers", 1)]
    assert problems(shape="blobs", centers=3, cluster_std=[1.0, 2.0]) == [("cluster_std",)]
    assert problems(shape="helix", ambient_dim=5) == []


def test_every_shape_states_its_formula_coordinates_labels_and_kernel():
    """A shape's model is its one home: adding one needs no table elsewhere."""
    (union, _) = get_args(GENERATOR.Config)
    for model in get_args(union):
        cfg = config(shape=model.shape_name())
        assert cfg.formula, model
        assert len(cfg.intrinsic_descriptions()) == cfg.intrinsic_dim, model
        assert bool(cfg.label_meaning) == bool(cfg.classes), model
        facts = GENERATOR.facts(cfg, 1)
        assert facts["shape"] == model.shape_name() and facts["formula"] == cfg.formula
        table = GENERATOR.generate(cfg, 1, 0, 10)  # its kernel runs
        assert [c.name for c in GENERATOR.columns(cfg)] == list(table)


def test_each_end_of_a_center_box_too_large_is_reported(cli, write_spec):
    """center_box: [-1e308, 1e308] reported only [0], though both ends are bad; a long list of
    too-large values is one line that counts them."""
    generator = "kind: manifold\n  shape: blobs\n  center_box: [-1e308, 1e308]"
    spec = write_spec(spec_text(generator=generator))
    code, _, err = cli("validate", spec)
    assert code == 2
    assert err.splitlines() == [
        f"{spec}:11:16: generator.center_box[0]: -1e+308 is too large: at most 1e+100 in magnitude",
        f"{spec}:11:24: generator.center_box[1]: 1e+308 is too large: at most 1e+100 in magnitude",
        "synthc: 2 problems",
    ]
    generator = "kind: manifold\n  shape: blobs\n  centers: [[1e200, 1e200], [0, 0], [0, -1e300]]"
    spec = write_spec(spec_text(generator=generator))
    code, _, err = cli("validate", spec)
    assert code == 2
    assert err == (
        f"{spec}:11:14: generator.centers[0][0]: 1e+200 is too large: at most 1e+100 in "
        "magnitude; 3 values of centers are, the last at centers[2][1]\n"
    )
