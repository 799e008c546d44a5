"""What synthc learns of a font with fontTools is kept on disk by the font's sha256
(synthc.generators.ocr.font_cache): its cmap as ranges of code points, and which characters
draw ink. A cache file that is damaged, cut short, of the older format or holds anything but
its one canonical shape is as good as absent: the font is read again and the file rewritten,
never trusted and never a crash."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from test_cache_files import returns_unblocked
from test_inputs import a_font

from synthc import inputs
from synthc.generators.ocr import font_cache, resources


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """synthc's cache directory, empty, with nothing remembered in this process."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(resources, "_COVERAGE", {})
    monkeypatch.setattr(resources, "_INKED", {})
    monkeypatch.setattr(resources, "_KEPT", {})
    return tmp_path / "synthc"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe not text",
        b"[[65, 66]",
        b"[" * 5000,  # nested deeper than the parser recurses
        b"[[NaN, 65]]",
        b"[[65, 1e999]]",
        b'{"65": 1, "66": 1}',
        b"[65, 66]",  # the older format: a list of code points
        b'[[65, "B"]]',
        b"[[65.0, 66]]",
        b"[[true, 65]]",
        b"[[-1, 65]]",
        b"[[65, 1114112]]",
        b"[[66, 65]]",
        b"[[65]]",
        b"[[65, 66, 67]]",
        b"[[65, 66], [67, 68]]",  # adjacent: one range written as two
        b"[[70, 80], [65, 66]]",
        b"[[65, 70], [68, 80]]",
    ],
)
def test_a_damaged_coverage_cache_file_is_read_again_from_the_font(cache, content):
    data = a_font().read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    cmap = resources.cached_coverage(sha256, lambda: data)
    file = cache / "font-coverage" / font_cache.reader_version() / f"{sha256}.ranges.json"
    written = file.read_bytes()
    assert json.loads(written)[:1] == [[32, 126]] and 65 in cmap

    file.write_bytes(content)
    resources._COVERAGE.clear()  # a new process
    assert not resources.coverage_known(sha256)  # so a compile reads the font itself
    assert resources.cached_coverage(sha256, lambda: data) == cmap
    assert file.read_bytes() == written  # rewritten
    resources._COVERAGE.clear()
    assert resources.coverage_known(sha256)
    assert resources.cached_coverage(sha256, lambda: b"never read") == cmap


def test_a_fifo_at_the_coverage_cache_is_no_cache_and_never_blocks(cache):
    data = a_font().read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    file = cache / "font-coverage" / font_cache.reader_version() / f"{sha256}.ranges.json"
    file.parent.mkdir(parents=True)
    os.mkfifo(file)
    assert not returns_unblocked(file, lambda: resources.coverage_known(sha256))
    cmap = returns_unblocked(file, lambda: resources.cached_coverage(sha256, lambda: data))
    assert 65 in cmap and file.is_file()  # read from the font; the FIFO replaced by the cache
    assert json.loads(file.read_bytes())[:1] == [[32, 126]]


def test_a_coverage_cache_over_the_bound_is_no_cache(cache):
    data = a_font().read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    file = cache / "font-coverage" / font_cache.reader_version() / f"{sha256}.ranges.json"
    file.parent.mkdir(parents=True)
    file.write_bytes(b"[[65, 65]]".ljust(font_cache.MAX_CACHE_BYTES + 1))  # canonical, too long
    assert not resources.coverage_known(sha256)
    cmap = resources.cached_coverage(sha256, lambda: data)
    assert cmap != {65} and json.loads(file.read_bytes())[:1] == [[32, 126]]  # rewritten


def _font() -> dict[str, str]:
    """A resolved entry of one of trdg's fonts."""
    return inputs.Reader(a_font().parent).file(a_font(), "font").entry()


def _new_process() -> None:
    resources._INKED.clear()
    resources._KEPT.clear()


def _unread(*_: object) -> dict[str, bool]:
    raise AssertionError("the font was read again")


def test_ink_verdicts_are_kept_on_disk_by_the_fonts_sha256(cache, monkeypatch):
    font = _font()
    assert resources.inked("A A", font)
    file = cache / "font-ink" / font_cache.reader_version() / f"{font['sha256']}.json"
    assert json.loads(file.read_bytes()) == {"inked": [65], "blank": []}
    # not mapped (judged by its coverage), and hidden by Raqm: its verdict is still kept
    assert not resources.inked("\u200b", font)
    assert json.loads(file.read_bytes()) == {"inked": [65, 0x200B], "blank": []}

    _new_process()
    monkeypatch.setattr(resources, "_outlined", _unread)
    assert resources.inked("A\u200b", font)
    file.write_bytes(b'{"inked": [], "blank": [66]}')  # what the file says is believed
    _new_process()
    assert not resources.inked("B", font)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"inked": [65]',
        b"[65]",
        b'{"inked": [65]}',
        b'{"inked": [65], "blank": [], "other": []}',
        b'{"inked": [65], "inked": [66], "blank": []}',
        b'{"inked": [66, 65], "blank": []}',
        b'{"inked": [65, 65], "blank": []}',
        b'{"inked": [65.0], "blank": []}',
        b'{"inked": [true], "blank": []}',
        b'{"inked": [-1], "blank": []}',
        b'{"inked": [1114112], "blank": []}',
        b'{"inked": [], "blank": [65, 66], "x": 1}',
        b'{"inked": [66], "blank": [66]}',
        b'{"inked": "AB", "blank": []}',
    ],
)
def test_a_damaged_ink_cache_file_is_judged_again_from_the_font(cache, monkeypatch, content):
    font = _font()
    file = cache / "font-ink" / font_cache.reader_version() / f"{font['sha256']}.json"
    file.parent.mkdir(parents=True)
    file.write_bytes(content)
    assert resources.inked("AB", font)
    assert json.loads(file.read_bytes()) == {"inked": [65, 66], "blank": []}


def test_ink_is_judged_on_the_bytes_hashed_at_compile_time(cache, tmp_path):
    (tmp_path / "font.ttf").write_bytes(a_font().read_bytes())
    font = inputs.Reader(tmp_path).file("font.ttf", "font").entry()
    (tmp_path / "font.ttf").write_bytes(b"changed")
    with pytest.raises(ValueError, match="changed since the spec was compiled"):
        resources.inked("A", font)
    assert not (cache / "font-ink").exists()


def test_ink_fonttools_failed_on_is_not_kept(cache, monkeypatch):
    font = _font()
    judge = resources._outlined
    monkeypatch.setattr(resources, "_outlined", lambda font, chars: None)  # fontTools failed
    assert resources.inked("B", font)  # taken as inked, in this process only
    file = cache / "font-ink" / font_cache.reader_version() / f"{font['sha256']}.json"
    assert not file.exists()
    monkeypatch.setattr(resources, "_outlined", judge)
    assert resources.inked("A", font)
    assert json.loads(file.read_bytes()) == {"inked": [65], "blank": []}


def test_what_another_fonttools_read_is_not_taken(cache, monkeypatch):
    """A cmap (or an ink verdict) kept by one fontTools is not used under another, which may
    read the font otherwise: the font is read again, and each version keeps its own answers."""
    data = a_font().read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    cmap = resources.cached_coverage(sha256, lambda: data)
    installed = font_cache.reader_version()
    assert installed.startswith("fonttools-") and installed != "fonttools-unknown"
    resources._COVERAGE.clear()  # a new process ...
    monkeypatch.setattr(font_cache, "reader_version", lambda: "fonttools-0.0.1")  # ... another
    assert not resources.coverage_known(sha256)
    assert resources.cached_coverage(sha256, lambda: data) == cmap
    assert sorted(p.name for p in (cache / "font-coverage").iterdir()) == sorted(
        ["fonttools-0.0.1", installed]
    )
