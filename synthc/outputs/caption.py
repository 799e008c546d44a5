"""What a preview is of: the dataset's name, its sample count and what each column means."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: characters of a name or description a preview shows at most (they come from files)
MAX_TEXT = 120


@dataclass(frozen=True)
class Caption:
    """The words around a preview: ``name`` and ``total`` make its title, ``descriptions``
    (column name -> meaning) label legends and colour bars."""

    name: str = ""
    #: samples in the whole dataset; None when unknown
    total: int | None = None
    descriptions: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, total: int | None, columns: Iterable[Mapping[str, str]]) -> Caption:
        """A caption from manifest-style columns (dicts with ``name`` and ``description``)."""
        return cls(name, total, {c["name"]: c.get("description", "") for c in columns})

    def title(self, shown: int, what: str = "samples") -> str:
        """``name: first 4,000 of 60,000 samples`` (or ``all 200 samples``)."""
        if self.total is None:
            counted = f"first {shown:,} {what}"
        elif shown >= self.total:
            counted = f"all {self.total:,} {what}"
        else:
            counted = f"first {shown:,} of {self.total:,} {what}"
        name = shorten(self.name)
        return f"{name}: {counted}" if name else counted

    def meaning(self, column: str, width: int = 34) -> str:
        """``column: its description``, wrapped to lines of ``width`` characters."""
        text = f"{column}: {self.descriptions[column]}" if self.descriptions.get(column) else column
        return "\n".join(textwrap.wrap(shorten(text), width)) or column


def shorten(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
