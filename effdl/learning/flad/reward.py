"""The gradient-alignment reward of FLAD: how well an auxiliary batch's gradient points along the target's.

    r = cos(g_aux, g_target) = ⟨g_aux, g_target⟩ / (‖g_aux‖ ‖g_target‖)   ∈ [−1, 1],

on a chosen subset of the parameters (default: the model's last layer, where the gradient is cheap to read and
most task-specific), then smoothed per arm by an exponential moving average with factor β:

    R̂_a ← β R̂_a + (1 − β) r          (the first reward of an arm sets R̂_a = r, so no estimate is pulled to 0),

β = 0: no smoothing. (The paper's code calls 1 − β its ``similarity_beta``.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from effdl.core.checks import positive_int

__all__ = ["RewardSmoother", "check_beta", "gradient_alignment", "last_layer_names", "resolve_reward_params"]


def last_layer_names(model: nn.Module) -> list[str]:
    """Names (as in ``model.named_parameters()``) of the last layer's parameters: those of the last module, in
    ``named_modules()`` order, that owns parameters directly (e.g. the final ``nn.Linear``'s weight and bias)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    last: list[str] = []
    for prefix, module in model.named_modules():
        own = [f"{prefix}.{n}" if prefix else n for n, _ in module.named_parameters(recurse=False)]
        if own:
            last = own
    if not last:
        raise ValueError(f"model ({type(model).__name__}) has no parameters: there is no last layer to reward on")
    return last


def resolve_reward_params(model: nn.Module, names: Sequence[str] | None = None) -> list[tuple[str, nn.Parameter]]:
    """``[(name, parameter)]`` the reward is computed on: ``names`` (checked against ``model.named_parameters()``)
    or, for ``None``, :func:`last_layer_names`. Each must require gradients."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = dict(model.named_parameters())
    if names is None:
        names = last_layer_names(model)
    elif isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"reward_params must be None or a list of parameter names, got {names!r}")
    if len(names) == 0:
        raise ValueError("reward_params must name at least one parameter, got an empty list")
    unknown = [n for n in names if n not in params]
    if unknown:
        raise ValueError(f"reward_params names parameters the model does not have: {unknown}; it has {list(params)}")
    frozen = [n for n in names if not params[n].requires_grad]
    if frozen:
        raise ValueError(f"reward_params must be trainable (requires_grad=True), got frozen {frozen}")
    return [(n, params[n]) for n in dict.fromkeys(names)]


def gradient_alignment(a: Sequence[torch.Tensor] | torch.Tensor, b: Sequence[torch.Tensor] | torch.Tensor) -> float:
    """Cosine similarity of two gradients, each a tensor or a list of tensors (flattened and concatenated in
    order; shapes must match pairwise). Returns a float in [−1, 1]; 0.0 when either gradient is all zeros (no
    direction to align with). Accumulated in float64."""
    a_list = [a] if isinstance(a, torch.Tensor) else list(a)
    b_list = [b] if isinstance(b, torch.Tensor) else list(b)
    if len(a_list) != len(b_list) or any(x.shape != y.shape for x, y in zip(a_list, b_list, strict=True)):
        raise ValueError(
            f"the two gradients must have the same shapes, got {[tuple(x.shape) for x in a_list]} and "
            f"{[tuple(y.shape) for y in b_list]}"
        )
    dot = sum(float((x.double() * y.double()).sum()) for x, y in zip(a_list, b_list, strict=True))
    na = math.sqrt(sum(float(x.double().square().sum()) for x in a_list))
    nb = math.sqrt(sum(float(y.double().square().sum()) for y in b_list))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return max(-1.0, min(1.0, dot / (na * nb)))  # rounding can step past ±1 by an ulp


def check_beta(beta: float) -> float:
    """``beta`` as a float if it is a number in [0, 1); else ``TypeError``/``ValueError`` naming it."""
    if isinstance(beta, bool) or not isinstance(beta, int | float | np.floating):
        raise TypeError(f"beta must be a number in [0, 1), got {beta!r}")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1) (0 = no smoothing), got {beta}")
    return float(beta)


class RewardSmoother:
    """Per-arm exponential moving average of the rewards: R̂_a ← β R̂_a + (1 − β) r, the first reward of an arm
    taken as is (see the module docstring).

    Attributes: ``beta``; ``values`` float64 (K,) (NaN for arms never rewarded); ``counts`` int64 (K,).
    """

    def __init__(self, n_arms: int, beta: float = 0.0) -> None:
        self.n_arms = positive_int("n_arms", n_arms)
        self.beta = check_beta(beta)
        self.values = np.full(self.n_arms, np.nan)
        self.counts = np.zeros(self.n_arms, dtype=np.int64)

    def update(self, arm: int, reward: float) -> float:
        """Fold ``reward`` into arm ``arm``'s estimate and return the new R̂_arm."""
        if not 0 <= arm < self.n_arms:
            raise ValueError(f"arm must be an int in 0..{self.n_arms - 1}, got {arm!r}")
        if not math.isfinite(reward):
            raise ValueError(f"reward must be finite, got {reward}")
        old = self.values[arm]
        self.values[arm] = reward if self.counts[arm] == 0 else self.beta * old + (1.0 - self.beta) * reward
        self.counts[arm] += 1
        return float(self.values[arm])
