"""The text of each line: words from a dictionary, items of a list, lines of a file, or random
characters; then case folding. Draws come from the sample's own NumPy generator."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from synthc.generators.ocr.config import TextConfig
from synthc.generators.ocr.made_sequence import MadeSequence
from synthc.generators.ocr.resources import dictionary, text_lines

if TYPE_CHECKING:
    import numpy as np


def sample_text(config: TextConfig, rng: np.random.Generator) -> str:
    """One line of text for ``config``."""
    if config.source == "dict":
        resolved = config.resolved
        words = text_lines(resolved) if resolved is not None else dictionary(config.language)
        count = int(rng.integers(config.words[0], config.words[1] + 1))
        text = " ".join(words[int(k)] for k in rng.integers(0, len(words), size=count))
    elif config.source == "list":
        items = config.items or []
        text = items[int(rng.integers(0, len(items)))]
    elif config.source == "file":
        assert config.resolved is not None
        lines = text_lines(config.resolved)
        text = lines[int(rng.integers(0, len(lines)))]
    else:
        alphabet = config.alphabet()
        length = int(rng.integers(config.length[0], config.length[1] + 1))
        text = "".join(alphabet[int(k)] for k in rng.integers(0, len(alphabet), size=length))
    if config.case == "upper":
        return text.upper()
    if config.case == "lower":
        return text.lower()
    return text


def candidate_texts(config: TextConfig) -> Sequence[str] | None:
    """Every text a list or file source can give (None for dict and random sources); a file's
    lines are read from its LineIndex as they are asked for, not copied."""
    items: Sequence[str]
    if config.source == "list":
        items = list(config.items or [])
    elif config.source == "file" and config.resolved is not None:
        items = text_lines(config.resolved)
    else:
        return None
    if config.case == "upper":
        return _Folded(items, str.upper)
    if config.case == "lower":
        return _Folded(items, str.lower)
    return items


class _Folded(MadeSequence):
    """``texts`` with their case folded by ``fold``, each as it is asked for."""

    def __init__(self, texts: Sequence[str], fold: Callable[[str], str]) -> None:
        self._texts, self._fold = texts, fold

    def __len__(self) -> int:
        return len(self._texts)

    def _item(self, index: int) -> str:
        return self._fold(self._texts[index])

    def __iter__(self) -> Iterator[str]:
        return map(self._fold, self._texts)
