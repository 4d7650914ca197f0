"""Carve a validation split out of a training set, so that choices (a method, a strength, a grid) are made on data
that is neither trained on nor the test set.

:func:`train_val_split` is :func:`effdl.core.data.subset`'s seeded, per-class draw (the same examples for the same
seed), returning the held-out examples *and* the rest.
"""

from __future__ import annotations

import numbers

import numpy as np
from torch.utils.data import Dataset

from effdl.core.data import _draw, _take

__all__ = ["train_val_split"]


def train_val_split(ds: Dataset, n_val: int, *, seed: int = 0, stratify: bool = True) -> tuple[Dataset, Dataset]:
    """Split ``ds`` into ``(train, val)`` with ``len(val) == n_val``: disjoint, together all of ``ds``.

    ``val`` is the first ``n_val`` examples of a ``seed``-ed permutation, taken per class (each class keeps its
    share, largest-remainder rounding) when ``stratify`` and labels are available (image datasets), uniformly
    otherwise; ``train`` is the rest. Both keep the original relative order and type (an :class:`ImageDataset` or
    ``TensorDataset`` for tensor datasets, a ``torch.utils.data.Subset`` otherwise). Same seed, same split.
    """
    if not isinstance(ds, Dataset):
        raise TypeError(f"ds must be a torch Dataset, got {type(ds).__name__}")
    size = len(ds)  # type: ignore[arg-type]
    if isinstance(n_val, bool) or not isinstance(n_val, numbers.Integral) or not 1 <= n_val < size:
        raise ValueError(f"n_val must be an int in 1..{size - 1} (the dataset has {size} examples), got {n_val!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    val_idx = _draw(ds, int(n_val), seed=int(seed), stratify=stratify)  # the examples subset(ds, n_val) picks
    in_val = np.zeros(size, dtype=bool)
    in_val[val_idx] = True
    return _take(ds, np.flatnonzero(~in_val)), _take(ds, val_idx)
