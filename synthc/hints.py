"""Did-you-mean: the closest known name to a misspelt one, and the known names listed, bounded,
for any layer's messages."""

from __future__ import annotations

import difflib
import itertools
import os
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


#: the most entries of a folder looked at for a file name close to a missing one
MAX_SIBLINGS = 10_000


def sibling_hint(missing: str, suffixes: tuple[str, ...] = (), folders: bool = False) -> str:
    """``"; did you mean 'specs/swiss_roll.yaml'?"`` for the file of ``missing``'s folder
    ending in one of ``suffixes`` (or with ``folders``, the folder there) whose name is close
    to ``missing``'s, spelled as ``missing`` is; ``""`` when none is, or the folder cannot be
    read."""
    folder, name = os.path.split(missing.rstrip("/") or missing)
    try:
        with os.scandir(folder or ".") as entries:
            names = [
                entry.name
                for entry in itertools.islice(entries, MAX_SIBLINGS)
                if (
                    entry.is_dir() if folders else entry.name.endswith(suffixes) and entry.is_file()
                )
            ]
    except (OSError, ValueError):
        return ""
    # compared without suffixes, which would make any two names of one kind look close
    stems = {os.path.splitext(other)[0]: other for other in names}
    close = closest(os.path.splitext(name)[0], stems)
    return f"; did you mean {os.path.join(folder, stems[close])!r}?" if close else ""
