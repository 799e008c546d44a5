"""A read-only sequence of texts made when each is asked for, not held (text lines, folded case)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload


class MadeSequence(Sequence[str]):
    """A Sequence whose item ``i`` is ``self._item(i)``; a slice is a list of its items.
    Subclasses give ``__len__`` and ``_item``."""

    def _item(self, index: int) -> str:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        return self._item(index)
