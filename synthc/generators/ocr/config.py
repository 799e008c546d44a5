"""Spec model of the OCR text-line generator (trdg's vocabulary, seeded, exact labels)."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from synthc.generators.base import PART_CONFIG, ConfigPart, GeneratorConfig
from synthc.generators.control_chars import CONTROL_CHARS
from synthc.generators.holes import is_hole
from synthc.generators.memory import sample_problem
from synthc.generators.ocr import legibility

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}(,#[0-9a-fA-F]{6})?$")
CHARSETS = {
    "letters": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digits": "0123456789",
    "symbols": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
}


#: the widest margin: a margin is blank canvas, and 4096 px (8 times the largest line) keeps
#: a line's image within memory
MAX_MARGIN = 4096
_ONE_LINE = (
    "an item is one line and holds no line break; for paragraphs give `lines: [low, high]`, "
    "which stacks lines"
)
#: the most lines one paragraph image stacks
MAX_LINES = 64
#: characters of a dictionary word, for the memory estimate (generous: most words are under 12)
ESTIMATED_WORD_CHARS = 24
#: RGBA images of a line's size alive at once while it is drawn (layer, rotated layer, canvas,
#: composite)
IMAGE_COPIES = 4
#: attempts at one sample (each re-draws text, font, colours, blur, ...) before its build fails
MAX_ATTEMPTS = 1000
#: the chance of a sample's every attempt drawing a blur that washes its line out, above which
#: a blur range is refused (a share of legible radii under about 1.4%)
MAX_WASHED_OUT_CHANCE = 1e-6


def _pair_problems(at: tuple[Any, ...], pair: Sequence[float], low: float) -> Iterable[Any]:
    if len(pair) != 2 or not low <= pair[0] <= pair[1]:
        yield (at, f"must be [low, high] with {low:g} <= low <= high")


class TextConfig(ConfigPart):
    """Where the text of each line comes from.

    A source's options may also be nested under its name, as in ``list: {items: [...]}``,
    ``file: {path: ...}``, ``random: {charset: ..., length: [...]}`` or ``dict: {language: ...}``.
    """

    source: Literal["dict", "list", "file", "random"] = Field(
        default="dict",
        description="dict: words of a trdg dictionary; list: one of `items` per line; file: one "
        "line of `path` per line; random: characters of `charset`.",
    )
    language: str = Field(
        default="en", pattern=r"^[a-z_]+$", description="dict: a trdg dictionary name."
    )
    dictionary: str | None = Field(
        default=None,
        description="dict: your own word list (one word per line), relative to the spec.",
    )
    words: list[int] = Field(default=[1, 3], description="dict: words per line, inclusive range.")
    items: list[str] | None = Field(default=None, description="list: the lines (or words) to draw.")
    path: str | None = Field(
        default=None, description="file: a UTF-8 text file, relative to the spec."
    )
    charset: str = Field(
        default="letters+digits",
        description="random: names joined by + (letters, lower, upper, digits, symbols) or "
        "literal characters in quotes, e.g. 'abc123'.",
    )
    length: list[int] = Field(
        default=[5, 12], description="random: characters per line, inclusive."
    )
    case: Literal["upper", "lower"] | None = Field(
        default=None, description="Fold the text's case."
    )
    #: filled at compile time: the portable name and sha256 of `path` or `dictionary`
    #: (synthc.inputs: no absolute path; a content edit changes the task keys)
    resolved: SkipJsonSchema[dict[str, str] | None] = Field(
        default=None, description="(set by synthc) the text file."
    )

    @model_validator(mode="before")
    @classmethod
    def _nested_options(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        flat = dict(data)
        for source in ("dict", "list", "file", "random"):
            nested = flat.pop(source, None)
            if nested is None:
                continue
            if not isinstance(nested, dict):
                raise ValueError(f"{source}: give its options as a mapping")
            clash = sorted(set(nested) & set(flat))
            if clash:
                raise ValueError(f"{', '.join(clash)} given both flat and under {source}")
            flat.update(nested)
            flat.setdefault("source", source)
        return flat

    def alphabet(self) -> str:
        """The characters of a random source."""
        if self.charset.startswith("'") and self.charset.endswith("'"):
            return self.charset[1:-1]
        return "".join(CHARSETS[name] for name in self.charset.split("+"))

    def folded(self, text: str) -> str:
        """``text`` with its case folded by ``case`` (which can lengthen it: 'ß' -> 'SS')."""
        if self.case == "upper":
            return text.upper()
        return text.lower() if self.case == "lower" else text

    def longest(self) -> tuple[tuple[str | int, ...], int] | None:
        """The field that sets the longest line this source can give, and its length in
        characters once its case is folded (estimated for dictionary words); None for a file
        (unknown until read)."""
        items = self.items
        if self.source == "list" and items:
            lengths = [len(self.folded(item)) for item in items]
            i = max(range(len(items)), key=lengths.__getitem__)
            return ("items", i), lengths[i]
        if self.source == "random":
            try:
                alphabet = self.alphabet()
            except KeyError:  # an unknown charset name, reported as such
                alphabet = ""
            grows = max((len(self.folded(ch)) for ch in alphabet), default=1)
            return ("length",), max(self.length, default=0) * grows
        if self.source == "dict":
            return ("words",), max(self.words, default=0) * (ESTIMATED_WORD_CHARS + 1)
        return None

    def most_spaces(self, chars: int) -> int:
        """The most spaces (drawn ``space_width`` times as wide) a line of ``chars``
        characters from this source may hold: a dictionary's between its words, a list's
        item's, and for a file, or random characters that include a space, every one."""
        if self.source == "dict":
            spaces = max(self.words, default=1) - 1
        elif self.source == "list":
            spaces = max((self.folded(item).count(" ") for item in self.items or []), default=0)
        elif self.source == "random":
            spaces = chars if " " in self.alphabet() else 0
        else:
            spaces = chars
        return max(0, min(spaces, chars))

    def rules(self) -> list[Callable[[], Iterable[Any]]]:
        return [
            lambda: _pair_problems(("words",), self.words, 1),
            lambda: _pair_problems(("length",), self.length, 1),
            self._source_problems,
        ]

    def _source_problems(self) -> Iterable[Any]:
        if self.source == "list" and not self.items:
            yield (("items",), "a list source needs items")
        elif self.source == "list" and not any(item.strip() for item in self.items or ()):
            yield (("items",), "every item is empty or blank: there is no text to draw")
        for i, item in enumerate(self.items or () if self.source == "list" else ()):
            if "\n" in item:  # Pillow would draw two lines, the label say one
                yield (("items", i), _ONE_LINE)
            elif bad := CONTROL_CHARS.search(item):
                drawn = f"holds U+{ord(bad[0]):04X}, a control character no font draws"
                yield (("items", i), drawn)
        if self.source == "file" and not self.path:
            yield (("path",), "a file source needs a path")
        if self.source == "random":
            quoted = self.charset.startswith("'") and self.charset.endswith("'")
            names = [] if quoted else self.charset.split("+")
            for name in names:
                if name not in CHARSETS:
                    yield (("charset",), f"unknown charset {name!r}; use {', '.join(CHARSETS)}")
            if quoted and len(self.charset) < 3:
                yield (("charset",), "an empty literal charset")
            elif quoted and self.charset[1:-1].isspace():  # every line blank, re-drawn forever
                yield (("charset",), "every character is whitespace: there is no text to draw")
            if quoted and "\n" in self.charset:
                yield (("charset",), "a line break drawn mid-line would start a second line")


class FontsConfig(ConfigPart):
    """Which fonts lines are drawn with (one chosen uniformly per line)."""

    language: str | None = Field(
        default=None, description="trdg's bundled fonts for a script: latin, cn, ja."
    )
    paths: list[str] | None = Field(default=None, description="Font files, relative to the spec.")
    dir: str | None = Field(
        default=None, description="A directory of .ttf/.otf files, relative to the spec."
    )
    #: filled at compile time: portable font names with their sha256 (synthc.inputs)
    resolved: SkipJsonSchema[list[dict[str, str]] | None] = Field(
        default=None, description="(set by synthc) the fonts."
    )

    def rules(self) -> list[Callable[[], Iterable[Any]]]:
        return [self._one_source_problems]

    def _one_source_problems(self) -> Iterable[Any]:
        given = [k for k in ("language", "paths", "dir") if getattr(self, k) is not None]
        if len(given) != 1:
            yield ((), "give exactly one of language, paths or dir")
        elif self.paths == []:
            yield (("paths",), "no font files: name at least one, or use language or dir")


class StrokeConfig(ConfigPart):
    """An outline around the glyphs."""

    width: int = Field(
        default=0, ge=0, le=20, description="Outline width in px (at the drawing size)."
    )
    color: str = Field(default="#282828", description="Outline colour, or a range '#a,#b'.")


class BackgroundConfig(ConfigPart):
    """What lines are drawn on."""

    kinds: list[Literal["gaussian_noise", "plain", "quasicrystal", "image"]] = Field(
        default=["gaussian_noise", "plain", "quasicrystal", "image"],
        min_length=1,
        description="Background kinds, one drawn uniformly per image.",
    )
    images: str | None = Field(
        default=None, description="Directory of background images (default: trdg's four)."
    )
    #: filled at compile time: portable image names with their sha256 (synthc.inputs)
    resolved: SkipJsonSchema[list[dict[str, str]] | None] = Field(
        default=None, description="(set by synthc) images."
    )


class DistortionConfig(ConfigPart):
    """Waves or noise applied to pixel columns and rows."""

    kind: Literal["none", "sine", "cosine", "random"] = Field(default="none")
    orientation: Literal["vertical", "horizontal", "both"] = Field(
        default="both", description="vertical: columns move up and down; horizontal: rows sideways."
    )


class OcrConfig(GeneratorConfig):
    """Text lines on trdg's fonts and dictionaries, with exact text and character boxes."""

    model_config = ConfigDict(**PART_CONFIG, strict=True)

    kind: Literal["ocr_text"] = Field(description="Generator kind.")
    text: TextConfig = Field(default_factory=TextConfig)
    fonts: FontsConfig = Field(default_factory=lambda: FontsConfig(language="latin"))
    size: int = Field(32, ge=8, le=512, description="Line height (horizontal) or width (vertical).")
    orientation: Literal["horizontal", "vertical"] = Field("horizontal")
    margins: list[int] = Field([5, 5, 5, 5], description="top, left, bottom, right in px.")
    character_spacing: int = Field(0, ge=0, le=100, description="Extra px between characters.")
    text_color: str = Field(
        "#282828", description="A colour, or a range '#a,#b' sampled per image."
    )
    stroke: StrokeConfig = Field(default_factory=StrokeConfig)
    skew: list[float] = Field([0, 0], description="Rotation in degrees, inclusive range.")
    blur: list[float] = Field([0, 0], description="Gaussian blur radius range.")
    background: BackgroundConfig = Field(default_factory=BackgroundConfig)
    distortion: DistortionConfig = Field(default_factory=DistortionConfig)
    image_mode: Literal["RGB", "L"] = Field("RGB")
    image_format: Literal["png", "jpg"] = Field(
        "png", description="png (lossless) or jpg (trdg's default extension)."
    )
    jpeg_quality: int = Field(95, ge=1, le=100, description="jpg: the encoder's quality.")
    space_width: float = Field(
        1.0, ge=0, le=10, allow_inf_nan=False, description="Multiplier of the space's width."
    )
    fit: bool = Field(False, description="Crop tightly around the ink before the margins.")
    width: int | None = Field(
        None,
        ge=8,
        le=16384,
        description="Least image width (horizontal lines): a narrower line is placed in it by "
        "`alignment`, a wider one keeps its own width; default: the text's.",
    )
    alignment: Literal["left", "center", "right"] = Field(
        "center", description="Where a line narrower than `width` sits in it."
    )
    min_contrast: float = Field(
        3.0,
        ge=1,
        le=21,
        allow_inf_nan=False,
        description="Least WCAG 2.x contrast ratio between the ink and the background under it "
        "(9 in 10 ink pixels); a line below it is re-drawn.",
    )
    lines: list[int] = Field(
        [1, 1], description="Lines per image, inclusive range: more than one stacks a paragraph."
    )
    line_spacing: float = Field(
        0.25, ge=0, le=4, allow_inf_nan=False, description="Gap between lines, in line heights."
    )
    line_alignment: Literal["left", "center", "right"] = Field(
        "left", description="How a paragraph's lines align with each other."
    )

    def size_problems(self, samples: int, shard_size: int) -> Iterable[tuple[Any, ...]]:
        longest = self.text.longest()
        if longest is None:
            return
        at, chars = longest
        if self.width is not None and self.orientation == "horizontal":
            # the canvas `width` pads every line to: too large whatever the text
            widened = f"a line widened to {self.width:,} px"
            problem = self.line_problem(("generator", "width"), 1, widened)
            if problem is not None:
                yield problem
                return
        problem = self.line_problem(("generator", "text", *at), chars)
        if problem is not None:
            yield problem

    def line_problem(
        self, at: tuple[Any, ...], chars: int, line: str | None = None, advance: float = 1.0
    ) -> tuple[Any, ...] | None:
        """A problem at ``at`` when a line of ``chars`` characters, each ``advance`` em wide,
        makes a sample over limits.MAX_SAMPLE_BYTES (``line``: what the message calls it)."""
        # far beyond any limit, and small enough to stay a finite float in the estimate
        chars = min(chars, 10**15)
        spaces = self.text.most_spaces(chars) if self.space_width > 1 else 0
        width, height = _image_estimate(self, chars, advance, spaces)
        angle = max((abs(a) for a in self.skew), default=0)
        widened = f"{spaces:,} of them spaces" if spaces < chars else "every one a space"
        what = (
            f"{line or f'a line of {chars:,} characters'} at size {self.size}"
            + (f" ({widened}, at space_width {self.space_width:g})" if spaces else "")
            + (f" and skew up to {angle:g} degrees" if angle else "")
            + f" makes an image of about {width:,.0f} x {height:,.0f} px, which"
        )
        need = width * height * 4 * IMAGE_COPIES  # RGBA
        return sample_problem(at, need, what)

    def semantic_problems(self) -> Iterable[Any]:
        for rule in self.semantic_rules():
            yield from rule()

    def semantic_rules(self) -> list[Callable[[], Iterable[Any]]]:
        # One rule per check, so a field that failed validation silences only what reads it.
        rules: list[Callable[[], Iterable[Any]]] = []
        for name in ("text", "fonts"):
            part = getattr(self, name)
            if not is_hole(part):
                rules += [functools.partial(_prefixed, name, rule) for rule in part.rules()]
        return [
            *rules,
            functools.partial(_colour_problems, ("text_color",), lambda: self.text_color),
            functools.partial(_colour_problems, ("stroke", "color"), lambda: self.stroke.color),
            self._margin_problems,
            lambda: _pair_problems(("skew",), self.skew, -90),
            lambda: _pair_problems(("blur",), self.blur, 0),
            lambda: _pair_problems(("lines",), self.lines, 1),
            self._paragraph_problems,
            self._contrast_problems,
            self._blur_problems,
        ]

    def _contrast_problems(self) -> Iterable[Any]:
        """A min_contrast no ink pixel can reach over the backgrounds (legibility.py)."""
        inks = [self.text_color] + ([self.stroke.color] if self.stroke.width > 0 else [])
        if not all(_COLOR.match(ink) for ink in inks):
            return  # reported as a colour
        rotated = any(angle != 0 for angle in self.skew)
        kinds = self.background.kinds
        need = self.min_contrast
        bound, low, high, under = legibility.best_contrast(inks, kinds, rotated, need)
        if not _below(bound, self.min_contrast):
            return
        # blame what the user wrote: the threshold, else the colour
        field = "min_contrast" if "min_contrast" in self.model_fields_set else "text_color"
        drawn = " and ".join(repr(ink) for ink in inks)
        yield (
            (field,),
            f"no line can reach min_contrast {self.min_contrast:g}: ink drawn in {drawn} "
            f"(levels {low}..{high} per channel, with what resampling can move) over "
            f"{', '.join(kinds)} backgrounds (levels {under[0]}..{under[1]}) has a WCAG "
            f"contrast of at most {bound:.2f}; lower min_contrast, or widen text_color or "
            "background.kinds",
        )

    def _blur_problems(self) -> Iterable[Any]:
        """A blur radius Pillow refuses, or one that washes every line below min_contrast."""
        if len(self.blur) != 2 or not 0 <= self.blur[0] <= self.blur[1] or self.blur[1] == 0:
            return  # no blur, or reported as a pair
        margins_ok = len(self.margins) == 4 and all(0 <= m <= MAX_MARGIN for m in self.margins)
        if not margins_ok or len(self.lines) != 2 or not 1 <= self.lines[1] <= MAX_LINES:
            return
        low, high = self.blur
        vertical = self.orientation == "vertical"
        extent, *band = legibility.ink_band(
            self.size, self.margins, vertical, self.lines[1], self.line_spacing
        )
        try:
            legibility.blurred_ink_levels(extent, (band[0], band[1]), high)
        except ValueError as error:
            yield (
                ("blur",),
                f"Pillow's Gaussian blur refuses a radius of {high:g} ({error}): the build "
                "would stop at the first sample that draws one",
            )
            return
        if self.min_contrast <= legibility.NO_INK:
            return

        def bound_at(radius: float) -> float:
            levels = legibility.blurred_ink_levels(extent, (band[0], band[1]), radius)
            return legibility.best_contrast_within(levels)

        if low == 0 or not _below(bound_at(low), self.min_contrast):
            yield from self._washed_out_share(low, high, bound_at)
            return
        levels = legibility.blurred_ink_levels(extent, (band[0], band[1]), low)
        bound = legibility.best_contrast_within(levels)
        if _below(bound, self.min_contrast):
            across = "wide" if vertical else "high"
            yield (
                ("blur",),
                f"a blur radius of {low:g} or more washes every line into its background: "
                f"ink at most {band[1] - band[0]} px {across} (from size {self.size}, margins "
                f"and lines) stands at most {levels} levels from it after the blur, a WCAG "
                f"contrast of at most {bound:.2f}, below min_contrast {self.min_contrast:g}; "
                "use a smaller blur or a lower min_contrast",
            )

    def _washed_out_share(
        self, low: float, high: float, bound_at: Callable[[float], float]
    ) -> Iterable[Any]:
        """A blur range whose radii leave a line legible so rarely that a sample's every
        attempt would likely draw one that washes it out (``bound_at``: the most contrast a
        radius leaves, which falls as the radius grows)."""
        if high <= low or not _below(bound_at(high), self.min_contrast):
            return
        good, bad = low, high  # the largest legible radius lies between them
        for _ in range(64):
            middle = (good + bad) / 2
            if middle in (good, bad):
                break
            good, bad = (
                (good, middle)
                if _below(bound_at(middle), self.min_contrast)
                else (
                    middle,
                    bad,
                )
            )
        share = (good - low) / (high - low)
        if (1 - share) ** MAX_ATTEMPTS > MAX_WASHED_OUT_CHANCE:
            needed = 1 - MAX_WASHED_OUT_CHANCE ** (1 / MAX_ATTEMPTS)
            yield (
                ("blur",),
                f"only {share * 100:.3g}% of the radii in [{low:g}, {high:g}] (those up to about "
                f"{good:.3g}) leave a line legible at min_contrast {self.min_contrast:g}: all "
                f"{MAX_ATTEMPTS:,} attempts of a sample wash out with a chance of "
                f"{(1 - share) ** MAX_ATTEMPTS:.2g} (over {MAX_WASHED_OUT_CHANCE:g}), which fails "
                f"the build; use a largest radius of at most about "
                f"{low + (good - low) / needed:.3g} (so {needed * 100:.2g}% are legible), or a "
                "lower min_contrast",
            )

    def _paragraph_problems(self) -> Iterable[Any]:
        if len(self.lines) == 2 and self.lines[1] > MAX_LINES:
            yield (("lines",), f"at most {MAX_LINES} lines per image")
        elif len(self.lines) == 2 and self.lines[1] > 1 and self.orientation == "vertical":
            yield (("lines",), "paragraphs are horizontal: vertical lines stay one per image")

    def _margin_problems(self) -> Iterable[Any]:
        if len(self.margins) != 4 or any(not 0 <= m <= MAX_MARGIN for m in self.margins):
            yield (
                ("margins",),
                f"four margins from 0 to {MAX_MARGIN} px: top, left, bottom, right (a margin "
                "is blank canvas; the bound keeps an image within memory)",
            )
        elif self.margins[0] + self.margins[2] >= self.size and self.orientation == "horizontal":
            yield (("margins",), f"top + bottom margins leave no room in a {self.size} px line")


def _below(bound: float, threshold: float) -> bool:
    """True if ``threshold`` is out of reach of ``bound`` (beyond float rounding: a bound of
    exactly 21 stays reachable)."""
    return bound * (1 + 1e-9) < threshold


def _prefixed(part: str, rule: Callable[[], Iterable[Any]]) -> Iterable[Any]:
    for path, message in rule():
        yield ((part, *path), message)


def _colour_problems(at: tuple[str, ...], colour: Callable[[], str]) -> Iterable[Any]:
    if not _COLOR.match(colour()):
        yield (at, "a colour is '#rrggbb' or a range '#rrggbb,#rrggbb'")


def _image_estimate(
    config: OcrConfig, chars: int, advance: float = 1.0, spaces: int = 0
) -> tuple[float, float]:
    """Width and height in px of the largest layer a line of ``chars`` characters makes:
    drawn with advances of about one em, or ``advance`` em (the widest glyph of a font; the
    drawing size is at most ``size``), ``spaces`` of them each ``space_width`` times that
    (a space is no wider than a character's estimate), then rotated by
    the worst angle of ``skew`` (the canvas expands), then fitted with margins and padded to
    ``width``. A paragraph stacks up to ``lines[1]`` such lines."""
    em = config.size
    stroke = config.stroke.width
    glyph = em * max(1.0, advance)
    along = chars * (glyph + config.character_spacing) + 2 * (0.3 * em + stroke)
    along += spaces * glyph * max(0.0, config.space_width - 1)
    stacked = max(1, min(config.lines[-1], MAX_LINES)) if config.lines else 1
    across = (1.2 * em + 2 * stroke) * (stacked + (stacked - 1) * config.line_spacing)
    w, h = (along, across) if config.orientation == "horizontal" else (across, along)
    low, high = config.skew if len(config.skew) == 2 else (0.0, 0.0)
    if high - low >= 360:
        low, high = 0.0, 360.0
    angles = {low, high, *(45 * k for k in range(math.ceil(low / 45), math.floor(high / 45) + 1))}
    rotated = max(
        (
            (
                w * abs(math.cos(math.radians(a))) + h * abs(math.sin(math.radians(a))),
                w * abs(math.sin(math.radians(a))) + h * abs(math.cos(math.radians(a))),
            )
            for a in angles
        ),
        key=lambda extent: extent[0] * extent[1],
    )
    margins = config.margins if len(config.margins) == 4 else [0, 0, 0, 0]
    top, left, bottom, right = (max(0, min(m, MAX_MARGIN)) for m in margins)
    wide = rotated[0] + left + right
    if config.width is not None and config.orientation == "horizontal":
        wide = max(wide, config.width)  # effects.widen pads the line to this canvas
    return wide, rotated[1] + top + bottom
