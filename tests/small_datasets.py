"""Small specs of every generator kind, built in seconds, for the stream, open and sample tests."""

from __future__ import annotations

import copy
import hashlib
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

from synthc import api
from synthc.outputs.manifest import content_sha256, encode_manifest, iter_shards

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


Members = list[tuple[tarfile.TarInfo, bytes]]


def rewrite_tar(path: Path, change: Callable[[Members], Members]) -> None:
    """Write the tar at ``path`` again with the members ``change`` makes of its ``(info, data)``
    list, in its order: members taken out, renamed, repeated or moved, as a hand would."""
    with tarfile.open(path) as tar:
        members = [(info, tar.extractfile(info).read()) for info in tar]  # type: ignore[union-attr]
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for info, data in change(members):
            tar.addfile(info, io.BytesIO(data))


def _renamed(old: str, new: str) -> Callable[[Members], Members]:
    def change(members: Members) -> Members:
        for info, _ in members:
            info.name = new if info.name == old else info.name
        return members

    return change


def _repeated(name: str) -> Callable[[Members], Members]:
    def change(members: Members) -> Members:
        at = next(i for i, (info, _) in enumerate(members) if info.name == name)
        return [*members[: at + 1], members[at], *members[at + 1 :]]

    return change


def _linked(name: str) -> Callable[[Members], Members]:
    def change(members: Members) -> Members:
        for info, _ in members:
            if info.name == name:
                info.type, info.linkname, info.size = tarfile.SYMTYPE, "/etc/passwd", 0
        return [(info, b"" if info.issym() else data) for info, data in members]

    return change


def _sample_added(members: Members) -> Members:
    last = [
        (copy.copy(info), data) for info, data in members if info.name.startswith(f"{39:012d}.")
    ]
    for info, _ in last:
        info.name = info.name.replace(f"{39:012d}", f"{40:012d}")
    return members + last


def _swapped(members: Members) -> Members:
    first = [m for m in members if m[0].name.startswith(f"{25:012d}.")]
    second = [m for m in members if m[0].name.startswith(f"{26:012d}.")]
    rest = [m for m in members if m not in first and m not in second]
    at = members.index(first[0])
    return [*rest[:at], *second, *first, *rest[at:]]


#: changes to the fractal dataset's ``train/train-00001.tar`` (samples 20 to 39, members .png,
#: .json, .cls each) that leave a tar that reads, and what a reader of it says (a regex)
TAR_EDITS: dict[str, tuple[Callable[[Members], Members], str]] = {
    "a sample taken out": (
        lambda ms: [m for m in ms if not m[0].name.startswith(f"{25:012d}.")],
        r"member '000000000026\.png' is out of place: sample 000000000025 comes next",
    ),
    "the last samples taken out": (
        lambda ms: [m for m in ms if m[0].name < f"{35:012d}"],
        r"ends after 15 of the 20 samples the manifest records",
    ),
    "a member taken out": (
        lambda ms: [m for m in ms if m[0].name != f"{25:012d}.cls"],
        r"sample 000000000025 lacks member 000000000025\.cls",
    ),
    "a member renamed to another extension": (
        _renamed(f"{25:012d}.cls", f"{25:012d}.txt"),
        r"member '000000000025\.txt' is not one of a sample's files \(\.png, \.cls, \.json\)",
    ),
    "a member renamed into the next sample": (
        _renamed(f"{25:012d}.cls", f"{26:012d}.cls"),
        r"sample 000000000025 lacks member 000000000025\.cls",
    ),
    "a member renamed into a folder": (
        _renamed(f"{20:012d}.png", f"x/{20:012d}.png"),
        r"member 'x/000000000020\.png' is out of place: sample 000000000020 comes next",
    ),
    "a member without an extension": (
        _renamed(f"{25:012d}.cls", f"{25:012d}"),
        r"member '000000000025' is not <key>\.<extension>",
    ),
    "a member made a symlink": (
        _linked(f"{25:012d}.cls"),
        r"member '000000000025\.cls' is not a regular file",
    ),
    "a member repeated": (
        _repeated(f"{25:012d}.cls"),
        r"member '000000000025\.cls' is in the tar twice",
    ),
    "a sample added": (
        _sample_added,
        r"member '000000000040\.png' is past the 20 samples the manifest records",
    ),
    "two samples swapped": (
        _swapped,
        r"member '000000000026\.png' is out of place: sample 000000000025 comes next",
    ),
}


def make_manifest_match(out: Path) -> None:
    """Record every shard's size and sha256 in the manifest again, its sums and content hash
    too, as someone who changed a shard and shares the dataset would."""
    manifest = api.load_manifest(out)
    for split in manifest["splits"].values():
        for shard in split["shards"]:
            data = (out / shard["path"]).read_bytes()
            shard.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        split["bytes"] = sum(shard["bytes"] for shard in split["shards"])
    manifest["bytes"] = sum(shard["bytes"] for shard in iter_shards(manifest))
    manifest["content_sha256"] = content_sha256(iter_shards(manifest))
    (out / "manifest.json").write_bytes(encode_manifest(manifest))
