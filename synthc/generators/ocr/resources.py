"""trdg's data (dictionaries, fonts, background images) and the glyph coverage of fonts.

Only the files a spec names are read, once per process. Paths are resolved at compile time, with
each file's sha256 in the config, so an edited font or word list changes the task keys.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from synthc.generators.base import FileProblem
from synthc.generators.ocr.config import OcrConfig, sha256_file
from synthc.outputs.atomic import write_atomic

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


def _entries(paths: list[Path]) -> list[dict[str, str]]:
    return [{"path": str(p.resolve()), "name": p.name, "sha256": sha256_file(p)} for p in paths]


def _files_in(directory: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not directory.is_dir():
        raise ValueError(f"{directory}: not a directory")
    found = sorted(p for p in directory.iterdir() if p.suffix.lower() in suffixes)
    if not found:
        raise ValueError(f"{directory}: no {'/'.join(suffixes)} files")
    return found


def _at(field: tuple[str, ...], step: Callable[[], T]) -> T:
    """Run ``step``; a missing or unreadable file becomes a FileProblem at ``field``."""
    try:
        return step()
    except FileProblem:
        raise
    except OSError as error:
        raise FileProblem(field, f"cannot read: {error}") from None
    except (ValueError, KeyError) as error:
        raise FileProblem(field, str(error)) from None


def resolve_files(config: OcrConfig, base: Path) -> OcrConfig:
    """``config`` with its fonts, text file and background images resolved (see module doc)."""
    return _at(("fonts",), lambda: _resolve(config, base))


def _resolve(config: OcrConfig, base: Path) -> OcrConfig:
    fonts = config.fonts
    if fonts.language is not None:
        language = fonts.language
        root = trdg_root() / "fonts"
        if not (root / language).is_dir():
            known = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir()))
            raise FileProblem(
                ("fonts", "language"), f"trdg has no {language!r} fonts; it has {known}"
            )
        font_files = _files_in(root / language, FONT_SUFFIXES)
    elif fonts.paths is not None:
        font_files = [base / p for p in fonts.paths]
        for k, path in enumerate(font_files):
            if not path.is_file():
                written = fonts.paths[k]
                raise FileProblem(
                    ("fonts", "paths", k), f"no font file {written!r} beside the spec"
                )
    else:
        font_files = _at(
            ("fonts", "dir"), lambda: _files_in(base / (fonts.dir or "."), FONT_SUFFIXES)
        )
    entries = _at(("fonts",), lambda: _entries(font_files))
    update: dict[str, object] = {"fonts": fonts.model_copy(update={"resolved": entries})}
    text = config.text
    own = text.path if text.source == "file" else text.dictionary if text.source == "dict" else None
    if own is not None:
        path = base / own
        field = ("text", "path" if text.source == "file" else "dictionary")
        if not path.is_file():
            raise FileProblem(field, f"no text file {own!r} beside the spec")
        entry = _at(field, lambda: _entries([path])[0])
        update["text"] = text.model_copy(update={"resolved": entry})
    if "image" in config.background.kinds:
        directory = (
            base / config.background.images if config.background.images else trdg_root() / "images"
        )
        images = _at(
            ("background", "images"), lambda: _entries(_files_in(directory, IMAGE_SUFFIXES))
        )
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
        missing = [
            sorted(ch for ch in alphabet if ord(ch) not in coverage(f["path"], f["sha256"]))
            for f in fonts
        ]
        if all(missing):
            best = min(missing, key=len)
            raise FileProblem(
                ("text", "charset"),
                "no font has every character of the charset; the best lacks "
                f"{''.join(best[:20])!r}",
            )
        return
    if text.source == "dict" and text.resolved is not None:
        lines = text_lines(text.resolved["path"], text.resolved["sha256"])
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
    if not path.is_file():
        known = sorted(p.stem for p in (trdg_root() / "dicts").glob("*.txt"))
        raise ValueError(f"no trdg dictionary {language!r}; known: {', '.join(known)}")
    words = tuple(w for w in path.read_text(encoding="utf-8").split("\n") if w.strip())
    return tuple(w.strip() for w in words)


@functools.lru_cache(maxsize=4)
def text_lines(path: str, sha256: str) -> tuple[str, ...]:
    """The non-empty lines of a text file, checked against the hash taken at compile time."""
    if sha256_file(Path(path)) != sha256:
        raise ValueError(f"{path}: changed since the spec was compiled; rebuild")
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


@functools.lru_cache(maxsize=256)
def coverage(path: str, sha256: str | None = None) -> frozenset[int]:
    """Code points the font at ``path`` maps to a glyph (its best cmap). Reading a cmap with
    fontTools takes about 20 ms, so the answer is also kept on disk, keyed by the font's sha256
    (give it when known, as resolved configs do, and the font is read only on a cache miss)."""
    sha256 = sha256 or sha256_file(Path(path))
    cache = _cache_dir() / f"{sha256}.json"
    try:
        return frozenset(json.loads(cache.read_text()))
    except (OSError, ValueError):
        pass
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True, fontNumber=0) as font:
        cmap = font.getBestCmap() or {}
    with contextlib.suppress(OSError):
        write_atomic(cache, json.dumps(sorted(cmap)).encode())
    return frozenset(cmap)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "synthc" / "font-coverage"


def drawable(text: str, font: dict[str, str]) -> bool:
    """True if every character of ``text`` other than whitespace has a glyph in ``font`` (a
    resolved font entry: path and sha256)."""
    covered = coverage(font["path"], font["sha256"])
    return all(ord(ch) in covered for ch in text if not ch.isspace())
