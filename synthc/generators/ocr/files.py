"""Resolution of the files an OCR config names: its fonts, text file and background images
become portable entries with their sha256 in the config.

Files are read through the compile's synthc.inputs Reader (allowed roots, regular files, size
limits), so an edited font or word list changes the task keys. A font that fontTools cannot
read, text that is not UTF-8, an image Pillow cannot decode, text no font can draw, or text
that puts no ink on the image (under a min_contrast a blank line cannot reach) is a spec error
at its field (a FileProblem) at compile time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from synthc.generators.ocr import blurred_lines
from synthc.generators.ocr.config import MAX_ATTEMPTS, OcrConfig
from synthc.generators.ocr.drawable_share import drawable_share
from synthc.generators.ocr.images import check_image
from synthc.generators.ocr.legibility import NO_INK
from synthc.generators.ocr.line_index import LineIndex
from synthc.generators.ocr.resources import (
    FONT_SUFFIXES,
    IMAGE_SUFFIXES,
    cached_coverage,
    coverage_known,
    dictionary_characters,
    dictionary_head,
    dictionary_text,
    drawable,
    extra_missing_message,
    font_coverage,
    inked,
    line_height,
    missing_ocr_libraries,
    remember_lines,
    text_lines,
    trdg_root,
    widest_advance,
)
from synthc.generators.ocr.text import candidate_texts
from synthc.inputs import FileProblem, InputError, InputFile, Reader

T = TypeVar("T")

#: a dictionary source is checked on its first words
DICT_CHECK_WORDS = 5000
#: the least ascent + descent of a font, as a share of the size it is drawn at
MIN_LINE_HEIGHT = 0.5
#: the widest glyph, in em, of a font whose characters the memory estimate takes as one em
#: each: trdg's fonts' widest are 1.0 to 3.0 em, their average characters under one; a font
#: with wider glyphs has its characters taken as this share of its widest
USUAL_WIDEST_ADVANCE = 4.0


def resolve_files(config: OcrConfig, reader: Reader) -> OcrConfig:
    """``config`` with its fonts, text file and background images read through ``reader`` and
    resolved to portable entries with their sha256 (see module doc)."""
    for part in ("text", "fonts", "background"):
        if getattr(config, part).resolved is not None:
            raise FileProblem((part, "resolved"), "is set by synthc, not written in a spec")
    missing = missing_ocr_libraries()
    if "fonttools" in missing:  # every font is read with it
        raise FileProblem(("kind",), extra_missing_message(missing))
    resolved = _at(("fonts",), lambda: _resolve(config, reader))
    # A field that needs trdg's data has said so above; a spec drawing only its own files
    # still has trdg's version in its task keys.
    if missing:
        raise FileProblem(("kind",), extra_missing_message(missing))
    return resolved


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


def _font_files(config: OcrConfig, reader: Reader) -> list[tuple[tuple[Any, ...], InputFile]]:
    """Each font file with the field that names it."""
    fonts = config.fonts
    if fonts.language is not None:
        language = fonts.language
        root = _at(("fonts", "language"), trdg_root) / "fonts"
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
    sha256, data = _at(field, font.digest)  # no bytes: a digest remembered, nothing read
    entry = font.entry_of(sha256)
    if coverage_known(sha256):  # a font read before is one: no cmap parsed
        return entry
    read = data if data is not None else _at(field, lambda: _same(font, sha256))
    try:
        cached_coverage(sha256, lambda: read)
    except Exception as error:  # fontTools raises many kinds on a file that is not a font
        raise FileProblem(
            field, f"{font.name!r} is not a font file fontTools can read ({_first_line(error)})"
        ) from None
    return entry


def _same(font: InputFile, sha256: str) -> bytes:
    """The bytes of ``font``, which must still be those hashed as ``sha256``."""
    data = font.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise InputError(f"{font.name!r} changed while it was being read")
    return data


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _check_line_height(config: OcrConfig, field: tuple[Any, ...], entry: dict[str, str]) -> None:
    """Refuse a font whose ascent + descent at ``size`` is under MIN_LINE_HEIGHT of it: a line
    is drawn at ``size`` x room / (ascent + descent), which for such a font is a size far
    beyond ``size`` (FreeType refuses it, or it outgrows the memory estimate)."""
    height = _at(field, lambda: line_height(entry, config.size))
    if height < MIN_LINE_HEIGHT * config.size:
        raise FileProblem(
            field,
            f"{entry['file']!r} has a line height (ascent + descent) of {height} px at size "
            f"{config.size}: synthc draws a line at the font size whose ascent + descent fills "
            f"it, so a font's must be at least {MIN_LINE_HEIGHT:g} of its size (usual fonts: "
            "0.9 to 1.9)",
        )


def _resolve(config: OcrConfig, reader: Reader) -> OcrConfig:
    files = _font_files(config, reader)
    entries = [_font_entry(field, font) for field, font in files]
    for (field, _), entry in zip(files, entries, strict=True):
        _check_line_height(config, field, entry)
    spec_longest = config.text.longest()
    longest: tuple[int, str] | None = None if spec_longest is None else (spec_longest[1], "")
    update: dict[str, object] = {"fonts": config.fonts.model_copy(update={"resolved": entries})}
    text = config.text
    own = text.path if text.source == "file" else text.dictionary if text.source == "dict" else None
    if own is not None:
        field = ("text", "path" if text.source == "file" else "dictionary")
        role = "text" if text.source == "file" else "dictionary"
        try:
            source = reader.file(own, "text", role)
        except InputError as error:
            if error.missing:
                raise FileProblem(field, f"no text file {own!r} beside the spec") from None
            raise FileProblem(field, str(error)) from None
        data = _at(field, source.read_bytes)
        entry = source.entry(data)
        lines = _at(field, lambda: remember_lines(entry, data, own))
        if not lines:
            raise FileProblem(field, f"{own!r} has no non-empty lines")
        _check_longest_line(config, field, own, lines)
        longest = _longest_file_line(config, own, lines)
        update["text"] = text.model_copy(update={"resolved": entry})
    if "image" in config.background.kinds:
        written = config.background.images
        if written is None:  # trdg's four images, needed by the kind "image"
            directory: str | Path = _at(("background", "kinds"), trdg_root) / "images"
        else:
            directory = written
        field = ("background", "images")
        found = _at(field, lambda: reader.files_in(directory, IMAGE_SUFFIXES, "image"))
        images = []
        for image in found:
            data = _at(field, image.read_bytes)
            _at(field, lambda: check_image(data, image.name))  # noqa: B023 - called at once
            images.append(image.entry(data))
        update["background"] = config.background.model_copy(update={"resolved": images})
    if longest is not None:
        for (field, _), entry in zip(files, entries, strict=True):
            _check_widest_glyph(config, field, entry, *longest)
    resolved = config.model_copy(update=update)
    check_drawable(resolved)
    chars = _at(("text",), lambda: _characters(resolved))
    _check_drawable_share(resolved, chars)
    washed = _at(("blur",), lambda: blurred_lines.washed_out(resolved, chars))
    if washed is not None:
        raise FileProblem(("blur",), washed)
    if text.source == "dict" and own is None:
        _record_dictionary(text.language, reader)
    return resolved


def _longest_file_line(config: OcrConfig, own: str, lines: LineIndex) -> tuple[int, str]:
    """The characters of the longest line the text file can give (a line of a file; the most
    words of a dictionary, each as long as its longest), its case folded, and what a message
    calls it."""
    fold = config.text.folded
    longest = max(map(len, map(fold, lines)), default=0) if config.text.case else lines.longest()
    line = f"{own!r}: its longest line, of {longest:,} characters,"
    if config.text.source == "dict":
        most = max(config.text.words, default=1)
        chars = most * longest + most - 1
        line = (
            f"{own!r}: {most} of its words as long as its longest ({longest:,} characters) "
            f"make a line of {chars:,} characters, which"
        )
        longest = chars
    return longest, line


def _check_longest_line(
    config: OcrConfig, field: tuple[str | int, ...], own: str, lines: LineIndex
) -> None:
    """FileProblem when the longest line the text file can give makes a sample over the
    memory limit: the spec alone estimates a dictionary's words at 24 characters, and a
    file's not at all."""
    problem = config.line_problem(field, *_longest_file_line(config, own, lines))
    if problem is not None:
        raise FileProblem(field, problem[1])


def _check_widest_glyph(
    config: OcrConfig, field: tuple[Any, ...], entry: dict[str, str], chars: int, line: str
) -> None:
    """FileProblem at the font's field when its widest glyph, past USUAL_WIDEST_ADVANCE em,
    makes the longest line a sample over the memory limit (characters then taken as that
    share of the widest glyph, not the one em the spec's checks take)."""
    advance = _at(field, lambda: widest_advance(entry))
    if advance <= USUAL_WIDEST_ADVANCE:
        return
    problem = config.line_problem(field, chars, line or None, advance / USUAL_WIDEST_ADVANCE)
    if problem is not None:
        raise FileProblem(
            field, f"{entry['file']!r} has glyphs up to {advance:.3g} em wide: {problem[1]}"
        )


def _check_drawable_share(config: OcrConfig, chars: set[str]) -> None:
    """FileProblem at the text's field when so few attempts draw a text their font covers
    that a sample's every attempt would fail (drawable_share.py)."""
    text = config.text
    lines: Sequence[str] | None = None
    blob: str | None = None
    if text.source == "list":
        lines = list(text.items or ())
    elif text.resolved is not None:
        lines = text_lines(text.resolved)
    elif text.source == "dict":
        blob = dictionary_text(text.language)
    found = drawable_share(config, chars, lines, blob)
    if found is None:
        return
    share, lacking = found
    field = {"list": "items", "file": "path", "random": "charset"}.get(text.source)
    field = field or ("dictionary" if text.resolved is not None else "language")
    unit = {"dict": "line of words", "random": "line of characters"}.get(text.source, "line")
    chance = (1 - share) ** MAX_ATTEMPTS
    raise FileProblem(
        ("text", field),
        f"only {share * 100:.2g}% of attempts draw text their font can draw (an attempt draws "
        f"a font and a {unit} independently, and fonts lack characters such as {lacking!r}): "
        f"all {MAX_ATTEMPTS:,} attempts of a sample would fail with a chance of {chance:.2g}; "
        "use fonts that cover the text, or text they cover",
    )


def _characters(config: OcrConfig) -> set[str]:
    """Every character the text source can draw, its case folded."""
    text = config.text
    if text.source == "random":
        chars = set(text.alphabet())
    elif text.source == "list":
        chars = set("".join(text.items or ()))
    elif text.resolved is not None:
        chars = text_lines(text.resolved).characters()
    else:
        chars = dictionary_characters(text.language)
    return set(text.folded("".join(chars))) if text.case else chars


def _record_dictionary(language: str, reader: Reader) -> None:
    """Read trdg's word list for ``language`` through ``reader``, so the provenance (and a
    depfile) names it: the build's workers read it from there (check_drawable has checked the
    name)."""
    field = ("text", "language")
    path = trdg_root() / "dicts" / f"{language}.txt"
    _at(field, lambda: reader.file(path, "text", "dictionary").entry())


def check_drawable(config: OcrConfig) -> None:
    """Raise a FileProblem when no font can draw any text the source can produce, or when
    every text a font can draw puts no ink on the image (blank lines never reach a
    min_contrast above NO_INK, the contrast of a line without ink)."""
    fonts = config.fonts.resolved or []
    text = config.text
    blank = config.min_contrast > NO_INK
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
        folded = text.folded("".join(sorted(alphabet)))
        covered = [("".join(ch for ch in folded if drawable(ch, f)), f) for f in fonts]
        if blank and not any(inked(chars, f) for chars, f in covered):
            raise FileProblem(("text", "charset"), _no_ink(alphabet, config.min_contrast))
        return
    candidates: Sequence[str]
    if text.source == "dict" and text.resolved is not None:
        lines = text_lines(text.resolved)
        candidates = lines[:DICT_CHECK_WORDS]
    elif text.source == "dict":
        words = _at(("text", "language"), lambda: dictionary_head(text.language, DICT_CHECK_WORDS))
        candidates = list(words[:DICT_CHECK_WORDS])
    else:
        candidates = candidate_texts(text) or []
    # one pass, stopping at the first text a font draws with ink: usually the first
    drawn: set[str] = set()  # characters of the texts some font can draw
    for t, f in ((t, f) for t in candidates for f in fonts if t.strip() and drawable(t, f)):
        if not blank or inked(t, f):
            return
        drawn.update(t)
    if not drawn:
        raise FileProblem(
            ("fonts",),
            f"none of the fonts ({len(fonts)}) can draw any of the text ({len(candidates)} "
            "candidates checked against each font's cmap)",
        )
    field = {"list": "items", "file": "path", "dict": "dictionary"}[text.source]
    if text.source == "dict" and text.resolved is None:
        field = "language"
    raise FileProblem(("text", field), _no_ink(drawn, config.min_contrast))


def _no_ink(chars: Iterable[str], min_contrast: float) -> str:
    blank = sorted({ch for ch in chars if not ch.isspace()})
    shown = ", ".join(f"U+{ord(ch):04X}" for ch in blank[:8]) + (", ..." if blank[8:] else "")
    return (
        "no font draws ink for any of the text: each character is a space, has no outline "
        "in every font that maps it, or is an invisible format character that shaping hides "
        f"({shown or 'spaces only'}), and a line without ink has "
        f"contrast {NO_INK:g}, below min_contrast {min_contrast:g}"
    )
