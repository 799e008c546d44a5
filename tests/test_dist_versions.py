"""synthc.dist_versions.version gives what importlib.metadata.version gives, for every
distribution installed here and for metadata headers written oddly."""

from __future__ import annotations

import importlib.metadata
import sys

import pytest

from synthc.dist_versions import version


def test_every_installed_distribution_reads_the_same():
    names = {d.metadata["Name"] for d in importlib.metadata.distributions()} - {None}
    assert len(names) > 50  # the test venv: the check covers real, varied metadata
    differing = {n: (version(n), importlib.metadata.version(n)) for n in sorted(names)}
    assert {n: v for n, v in differing.items() if v[0] != v[1]} == {}


HEADERS = {
    "plain": "Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n\nVersion: 9\n",
    "crlf": "Metadata-Version: 2.1\r\nName: {name}\r\nversion:\t1.0 \r\n\r\n",
    "folded": "Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n  .post1\n",
    "folded_before": "Metadata-Version: 2.1\nSummary: a\n b\nName: {name}\nVersion: 2\n",
    "malformed_before": "Metadata-Version: 2.1\nnot a header\nName: {name}\nVersion: 3\n",
    "none": "Metadata-Version: 2.1\nName: {name}\n\nVersion: 4\n",
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(HEADERS))
def test_odd_headers_read_as_importlib_reads_them(tmp_path, monkeypatch, case):
    name = f"probe-{case.replace('_', '-')}"
    info = tmp_path / f"{name.replace('-', '_')}-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_bytes(HEADERS[case].format(name=name).encode())
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    assert _outcome(version, name) == _outcome(importlib.metadata.version, name)


def _outcome(read, name):
    """What ``read(name)`` returns, or the type of what it raises: where the importlib_metadata
    backport has put its finder in front (a test imported it), a header without a version is
    a KeyError rather than None, for both readers alike."""
    try:
        return read(name)
    except Exception as error:  # noqa: BLE001 - compared, not hidden
        return type(error)


def test_a_distribution_that_is_not_installed_is_refused_as_importlib_refuses_it():
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        version("no-such-distribution-synthc-probe")
