"""Which text is laid out by Raqm (shaped), and which characters shaping hides.

Shared by the drawing (which layout a line gets) and the compile-time ink check (text whose
every character shaping hides puts no ink on the image, whatever glyph the font gives it).
"""

from __future__ import annotations

import functools
import unicodedata

#: Unicode's Default_Ignorable_Code_Point ranges that HarfBuzz (Raqm's shaper) draws as nothing,
#: even where a font maps them to a glyph with an outline (trdg's Lato fonts do for U+200C to
#: U+200E); HarfBuzz draws U+115F, U+1160, U+3164, U+FFA0 and U+1BCA0..U+1BCA3 as glyphs
HIDDEN_WHEN_SHAPED = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFF0, 0xFFF8),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def needs_shaping(text: str) -> bool:
    """True unless every character is Latin, Greek or Cyrillic without combining marks: the
    scripts whose glyphs do not change with their neighbours."""
    return not all(ord(ch) < 0x0590 and not unicodedata.combining(ch) for ch in text)


@functools.cache
def have_raqm() -> bool:
    """True if Pillow lays text out with Raqm (else shaped text gets basic layout too)."""
    from PIL import ImageFont

    return bool(ImageFont.core.HAVE_RAQM)


def hidden(ch: str, shaped: bool) -> bool:
    """True if ``ch`` draws nothing in a line laid out with Raqm (``shaped``) whatever its glyph."""
    if not shaped or not have_raqm():
        return False
    code = ord(ch)
    return any(low <= code <= high for low, high in HIDDEN_WHEN_SHAPED)
