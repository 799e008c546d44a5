"""The fractal generator, checked through its WebDataset shards as users read them."""

from __future__ import annotations

import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import webdataset as wds
from PIL import Image

from synthc import api
from synthc.errors import SpecError, UsageError
from synthc.executors.local import LocalExecutor

SPEC = """\
synthc: 1
name: fractal-test
seed: 11
samples: {samples}
splits: {{train: 0.75, val: 0.25}}
generator:
  kind: fractal
  classes: {classes}
  instances: {instances}
  system: {system}
  render: {render}
  instance: {instance}
{extra}output: {{shard_size: {shard}}}
"""


def spec_text(
    classes: int = 6,
    instances: int = 8,
    system: str = "{maps: [2, 4], sampler: sigma_factor}",
    render: str = "{size: 64, points: 40000, mode: binary}",
    instance: str = "{jitter: [0.8, 1.1], flip: true}",
    extra: str = "",
    shard: int = 10,
) -> str:
    return SPEC.format(
        samples=classes * instances,
        classes=classes,
        instances=instances,
        system=system,
        render=render,
        instance=instance,
        extra=extra,
        shard=shard,
    )


def shards(out: Path) -> list[str]:
    return [str(p) for p in sorted(out.rglob("*.tar"))]


def read_samples(out: Path, image: str = "pill") -> list[dict]:
    """Every sample, PNGs decoded to PIL images (``pill``: 8-bit gray, ``pil``: RGB)."""
    dataset = wds.WebDataset(shards(out), shardshuffle=False).decode(image)
    return list(dataset)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fractal")
    spec = root / "spec.yaml"
    spec.write_text(spec_text())
    return api.build(spec, root / "out", workers=2).out


def test_webdataset_reads_every_sample_with_png_json_and_cls(small):
    manifest = api.load_manifest(small)
    samples = read_samples(small)
    assert len(samples) == manifest["samples"] == 48
    assert [s["__key__"] for s in samples] == [f"{i:012d}" for i in range(48)]
    for i, sample in enumerate(samples):
        assert sample["png"].size == (64, 64) and sample["png"].mode == "L"
        label = sample["json"]
        assert sample["cls"] == label["class"] == i % 6
        assert label["index"] == i and len(label["maps"]) == len(label["probabilities"])
        assert 2 <= len(label["maps"]) <= 4
        assert abs(sum(label["probabilities"]) - 1) < 1e-9
    api.verify(small)


def test_outputs_are_byte_identical_across_workers_and_executors(small, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text())
    one = api.build(spec, tmp_path / "one", workers=1).out
    procs = api.build(spec, tmp_path / "procs", executor=LocalExecutor(2, "processes")).out
    for other in (one, procs):
        assert [Path(p).read_bytes() for p in shards(other)] == [
            Path(p).read_bytes() for p in shards(small)
        ]


def test_images_rerender_from_their_labels_alone(tmp_path):
    """An independent NumPy chaos game from the JSON label gives the same occupancy. Enough
    points per pixel (64 px, 300k points) that two independent renders agree to IoU >= 0.9."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(classes=8, instances=2, render="{size: 64, points: 300000}"))
    out = api.build(spec, tmp_path / "out", workers=2).out
    rng = np.random.default_rng(0)
    ious = []
    for sample in read_samples(out):
        image = np.asarray(sample["png"]) > 127
        assert image.any()
        ious.append(iou(image, rerender(sample["json"], rng)))
    assert min(ious) >= 0.9, ious


def rerender(label: dict, rng: np.random.Generator, chains: int = 2000) -> np.ndarray:
    """A plain chaos game: ``chains`` independent orbits from the origin, vectorised, 40 burn-in
    steps each, then ``points`` points splatted through the label's window and flip."""
    size, points = label["size"], label["points"]
    maps = np.array(label["maps"])  # (m, 2, 3): [[a, b, e], [c, d, f]]
    probabilities = np.array(label["probabilities"])
    x0, y0, side = label["window"]
    image = np.zeros((size, size), dtype=bool)
    xy = np.zeros((chains, 2))
    steps = 40 + -(-points // chains)
    for step in range(steps):
        j = rng.choice(len(maps), size=chains, p=probabilities)
        xy = np.einsum("nij,nj->ni", maps[j, :, :2], xy) + maps[j, :, 2]
        if step < 40:
            continue
        px = np.floor((xy[:, 0] - x0) / side * size).astype(np.int64)
        py = size - 1 - np.floor((xy[:, 1] - y0) / side * size).astype(np.int64)
        if label["flip"]:
            px = size - 1 - px
        inside = (px >= 0) & (px < size) & (py >= 0) & (py < size)
        image[py[inside], px[inside]] = True
    return image


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_class_systems_depend_only_on_seed_and_class(small, tmp_path):
    spec = tmp_path / "more.yaml"
    spec.write_text(spec_text(classes=9, instances=2))
    more = api.build(spec, tmp_path / "more", workers=1).out
    six = json.loads((small / "catalog.json").read_text())["classes"]
    nine = json.loads((more / "catalog.json").read_text())["classes"]
    assert len(six) == 6 and len(nine) == 9
    assert nine[:6] == six


def test_the_output_catalog_imports_as_a_catalog_and_reproduces_the_images(small, tmp_path):
    spec = tmp_path / "again.yaml"
    (tmp_path / "catalog.json").write_bytes((small / "catalog.json").read_bytes())
    spec.write_text(spec_text(system="{catalog: catalog.json}"))
    again = api.build(spec, tmp_path / "again", workers=1).out
    assert [s["png"].tobytes() for s in read_samples(again)] == [
        s["png"].tobytes() for s in read_samples(small)
    ]


def test_a_catalog_imported_from_the_output_it_builds_into_is_refused(small):
    """The build replaces its output's catalog.json: one read from there changed under the build,
    and the dataset named an input it no longer had (reproduce failed on its own output)."""
    spec = small.parent / "import.yaml"
    spec.write_text(spec_text(system=f"{{catalog: {small.name}/catalog.json}}"))
    before = (small / "catalog.json").read_bytes()
    with pytest.raises(UsageError) as error:
        api.build(spec, small, workers=1)
    assert str(error.value) == (
        f"{small}: holds {small.name}/catalog.json, a file the spec reads (catalog), which this "
        "build writes: copy it out of the output directory and name the copy, or build into "
        "another directory with -o"
    )
    assert (small / "catalog.json").read_bytes() == before


def test_a_fractaldb_csv_catalog_is_used_exactly(tmp_path):
    sierpinski = "a,b,c,d,e,f,p\n0.5,0,0,0.5,0,0,1\n0.5,0,0,0.5,0.5,0,1\n0.5,0,0,0.5,0.25,0.5,1\n"
    (tmp_path / "class0.csv").write_text(sierpinski)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        spec_text(classes=1, instances=4, system="{catalog: class0.csv}", instance="{jitter: null}")
    )
    out = api.build(spec, tmp_path / "out", workers=1).out
    for sample in read_samples(out):
        label = sample["json"]
        assert label["maps"] == [
            [[0.5, 0, 0], [0, 0.5, 0]],
            [[0.5, 0, 0.5], [0, 0.5, 0]],
            [[0.5, 0, 0.25], [0, 0.5, 0.5]],
        ]
        assert label["probabilities"] == pytest.approx([1 / 3] * 3)
        # The Sierpinski triangle covers about (3/4)^log2(64) of its bounding square, and some.
        assert 0.1 < (np.asarray(sample["png"]) > 0).mean() < 0.6


@pytest.mark.parametrize(
    ("csv", "problem"),
    [
        ("\ufeff0.5,0,0,0.5,0,0,1\n0.5,0,0,0.5,0.5,0,1\n0.5,0,0,0.5,0.25,0.5,1\n", None),
        (
            "\ufeffa,b,c,d,e,f,p\n0.5,0,0,0.5,0,0,1\n0.5,0,0,0.5,0.5,0,1\n0.5,0,0,0.5,0.25,0.5,1\n",
            None,
        ),
        (
            "a,b,c,d,e,f,p\n0.5,0,0,0.5,0,0,1\n0.5,0,0,0.5,0..5,0,1\n0.5,0,0,0.5,0.25,0.5,1\n",
            "'class0.csv': row 3 holds something that is no number ('0.5,0,0,0.5,0..5,0,1'); "
            "only the first row may be a header",
        ),
    ],
    ids=["bom", "bom-and-header", "typo"],
)
def test_no_row_of_a_csv_catalog_is_dropped_unsaid(tmp_path, csv, problem):
    """A row that was no numbers was skipped as a header wherever it stood: Excel's byte order
    mark on the first row, or a typo in a later one, dropped that map without a word."""
    (tmp_path / "class0.csv").write_text(csv, encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(classes=1, instances=4, system="{catalog: class0.csv}"))
    if problem is None:
        (system,) = api.validate(spec).generator.system.systems
        assert len(system.maps) == 3
    else:
        with pytest.raises(SpecError, match=re.escape(problem)):
            api.validate(spec)


def test_fractaldb_sampler_meets_the_fill_rate_and_counts_rejections(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        spec_text(classes=5, instances=2, system="{sampler: fractaldb, fill_rate: 0.2}")
    )
    out = api.build(spec, tmp_path / "out", workers=1).out
    facts = api.load_manifest(out)["generator"]["facts"]
    assert facts["sampler"] == "fractaldb"
    assert (
        facts["rejections"].get("below_fill_rate", 0) + facts["rejections"].get("divergent", 0) > 0
    )


def test_multi_fractal_images_list_every_fractal_with_its_box(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        spec_text(
            render="{size: 96, points: 20000, color: map, background: plasma}",
            extra="  multi: {per_image: [2, 4], scale: [0.2, 0.5]}\n",
        )
    )
    out = api.build(spec, tmp_path / "out", workers=1).out
    for i, sample in enumerate(read_samples(out, "pil")):
        assert sample["png"].mode == "RGB" and sample["png"].size == (96, 96)
        fractals = sample["json"]["fractals"]
        assert 2 <= len(fractals) <= 4
        assert fractals[0]["class"] == sample["cls"] == i % 6
        for fractal in fractals:
            x0, y0, x1, y1 = fractal["box"]
            assert 0 <= x0 < x1 <= 96 and 0 <= y0 < y1 <= 96
            assert len(fractal["colors"]) == len(fractal["maps"])
        assert sample["json"]["background"]["kind"] == "plasma"


@pytest.mark.parametrize("mode", ["density", "patch"])
def test_density_and_patch_modes_render_gray_levels(tmp_path, mode):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(classes=2, instances=2, render=f"{{size: 64, mode: {mode}}}"))
    out = api.build(spec, tmp_path / "out", workers=1).out
    for sample in read_samples(out):
        levels = np.unique(np.asarray(sample["png"]))
        assert len(levels) > 3


def test_one_bit_pngs(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(classes=2, instances=2, render="{size: 64, png: {binary: 1bit}}"))
    out = api.build(spec, tmp_path / "out", workers=1).out
    for tar in shards(out):
        for sample in wds.WebDataset(tar, shardshuffle=False):
            with Image.open(io.BytesIO(sample["png"])) as image:
                assert image.mode == "1"


def test_sample_count_and_format_must_fit_the_generator(tmp_path):
    spec = tmp_path / "spec.yaml"
    text = spec_text().replace("samples: 48", "samples: 50")
    spec.write_text(text.replace("output: {", "output: {format: parquet, "))
    with pytest.raises(SpecError) as error:
        api.validate(spec)
    messages = str(error.value)
    assert "samples: must be 48" in messages
    assert "output.format: the fractal generator writes webdataset, not parquet" in messages


def test_preview_draws_the_first_images_without_building(cli, tmp_path, small):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text())
    code, out, _ = cli("preview", spec, "-n", "16", "-o", tmp_path / "p.png")
    assert code == 0 and "16 sample" in out
    assert not (tmp_path / "outputs").exists()
    # the build's own preview.png shows the same first 16 images
    assert (tmp_path / "p.png").read_bytes() == (small / "preview.png").read_bytes()
    with Image.open(tmp_path / "p.png") as image:
        assert image.size == (4 * 64 + 3 * 2, 20 + 4 * 64 + 3 * 2)  # under a title strip


def test_a_missing_catalog_is_a_spec_error_at_its_field(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(system="{catalog: missing.json}"))
    with pytest.raises(SpecError) as error:
        api.validate(spec)
    assert "generator.system.catalog: no catalog 'missing.json' beside the spec" in str(error.value)


SIERPINSKI = (
    "[[[0.5, 0, 0], [0, 0.5, 0]], [[0.5, 0, 0.5], [0, 0.5, 0]], [[0.5, 0, 0], [0, 0.5, 0.5]]]"
)


def given_system_spec(tmp_path: Path, maps: str, probabilities: str, **changes: str) -> Path:
    spec = tmp_path / "spec.yaml"
    system = f"{{systems: [{{maps: {maps}, probabilities: {probabilities}}}]}}"
    changes.setdefault("render", "{size: 32, points: 2000}")
    spec.write_text(spec_text(classes=1, instances=2, system=system, **changes))
    return spec


def test_given_probabilities_are_drawn_as_given_when_jitter_moves_a_map(tmp_path):
    out = api.build(
        given_system_spec(tmp_path, SIERPINSKI, "[0.3, 0.3, 0.4]"), tmp_path / "o", workers=1
    ).out
    for sample in read_samples(out):
        assert sample["json"]["jitter"] is not None
        assert sample["json"]["probabilities"] == [0.3, 0.3, 0.4]


def spec_problems(spec: Path) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NumPy warning on the way is a failure
        with pytest.raises(SpecError) as error:
            api.validate(spec)
    return str(error.value)


@pytest.mark.parametrize(
    ("maps", "probabilities", "expected"),
    [
        (SIERPINSKI, "[0.2, 0.2, 0.2]", "probabilities: must sum to 1 (within 1e-06)"),
        (SIERPINSKI, "[1.5, -0.5, 0]", "probabilities[1]: must be >= 0, not -0.5"),
        (SIERPINSKI, "[0, 0, 0]", "probabilities: must sum to 1"),
        ("[[[0, 0, 0], [0, 0, 0]], [[0, 0, 1], [0, 0, 0]]]", "[0.5, 0.5]", "maps: degenerate"),
        ("[[[2, 0, 0], [0, 2, 0]], [[3, 0, 1], [0, 3, 0]]]", "[0.5, 0.5]", "maps: the chaos game"),
        ("[[[0.5, 0, 0], [0, 0.5, 0]]]", "[1]", "maps: the chaos game leaves"),
        ("[[[1e300, 0, 0], [0, 1e300, 0]], [[0.5, 0, 1], [0, 0.5, 0]]]", "[0.5, 0.5]", "maps:"),
    ],
)
def test_a_given_system_the_samplers_would_reject_is_a_spec_error(
    tmp_path, maps, probabilities, expected
):
    problems = spec_problems(given_system_spec(tmp_path, maps, probabilities))
    assert f"generator.system.systems[0].{expected}" in problems


@pytest.mark.parametrize("p", ["-1", "0"])
def test_a_csv_catalog_needs_p_at_least_0_with_a_positive_sum(tmp_path, p):
    (tmp_path / "c.csv").write_text(f"0.5,0,0,0.5,0,0,{p}\n0.5,0,0,0.5,0.5,0,0\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(classes=1, instances=2, system="{catalog: c.csv}"))
    assert "generator.system.catalog: cannot read the catalog: 'c.csv': " in spec_problems(spec)


def test_map_counts_the_sigma_factor_sampler_cannot_reach_are_refused(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(system="{maps: [1, 3]}"))
    assert (
        "generator.system.maps: the sigma_factor sampler cannot make a system of 1 map"
        in spec_problems(spec)
    )


@pytest.mark.parametrize(
    ("render", "extra"),
    [
        ("{points: 100000000}", ""),
        ("{points: 1000000}", "  multi: {per_image: [64, 64]}\n"),
    ],
)
def test_chaos_game_points_per_image_are_bounded(tmp_path, render, extra):
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(render=render, extra=extra))
    assert "over the limit of 20,000,000 (synthc.limits.MAX_SAMPLE_POINTS)" in spec_problems(spec)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        (
            "class0.npy",
            "2 of its 24 map values are not finite numbers (NaN or infinite), the "
            "first at [1][0][2]",
        ),
        (
            "class0.csv",
            "2 of its 12 map values are not finite numbers (NaN or infinite), the "
            "first at row 2, column b",
        ),
    ],
)
def test_a_catalog_of_non_finite_values_is_one_problem(cli, tmp_path, name, said):
    """A NaN-filled .npy catalog gave one line per element (maps[0][0][0], [0][0][1], ...)."""
    if name.endswith(".npy"):
        maps = np.full((4, 2, 3), 0.3)
        maps[1, 0, 2], maps[3, 1, 1] = np.inf, np.nan
        np.save(tmp_path / name, maps)
    else:
        (tmp_path / name).write_text("a,b,c,d,e,f,p\n0.5,0,0,0.5,0,0,1\n0.5,nan,0,0.5,0,inf,1\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_text(classes=1, instances=4, system=f"{{catalog: {name}}}"))
    code, _, err = cli("validate", spec)
    assert code == 2
    column = len("  system: {catalog: ") + 1
    line = next(i for i, t in enumerate(spec.read_text().splitlines(), 1) if "catalog:" in t)
    assert err == (
        f"{spec}:{line}:{column}: generator.system.catalog: cannot read the catalog: "
        f"'{name}': {said}\n"
    )
