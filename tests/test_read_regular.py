"""synthc.inputs.read_regular reads the size fstat gives at once, and still reads a file that
grew since to its end, refusing one that grew past its kind's limit."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from synthc import inputs, limits


def _grown_since_checked(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """Make stat and fstat report ``size`` bytes: the file grew after it was checked."""

    def shrunk(real: Callable[..., os.stat_result]) -> Callable[..., os.stat_result]:
        def check(file: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            info = list(real(file, *args, **kwargs))
            info[6] = size  # st_size
            return os.stat_result(info)

        return check

    monkeypatch.setattr(inputs.os, "stat", shrunk(os.stat))
    monkeypatch.setattr(inputs.os, "fstat", shrunk(os.fstat))


def test_a_file_is_read_whole(tmp_path):
    data = os.urandom(3 << 20) + b"end"
    (tmp_path / "big.txt").write_bytes(data)
    assert inputs.read_regular(tmp_path / "big.txt", "text", "big.txt") == data


def test_a_file_grown_after_its_check_is_read_to_its_end(tmp_path, monkeypatch):
    data = os.urandom(3 << 20)
    (tmp_path / "grown.txt").write_bytes(data)
    _grown_since_checked(monkeypatch, 10)
    assert inputs.read_regular(tmp_path / "grown.txt", "text", "grown.txt") == data


def test_a_file_grown_past_its_limit_after_its_check_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(limits.MAX_INPUT_BYTES, "text", 2 << 20)
    (tmp_path / "grown.txt").write_bytes(b"x" * ((2 << 20) + 1))
    _grown_since_checked(monkeypatch, 100)
    with pytest.raises(inputs.InputError, match="grew past the limit of 2097152 bytes"):
        inputs.read_regular(tmp_path / "grown.txt", "text", "grown.txt")
    # one byte less is read, whole
    (tmp_path / "grown.txt").write_bytes(b"x" * (2 << 20))
    assert len(inputs.read_regular(tmp_path / "grown.txt", "text", "grown.txt")) == 2 << 20
