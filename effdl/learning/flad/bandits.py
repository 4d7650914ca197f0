"""Mixing strategies as multi-armed bandits over K auxiliary datasets (Albalak et al. 2023, EXP3-FLAD / UCB1-FLAD).

Every strategy has one interface: :meth:`~Strategy.probs` (the distribution the next arm is drawn from, shape
(K,)), :meth:`~Strategy.select` (draw the next arm with a ``numpy.random.Generator``) and
:meth:`~Strategy.update` (the reward observed for the arm just played). Each call costs O(K) arithmetic on K
numbers and nothing else: the per-step cost of training never grows with K through the bandit.

``update(arm, reward)`` takes the arm's *current reward estimate* R̂_a after this play; :class:`~effdl.learning.flad.
trainer.FLADTrainer` passes the β-smoothed gradient alignment (:class:`~effdl.learning.flad.reward.RewardSmoother`),
as the paper's algorithms do.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from effdl.core.checks import is_int, positive_int

__all__ = ["EXP3", "STRATEGIES", "UCB1", "Exploit", "Strategy", "TargetOnly", "Uniform", "make_strategy"]

STRATEGIES = ("exp3", "ucb1", "uniform", "exploit", "target_only")


class Strategy(ABC):
    """A rule for picking which of ``n_arms`` auxiliary datasets to train on next.

    Attributes: ``n_arms`` (K), ``t`` (updates so far), ``counts`` (int64 (K,), plays per arm). ``stochastic`` is
    True when :meth:`select` samples from :meth:`probs`, False when it is a deterministic argmax (then
    :meth:`probs` is one-hot on the arm it would play and :meth:`shares` is the summary that matters).
    """

    name = "strategy"
    stochastic = True
    uses_auxiliary = True

    def __init__(self, n_arms: int) -> None:
        self.n_arms = positive_int("n_arms", n_arms)
        self.t = 0
        self.counts = np.zeros(self.n_arms, dtype=np.int64)

    @abstractmethod
    def probs(self) -> np.ndarray:
        """float64 (K,), sums to 1: the distribution of the next :meth:`select`."""

    def select(self, rng: np.random.Generator) -> int:
        """The next arm (an int in 0..K−1), drawn from :meth:`probs` with ``rng``."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        p = self.probs()
        # Inverse CDF on one uniform draw: exact for any p summing to 1 and immune to float drift in the last bin.
        return int(min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"), self.n_arms - 1))

    def update(self, arm: int, reward: float) -> None:
        """Record that ``arm`` was played and its reward estimate is now ``reward`` (a finite float)."""
        arm = self._check_arm(arm)
        reward = _check_reward(reward)
        self._update(arm, reward)
        self.counts[arm] += 1
        self.t += 1

    def _update(self, arm: int, reward: float) -> None:  # noqa: B027  (optional hook: baselines learn nothing)
        pass

    def shares(self) -> np.ndarray:
        """float64 (K,): fraction of the plays so far that went to each arm (uniform before any play)."""
        total = self.counts.sum()
        return self.counts / total if total else np.full(self.n_arms, 1.0 / self.n_arms)

    def estimates(self) -> np.ndarray:
        """float64 (K,): the strategy's current value per arm (NaN where it keeps none)."""
        return np.full(self.n_arms, np.nan)

    def _check_arm(self, arm: int) -> int:
        if not is_int(arm) or not 0 <= arm < self.n_arms:
            raise ValueError(f"arm must be an int in 0..{self.n_arms - 1}, got {arm!r}")
        return int(arm)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_arms={self.n_arms}, t={self.t})"


def _check_reward(reward: float) -> float:
    if isinstance(reward, bool) or not isinstance(reward, int | float | np.floating | np.integer):
        raise TypeError(f"reward must be a real number, got {type(reward).__name__}")
    if not math.isfinite(reward):
        raise ValueError(f"reward must be finite, got {reward}")
    return float(reward)


def softmax(z: np.ndarray) -> np.ndarray:
    """Softmax of a 1-D array, with the max subtracted first so that exp never overflows."""
    e = np.exp(z - z.max())
    return e / e.sum()


class EXP3(Strategy):
    """EXP3 with the time-varying exploration rate of EXP3-FLAD.

    At step t (t = 1 for the first draw, i.e. ``t = self.t + 1``):

        ε_t = min(1/K, sqrt(ln K / (K t)))        (ε_0 = 1/K; ε ≡ 0 when K = 1)
        π_a = (1 − K ε_t) · softmax(ε_{t−1} Ĝ)_a + ε_t,

    so every π_a ≥ ε_t. After the reward R̂_a of the sampled arm a: Ĝ_a ← Ĝ_a + R̂_a / π_a (importance weighting
    with the π the arm was drawn from). Note ε_t = 1/K (π uniform) while t ≤ K ln K.
    """

    name = "exp3"

    def __init__(self, n_arms: int) -> None:
        super().__init__(n_arms)
        self.gains = np.zeros(self.n_arms)  # Ĝ, the importance-weighted cumulative reward per arm

    def epsilon(self, t: int) -> float:
        """ε_t (see the class docstring); t ≥ 0."""
        k = self.n_arms
        if k == 1:
            return 0.0
        if t == 0:
            return 1.0 / k
        return min(1.0 / k, math.sqrt(math.log(k) / (k * t)))

    def probs(self) -> np.ndarray:
        t = self.t + 1
        eps, prev = self.epsilon(t), self.epsilon(t - 1)
        return (1.0 - self.n_arms * eps) * softmax(prev * self.gains) + eps

    def _update(self, arm: int, reward: float) -> None:
        self.gains[arm] += reward / self.probs()[arm]  # probs() still uses this step's t: the π a was drawn from

    def estimates(self) -> np.ndarray:
        return self.gains.copy()


class UCB1(Strategy):
    """UCB1 as in UCB1-FLAD: play every arm once (in order 0..K−1), then the arm with the largest upper bound

        R̂_a + sqrt(2 ln(t + K) / n_a),

    where t counts the steps after the initialization pass (t = 1 for the first), so t + K is the number of plays
    including this one; n_a = plays of a; R̂_a = the last reward estimate passed to :meth:`update` for a. Ties go
    to the lowest index. Deterministic: ``select`` ignores its rng and :meth:`probs` is one-hot.
    """

    name = "ucb1"
    stochastic = False

    def __init__(self, n_arms: int) -> None:
        super().__init__(n_arms)
        self.values = np.full(self.n_arms, np.nan)  # R̂_a; NaN until played

    def bounds(self) -> np.ndarray:
        """float64 (K,): the upper confidence bounds (+inf for arms not played yet)."""
        unseen = self.counts == 0
        if unseen.any():
            return np.where(unseen, np.inf, self.values)
        t = self.t - self.n_arms + 1
        return self.values + np.sqrt(2.0 * math.log(t + self.n_arms) / self.counts)

    def next_arm(self) -> int:
        """The arm :meth:`select` returns next: the first unseen arm, else the argmax of :meth:`bounds`."""
        unseen = np.flatnonzero(self.counts == 0)
        return int(unseen[0]) if unseen.size else int(np.argmax(self.bounds()))

    def probs(self) -> np.ndarray:
        p = np.zeros(self.n_arms)
        p[self.next_arm()] = 1.0
        return p

    def select(self, rng: np.random.Generator) -> int:
        return self.next_arm()

    def _update(self, arm: int, reward: float) -> None:
        self.values[arm] = reward

    def estimates(self) -> np.ndarray:
        return self.values.copy()


class Exploit(UCB1):
    """Exploit-only: the initialization pass of :class:`UCB1`, then greedily the arm with the largest R̂_a."""

    name = "exploit"

    def bounds(self) -> np.ndarray:
        return np.where(self.counts == 0, np.inf, self.values)


class Uniform(Strategy):
    """Explore-only: every arm with probability 1/K at every step (mixing all auxiliary data uniformly)."""

    name = "uniform"

    def probs(self) -> np.ndarray:
        return np.full(self.n_arms, 1.0 / self.n_arms)


class TargetOnly(Uniform):
    """No auxiliary data: the trainer never calls :meth:`select` (``uses_auxiliary`` is False).

    :meth:`probs` is the uniform share, only so that summaries have a defined value."""

    name = "target_only"
    uses_auxiliary = False

    def select(self, rng: np.random.Generator) -> int:
        raise RuntimeError("target_only plays no auxiliary arm")


_CLASSES: dict[str, type[Strategy]] = {"exp3": EXP3, "ucb1": UCB1, "uniform": Uniform, "exploit": Exploit,
                                       "target_only": TargetOnly}  # fmt: skip


def make_strategy(name: str | Strategy, n_arms: int) -> Strategy:
    """A fresh strategy by name (one of :data:`STRATEGIES`) for ``n_arms`` arms; a :class:`Strategy` is returned
    as given (its ``n_arms`` must match)."""
    if isinstance(name, Strategy):
        if name.n_arms != n_arms:
            raise ValueError(f"strategy has n_arms={name.n_arms} but there are {n_arms} auxiliary datasets")
        return name
    if not isinstance(name, str):
        raise TypeError(f"strategy must be a name in {STRATEGIES} or a Strategy, got {type(name).__name__}")
    if name not in _CLASSES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    return _CLASSES[name](n_arms)
