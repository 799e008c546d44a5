"""Did-you-mean: the closest known name to a misspelt one, and the known names listed, bounded,
for any layer's messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: object, candidates: Iterable[str]) -> str | None:
    """The candidate close enough to ``word`` to be what the user meant, if any."""
    if not isinstance(word, str):
        return None
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: object, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` when a candidate is close to ``word``, else ``""``."""
    close = closest(word, candidates)
    # repr: a name holding an invisible character (U+200B) shows it as an escape
    return f"; did you mean {close!r}?" if close else ""


#: the most names a message lists (a forged manifest may name a million splits)
MAX_LISTED = 20


def listed(names: Iterable[object], limit: int = MAX_LISTED) -> str:
    """``"a, b, c"``, or the first ``limit`` of ``names`` and ``"and N more"``."""
    every = [str(name) for name in names]
    shown = ", ".join(every[:limit])
    return shown + (f" and {len(every) - limit:,} more" if len(every) > limit else "")
