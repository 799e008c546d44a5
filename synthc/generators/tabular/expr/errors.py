"""The one error of the expression language: a message and the offset it points at."""

from __future__ import annotations


class ExprError(Exception):
    """A problem in a formula: what is wrong (``message``) and where (``offset``, 0-based)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message, offset)  # the args rebuild the error when it is unpickled
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return f"{self.message} (at offset {self.offset})"
