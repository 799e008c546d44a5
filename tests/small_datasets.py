"""Small specs of every generator kind, built in seconds, for the stream, open and sample tests."""

from __future__ import annotations

import tarfile
from pathlib import Path

import polars as pl

from synthc import api

HEAD = """\
synthc: 1
name: {name}
seed: 11
samples: {samples}
splits: {{train: 0.75, val: 0.25}}
generator:
"""

GENERATORS = {
    "fractal": (
        60,
        20,
        """\
  kind: fractal
  classes: 4
  instances: 15
  render: {size: 32, points: 2000, mode: density}
""",
    ),
    "ocr_text": (
        24,
        10,
        """\
  kind: ocr_text
  text: {source: dict, language: en, words: [1, 2]}
  size: 24
  background: {kinds: [plain, gaussian_noise]}
""",
    ),
    "manifold": (
        300,
        100,
        """\
  kind: manifold
  shape: blobs
  centers: 3
  dim: 2
""",
    ),
    "tabular": (
        300,
        100,
        """\
  kind: tabular
  columns:
    id:     {dist: sequence, start: 1000, step: 3}
    age:    {dist: normal, mean: 40, std: 12, clip: [18, 90]}
    region: {dist: categorical, values: [north, south]}
    signup: {dist: date, start: 2020-01-01, end: 2024-12-31}
    visits: {dist: poisson, lam: 3}
  label: {name: churn, kind: logistic, formula: "-2 + 0.04 * age", noise: 0.0}
  missing: {age: 0.2, region: 0.1}
""",
    ),
}
KINDS = tuple(GENERATORS)
FILE_KINDS = ("fractal", "ocr_text")
TABLE_KINDS = ("manifold", "tabular")


def write_spec(root: Path, kind: str) -> Path:
    """The small spec of ``kind`` as ``root/<kind>.yaml``."""
    samples, shard_size, generator = GENERATORS[kind]
    text = HEAD.format(name=f"small-{kind}".replace("_", "-"), samples=samples) + generator
    spec = root / f"{kind}.yaml"
    spec.write_text(text + f"output: {{shard_size: {shard_size}}}\n")
    return spec


def build(root: Path, kind: str) -> tuple[Path, Path]:
    """Write and build the small spec of ``kind`` under ``root``; (spec, output directory)."""
    root.mkdir(parents=True, exist_ok=True)
    spec = write_spec(root, kind)
    out = api.build(spec, root / f"{kind}-out", workers=1).out
    return spec, out


def shard_paths(out: Path, split: str) -> list[Path]:
    """The shards of ``split`` in manifest order."""
    manifest = api.load_manifest(out)
    return [out / s["path"] for s in manifest["splits"][split]["shards"]]


def tar_samples(paths: list[Path]) -> list[dict[str, object]]:
    """Samples of WebDataset tars as ``{"__key__": key, ext: bytes}`` dicts, in order."""
    samples: list[dict[str, object]] = []
    for path in paths:
        with tarfile.open(path) as tar:
            for member in tar:
                key, ext = member.name.split(".", 1)
                handle = tar.extractfile(member)
                assert handle is not None
                if not samples or samples[-1]["__key__"] != key:
                    samples.append({"__key__": key})
                samples[-1][ext] = handle.read()
    return samples


def parquet_rows(paths: list[Path]) -> pl.DataFrame:
    """The rows of Parquet shards, in order."""
    return pl.concat([pl.read_parquet(path) for path in paths])
