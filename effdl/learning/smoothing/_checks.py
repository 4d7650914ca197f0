"""Argument checks shared by the smoothing modules: each error names the argument, the value and what is allowed."""

from __future__ import annotations

import math
import numbers

import numpy as np

from effdl.core.checks import int_at_least, is_int

__all__ = ["as_points", "as_vector", "nonneg", "positive", "rng_from", "seed_or_none"]


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
    if seed is None:
        return None
    if not is_int(seed) or seed < 0:  # type: ignore[operator]
        raise ValueError(f"seed must be None or an int >= 0, got {seed!r}")
    return int(seed)  # type: ignore[call-overload]


def rng_from(seed: object) -> np.random.Generator:
    """A fresh ``numpy`` generator from ``seed`` (an int >= 0, None, or a ``Generator`` passed through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed_or_none(seed))


def as_points(name: str, X: object, *, dim: int | None = None) -> np.ndarray:
    """``X`` as a float64 array of shape (n, D); a 1-D array is read as n points in D = 1."""
    arr = np.asarray(X, dtype=np.float64) if not isinstance(X, np.ndarray) else X.astype(np.float64, copy=False)
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
    arr = np.asarray(y, dtype=np.float64)
    if arr.shape != (length,):
        raise ValueError(f"{name} must have shape ({length},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return arr


def count(name: str, value: object, low: int = 1) -> int:
    """``value`` as an int >= ``low``."""
    return int_at_least(name, value, low)
