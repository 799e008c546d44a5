"""The characters no font draws, refused in OCR text wherever it comes from (a list, a file)."""

from __future__ import annotations

import re

#: C0 and C1 controls and DEL; a tab is spacing and line breaks split lines, so they are apart
CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
