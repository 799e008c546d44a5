"""The placeholder for a config value that failed validation, which generator rules must meet.

synthc.compiler.partial validates a spec part by part and puts :data:`HOLE` where a value is
invalid; a generator's cross-field rule that reads a hole raises :class:`Unjudgeable` and stays
silent (its inputs are wrong and already reported). Generators test for it with :func:`is_hole`.
"""

from __future__ import annotations

from typing import Any


class Unjudgeable(Exception):
    """A rule read a value that failed validation: its answer would be a guess."""


def _refuse(*_args: Any, **_kwargs: Any) -> Any:
    raise Unjudgeable


class _Hole:
    """Stands for a value that failed validation: any use of it raises Unjudgeable."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        raise Unjudgeable(name)

    def __repr__(self) -> str:
        return "<invalid>"

    __bool__ = __len__ = __iter__ = __contains__ = __getitem__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _refuse
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __round__ = __divmod__ = _refuse
    __rdivmod__ = __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = _refuse
    __lshift__ = __rlshift__ = __rshift__ = __rrshift__ = __invert__ = __reversed__ = _refuse
    __int__ = __float__ = __index__ = __str__ = __format__ = _refuse


#: the value of every part that failed validation
HOLE: Any = _Hole()


def is_hole(value: Any) -> bool:
    """True for a value that failed validation."""
    return value is HOLE
