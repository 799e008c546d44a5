"""preview.png reads a build's first shards back: a shard that cannot be read (one a forged state
vouched for) is an error naming it, never an internal error, and --force recovers."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest
from conftest import spec_text

from synthc import limits
from synthc.errors import OutputError
from synthc.outputs.preview import preview_of_shards
from synthc.outputs.state import STATE_DIR, STATE_FILE


def forge(out: Path, name: str, data: bytes) -> None:
    """Put ``data`` at shard ``name`` and make the state vouch for it, as a forged state does."""
    (out / name).write_bytes(data)
    path = out / STATE_DIR / STATE_FILE
    state = json.loads(path.read_text())
    entry = state["shards"][name]
    stat = (out / name).stat()
    entry.update(
        sha256=hashlib.sha256(data).hexdigest(),
        bytes=len(data),
        mtime_ns=stat.st_mtime_ns,
        seen=[stat.st_ctime_ns, stat.st_ino],
    )
    path.write_text(json.dumps(state))


def test_a_garbage_table_shard_the_state_vouches_for_is_named_and_force_recovers(
    cli, write_spec, tmp_path
):
    spec = write_spec(spec_text(samples=600, shard_size=300))
    out = tmp_path / "out"
    assert cli("build", spec, "-o", out, "--workers", "1")[0] == 0
    first = "train/train-00000.parquet"
    assert (out / first).is_file()
    forge(out, first, os.urandom(4000))
    (out / "manifest.json").unlink()  # the next build writes a manifest: it draws the preview
    code, _, err = cli("build", spec, "-o", out, "--workers", "1")
    assert code == 1, err
    assert "Traceback" not in err and "internal error" not in err
    assert f"preview.png: {first} cannot be read back" in err and "--force" in err
    assert not (out / "manifest.json").exists()
    code, _, err = cli("build", spec, "-o", out, "--workers", "1", "--force")
    assert code == 0, err
    assert cli("verify", out)[0] == 0


def tar_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"not a tar at all" * 100, "unreadable as a tar"),
        (tar_of({"000000000000.png": b"no PNG inside"}), "cannot be read back"),
        (tar_of({"000000000000.png": b"\x89PNG" + b"x" * 2000}), "over the limit"),
    ],
    ids=["no-tar", "no-image", "over-limit"],
)
def test_an_image_shard_that_cannot_be_read_back_is_an_output_error(
    tmp_path, monkeypatch, content, words
):
    monkeypatch.setattr(limits, "MAX_SAMPLE_BYTES", 1000)
    shard = tmp_path / "0.tar"
    shard.write_bytes(content)
    with pytest.raises(OutputError) as caught:
        preview_of_shards("images", [shard], names=["train/train-00000.tar"])
    message = str(caught.value)
    assert message.startswith("preview.png: ") and words in message
    assert "train/train-00000.tar" in message and str(shard) not in message


def looping_tar() -> bytes:
    """A tar whose third header has a negative size (base-256) leading back to its second
    header: a reader that seeks goes round the same members for ever."""
    data = bytearray(tar_of({"a.txt": b"a", "000000000000.png": b"p", "000000000000.cls": b"1"}))
    third, back_to = 2 * 1024, 1024
    size = (back_to - (third + 512)) & ((1 << 88) - 1)
    data[third + 124 : third + 136] = bytes([0xFF]) + size.to_bytes(11, "big")
    header = data[third : third + 512]
    header[148:156] = b" " * 8
    data[third + 148 : third + 156] = b"%06o\0 " % sum(header)
    return bytes(data)


def test_a_tar_header_leading_back_is_unreadable_not_read_round_and_round(tmp_path):
    shard = tmp_path / "0.tar"
    shard.write_bytes(looping_tar())
    with pytest.raises(OutputError, match=r"preview\.png: .*0\.tar: unreadable as a tar"):
        preview_of_shards("images", [shard], names=["train/train-00000.tar"])


def test_a_table_shard_is_read_back_by_the_columns_the_build_writes(tmp_path, monkeypatch):
    """A forged state's shard of 3,000 coordinates took 85 s and 1 GB to project (from a file
    of 28 MB); only the caption's columns are read, and a shard without them is named."""
    import polars as pl

    from synthc.outputs import preview
    from synthc.outputs.caption import Caption

    drawn: list[list[str]] = []
    monkeypatch.setattr(preview, "points_preview_png", lambda frame, _: drawn.append(frame.columns))
    shard = tmp_path / "0.parquet"
    pl.DataFrame({"index": [0, 1], **{f"x{i}": [0.5, 1.5] for i in range(8)}}).write_parquet(shard)
    written = [{"name": name, "description": ""} for name in ("index", "x0", "x1")]
    preview_of_shards("points", [shard], Caption.of("d", 2, written), names=["t/t-0.parquet"])
    assert drawn == [["index", "x0", "x1"]]
    written.append({"name": "label", "description": ""})
    with pytest.raises(OutputError, match=r"preview\.png: t/t-0\.parquet cannot be read back"):
        preview_of_shards("points", [shard], Caption.of("d", 2, written), names=["t/t-0.parquet"])


def test_an_image_read_back_over_the_pixel_limit_is_not_decoded(tmp_path, monkeypatch):
    """16 images of 13,000 x 13,000 pixels (640 KB each) took over a minute and 1.3 GB, with
    Pillow's warnings on stderr: the limit synthc.open decodes by holds here too."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (20, 20)).save(buffer, "PNG")
    shard = tmp_path / "0.tar"
    shard.write_bytes(tar_of({"000000000000.png": buffer.getvalue()}))
    monkeypatch.setattr(limits, "MAX_IMAGE_PIXELS", 399)
    with pytest.raises(OutputError, match=r"20 x 20 pixels, over synthc\.limits\.MAX_IMAGE_PIXELS"):
        preview_of_shards("images", [shard], names=["train/train-00000.tar"])
