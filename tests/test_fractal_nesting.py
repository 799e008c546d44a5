"""Fractal datasets nest: image (class, instance) is the same in every dataset that holds it.

Each dataset is built as a user would, read back with ``webdataset``, and indexed by the
``(class, instance)`` its label names; the bigger dataset's image for a pair equals the smaller
one's, PNG and label (but for the sample index), wherever splits and shards put it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import webdataset as wds
from PIL import Image

import synthc
from synthc import api

SPEC = """\
synthc: 1
name: nesting
seed: 5
generator:
  kind: fractal
  classes: {classes}
  instances: {instances}
  render: {render}
{extra}splits: {splits}
output: {{shard_size: {shard}}}
"""
#: every random draw an image makes: jitter, flip, per-map colours, plasma, patch stamps
RENDERS = {
    "binary": "{size: 24, points: 1500}",
    "colour": "{size: 24, points: 1500, mode: patch, color: map, background: plasma}",
}
Images = dict[tuple[int, int], tuple[bytes, dict]]


def build(
    tmp_path: Path,
    name: str,
    classes: int,
    instances: int,
    render: str,
    splits: str = "{train: 0.75, val: 0.25}",
    shard: int = 7,
    extra: str = "",
) -> Path:
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(
        SPEC.format(
            classes=classes,
            instances=instances,
            render=render,
            splits=splits,
            shard=shard,
            extra=extra,
        )
    )
    return api.build(spec, tmp_path / name, workers=1).out


def images(out: Path) -> Images:
    """Every sample by (class, instance): its PNG and its label without the index."""
    shards = [str(p) for p in sorted(out.rglob("*.tar"))]
    found: Images = {}
    for sample in wds.WebDataset(shards, shardshuffle=False):
        label = json.loads(sample["json"])
        assert int(sample["__key__"]) == label.pop("index")
        assert int(sample["cls"]) == label["class"]
        pair = (label["class"], label["instance"])
        assert pair not in found
        found[pair] = (sample["png"], label)
    return found


def pixels(png: bytes) -> bytes:
    return np.asarray(Image.open(io.BytesIO(png))).tobytes()


def assert_contains(bigger: Images, smaller: Images) -> None:
    assert smaller.keys() <= bigger.keys()
    for pair, (png, label) in smaller.items():
        big_png, big_label = bigger[pair]
        assert pixels(big_png) == pixels(png), pair
        assert big_png == png, pair
        assert big_label == label, pair


@pytest.mark.parametrize("render", sorted(RENDERS))
def test_more_classes_and_more_instances_hold_the_smaller_dataset(tmp_path, render):
    text = RENDERS[render]
    small = images(build(tmp_path, "small", 3, 4, text))
    assert small.keys() == {(c, n) for c in range(3) for n in range(4)}
    more_instances = images(build(tmp_path, "instances", 3, 9, text, shard=5))
    more_classes = images(
        build(tmp_path, "classes", 5, 4, text, splits="{train: 0.5, val: 0.2, test: 0.3}")
    )
    both = images(build(tmp_path, "both", 5, 9, text, splits="{train: 1.0}", shard=100))
    assert both.keys() == {(c, n) for c in range(5) for n in range(9)}
    assert_contains(more_instances, small)
    assert_contains(more_classes, small)
    assert_contains(both, more_instances)
    assert_contains(both, more_classes)
    # the images differ from one another: the pairs, not one shared stream, key them
    assert len({pixels(png) for png, _ in both.values()}) == len(both)


def test_a_sample_moved_by_the_splits_keeps_its_image(tmp_path):
    """(0, 3) and (1, 3) are samples 6, 7 in val of a 2 x 4 dataset, and 9, 10 in train of a
    3 x 6 one."""
    small = build(tmp_path, "small", 2, 4, RENDERS["binary"])
    bigger = build(tmp_path, "bigger", 3, 6, RENDERS["binary"])
    moved = {(0, 3), (1, 3)}
    assert moved <= images(small / "val").keys() and moved <= images(bigger / "train").keys()
    assert_contains(images(bigger), images(small))


def test_multi_images_nest_across_instances(tmp_path):
    extra = "  multi: {per_image: [1, 4], scale: [0.3, 0.6]}\n"
    render = "{size: 32, points: 1500, color: random, background: uniform}"
    small = images(build(tmp_path, "small", 3, 3, render, extra=extra))
    bigger = images(build(tmp_path, "bigger", 3, 7, render, extra=extra, shard=4))
    assert_contains(bigger, small)
    assert any(len(label["fractals"]) > 1 for _, label in small.values())


def test_a_fresh_epoch_draws_the_next_instances(tmp_path):
    """Epoch e of a classes x instances spec is instances e * instances ... of the same classes:
    the images a built dataset with more instances holds."""
    spec = tmp_path / "spec.yaml"
    text = SPEC.format(
        classes=3,
        instances=4,
        render=RENDERS["colour"],
        splits="{train: 0.75, val: 0.25}",
        shard=7,
        extra="",
    )
    spec.write_text(text)
    fresh: Images = {}
    for split in ("train", "val"):
        for sample in synthc.stream(spec, split, fresh_epoch=2):
            label = json.loads(sample["json"])
            assert int(sample["__key__"]) == label.pop("index")
            fresh[label["class"], label["instance"]] = (sample["png"], label)
    assert fresh.keys() == {(c, n) for c in range(3) for n in range(8, 12)}
    built = images(build(tmp_path, "twelve", 3, 12, RENDERS["colour"]))
    assert_contains(built, fresh)


def test_the_manifest_states_the_guarantee_and_labels_name_the_instance(tmp_path):
    out = build(tmp_path, "small", 3, 4, RENDERS["binary"])
    facts = api.load_manifest(out)["generator"]["facts"]
    assert facts["instance_of_sample"] == "i // classes"
    assert "more classes or instances" in facts["nesting"]
    for (c, n), (_, label) in images(out).items():
        assert label["class"] == c and label["instance"] == n
