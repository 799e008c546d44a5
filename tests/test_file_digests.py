"""Input files' sha256 remembered by their stat signature (synthc.file_digests): used while the
file is unchanged, never for a file written since, a file written just before it was hashed,
a file its reader would refuse, or a cache file of another shape."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from test_cache_files import returns_unblocked
from test_inputs import PLAIN, a_font, ocr_spec

from synthc import api, file_digests, inputs
from synthc.cache_files import cache_path
from synthc.generators.ocr import resources
from synthc.inputs import InputError, digest_of


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own, none of it read into this process yet (nor anything
    learnt of fonts: what is known in this process is never written to this cache)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(file_digests, "_KNOWN", {})
    for name in ("_COVERAGE", "_INKED", "_KEPT"):
        monkeypatch.setattr(resources, name, {})
    return tmp_path / "cache"


def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files count as settled at once (else only those written two seconds before)."""
    monkeypatch.setattr(file_digests, "SETTLED_SECONDS", 0.0)


def forget() -> None:
    """As a new process: the cache is read from disk again."""
    file_digests._KNOWN.clear()


def counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    real = inputs.read_regular

    def read_regular(path, kind, shown, identity=None, limit=None):  # type: ignore[no-untyped-def]
        if kind != "cache":
            reads.append(Path(path).name)
        return real(path, kind, shown, identity, limit)

    monkeypatch.setattr(inputs, "read_regular", read_regular)
    return reads


def test_a_settled_file_is_hashed_once_then_remembered(tmp_path, monkeypatch):
    settled(monkeypatch)
    reads = counting_reads(monkeypatch)
    text = tmp_path / "words.txt"
    text.write_bytes(b"alpha\nbeta\n")
    expected = hashlib.sha256(b"alpha\nbeta\n").hexdigest()
    assert digest_of(text, "text", "words.txt") == (expected, b"alpha\nbeta\n")
    forget()
    assert digest_of(text, "text", "words.txt") == (expected, None)
    assert reads == ["words.txt"]


def test_a_file_written_again_is_hashed_again_even_with_its_old_size_and_mtime(
    tmp_path, monkeypatch
):
    settled(monkeypatch)
    text = tmp_path / "words.txt"
    text.write_bytes(b"alpha\n")
    old = text.stat()
    digest_of(text, "text", "words.txt")
    text.write_bytes(b"omega\n")  # same size
    os.utime(text, ns=(old.st_atime_ns, old.st_mtime_ns))  # the mtime put back; ctime moves on
    forget()
    assert digest_of(text, "text", "words.txt") == (
        hashlib.sha256(b"omega\n").hexdigest(),
        b"omega\n",
    )


def test_a_file_written_just_before_it_was_hashed_is_not_remembered(tmp_path, monkeypatch):
    reads = counting_reads(monkeypatch)
    text = tmp_path / "words.txt"
    text.write_bytes(b"alpha\n")  # a write in the same clock tick would keep its signature
    digest_of(text, "text", "words.txt")
    forget()
    digest_of(text, "text", "words.txt")
    assert reads == ["words.txt", "words.txt"]
    assert not (Path(cache_path("file-sha256", "x")).parent).exists()


def test_a_remembered_file_over_another_kinds_limit_is_still_refused(tmp_path, monkeypatch):
    settled(monkeypatch)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 100)
    digest_of(big, "text", "big.txt")
    forget()
    monkeypatch.setitem(inputs.limits.MAX_INPUT_BYTES, "text", 10)
    with pytest.raises(InputError, match="over the limit"):
        digest_of(big, "text", "big.txt")


def test_a_file_other_than_the_one_checked_is_not_taken_from_the_cache(tmp_path, monkeypatch):
    settled(monkeypatch)
    text = tmp_path / "words.txt"
    text.write_bytes(b"alpha\n")
    digest_of(text, "text", "words.txt")
    with pytest.raises(InputError, match="replaced"):
        digest_of(text, "text", "words.txt", identity=(1, 2))


#: a digest in the right shape, not the file's: taken on trust from a cache file of the one
#: shape written (the user's own cache, like Numba's), never from any other shape
PLANTED = "f" * 64

#: cache files that hold the file's signature with PLANTED and something of another shape
OTHER_SHAPES = {
    "digest too short": lambda sig: {"files": {"words.txt": [*sig, PLANTED], "b": [*sig, "0"]}},
    "digest in capitals": lambda sig: {"files": {"words.txt": [*sig, PLANTED.upper()]}},
    "negative number": lambda sig: {
        "files": {"words.txt": [*sig, PLANTED], "b": [-1] * 5 + [PLANTED]}
    },
    "a float": lambda sig: {"files": {"words.txt": [*sig[:4], float(sig[4]), PLANTED]}},
    "a path for a name": lambda sig: {
        "files": {"words.txt": [*sig, PLANTED], "../b": [*sig, PLANTED]}
    },
    "a seventh item": lambda sig: {"files": {"words.txt": [*sig, PLANTED, 7]}},
    "another key": lambda sig: {"files": {"words.txt": [*sig, PLANTED]}, "more": 1},
    "a list": lambda sig: [{"files": {"words.txt": [*sig, PLANTED]}}],
}


def plant(text: Path, content: object) -> None:
    """``content`` as the cache file of ``text``'s directory, unread yet by this process."""
    digest_of(text, "text", text.name)
    [cache] = Path(cache_path("file-sha256", "x")).parent.iterdir()
    cache.write_text(json.dumps(content))
    forget()


def test_a_cache_file_of_the_one_shape_is_trusted(tmp_path, monkeypatch):
    settled(monkeypatch)
    text = tmp_path / "words.txt"
    text.write_bytes(b"alpha\n")
    plant(text, {"files": {"words.txt": [*file_digests.signature(text.stat()), PLANTED]}})
    assert digest_of(text, "text", "words.txt") == (PLANTED, None)


@pytest.mark.parametrize("shape", sorted(OTHER_SHAPES))
def test_a_cache_file_of_another_shape_is_no_cache(tmp_path, monkeypatch, shape):
    settled(monkeypatch)
    text = tmp_path / "words.txt"
    text.write_bytes(b"alpha\n")
    plant(text, OTHER_SHAPES[shape](list(file_digests.signature(text.stat()))))
    assert digest_of(text, "text", "words.txt") == (
        hashlib.sha256(b"alpha\n").hexdigest(),
        b"alpha\n",
    )


def test_a_fifo_at_the_cache_path_is_no_cache(tmp_path, monkeypatch):
    settled(monkeypatch)
    text = tmp_path / "words.txt"
    text.write_bytes(b"alpha\n")
    digest_of(text, "text", "words.txt")
    [cache] = Path(cache_path("file-sha256", "x")).parent.iterdir()
    cache.unlink()
    os.mkfifo(cache)
    forget()
    found = returns_unblocked(cache, lambda: digest_of(text, "text", "words.txt"))
    assert found == (hashlib.sha256(b"alpha\n").hexdigest(), b"alpha\n")


def test_locate_finds_a_remembered_file_without_reading_it(tmp_path, monkeypatch):
    settled(monkeypatch)
    root = tmp_path / "data"
    root.mkdir()
    (root / "words.txt").write_bytes(b"alpha\n")
    sha256 = hashlib.sha256(b"alpha\n").hexdigest()
    digest_of(root / "words.txt", "text", "words.txt")
    forget()
    reads = counting_reads(monkeypatch)
    monkeypatch.setattr(inputs, "_LOCATIONS", {})
    monkeypatch.setattr(inputs, "_ROOTS", {})
    inputs.use_roots({"spec": [str(root)]})
    entry = {"root": "spec", "file": "words.txt", "sha256": sha256}
    assert inputs.locate(entry, "text") == str(root / "words.txt")
    assert reads == []
    with pytest.raises(InputError, match="not found"):
        inputs.locate({**entry, "sha256": "0" * 64}, "text")


def test_a_second_compile_of_an_ocr_spec_reads_no_font_and_records_true_digests(
    tmp_path, monkeypatch
):
    settled(monkeypatch)
    spec = ocr_spec(tmp_path, "  fonts: {dir: fonts}\n" + PLAIN)
    (tmp_path / "fonts").mkdir()
    shutil.copy(a_font(), tmp_path / "fonts" / "one.ttf")
    shutil.copy(a_font(), tmp_path / "fonts" / "two.ttf")
    first = api.validate(spec).generator.fonts.resolved
    forget()  # a new process, whose fonts' coverage is cached on disk
    monkeypatch.setattr(resources, "_COVERAGE", {})
    reads = counting_reads(monkeypatch)
    again = api.validate(spec).generator.fonts.resolved
    assert again == first and [name for name in reads if name.endswith(".ttf")] == []
    true = hashlib.sha256(a_font().read_bytes()).hexdigest()
    assert [font["sha256"] for font in again] == [true, true]

    font = tmp_path / "fonts" / "two.ttf"
    before = font.stat()
    data = bytearray(font.read_bytes())
    data[-1] ^= 1  # one bit of the last table changed, the size and mtime kept
    font.write_bytes(bytes(data))
    os.utime(font, ns=(before.st_atime_ns, before.st_mtime_ns))
    forget()
    changed = api.validate(spec).generator.fonts.resolved
    assert changed[1]["sha256"] == hashlib.sha256(bytes(data)).hexdigest() != true
    assert [name for name in reads if name.endswith(".ttf")] == ["two.ttf"]
