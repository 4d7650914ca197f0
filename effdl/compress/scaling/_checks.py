"""Argument checks and small helpers shared by the scaling modules: each error names the argument, the value and
what is allowed."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from effdl.core.checks import int_at_least, is_int, seed_or_none
from effdl.core.data import CharDataset
from effdl.core.train import progress_enabled


def _int(name: str, value: object, *, low: int = 1) -> int:
    return int_at_least(name, value, low)


def _positive(name: str, value: object, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    what = "None or a number > 0" if allow_none else "a number > 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be {what}, got {value}")
    return float(value)


def _nonneg(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number >= 0, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a number >= 0, got {value}")
    return float(value)


def _seed(seed: object) -> int | None:
    return seed_or_none("seed", seed)


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _tokens(name: str, data: object, context: int | None) -> tuple[Tensor, int]:
    """A 1-D int64 token stream and the window length (``context``, else the CharDataset's)."""
    if isinstance(data, CharDataset):
        tokens, ctx = data.tokens, data.context if context is None else context
    elif isinstance(data, Tensor) and data.dim() == 1 and not data.is_floating_point():
        if context is None:
            raise ValueError(f"context must be given when {name} is a tensor of token ids")
        tokens, ctx = data, context
    else:
        raise TypeError(
            f"{name} must be a CharDataset (effdl.load('pycode')) or a 1-D integer tensor of token ids, "
            f"got {type(data).__name__}"
        )
    ctx = _int("context", ctx)
    if len(tokens) < ctx + 1:
        raise ValueError(f"{name} has {len(tokens)} tokens: too few for one window of context={ctx} (+1 target)")
    return tokens.long(), ctx


def _context_of(model: nn.Module) -> int | None:
    ctx = getattr(model, "context", None)
    return int(ctx) if is_int(ctx) else None


def _model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _logits(model: nn.Module, x: Tensor) -> Tensor:
    out = model(x)
    return out[0] if isinstance(out, tuple | list) else out


def _bar(total: int | None, desc: str, progress: bool | None) -> Any:
    from tqdm.auto import tqdm  # imported here: tqdm.auto probes for Jupyter, which is slow at module import

    return tqdm(total=total, desc=desc, unit="step", disable=not progress_enabled(progress), leave=False)


def _fractions(name: str, values: object) -> list[float]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of numbers in [0, 1), got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (math.isfinite(v) and 0.0 <= v < 1.0):
            raise ValueError(f"{name} entries must be numbers in [0, 1), got {v!r}")
        out.append(float(v))
    return out


def _bit_list(name: str, values: object) -> list[int]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of ints in 1..16, got {values!r}")
    out = []
    for v in values:
        if not is_int(v) or not 1 <= v <= 16:
            raise ValueError(f"{name} entries must be ints in 1..16, got {v!r}")
        out.append(int(v))
    return out
