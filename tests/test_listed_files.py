"""Files listed from a directory (synthc.inputs.Reader.files_in) are confined like any path:
each resolves where a realpath leads, through a symlinked directory or a symlinked entry."""

from __future__ import annotations

import os

import pytest

from synthc import inputs


def test_listed_files_are_resolved_as_realpath_resolves_them(tmp_path):
    target = tmp_path / "spec" / "store"
    target.mkdir(parents=True)
    (target / "a.txt").write_text("a\n")
    (target / "b.txt").write_text("b\n")
    (tmp_path / "spec" / "texts").symlink_to(target)  # the directory through a symlink
    (target / "c.txt").symlink_to(target / "a.txt")  # an entry that is one
    found = inputs.Reader(tmp_path / "spec").files_in("texts", (".txt",), "text")
    assert [f.written for f in found] == ["texts/a.txt", "texts/b.txt", "texts/c.txt"]
    for file in found:
        assert file.path == type(file.path)(os.path.realpath(tmp_path / "spec" / file.written))
        assert file.root.kind == "spec"
    assert [f.opened for f in found] == [None, None, target / "c.txt"]  # a symlink led there
    assert found[2].path == target / "a.txt" and found[2].read_bytes() == b"a\n"


def test_a_listed_symlink_out_of_the_roots_is_refused(tmp_path):
    (tmp_path / "outside.txt").write_text("secret\n")
    texts = tmp_path / "spec" / "texts"
    texts.mkdir(parents=True)
    (texts / "a.txt").write_text("a\n")
    (texts / "b.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(inputs.InputError, match="'texts/b.txt' resolves outside"):
        inputs.Reader(tmp_path / "spec").files_in("texts", (".txt",), "text")
