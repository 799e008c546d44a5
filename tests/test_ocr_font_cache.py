"""A font's cmap is kept on disk by the font's sha256 (synthc.generators.ocr.resources): a cache
file that is damaged, cut short, holds anything but a JSON list of code points, is too large
or is not a regular file (a FIFO) is as good as absent: the font is read again and the file
rewritten, never trusted, never a crash and never a wait."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from test_cache_files import returns_unblocked
from test_inputs import a_font

from synthc.generators.ocr import resources


def a_font_cached(tmp_path, monkeypatch) -> tuple[bytes, str, Path]:
    """A font's bytes, sha256 and coverage cache path under ``tmp_path``; nothing cached yet."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(resources, "_COVERAGE", {})
    data = a_font().read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    cache = tmp_path / "synthc" / "font-coverage" / f"{sha256}.json"
    cache.parent.mkdir(parents=True)
    return data, sha256, cache


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe not text",
        b"[65, 66",
        b"[" * 5000,  # nested deeper than the parser recurses
        b"[NaN, 65]",
        b"[65, 1e999]",
        b'{"65": 1, "66": 1}',
        b'[65, "A", 66]',
        b"[65.0, 66]",
        b"[true, 65]",
        b"[-1, 65]",
        b"[65, 1114112]",
        b"[[65], 66]",
    ],
)
def test_a_damaged_coverage_cache_file_is_read_again_from_the_font(tmp_path, monkeypatch, content):
    data, sha256, cache = a_font_cached(tmp_path, monkeypatch)
    cmap = resources.cached_coverage(sha256, lambda: data)
    assert json.loads(cache.read_bytes()) == sorted(cmap) and 65 in cmap

    cache.write_bytes(content)
    resources._COVERAGE.clear()  # a new process
    assert not resources.coverage_known(sha256)  # so a compile reads the font itself
    assert resources.cached_coverage(sha256, lambda: data) == cmap
    assert json.loads(cache.read_bytes()) == sorted(cmap)  # rewritten
    resources._COVERAGE.clear()
    assert resources.coverage_known(sha256)


def test_a_fifo_at_the_coverage_cache_is_no_cache_and_never_blocks(tmp_path, monkeypatch):
    data, sha256, cache = a_font_cached(tmp_path, monkeypatch)
    os.mkfifo(cache)
    assert not returns_unblocked(cache, lambda: resources.coverage_known(sha256))
    cmap = returns_unblocked(cache, lambda: resources.cached_coverage(sha256, lambda: data))
    assert 65 in cmap and cache.is_file()  # read from the font; the FIFO replaced by the cache
    assert json.loads(cache.read_bytes()) == sorted(cmap)


def test_a_coverage_cache_over_the_bound_is_no_cache(tmp_path, monkeypatch):
    data, sha256, cache = a_font_cached(tmp_path, monkeypatch)
    padded = b"[65]".ljust(resources.MAX_COVERAGE_BYTES + 1)  # a list of code points, too long
    cache.write_bytes(padded)
    assert not resources.coverage_known(sha256)
    cmap = resources.cached_coverage(sha256, lambda: data)
    assert cmap != {65} and json.loads(cache.read_bytes()) == sorted(cmap)  # rewritten
