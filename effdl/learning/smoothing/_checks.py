"""Argument checks shared by the smoothing modules: each error names the argument, the value and what is allowed."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import TypeVar

import numpy as np

from effdl.core import checks
from effdl.core.checks import int_at_least

__all__ = ["as_array", "as_points", "as_vector", "nonneg", "positive", "rng_from", "seed_or_none", "sequence"]


def positive(name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a number > 0, got {value}")
    return float(value)


def nonneg(name: str, value: object) -> float:
    """``value`` as a float if it is a finite real number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a number >= 0, got {value}")
    return float(value)


def seed_or_none(seed: object) -> int | None:
    """``seed`` if it is None or an int >= 0."""
    return checks.seed_or_none("seed", seed)


def rng_from(seed: object) -> np.random.Generator:
    """A fresh ``numpy`` generator from ``seed`` (an int >= 0, None, or a ``Generator`` passed through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed_or_none(seed))


def as_array(name: str, value: object) -> np.ndarray:
    """``value`` as a float64 array; a TypeError naming ``name`` if it is not numeric (a string, ragged lists, ...),
    instead of numpy's "could not convert string to float" that does not say which argument was wrong."""
    try:
        if isinstance(value, np.ndarray):
            return value.astype(np.float64, copy=False)
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__} {value!r:.60}") from None


T = TypeVar("T")


def sequence(name: str, value: Sequence[T]) -> tuple[T, ...]:
    """``value`` as a tuple if it is a list-like of values (not a string: a family name or a number given where a
    sequence belongs would otherwise be iterated character by character or fail with "not iterable")."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a sequence (list or tuple), got {value!r}")
    return tuple(value)


def as_points(name: str, X: object, *, dim: int | None = None) -> np.ndarray:
    """``X`` as a float64 array of shape (n, D); a 1-D array is read as n points in D = 1."""
    arr = as_array(name, X)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, D) (or (n,) for D = 1), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} must have D = {dim} columns to match, got shape {arr.shape}")
    return arr


def as_vector(name: str, y: object, *, length: int) -> np.ndarray:
    """``y`` as a finite float64 vector of shape (length,)."""
    arr = as_array(name, y)
    if arr.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return arr


def count(name: str, value: object, low: int = 1) -> int:
    """``value`` as an int >= ``low``."""
    return int_at_least(name, value, low)
