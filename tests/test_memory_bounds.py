"""Memory is bounded by a batch, not a shard: samples stream into the shard writer, and specs
whose samples or shards cannot fit the limits in synthc.limits are refused at validate time."""

from __future__ import annotations

import io
import re
import tarfile
import tracemalloc

import pytest
from PIL import Image

from synthc.compiler.compiling import compile_spec
from synthc.compiler.planning import plan
from synthc.generators.base import Samples
from synthc.generators.fractal import drawing as fractal
from synthc.outputs.image_grid import decode_pngs
from synthc.shard import run_task

HEAD = "synthc: 1\nname: t\nseed: 1\n"


def fractal_spec(write_spec, size: int, images: int, shard_size: int) -> str:
    text = (
        f"{HEAD}samples: {images}\ngenerator:\n  kind: fractal\n  classes: 2\n"
        f"  instances: {images // 2}\n  render: {{size: {size}, points: 2000, color: map}}\n"
        f"output: {{shard_size: {shard_size}}}\n"
    )
    return write_spec(text)


def test_fractal_shards_render_a_batch_at_a_time_with_the_same_bytes(write_spec, monkeypatch):
    config = compile_spec(fractal_spec(write_spec, 64, 10, 10)).spec.generator
    whole = list(fractal.generate(config, 5, 0, 10))
    calls: list[int] = []
    render = fractal.render

    def counted(config, seed, start, stop):
        calls.append(stop - start)
        return render(config, seed, start, stop)

    monkeypatch.setattr(fractal, "BATCH_BYTES", 3 * 64 * 64 * 3)
    monkeypatch.setattr(fractal, "render", counted)
    stream = fractal.generate(config, 5, 0, 10)
    assert isinstance(stream, Samples) and calls == []  # nothing rendered before it is read
    assert list(stream) == whole
    assert calls == [3, 3, 3, 1]


def test_a_shard_of_large_images_never_holds_them_all(write_spec, tmp_path, monkeypatch):
    # 24 images of 512 x 512 RGB are 18 MiB; one at a time, a shard needs a small part of it.
    spec = compile_spec(fractal_spec(write_spec, 512, 24, 24)).spec
    (task,) = plan(spec).tasks
    monkeypatch.setattr(fractal, "BATCH_BYTES", 1)
    run_task(task.to_json(), str(tmp_path / "warm"))  # compile kernels, fill caches
    tracemalloc.start()
    try:
        record = run_task(task.to_json(), str(tmp_path / "out"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert record["samples"] == 24
    assert peak < 6 * 512 * 512 * 3, f"peak {peak / 2**20:.1f} MiB"
    with tarfile.open(tmp_path / "out" / task.path) as tar:
        assert len(tar.getmembers()) == 3 * 24


def test_preview_tiles_of_large_images_are_shrunk():
    buffer = io.BytesIO()
    Image.new("RGB", (4096, 2048), "red").save(buffer, format="PNG")
    (tile,) = decode_pngs([buffer.getvalue()])
    assert tile.width * tile.height <= 512 * 512 and tile.size == (724, 362)
    small = io.BytesIO()
    Image.new("L", (600, 32)).save(small, format="PNG")
    assert decode_pngs([small.getvalue()])[0].size == (600, 32)  # text lines stay as drawn


# -- estimates checked at validate time ----------------------------------------------------------


def refused(cli, path, line: int, field: str, message: str) -> str:
    """Validate ``path``; assert exit 2 and a one-line problem at ``line`` and ``field``."""
    code, _, err = cli("validate", path)
    assert code == 2, err
    assert "Traceback" not in err
    pattern = rf"^{re.escape(str(path))}:{line}:\d+: {re.escape(field)}: .*{re.escape(message)}"
    assert any(re.match(pattern, row) for row in err.splitlines()), err
    return err


#: the ffi ligature, which upper-cases to three characters
LIGATURE = "\ufb03"


def spec(write_spec, generator: str, samples: int = 10, output: str = "") -> object:
    return write_spec(f"{HEAD}samples: {samples}\ngenerator:\n{generator}{output}")


@pytest.mark.parametrize(
    ("generator", "line", "field", "message"),
    [
        (
            "  kind: manifold\n  shape: blobs\n  centers: 1000000000\n",
            8,
            "generator.centers",
            "MAX_FACT_BYTES",
        ),
        (
            "  kind: manifold\n  shape: blobs\n  dim: 4096\n  centers: 100000\n",
            9,
            "generator.centers",
            "100,000 centres of dim 4096",
        ),
        (
            f"  kind: ocr_text\n  text: {{source: list, items: [ab, {'x' * 10_000}]}}\n"
            "  skew: [-45, 45]\n",
            7,
            "generator.text.items[1]",
            "10,000 characters at size 32 and skew up to 45 degrees",
        ),
        (
            "  kind: ocr_text\n  text: {words: [1000000, 1000000]}\n",
            7,
            "generator.text.words",
            "MAX_SAMPLE_BYTES",
        ),
        (
            "  kind: ocr_text\n  text: {source: random, length: [5, 1000000]}\n",
            7,
            "generator.text.length",
            "MAX_SAMPLE_BYTES",
        ),
        (
            "  kind: ocr_text\n  text: {source: list, items: [a]}\n  size: 512\n"
            "  lines: [32, 32]\n  line_spacing: 2\n  width: 16384\n",
            11,
            "generator.width",
            "widened to 16,384 px",
        ),
        (
            "  kind: ocr_text\n  text: {source: list, items: [a]}\n  size: 512\n"
            "  lines: [16, 16]\n  line_spacing: 0\n  width: 16384\n",
            11,
            "generator.width",
            "widened to 16,384 px",
        ),
        (
            "  kind: ocr_text\n  margins: [5, 1000000000, 5, 5]\n",
            7,
            "generator.margins",
            "from 0 to 4096 px",
        ),
        (
            "  kind: fractal\n  classes: 1000000\n  instances: 1\n  system: {maps: [2, 16]}\n",
            7,
            "generator.classes",
            "MAX_FACT_BYTES",
        ),
    ],
    ids=[
        "blobs-centres",
        "blobs-dim",
        "ocr-long-skewed",
        "ocr-words",
        "ocr-length",
        "ocr-width",
        "ocr-width-16-lines",
        "margins",
        "fractal-classes",
    ],
)
def test_a_sample_or_facts_that_cannot_fit_are_refused_at_the_field(
    cli, write_spec, generator, line, field, message
):
    samples = 1_000_000 if "classes: 1000000" in generator else 10
    err = refused(cli, spec(write_spec, generator, samples), line, field, message)
    assert len([row for row in err.splitlines() if not row.startswith("synthc:")]) == 1


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (
            "{source: list, items: [ab, " + LIGATURE * 25_000 + "], case: upper}",
            "generator.text.items[1]",
            "a line of 75,000 characters at size 32",
        ),
        (
            "{source: random, charset: \"'a\ufb03'\", length: [1, 25000], case: upper}",
            "generator.text.length",
            "a line of 75,000 characters at size 32",
        ),
        (
            "{source: file, path: lines.txt, case: upper}",
            "generator.text.path",
            "'lines.txt': its longest line, of 75,000 characters,",
        ),
    ],
    ids=["items", "random", "file"],
)
def test_a_line_that_case_folding_lengthens_is_measured_folded(
    cli, write_spec, text, field, message
):
    """'\ufb03' (the ffi ligature) upper-cases to 'FFI': the memory estimate measured the
    text before its case was folded, a third of what is drawn."""
    path = spec(write_spec, f"  kind: ocr_text\n  text: {text}\n")
    (path.parent / "lines.txt").write_text("short\n" + LIGATURE * 25_000 + "\n")
    refused(cli, path, 7, field, message)
    unfolded = path.read_text().replace(", case: upper", "")
    path.write_text(unfolded)
    assert cli("validate", path)[0] == 0


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (
            "{source: file, path: lines.txt}",
            "generator.text.path",
            "'lines.txt': its longest line, of 300,000 characters, at size 32 makes an image",
        ),
        (
            "{source: dict, dictionary: lines.txt, words: [1, 2]}",
            "generator.text.dictionary",
            "'lines.txt': 2 of its words as long as its longest (300,000 characters) make a line "
            "of 600,001 characters, which at size 32 makes an image",
        ),
    ],
    ids=["file", "dictionary"],
)
def test_a_text_file_whose_line_cannot_fit_is_refused_at_its_field(
    cli, write_spec, text, field, message
):
    """The spec alone cannot say how long a file's lines are (a dictionary's words were taken
    as 24 characters): a word list with one line of 300,000 characters validated, and its
    build tried to allocate gigabytes."""
    path = spec(write_spec, f"  kind: ocr_text\n  text: {text}\n")
    (path.parent / "lines.txt").write_text("short\nlines\n" + "m" * 300_000 + "\n")
    err = refused(cli, path, 7, field, message)
    assert "synthc.limits.MAX_SAMPLE_BYTES" in err
    (path.parent / "lines.txt").write_text("short\nlines\n" + "m" * 2_000 + "\n")
    assert cli("validate", path)[0] == 0


@pytest.mark.parametrize(
    "generator",
    [
        f"  kind: ocr_text\n  text: {{source: list, items: [ab, {'x' * 10_000}]}}\n",
        "  kind: ocr_text\n  text: {source: list, items: [a]}\n  width: 16384\n",
        "  kind: ocr_text\n  orientation: vertical\n  size: 512\n  width: 16384\n",
    ],
    ids=["long-line", "widest-line", "vertical-ignores-width"],
)
def test_a_long_line_without_skew_still_fits(cli, write_spec, generator):
    assert cli("validate", spec(write_spec, generator))[0] == 0


def test_a_parquet_shard_that_cannot_fit_names_a_shard_size_that_does(cli, write_spec):
    generator = "  kind: manifold\n  shape: blobs\n  dim: 4096\n"
    big = "output: {shard_size: 50000}\n"
    path = spec(write_spec, generator, 100_000, big)
    err = refused(cli, path, 9, "output.shard_size", "synthc.limits.MAX_BATCH_BYTES")
    # The default shard size (from the row's bytes) fits.
    assert cli("validate", spec(write_spec, generator, samples=100_000))[0] == 0
    fits = int(re.search(r"use output.shard_size <= ([\d,]+)", err)[1].replace(",", ""))
    output = f"output: {{shard_size: {fits}}}\n"
    assert cli("validate", spec(write_spec, generator, 100_000, output))[0] == 0
    output = f"output: {{shard_size: {fits + 1}}}\n"
    refused(cli, spec(write_spec, generator, 100_000, output), 9, "output.shard_size", "<=")


def test_a_wide_table_shard_is_refused(cli, write_spec):
    columns = "".join(f"    c{k}: {{dist: normal}}\n" for k in range(1500))
    generator = f"  kind: tabular\n  columns:\n{columns}"
    path = spec(write_spec, generator, 100_000, "output: {shard_size: 50000}\n")
    refused(cli, path, 1508, "output.shard_size", "1,501 values")
    # The default shard size (from the row's bytes) fits.
    assert cli("validate", spec(write_spec, generator, samples=100_000))[0] == 0


def test_space_width_is_in_the_ocr_memory_estimate(cli, write_spec):
    """Spaces drawn space_width (up to 10) times as wide were estimated at one em, so a line
    of many spaces passed validate and then needed gigabytes per image."""
    items = " ".join(["ab"] * 4000)
    text = (
        "synthc: 1\nname: t\nseed: 1\nsamples: 10\ngenerator:\n  kind: ocr_text\n"
        f"  text: {{source: list, items: ['{items}']}}\n  space_width: {{width}}\n"
    )
    assert cli("validate", write_spec(text.replace("{width}", "1")))[0] == 0
    spec = write_spec(text.replace("{width}", "10"))
    code, _, err = cli("validate", spec)
    assert code == 2
    assert err == (
        f"{spec}:7:32: generator.text.items[0]: a line of 11,999 characters at size 32 (3,999 "
        "of them spaces, at space_width 10) makes an image of about 1,535,709 x 48 px, which "
        "needs about 1.1 GiB per sample, over the limit of 1.0 GiB (synthc.limits."
        "MAX_SAMPLE_BYTES)\n"
    )
