"""Readers of trdg's data (dictionaries, fonts, background images) and of the files a spec
names, and the glyph coverage of fonts.

Every reader takes a path or a resolved entry (a portable name with its sha256,
synthc.inputs), never the config: turning the config's names into entries is
:mod:`synthc.generators.ocr.files`. Files are read through synthc.inputs (allowed roots, regular
files, size limits), once per process; a resolved file is checked against the sha256 taken at
compile time.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import threading
from collections.abc import Callable
from pathlib import Path

from synthc import inputs
from synthc.digest import file_sha256
from synthc.generators.control_chars import CONTROL_CHARS
from synthc.generators.ocr import font_cache
from synthc.generators.ocr.line_index import LineIndex, characters
from synthc.generators.ocr.shaping import hidden, needs_shaping

FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


#: what a spec that names trdg's data is told when trdg is not installed (a lean install)
TRDG_MISSING = (
    "needs trdg's fonts, dictionaries and background images, which are not installed: "
    "pip install 'synthc[ocr]'"
)


#: the libraries of the ``ocr`` extra: the module each provides, and its distribution's name
OCR_EXTRA = {"trdg": "trdg", "fontTools": "fonttools"}


def missing_ocr_libraries() -> list[str]:
    """The distributions of the ``ocr`` extra that are not installed (found without importing
    them): fontTools reads each font's cmap, and trdg's version is in every OCR task key."""
    return [dist for module, dist in OCR_EXTRA.items() if importlib.util.find_spec(module) is None]


def extra_missing_message(missing: list[str]) -> str:
    """What an OCR spec is told when ``missing`` libraries of the ``ocr`` extra are absent."""
    names = " and ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    return f"kind ocr_text needs {names}, which {verb} not installed: pip install 'synthc[ocr]'"


def trdg_root() -> Path:
    """The installed trdg package directory (its data, not its code, is what synthc uses),
    located without importing trdg; ValueError saying what to install when it is missing."""
    spec = importlib.util.find_spec("trdg")
    if spec is None or spec.origin is None:
        raise ValueError(TRDG_MISSING)
    return Path(spec.origin).parent


@functools.lru_cache(maxsize=8)
def dictionary(language: str) -> tuple[str, ...]:
    """The words of trdg's ``dicts/<language>.txt`` (read once per process)."""
    words = tuple(w for w in dictionary_text(language).split("\n") if w.strip())
    return tuple(w.strip() for w in words)


def dictionary_characters(language: str) -> set[str]:
    """Every character of trdg's ``dicts/<language>.txt``."""
    return characters(dictionary_text(language))


def dictionary_head(language: str, count: int) -> tuple[str, ...]:
    """``dictionary(language)[:count]``, without splitting the whole list (English has 466,480
    words, 0.2 s to split and strip): what compiling checks against the fonts."""
    rest = dictionary_text(language)
    words: list[str] = []
    while rest and len(words) < count:
        parts = rest.split("\n", count)
        rest = parts.pop() if len(parts) > count else ""
        words += [w.strip() for w in parts if w.strip()]
    return tuple(words[:count])


@functools.lru_cache(maxsize=2)
def dictionary_text(language: str) -> str:
    """The text of trdg's ``dicts/<language>.txt``; ValueError listing the known ones. Read
    once per process: validate's checks read it three times (0.16 s for Japanese)."""
    path = trdg_root() / "dicts" / f"{language}.txt"
    if not path.is_file() or not language.replace("_", "").isalnum():
        known = sorted(p.stem for p in (trdg_root() / "dicts").glob("*.txt"))
        raise ValueError(f"no trdg dictionary {language!r}; known: {', '.join(known)}")
    return inputs.read_regular(path, "text", f"trdg/dicts/{language}.txt").decode("utf-8")


_LINES: dict[str, LineIndex] = {}
_LOCK = threading.Lock()


def remember_lines(entry: dict[str, str], data: bytes, shown: str) -> LineIndex:
    """The non-empty lines of ``data``, the content of the text file ``entry``, kept for
    :func:`text_lines`; ValueError naming ``shown`` if it is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{shown!r} is not UTF-8 text (byte {error.start})") from None
    # a byte order mark (a Windows editor's "UTF-8 with BOM") is no text of the first line: it
    # was labelled as an invisible first character with a zero-width box
    lines = LineIndex(text.removeprefix("\ufeff"))
    bad = lines.first_in_lines(CONTROL_CHARS)
    if bad is not None:  # drawn as nothing, yet labelled with a zero-width box
        raise ValueError(
            f"{shown!r}: text line {bad[0]} holds the control character "
            f"U+{ord(bad[1]):04X}, which no font draws"
        )
    with _LOCK:
        _LINES[entry["sha256"]] = lines
    return lines


def text_lines(entry: dict[str, str]) -> LineIndex:
    """The non-empty lines of a resolved text file, checked against the hash taken at compile
    time (read once per process)."""
    lines = _LINES.get(entry["sha256"])
    if lines is not None:
        return lines
    path = inputs.locate(entry, "text")
    data = inputs.read_regular(path, "text", entry["file"])
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ValueError(f"{entry['file']}: changed since the spec was compiled; rebuild")
    return remember_lines(entry, data, entry["file"])


def font_path(font: dict[str, str]) -> str:
    """Where the resolved font entry ``font`` is on this machine."""
    return inputs.locate(font, "font")


#: per font sha256, its code points; or their ranges, as cached on disk, until asked for
_COVERAGE: dict[str, frozenset[int] | list[list[int]]] = {}


def coverage(path: str, sha256: str | None = None) -> frozenset[int]:
    """Code points the font at ``path`` maps to a glyph (its best cmap)."""
    sha256 = sha256 or file_sha256(Path(path))
    return cached_coverage(sha256, lambda: inputs.read_regular(path, "font", Path(path).name))


def font_coverage(font: dict[str, str]) -> frozenset[int]:
    """Code points the resolved font entry ``font`` maps to a glyph."""
    return cached_coverage(
        font["sha256"], lambda: inputs.read_regular(font_path(font), "font", font["file"])
    )


def cached_coverage(sha256: str, read: Callable[[], bytes]) -> frozenset[int]:
    """The cmap of the font with ``sha256``, whose bytes ``read`` gives. Reading a cmap with
    fontTools takes about 20 ms, so the answer is also kept on disk, keyed by the sha256
    (synthc.generators.ocr.font_cache): the font is read only on a miss. A file that is not a
    font raises what fontTools raises."""
    known = _COVERAGE.get(sha256)
    if isinstance(known, frozenset):
        return known
    ranges = font_cache.read_coverage(sha256) if known is None else known
    if ranges is not None:
        found = font_cache.points(ranges)
    else:
        from fontTools.ttLib import TTFont

        with TTFont(io.BytesIO(read()), lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
        found = frozenset(cmap)
        font_cache.write_coverage(sha256, found)
    with _LOCK:
        _COVERAGE[sha256] = found
    return found


def coverage_known(sha256: str) -> bool:
    """Whether the cmap of the font with ``sha256`` was read before (in this process, or on
    disk, in a cache file that holds one): the font is then one fontTools can read, without
    parsing the cmap again."""
    if sha256 in _COVERAGE:
        return True
    ranges = font_cache.read_coverage(sha256)
    if ranges is None:
        return False
    with _LOCK:
        _COVERAGE.setdefault(sha256, ranges)  # made code points when first asked for
    return True


#: tables of glyphs drawn without outlines (bitmaps, colour layers, SVG): a font with one is
#: taken to put ink on the image for every character it maps
_PICTURE_TABLES = ("CBDT", "EBDT", "bdat", "sbix", "SVG ", "COLR")
#: per font sha256, each character judged: True if it draws ink (or is not mapped)
_INKED: dict[str, dict[str, bool]] = {}
#: the part of each that fontTools judged (or the disk held): what is kept on disk
_KEPT: dict[str, dict[str, bool]] = {}


def inked(text: str, font: dict[str, str]) -> bool:
    """True unless every character of ``text`` draws nothing in ``font`` (a resolved font
    entry): whitespace, mapped to a glyph without an outline (U+200B, a blank space glyph), or
    hidden by the shaping ``text`` gets (U+200D), which no size, stroke or effect turns into a
    pixel. Read with fontTools, only for
    characters not judged before, in this process or (kept by the font's sha256) on disk."""
    sha256 = font["sha256"]
    known = _INKED.get(sha256)
    if known is None:
        stored = font_cache.read_ink(sha256) or {}
        with _LOCK:
            _KEPT.setdefault(sha256, stored)
            known = _INKED.setdefault(sha256, dict(stored))
    unknown = {ch for ch in text if not ch.isspace() and ch not in known}
    if unknown:
        judged = _outlined(font, unknown)
        with _LOCK:
            known.update(judged or dict.fromkeys(unknown, True))
            if judged is not None:  # what fontTools failed on is judged again next time
                _KEPT[sha256].update(judged)
                kept = dict(_KEPT[sha256])
        if judged is not None:
            font_cache.write_ink(sha256, kept)
    shaped = needs_shaping(text)  # Raqm hides default-ignorable characters, outline or not
    return any(known[ch] for ch in text if not ch.isspace() and not hidden(ch, shaped))


def _outlined(font: dict[str, str], chars: set[str]) -> dict[str, bool] | None:
    """Whether each of ``chars`` maps to a glyph with an outline in ``font`` (a character the
    font does not map counts as inked: it is judged by :func:`drawable`); None when fontTools
    fails on the font. ValueError if the font's bytes no longer have its sha256."""
    from fontTools.pens.boundsPen import ControlBoundsPen
    from fontTools.ttLib import TTFont

    data = inputs.read_regular(font_path(font), "font", font["file"])
    if hashlib.sha256(data).hexdigest() != font["sha256"]:  # its verdicts are kept by it
        raise ValueError(f"{font['file']}: changed since the spec was compiled; rebuild")
    out = dict.fromkeys(chars, True)
    try:
        with TTFont(io.BytesIO(data), lazy=True, fontNumber=0) as tt:
            if any(tag in tt for tag in _PICTURE_TABLES):
                return out
            cmap = tt.getBestCmap() or {}
            glyphs = tt.getGlyphSet()
            for ch in chars:
                name = cmap.get(ord(ch))
                if name is not None:
                    pen = ControlBoundsPen(glyphs)
                    glyphs[name].draw(pen)
                    out[ch] = pen.bounds is not None
    except Exception:  # fontTools raises many kinds on a broken glyph: the build judges it
        return None
    return out


@functools.lru_cache(maxsize=4096)
def _line_height_of(path: str, sha256: str, size: int) -> int:
    from PIL import ImageFont

    ascent, descent = ImageFont.truetype(path, size).getmetrics()
    return int(ascent + descent)


def fitted_size(size: int, room: int, line: int) -> int:
    """The font size at which a font whose line (ascent + descent, or a vertical line's cell)
    is ``line`` px at ``size`` fills ``room`` px: the size a line is drawn at, so effects run
    on pixels near their final size."""
    return max(4, round(size * room / max(1, line)))


def line_height(font: dict[str, str], size: int) -> int:
    """Ascent + descent in px of ``font`` (a resolved font entry) at ``size``, as the drawing
    measures them (Pillow's FreeType metrics, basic layout)."""
    return _line_height_of(font_path(font), font["sha256"], size)


@functools.lru_cache(maxsize=4096)
def _widest_advance_of(path: str, sha256: str) -> float:
    import struct

    with open(path, "rb") as file:

        def read(offset: int, size: int) -> bytes:
            file.seek(offset)
            data = file.read(size)
            if len(data) != size:
                raise ValueError("its tables end before the file says")
            return data

        base = 0
        if read(0, 4) == b"ttcf":  # a collection: its first font, as the drawing uses
            (base,) = struct.unpack(">I", read(12, 4))
        (count,) = struct.unpack(">H", read(base + 4, 2))
        tables = {}
        for k in range(count):
            tag, _, offset, _ = struct.unpack(">4sIII", read(base + 12 + 16 * k, 16))
            tables[tag] = offset
        if not {b"head", b"hhea", b"hmtx"} <= tables.keys():
            raise ValueError("no head, hhea or hmtx table (horizontal metrics)")
        (units,) = struct.unpack(">H", read(tables[b"head"] + 18, 2))
        (metrics,) = struct.unpack(">H", read(tables[b"hhea"] + 34, 2))
        advances = struct.unpack(f">{2 * metrics}H", read(tables[b"hmtx"], 4 * metrics))[0::2]
    return max(advances, default=0) / max(units, 1)


def widest_advance(font: dict[str, str]) -> float:
    """The widest advance of any glyph of ``font`` (a resolved font entry), in em, from its
    ``hmtx`` table as FreeType lays glyphs out (read raw: fontTools' parse of it takes about
    4 ms a font). ValueError if the tables are cut short."""
    return _widest_advance_of(font_path(font), font["sha256"])


def drawable(text: str, font: dict[str, str]) -> bool:
    """True if every character of ``text`` other than whitespace has a glyph in ``font`` (a
    resolved font entry)."""
    covered = font_coverage(font)
    return all(ord(ch) in covered for ch in text if not ch.isspace())
