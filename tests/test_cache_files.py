"""synthc's caches are read as untrusted (synthc.cache_files): what stands at a cache's path and is
not a small regular file of strict JSON is no cache, read without blocking and never past its
bound. The readers of each cache are tested with their own tests (test_numba_start,
test_ocr_font_cache), through :func:`returns_unblocked`."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from synthc.cache_files import read_cache_json


def returns_unblocked(fifo: Path, call: Callable[[], Any], seconds: float = 2.0) -> Any:
    """``call()``'s result, failing the test if it is still running after ``seconds`` (blocked
    on the FIFO ``fifo``, waiting for a writer: the FIFO is then opened and closed for writing,
    so the call ends and the test process is not left with a blocked thread)."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:  # noqa: BLE001 - raised again in the test's thread
            outcome.append((False, error))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the blocked reader reads EOF
        thread.join(seconds)
        pytest.fail(f"blocked on the FIFO {fifo.name} for {seconds} s")
    done, value = outcome[0]
    if not done:
        raise value
    return value


def test_a_small_regular_file_of_strict_json_is_read(tmp_path):
    cache = tmp_path / "cache.json"
    cache.write_text("[1, 2, 3]")
    assert read_cache_json(cache, 9) == [1, 2, 3]
    assert read_cache_json(str(cache), 9) == [1, 2, 3]


def test_a_file_over_the_bound_is_no_cache(tmp_path):
    cache = tmp_path / "cache.json"
    cache.write_text("[1, 2, 3]")
    assert read_cache_json(cache, 8) is None


@pytest.mark.parametrize(
    "content",
    [b"", b"[1, 2", b"[1, NaN]", b"[1e999]", b'{"a": 1, "a": 2}', b"\xff\xfe", b"[" * 5000],
)
def test_a_damaged_file_is_no_cache(tmp_path, content):
    cache = tmp_path / "cache.json"
    cache.write_bytes(content)
    assert read_cache_json(cache, 1 << 20) is None


def test_what_is_not_a_regular_file_is_no_cache_and_never_blocks(tmp_path):
    assert read_cache_json(tmp_path / "missing.json", 1 << 20) is None
    assert read_cache_json(tmp_path, 1 << 20) is None  # a directory
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert returns_unblocked(fifo, lambda: read_cache_json(fifo, 1 << 20)) is None
    device = tmp_path / "device.json"
    device.symlink_to(os.devnull)  # a character device, through a symlink
    assert read_cache_json(device, 1 << 20) is None
    (tmp_path / "loop.json").symlink_to(tmp_path / "loop.json")
    assert read_cache_json(tmp_path / "loop.json", 1 << 20) is None
    assert read_cache_json(tmp_path / "nul\0.json", 1 << 20) is None


def no_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """As a container's arbitrary user: no HOME, no XDG_CACHE_HOME, no password entry; the
    temporary directory is ``tmp_path / "tmp"``, the working directory ``tmp_path / "work"``."""
    import pwd
    import tempfile

    def no_entry(uid: int) -> Any:
        raise KeyError(uid)

    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path / "tmp" / f"synthc-{os.getuid()}"


def test_without_a_home_caches_are_kept_in_a_private_temporary_directory(tmp_path, monkeypatch):
    from test_inputs import ocr_spec

    from synthc import api, file_digests
    from synthc.cache_files import cache_home, cache_path
    from synthc.generators.ocr import resources

    own = no_home(monkeypatch, tmp_path)
    monkeypatch.setattr(file_digests, "_KNOWN", {})
    monkeypatch.setattr(resources, "_COVERAGE", {})  # as a new process
    assert cache_home() is None
    assert cache_path("font-ink", "a.json") == str(own / "font-ink" / "a.json")
    spec = ocr_spec(tmp_path / "work", "  background: {kinds: [image]}\n")
    api.validate(spec)  # fonts hashed, their cmaps read, images checked: all of it cached
    assert os.listdir(tmp_path / "work") == ["spec.yaml"]  # no folder named "~" made here
    assert {"file-sha256", "font-coverage", "checked-images"} <= set(os.listdir(own))


def test_without_a_home_or_a_private_temporary_directory_nothing_is_cached(tmp_path, monkeypatch):
    from test_inputs import ocr_spec

    from synthc import api, file_digests
    from synthc.cache_files import cache_path
    from synthc.generators.ocr import resources

    own = no_home(monkeypatch, tmp_path)
    own.mkdir()
    own.chmod(0o777)  # open to others: what it holds could be anyone's
    monkeypatch.setattr(file_digests, "_KNOWN", {})
    monkeypatch.setattr(resources, "_COVERAGE", {})  # what this test learns stays here
    assert cache_path("font-ink", "a.json") is None
    assert read_cache_json(None, 10) is None
    spec = ocr_spec(tmp_path / "work", "  background: {kinds: [image]}\n")
    assert api.validate(spec).generator.fonts.resolved
    assert os.listdir(tmp_path / "work") == ["spec.yaml"] and os.listdir(own) == []


def test_a_relative_xdg_cache_home_is_ignored(tmp_path, monkeypatch):
    from synthc.cache_files import cache_home

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "cache")
    assert cache_home() == str(tmp_path / "home" / ".cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_home() == str(tmp_path / "xdg")


def test_a_cache_file_is_written_whole_through_its_writers_own_temporary(tmp_path, monkeypatch):
    from synthc import atomic, cache_files

    used = []
    real = atomic.writer_partial_path

    def spied(path):
        used.append(real(path))
        return used[-1]

    monkeypatch.setattr(cache_files, "writer_partial_path", spied)
    target = tmp_path / "a" / "b.json"
    cache_files.write_cache(target, b"[1]")
    cache_files.write_cache(target, b"[2]")
    assert target.read_bytes() == b"[2]" and os.listdir(target.parent) == ["b.json"]
    assert len(set(used)) == 2  # two writers at once never share a temporary
    cache_files.write_cache(None, b"[3]")  # no cache: nothing written, nothing raised
    target.parent.chmod(0o500)
    try:
        if os.access(target.parent, os.W_OK):  # root writes anyway: a file in the way instead
            target.parent.chmod(0o700)
            target.unlink()
            target.mkdir()
            (target / "x").write_bytes(b"")
        cache_files.write_cache(target, b"[4]")  # best effort: refused quietly, no temporary
    finally:
        target.parent.chmod(0o700)
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".partial")]
