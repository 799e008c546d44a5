"""WebDataset shards: one tar per shard, ``<key>.<ext>`` members grouped by sample, in order.

Byte-reproducible: members are written in the order given with mtime 0, owner 0:0, no user or
group names and mode 0644, in the POSIX ustar format, so the same samples give the same bytes.
Read back by :func:`read_tar_samples`, the one place that says which members a shard may hold
(``synthc.open`` and ``synthc verify`` both read through it).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from synthc import limits
from synthc.atomic import write_atomic_by
from synthc.errors import OutputError, counted
from synthc.outputs.confine import open_regular

if TYPE_CHECKING:
    from synthc.generators.base import Column

Sample = tuple[str, dict[str, bytes]]


def write_tar_shard(samples: Iterable[Sample], path: Path) -> tuple[int, str]:
    """Write ``samples`` (key, {extension: bytes}) to ``path`` atomically; (bytes, sha256).

    Samples are written as they arrive, so a stream is never held whole."""

    def fill(tmp: Path) -> None:
        with (
            open(tmp, "wb") as handle,
            tarfile.open(fileobj=handle, mode="w", format=tarfile.USTAR_FORMAT) as tar,
        ):
            for key, files in samples:
                for ext, data in files.items():
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size = len(data)
                    info.mtime = 0
                    info.mode = 0o644
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    tar.addfile(info, io.BytesIO(data))

    return write_atomic_by(path, fill)


def sample_key(index: int) -> str:
    """The key of sample ``index`` in a tar: the global index in 12 digits (more past 10**12)."""
    return f"{index:012d}"


@dataclass(frozen=True)
class TarLayout:
    """What one shard's tar holds, from the manifest: samples ``first`` to ``first + samples - 1``
    in index order, each the members ``<key>.<ext>`` of exactly the extensions ``files`` (the
    schema's columns), consecutive, in any order among themselves."""

    first: int
    samples: int
    files: tuple[str, ...]

    @classmethod
    def of_columns(cls, first: int, samples: int, columns: Iterable[Column]) -> TarLayout:
        """The layout of samples ``first`` to ``first + samples - 1`` of a file generator whose
        schema is ``columns`` (its ``columns(config)``): each column names a file's extension."""
        return cls(first, samples, tuple(column.name for column in columns))

    @classmethod
    def of(cls, shard: dict[str, Any], schema: Any) -> TarLayout:
        """The layout of a manifest's shard entry in a dataset of ``schema`` (the manifest's;
        untrusted: columns without a name name no file)."""
        columns = schema.get("columns") if isinstance(schema, dict) else None
        files = tuple(
            column["name"]
            for column in (columns if isinstance(columns, list) else [])
            if isinstance(column, dict) and isinstance(column.get("name"), str)
        )
        return cls(shard["first_sample"], shard["samples"], files)


#: bytes of a header extension (a pax header, a GNU long name) a reader takes: tarfile reads
#: one whole into memory, several times over, before a member is seen; synthc writes none (its
#: names fit a ustar header), and a pax header of a long name and a few fields is far smaller
MAX_HEADER_EXTENSION_BYTES = 1 << 16
_EXTENSIONS = {
    tarfile.XHDTYPE: "pax header",
    tarfile.XGLTYPE: "pax global header",
    tarfile.SOLARIS_XHDTYPE: "pax header",
    tarfile.GNUTYPE_LONGNAME: "GNU long name",
    tarfile.GNUTYPE_LONGLINK: "GNU long link",
}


class _BoundedTarInfo(tarfile.TarInfo):
    """A tar header that refuses, before tarfile reads them, a header extension over
    :data:`MAX_HEADER_EXTENSION_BYTES` and a GNU sparse member (whose map tarfile collects
    block by block, and which synthc never writes)."""

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise tarfile.HeaderError(f"member {self.name!r:.80} is a GNU sparse file")
        kind = _EXTENSIONS.get(self.type)
        if kind is not None and self.size > MAX_HEADER_EXTENSION_BYTES:
            raise tarfile.HeaderError(
                f"a {kind} of {self.size} bytes, over the {MAX_HEADER_EXTENSION_BYTES} a "
                "reader takes"
            )
        found: tarfile.TarInfo = super()._proc_member(tarfile_)  # type: ignore[misc]
        return found


def read_tar_samples(handle: BinaryIO, layout: TarLayout, where: str) -> Iterator[Sample]:
    """``(key, {extension: bytes})`` per sample of the tar read front to back from ``handle``
    (an uncompressed tar only, as synthc writes them: a compressed one is never decompressed).

    OutputError naming ``where`` (and the member) for a member that is not a regular file named
    ``<key>.<extension>`` of ``layout``'s next sample, one over synthc.limits.MAX_SAMPLE_BYTES or
    cut short, a sample without all of ``layout.files``, and a tar that ends before
    ``layout.samples`` samples (checked before the last sample is yielded). The checks read
    only what the samples are read for: no hashing.
    """
    key: str | None = None
    files: dict[str, bytes] = {}
    begun = 0
    try:
        with tarfile.open(fileobj=handle, mode="r|", tarinfo=_BoundedTarInfo) as tar:
            for member in tar:
                name_key, ext = _member_name(where, member)
                if name_key != key:
                    if key is not None:
                        _check_whole(where, layout, key, files)
                        yield key, files
                        files = {}
                    key = _next_key(where, layout, begun, member.name, name_key)
                    begun += 1
                elif ext in files:
                    raise OutputError(f"{where}: member {member.name!r:.80} is in the tar twice")
                if ext not in layout.files:
                    raise OutputError(
                        f"{where}: member {member.name!r:.80} is not one of a sample's files "
                        f"({', '.join(f'.{name}' for name in layout.files) or 'none listed'})"
                    )
                files[ext] = _member_bytes(where, tar, member)
    except tarfile.TarError as error:
        raise OutputError(f"{where}: unreadable as a tar ({error})") from None
    except OSError as error:
        raise OutputError(f"{where}: unreadable ({error.strerror or error})") from None
    if begun != layout.samples:
        raise OutputError(
            f"{where}: ends after {begun} of the {counted(layout.samples, 'sample')} the manifest "
            "records "
            "(cut short, or samples taken out)"
        )
    if key is not None:
        _check_whole(where, layout, key, files)
        yield key, files


def _member_name(where: str, member: tarfile.TarInfo) -> tuple[str, str]:
    """``(key, extension)`` of a member: the key runs to the first dot of the file name."""
    if not member.isfile():
        raise OutputError(f"{where}: member {member.name!r:.80} is not a regular file")
    folder, _, base = member.name.rpartition("/")
    stem, dot, ext = base.partition(".")
    if not dot or not stem or not ext:
        raise OutputError(f"{where}: member {member.name!r:.80} is not <key>.<extension>")
    return (f"{folder}/{stem}" if folder else stem), ext


def _next_key(where: str, layout: TarLayout, begun: int, name: str, key: str) -> str:
    """``key``, the key of a member starting a sample, if it is the next sample's key."""
    if begun >= layout.samples:
        raise OutputError(
            f"{where}: member {name!r:.80} is past the {counted(layout.samples, 'sample')} the "
            "manifest "
            "records"
        )
    expected = sample_key(layout.first + begun)
    if key != expected:
        raise OutputError(
            f"{where}: member {name!r:.80} is out of place: sample {expected} comes next"
        )
    return key


def _check_whole(where: str, layout: TarLayout, key: str, files: dict[str, bytes]) -> None:
    missing = [f"{key}.{name}" for name in layout.files if name not in files]
    if missing:
        raise OutputError(f"{where}: sample {key} lacks member {', '.join(missing)}")


def _member_bytes(where: str, tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    if member.size > limits.MAX_SAMPLE_BYTES:
        raise OutputError(
            f"{where}: member {member.name!r:.80} holds {member.size} bytes, over the limit "
            f"of {limits.MAX_SAMPLE_BYTES} (synthc.limits.MAX_SAMPLE_BYTES)"
        )
    handle = tar.extractfile(member)
    data = handle.read() if handle is not None else b""
    if len(data) != member.size:
        raise OutputError(f"{where}: member {member.name!r:.80} is cut short")
    return data


IMAGE_EXTENSIONS = ("png", "jpg")


def read_tar_members(
    path: Path, limit: int, exts: tuple[str, ...] = IMAGE_EXTENSIONS
) -> list[bytes]:
    """The first ``limit`` members whose extension is one of ``exts`` (for previews); OutputError
    for a member over synthc.limits.MAX_SAMPLE_BYTES or cut short, or a file that is no tar.

    Read front to back as a stream, like :func:`read_tar_samples`: a header whose size is
    negative would send a seeking reader back to an earlier header, round and round for ever
    (collecting members), and a long-name header's size would be allocated at once."""
    found: list[bytes] = []
    where = str(path)
    try:
        with (
            open_regular(path) as handle,
            tarfile.open(fileobj=handle, mode="r|", tarinfo=_BoundedTarInfo) as tar,
        ):
            for member in tar:
                if len(found) >= limit:
                    break
                if member.isfile() and member.name.rsplit(".", 1)[-1] in exts:
                    found.append(_member_bytes(where, tar, member))
    except tarfile.TarError as error:
        raise OutputError(f"{where}: unreadable as a tar ({error})") from None
    return found
