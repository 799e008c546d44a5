"""A font's cmap is kept on disk by the font's sha256 (synthc.generators.ocr.resources): a cache
file that is damaged, cut short or holds anything but a JSON list of code points is as good as
absent: the font is read again and the file rewritten, never trusted and never a crash."""

from __future__ import annotations

import hashlib
import json

import pytest
from test_inputs import a_font

from synthc.generators.ocr import resources


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
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(resources, "_COVERAGE", {})
    data = a_font().read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    cmap = resources.cached_coverage(sha256, lambda: data)
    cache = tmp_path / "synthc" / "font-coverage" / f"{sha256}.json"
    assert json.loads(cache.read_bytes()) == sorted(cmap) and 65 in cmap

    cache.write_bytes(content)
    resources._COVERAGE.clear()  # a new process
    assert not resources.coverage_known(sha256)  # so a compile reads the font itself
    assert resources.cached_coverage(sha256, lambda: data) == cmap
    assert json.loads(cache.read_bytes()) == sorted(cmap)  # rewritten
    resources._COVERAGE.clear()
    assert resources.coverage_known(sha256)
