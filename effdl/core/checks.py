"""Argument checks shared across effdl: each validates at the boundary and raises with the argument's name, the
value it got and the allowed range (``ValueError`` for a bad value, ``TypeError`` for a bad type)."""

from __future__ import annotations

import numbers

__all__ = ["int_at_least", "is_int", "positive_int"]


def is_int(value: object) -> bool:
    """True for Python/NumPy integers, False for bools (``True`` is an ``int`` to Python, never a size here)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_at_least(name: str, value: object, low: int) -> int:
    """``value`` as an ``int`` if it is an integer ``>= low``; else ``TypeError``/``ValueError`` naming ``name``."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int >= {low}, got {value!r}")
    if value < low:  # type: ignore[operator]
        raise ValueError(f"{name} must be an int >= {low}, got {value}")
    return int(value)  # type: ignore[call-overload]


def positive_int(name: str, value: object) -> int:
    """``value`` as an ``int`` if it is an integer ``>= 1``; else ``TypeError``/``ValueError`` naming ``name``."""
    if not is_int(value):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value <= 0:  # type: ignore[operator]
        raise ValueError(f"{name} must be a positive int (>= 1), got {value}")
    return int(value)  # type: ignore[call-overload]
