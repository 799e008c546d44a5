"""trdg's data (dictionaries, fonts, background images) and the glyph coverage of fonts.

Only the files a spec names are read, through synthc.inputs (allowed roots, regular files, size
limits), once per process. Each is resolved at compile time to a portable entry with its sha256
in the config, so an edited font or word list changes the task keys; a font that fontTools cannot
read, text that is not UTF-8 or an image Pillow cannot decode is a spec error at its field then.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import io
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from synthc import inputs
from synthc.atomic import write_atomic
from synthc.digest import file_sha256
from synthc.generators.base import FileProblem
from synthc.generators.ocr.backgrounds import check_image
from synthc.generators.ocr.config import OcrConfig
from synthc.inputs import InputError, InputFile, Reader

T = TypeVar("T")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def trdg_root() -> Path:
    """The installed trdg package directory (its data, not its code, is what synthc uses)."""
    spec = importlib.util.find_spec("trdg")
    if spec is None or spec.origin is None:
        raise ValueError(
            "trdg is not installed (pip install trdg): its fonts and dictionaries are needed"
        )
    return Path(spec.origin).parent


def _at(field: tuple[Any, ...], step: Callable[[], T]) -> T:
    """Run ``step``; a refused, missing or unreadable file becomes a FileProblem at ``field``."""
    try:
        return step()
    except FileProblem:
        raise
    except OSError as error:
        raise FileProblem(field, f"cannot read: {error}") from None
    except (ValueError, KeyError) as error:
        raise FileProblem(field, str(error)) from None


def resolve_files(config: OcrConfig, reader: Reader) -> OcrConfig:
    """``config`` with its fonts, text file and background images resolved (see module doc)."""
    for part in ("text", "fonts", "background"):
        if getattr(config, part).resolved is not None:
            raise FileProblem((part, "resolved"), "is set by synthc, not written in a spec")
    return _at(("fonts",), lambda: _resolve(config, reader))


def _font_files(config: OcrConfig, reader: Reader) -> list[tuple[tuple[Any, ...], InputFile]]:
    """Each font file with the field that names it."""
    fonts = config.fonts
    if fonts.language is not None:
        language = fonts.language
        root = trdg_root() / "fonts"
        names = sorted(p.name for p in root.iterdir() if p.is_dir())
        if language not in names:  # a name, never a path (``../..``)
            known = ", ".join(names)
            raise FileProblem(
                ("fonts", "language"), f"trdg has no {language!r} fonts; it has {known}"
            )
        field: tuple[Any, ...] = ("fonts", "language")
        found = _at(field, lambda: reader.files_in(root / language, FONT_SUFFIXES, "font"))
        return [(field, f) for f in found]
    if fonts.paths is not None:
        out = []
        for k, written in enumerate(fonts.paths):
            field = ("fonts", "paths", k)
            try:
                out.append((field, reader.file(written, "font")))
            except InputError as error:
                if error.missing:
                    raise FileProblem(field, f"no font file {written!r} beside the spec") from None
                raise FileProblem(field, str(error)) from None
        return out
    field = ("fonts", "dir")
    found = _at(field, lambda: reader.files_in(fonts.dir or ".", FONT_SUFFIXES, "font"))
    return [(field, f) for f in found]


def _font_entry(field: tuple[Any, ...], font: InputFile) -> dict[str, str]:
    data = _at(field, font.read_bytes)
    entry = font.entry(data)
    try:
        _coverage(entry["sha256"], lambda: data)
    except Exception as error:  # fontTools raises many kinds on a file that is not a font
        raise FileProblem(
            field, f"{font.name!r} is not a font file fontTools can read ({_first_line(error)})"
        ) from None
    return entry


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _resolve(config: OcrConfig, reader: Reader) -> OcrConfig:
    entries = [_font_entry(field, font) for field, font in _font_files(config, reader)]
    update: dict[str, object] = {"fonts": config.fonts.model_copy(update={"resolved": entries})}
    text = config.text
    own = text.path if text.source == "file" else text.dictionary if text.source == "dict" else None
    if own is not None:
        field = ("text", "path" if text.source == "file" else "dictionary")
        try:
            source = reader.file(own, "text")
        except InputError as error:
            if error.missing:
                raise FileProblem(field, f"no text file {own!r} beside the spec") from None
            raise FileProblem(field, str(error)) from None
        data = _at(field, source.read_bytes)
        entry = source.entry(data)
        if not _at(field, lambda: _remember_lines(entry, data, own)):
            raise FileProblem(field, f"{own!r} has no non-empty lines")
        update["text"] = text.model_copy(update={"resolved": entry})
    if "image" in config.background.kinds:
        written = config.background.images
        directory = written if written is not None else trdg_root() / "images"
        field = ("background", "images")
        found = _at(field, lambda: reader.files_in(directory, IMAGE_SUFFIXES, "image"))
        images = []
        for image in found:
            data = _at(field, image.read_bytes)
            _at(field, lambda: check_image(data, image.name))  # noqa: B023 - called at once
            images.append(image.entry(data))
        update["background"] = config.background.model_copy(update={"resolved": images})
    resolved = config.model_copy(update=update)
    check_drawable(resolved)
    return resolved


#: a dictionary source is checked on its first words
DICT_CHECK_WORDS = 5000


def check_drawable(config: OcrConfig) -> None:
    """Raise ValueError when no font can draw any text the source can produce."""
    from synthc.generators.ocr.text import candidate_texts

    fonts = config.fonts.resolved or []
    text = config.text
    if text.source == "random":
        alphabet = set(text.alphabet())
        missing = [sorted(ch for ch in alphabet if ord(ch) not in font_coverage(f)) for f in fonts]
        if all(missing):
            best = min(missing, key=len)
            raise FileProblem(
                ("text", "charset"),
                "no font has every character of the charset; the best lacks "
                f"{''.join(best[:20])!r}",
            )
        return
    if text.source == "dict" and text.resolved is not None:
        lines = text_lines(text.resolved)
        candidates = list(lines[:DICT_CHECK_WORDS])
    elif text.source == "dict":
        words = _at(("text", "language"), lambda: dictionary(text.language))
        candidates = list(words[:DICT_CHECK_WORDS])
    else:
        candidates = candidate_texts(text) or []
    if not any(drawable(t, f) for t in candidates for f in fonts if t.strip()):
        raise FileProblem(
            ("fonts",),
            f"none of the fonts ({len(fonts)}) can draw any of the text ({len(candidates)} "
            "candidates checked against each font's cmap)",
        )


@functools.lru_cache(maxsize=8)
def dictionary(language: str) -> tuple[str, ...]:
    """The words of trdg's ``dicts/<language>.txt`` (read once per process)."""
    path = trdg_root() / "dicts" / f"{language}.txt"
    if not path.is_file() or not language.replace("_", "").isalnum():
        known = sorted(p.stem for p in (trdg_root() / "dicts").glob("*.txt"))
        raise ValueError(f"no trdg dictionary {language!r}; known: {', '.join(known)}")
    data = inputs.read_regular(path, "text", f"trdg/dicts/{language}.txt")
    words = tuple(w for w in data.decode("utf-8").split("\n") if w.strip())
    return tuple(w.strip() for w in words)


_LINES: dict[str, tuple[str, ...]] = {}
_LOCK = threading.Lock()


def _remember_lines(entry: dict[str, str], data: bytes, shown: str) -> tuple[str, ...]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{shown!r} is not UTF-8 text (byte {error.start})") from None
    lines = tuple(line.strip() for line in text.splitlines() if line.strip())
    with _LOCK:
        _LINES[entry["sha256"]] = lines
    return lines


def text_lines(entry: dict[str, str]) -> tuple[str, ...]:
    """The non-empty lines of a resolved text file, checked against the hash taken at compile
    time (read once per process)."""
    lines = _LINES.get(entry["sha256"])
    if lines is not None:
        return lines
    path = inputs.locate(entry, "text")
    data = inputs.read_regular(path, "text", entry["file"])
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ValueError(f"{entry['file']}: changed since the spec was compiled; rebuild")
    return _remember_lines(entry, data, entry["file"])


def font_path(font: dict[str, str]) -> str:
    """Where the resolved font entry ``font`` is on this machine."""
    return inputs.locate(font, "font")


_COVERAGE: dict[str, frozenset[int]] = {}


def coverage(path: str, sha256: str | None = None) -> frozenset[int]:
    """Code points the font at ``path`` maps to a glyph (its best cmap)."""
    sha256 = sha256 or file_sha256(Path(path))
    return _coverage(sha256, lambda: inputs.read_regular(path, "font", Path(path).name))


def font_coverage(font: dict[str, str]) -> frozenset[int]:
    """Code points the resolved font entry ``font`` maps to a glyph."""
    return _coverage(
        font["sha256"], lambda: inputs.read_regular(font_path(font), "font", font["file"])
    )


def _coverage(sha256: str, read: Callable[[], bytes]) -> frozenset[int]:
    """The cmap of the font with ``sha256``. Reading a cmap with fontTools takes about 20 ms, so
    the answer is also kept on disk, keyed by the sha256: the font is read only on a miss."""
    found = _COVERAGE.get(sha256)
    if found is not None:
        return found
    cache = _cache_dir() / f"{sha256}.json"
    try:
        found = frozenset(json.loads(cache.read_text()))
    except (OSError, ValueError, TypeError):
        from fontTools.ttLib import TTFont

        with TTFont(io.BytesIO(read()), lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
        found = frozenset(cmap)
        with contextlib.suppress(OSError):
            write_atomic(cache, json.dumps(sorted(cmap)).encode())
    with _LOCK:
        _COVERAGE[sha256] = found
    return found


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "synthc" / "font-coverage"


def drawable(text: str, font: dict[str, str]) -> bool:
    """True if every character of ``text`` other than whitespace has a glyph in ``font`` (a
    resolved font entry)."""
    covered = font_coverage(font)
    return all(ord(ch) in covered for ch in text if not ch.isspace())
