"""Argument checks shared across effdl: each validates at the boundary and raises with the argument's name, the
value it got and the allowed range (``ValueError`` for a bad value, ``TypeError`` for a bad type)."""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_bool", "int_at_least", "is_int", "positive_int", "positive_number", "seed_or_none"]


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


def positive_number(name: str, value: object) -> float:
    """``value`` as a ``float`` if it is a finite real number ``> 0``; else ``TypeError``/``ValueError`` naming
    ``name`` (0 or NaN as a step or temperature would divide into NaN without a word)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_bool(name: str, value: object) -> bool:
    """``value`` if it is a bool (NumPy's too); else ``TypeError`` naming ``name`` — ``bool("no")`` is True, so a
    string or number given for a flag would otherwise switch it on silently."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def seed_or_none(name: str, seed: object) -> int | None:
    """``seed`` as an ``int`` if it is an integer ``>= 0`` (None passes); else ``ValueError`` naming ``name``, not
    NumPy's error from deep inside a generator."""
    if seed is None:
        return None
    if not is_int(seed) or seed < 0:  # type: ignore[operator]
        raise ValueError(f"{name} must be None or an int >= 0, got {seed!r}")
    return int(seed)  # type: ignore[call-overload]
