"""Memory is bounded by a batch, not a shard: samples stream into the shard writer, and specs
whose samples or shards cannot fit the limits in synthc.limits are refused at validate time."""

from __future__ import annotations

import io
import tarfile
import tracemalloc

from PIL import Image

from synthc.compiler.compiling import compile_spec
from synthc.compiler.planning import plan
from synthc.generators.base import Samples
from synthc.generators.fractal import generator as fractal
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
    whole = list(fractal.GENERATOR.generate(config, 5, 0, 10))
    calls: list[int] = []
    render = fractal.GENERATOR.render

    def counted(config, seed, start, stop):  # noqa: ANN001, ANN202
        calls.append(stop - start)
        return render(config, seed, start, stop)

    monkeypatch.setattr(fractal, "BATCH_BYTES", 3 * 64 * 64 * 3)
    monkeypatch.setattr(fractal.GENERATOR, "render", counted)
    stream = fractal.GENERATOR.generate(config, 5, 0, 10)
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
