"""Read a spec or template file as untrusted text: a regular file, bounded, UTF-8, printable."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from pathlib import Path

from synthc import limits
from synthc.errors import Position

#: characters YAML cannot hold as written, or that count as line breaks for YAML or Python
#: but not for the line map (tab and newline are fine; carriage returns are normalised first)
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


class UnreadableSource(Exception):
    """A file that cannot be a spec; ``position`` is where in it, None if not readable at all."""

    def __init__(
        self, message: str, position: Position | None = None, missing: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.missing = missing  # the file does not exist


def describe_char(char: str) -> str:
    """``'\\x07'`` -> ``'control character U+0007'``; a byte that is not UTF-8, which Python
    keeps in a command line's text as a lone surrogate U+DC80..U+DCFF, is said as that byte."""
    if "\udc80" <= char <= "\udcff":
        return f"byte 0x{ord(char) - 0xDC00:02X} that is not UTF-8"
    return f"control character U+{ord(char):04X}"


def read_source(path: Path, display: str) -> str:
    """The text of ``path`` with newlines normalised; UnreadableSource says what is wrong.

    Only a regular file is opened (a FIFO or device would block or never end) and never more
    than ``limits.MAX_SPEC_BYTES`` of it is read.
    """
    return read_source_hashed(path, display)[0]


def read_source_hashed(path: Path, display: str) -> tuple[str, str]:
    """:func:`read_source`'s text and the sha256 of the bytes it was read from (provenance)."""
    text, sha256, _ = read_source_written(path, display)
    return text, sha256


def read_source_written(path: Path, display: str) -> tuple[str, str, str]:
    """:func:`read_source_hashed`'s text and sha256, and the text as written (its line endings
    kept: the spec copy a build writes is these bytes, which the sha256 is of)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UnreadableSource("file not found", missing=True) from None
    except OSError as error:
        raise UnreadableSource(error.strerror or str(error)) from None
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableSource("is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableSource("is not a regular file (a FIFO, device or socket)")
    too_big = UnreadableSource(
        f"the file is larger than the limit of {limits.MAX_SPEC_BYTES:,} bytes "
        "(synthc.limits.MAX_SPEC_BYTES)",
        Position(display, 1, 1),
    )
    if info.st_size > limits.MAX_SPEC_BYTES:
        raise too_big
    try:
        # O_NONBLOCK: if the file was swapped for a FIFO since the check, open must not wait.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            data = file.read(limits.MAX_SPEC_BYTES + 1)
    except OSError as error:
        raise UnreadableSource(error.strerror or str(error)) from None
    if len(data) > limits.MAX_SPEC_BYTES:
        raise too_big
    written = decode_written(data, display)
    text = check_text(normalise_newlines(written), display)
    return text, hashlib.sha256(data).hexdigest(), written


def decode(data: bytes, display: str) -> str:
    """UTF-8 text with newlines normalised; the position of the first bad byte if it is not."""
    return normalise_newlines(decode_written(data, display))


def normalise_newlines(text: str) -> str:
    """``text`` with CRLF and CR line endings as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_written(data: bytes, display: str) -> str:
    """UTF-8 text as written (line endings kept); the position of the first bad byte if it is
    not."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        col = len(data[line_start : error.start].decode("utf-8", "replace")) + 1
        raise UnreadableSource(
            f"not UTF-8 text: byte 0x{data[error.start]:02x} ({error.reason})"
            + _other_encoding(data),
            Position(display, line, col),
        ) from None
    return text


#: byte-order marks of the encodings an editor (Windows Notepad, PowerShell's `>`) may save in
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _other_encoding(data: bytes) -> str:
    """``"; the file is UTF-16 ...: save it as UTF-8"`` when ``data`` starts with the
    byte-order mark of another Unicode encoding, else ``""``."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return f"; the file is {name} (it starts with that byte-order mark): save it as UTF-8"
    return ""


def check_text(text: str, display: str) -> str:
    """``text`` if every character is printable; else the first offending one's position."""
    match = UNPRINTABLE.search(text)
    if match is None:
        return text
    start = match.start()
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    advice = (
        "(write the text in UTF-8)"
        if "\udc80" <= match[0] <= "\udcff"
        else '(inside a double-quoted string write it as an escape, e.g. "\\x07")'
    )
    raise UnreadableSource(
        f"{describe_char(match[0])} is not allowed in a spec {advice}",
        Position(display, line, col),
    )
