"""Did-you-mean: the closest known name to a misspelt one, for any layer's messages."""

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
