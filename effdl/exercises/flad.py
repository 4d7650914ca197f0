"""Checkers for FLAD bandits (chapter 12): EXP3's mixture π_t, UCB1's upper confidence bounds, the gradient-alignment
reward, the step slider's task, and how much of EXP3's mixture is still forced uniform after T steps."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from effdl.exercises._common import _attempt, _missing, _number, _verdict, checker
from effdl.learning.flad.bandits import EXP3, UCB1, softmax
from effdl.learning.flad.reward import gradient_alignment
from effdl.learning.flad.tasks import KINDS

__all__ = [
    "check_cosine_reward",
    "check_exp3_probs",
    "check_exp3_uniform_share",
    "check_flad_crossing",
    "check_ucb1_scores",
]


def _vector(out: Any, n: int, where: str) -> np.ndarray | str:
    try:
        arr = np.asarray(out.detach().cpu().numpy() if hasattr(out, "detach") else out, dtype=np.float64)
    except (TypeError, ValueError):
        return f"return an array of {n} numbers, got {type(out).__name__} {where}"
    if arr.shape != (n,):
        return f"return shape ({n},) (one value per arm), got {arr.shape} {where}"
    return arr


def _exp3_truth(gains: np.ndarray, t: int) -> np.ndarray:
    bandit = EXP3(len(gains))
    bandit.gains, bandit.t = gains.astype(np.float64).copy(), t - 1  # probs() draws at step self.t + 1
    return bandit.probs()


@checker
def check_exp3_probs(fn: Callable[[np.ndarray, int, int], Any]) -> bool:
    """Exercise 2: ``fn(gains, t, n_arms)`` returns EXP3-FLAD's π_t (K,) at step t ≥ 1 from the importance-weighted
    gains Ĝ (K,): ε_t = min(1/K, √(ln K / (K t))) (ε_0 = 1/K), π = (1 − K ε_t) softmax(ε_{t−1} Ĝ) + ε_t; compared
    with :class:`effdl.learning.flad.EXP3` at steps before and after K ln K."""
    rng = np.random.default_rng(0)
    trials = [
        (5, 60, rng.normal(0, 20, 5)),
        (10, 400, rng.normal(0, 30, 10)),
        (3, 1, np.array([4.0, -1.0, 0.5])),
        (20, 30, rng.normal(0, 10, 20)),
        (20, 2000, rng.normal(0, 60, 20)),
    ]
    for k, t, gains in trials:
        where = f"(K = {k}, t = {t}, K ln K = {k * math.log(k):.1f})"
        try:
            out = _attempt(fn, gains.copy(), t, k)
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {str(err)[:120]} {where}")
        got = _vector(out, k, where)
        if isinstance(got, str):
            return _verdict(False, "", got)
        want = _exp3_truth(gains, t)
        if np.allclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        eps = EXP3(k).epsilon
        e_t, e_prev = eps(t), eps(t - 1)
        if not math.isclose(float(got.sum()), 1.0, abs_tol=1e-6):
            return _verdict(False, "", f"π must sum to 1, yours sums to {got.sum():.4f} {where}")
        if np.allclose(got, (1 - k * e_t) * softmax(e_t * gains) + e_t, rtol=1e-6):
            return _verdict(False, "", f"the softmax uses the previous step's rate, softmax(ε_(t−1) Ĝ) {where}")
        if np.allclose(got, softmax(e_prev * gains), rtol=1e-6) or np.allclose(got, softmax(gains), rtol=1e-6):
            return _verdict(False, "", f"mix in the floor: π = (1 − K ε_t)·softmax + ε_t, so every π_a ≥ ε_t {where}")
        if np.allclose(got, (1 - k * e_t) * softmax(gains) + e_t, rtol=1e-6):
            return _verdict(False, "", f"scale the gains inside the softmax: softmax(ε_(t−1) Ĝ) {where}")
        if (got < -1e-12).any():
            return _verdict(False, "", f"π has negative entries: cap the rate, ε_t = min(1/K, √(ln K/(K t))) {where}")
        if np.allclose(got, np.full(k, 1 / k)) and not np.allclose(want, 1 / k):
            return _verdict(False, "", f"π is uniform only while t ≤ K ln K; ε_t = min(1/K, √(ln K/(K t))) {where}")
        if np.allclose(want, 1 / k):
            return _verdict(False, "", f"while t ≤ K ln K, π is exactly uniform: cap ε_t = min(1/K, …) {where}")
        return _verdict(False, "", f"your π differs from EXP3's by up to {np.abs(got - want).max():.3g} {where}")
    return _verdict(
        True,
        "π_t = (1 − K ε_t) softmax(ε_(t−1) Ĝ) + ε_t: uniform while t ≤ K ln K, then the floor ε_t fades as "
        "√(ln K/(K t)) and the gains take over.",
        "",
    )


def _ucb1_truth(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    bandit = UCB1(len(values))
    bandit.values, bandit.counts = values.astype(np.float64).copy(), counts.astype(np.int64).copy()
    bandit.t = int(counts.sum())
    return bandit.bounds()


@checker
def check_ucb1_scores(fn: Callable[[np.ndarray, np.ndarray], Any]) -> bool:
    """Exercise 3: ``fn(values, counts)`` returns UCB1-FLAD's upper bounds (K,) for arms that were all played at
    least once: R̂_a + √(2 ln N / n_a) with N = Σ counts + 1 (the plays including the next one); the next arm is
    their argmax. Compared with :meth:`effdl.learning.flad.UCB1.bounds`."""
    trials = [
        (np.array([0.5, 0.1, -0.3, 0.45]), np.array([30, 5, 3, 2])),
        (np.array([0.2, 0.25, 0.1]), np.array([1, 1, 1])),
        (np.array([0.6, -0.2, 0.1, 0.3, 0.0, 0.55]), np.array([100, 4, 10, 20, 2, 60])),
    ]
    chosen = []
    for values, counts in trials:
        k = len(values)
        where = f"(R̂ = {values.tolist()}, n = {counts.tolist()})"
        try:
            out = _attempt(fn, values.copy(), counts.copy())
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {str(err)[:120]} {where}")
        if _number(out) is not None and np.ndim(out) == 0:
            return _verdict(False, "", f"return the score of every arm (shape ({k},)); the chosen arm is its argmax")
        got = _vector(out, k, where)
        if isinstance(got, str):
            return _verdict(False, "", got)
        want = _ucb1_truth(values, counts)
        if np.allclose(got, want, rtol=1e-6):
            chosen.append((int(np.argmax(want)), int(np.argmax(values))))
            continue
        n_total = counts.sum()
        if np.allclose(got, values + np.sqrt(2 * np.log(n_total) / counts), rtol=1e-6):
            return _verdict(False, "", f"N counts the plays including the next one: Σ n_a + 1 {where}")
        if np.allclose(got, values + np.sqrt(np.log(n_total + 1) / counts), rtol=1e-6):
            return _verdict(False, "", f"the bonus is √(2 ln N / n_a): you left out the 2 {where}")
        if np.allclose(got, values + 2 * np.log(n_total + 1) / counts, rtol=1e-6):
            return _verdict(False, "", f"take the square root of 2 ln N / n_a {where}")
        if np.allclose(got, values + np.sqrt(2 * np.log(n_total + 1) / (n_total + 1)), rtol=1e-6):
            return _verdict(False, "", f"divide by the arm's own plays n_a, not by N: rare arms get the bonus {where}")
        return _verdict(False, "", f"your scores differ from UCB1's by up to {np.abs(got - want).max():.3g} {where}")
    picks = ", ".join(f"arm {c} (greedy: arm {g})" for c, g in chosen)
    return _verdict(
        True,
        f"R̂_a + √(2 ln N / n_a); UCB1 plays {picks}: the bonus lifts arms played rarely above a better-looking "
        "one played often.",
        "",
    )


@checker
def check_cosine_reward(fn: Callable[[torch.Tensor, torch.Tensor], Any]) -> bool:
    """Exercise 1: ``fn(g_aux, g_target)`` returns the reward r = ⟨g_aux, g_target⟩ / (‖g_aux‖ ‖g_target‖) ∈ [−1, 1]
    as a float, for two gradients of one last layer (tensors of the same shape, e.g. (10, 64)), and 0.0 when either
    is all zeros; compared with :func:`effdl.learning.flad.gradient_alignment`."""
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(10, 64, generator=gen), torch.randn(10, 64, generator=gen)
    mixed = a + 0.5 * b
    trials = [
        (a, mixed, "two random gradients"),
        (a, -3.0 * a, "opposite gradients"),
        (0.01 * b, 100.0 * b, "the same direction, other lengths"),
        (torch.zeros(10, 64), a, "a zero gradient"),
    ]
    for x, y, what in trials:
        where = f"({what})"
        try:
            out = _attempt(fn, x.clone(), y.clone())
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {str(err)[:120]} {where}")
        shape = tuple(getattr(out, "shape", ()))
        got = _number(out.item()) if hasattr(out, "item") and int(np.prod(shape)) == 1 else _number(out)
        if got is None or (shape and int(np.prod(shape)) != 1):
            hint = "flatten both gradients into one vector first: one number for the whole layer" if shape else ""
            return _verdict(False, "", (hint or f"return one float, got {type(out).__name__}") + f" {where}")
        want = gradient_alignment(x, y)
        if math.isclose(got, want, abs_tol=1e-5):
            continue
        if math.isnan(got):
            return _verdict(False, "", f"a zero gradient has no direction: return 0.0 when a norm is 0 {where}")
        dot = float((x.double() * y.double()).sum())
        if math.isclose(got, dot, rel_tol=1e-4):
            return _verdict(False, "", f"divide the dot product by both norms: the cosine ignores lengths {where}")
        for n in (x, y):
            if math.isclose(got, dot / max(float(n.double().norm()), 1e-300), rel_tol=1e-4):
                return _verdict(False, "", f"divide by the product of both norms, ‖g_aux‖ ‖g_target‖ {where}")
        return _verdict(False, "", f"your reward is {got:.4f}, the cosine is {want:.4f} {where}")
    return _verdict(
        True,
        f"cos(g_aux, g_target) in [−1, 1]: {gradient_alignment(a, mixed):.3f} for the two random gradients, −1 for "
        "opposite ones, 1 for any positive rescaling, 0 without a direction.",
        "",
    )


def _kind_index(kind: str) -> int:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return KINDS.index(kind)


@checker
def check_flad_crossing(
    answer: int | str | None, explorer: Any, *, strategy: str = "exp3", level: float = 2.0, kind: str = "aligned"
) -> bool:
    """Try it (flad_explorer): the first slider step t at which ``strategy``'s mixture puts at least ``level`` times
    the uniform share on the ``kind`` datasets (truth: ``explorer.table``); ``"never"`` when no step does."""
    if _missing(answer):
        return False
    col = _kind_index(kind)
    steps = sorted(explorer.table)
    if strategy not in explorer.table[steps[0]]:
        return _verdict(False, "", f"the explorer has no {strategy!r} run: it shows {list(explorer.table[steps[0]])}")
    ratio = {t: explorer.table[t][strategy][col] for t in steps}
    first = next((t for t in steps if ratio[t] >= level), None)
    if isinstance(answer, str) and answer.strip().lower() == "never":
        ok = first is None
        hint = f"{strategy} reaches {level:g}× at some step: move the slider until the ratio reads ≥ {level:g}"
        return _verdict(ok, f"{strategy} never puts {level:g}× the uniform share on the {kind} datasets.", hint)
    got = _number(answer)
    if got is None or not float(got).is_integer():
        return _verdict(False, "", f"give the step t (an integer on the slider), got {answer!r}")
    t = int(got)
    if t not in ratio:
        return _verdict(False, "", f"give a step on the slider, {steps[0]}..{steps[-1]}, got {t}")
    if first is None:
        return _verdict(False, "", f"at step {t} the ratio is {ratio[t]:.2f}: does {strategy} ever reach {level:g}?")
    if t == first:
        return _verdict(
            True,
            f"step {t}: {strategy}'s {kind} mass ÷ share first reaches {ratio[t]:.2f} ≥ {level:g} "
            f"(it ends at {ratio[steps[-1]]:.2f}).",
            "",
        )
    for s in (s for s in explorer.table[t] if s != strategy):
        if next((u for u in steps if explorer.table[u][s][col] >= level), None) == t:
            return _verdict(False, "", f"step {t} is where {s} crosses {level:g}; read the {strategy} ratio")
    if t < first:
        return _verdict(False, "", f"at step {t} the ratio is only {ratio[t]:.2f} < {level:g}: look later")
    return _verdict(
        False, "", f"at step {t} it reads {ratio[t]:.2f}, but it already was ≥ {level:g} earlier: move back"
    )


@checker
def check_exp3_uniform_share(answer: float | None, *, n_arms: int = 50, steps: int = 1500) -> bool:
    """Exercise 4: the share of EXP3-FLAD's mixture still forced uniform at the last of ``steps`` steps with K =
    ``n_arms`` arms, K·ε_T = min(1, √(K ln K / T)), as a fraction (2 % relative tolerance)."""
    if _missing(answer):
        return False
    k, t = int(n_arms), int(steps)
    want = k * EXP3(k).epsilon(t)
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give a number (a fraction in 0..1), got {answer!r}")
    if math.isclose(got, want, rel_tol=0.02):
        return _verdict(
            True,
            f"K·ε_T = √(K ln K / T) = √({k * math.log(k):.0f} / {t}) = {want:.3f}: after {t} steps {100 * want:.0f} % "
            f"of EXP3's draws are still uniform over all {k} datasets (it left uniform at t = K ln K = "
            f"{k * math.log(k):.0f}).",
            "",
        )
    if math.isclose(got, 100 * want, rel_tol=0.02):
        return _verdict(False, "", "give a fraction in 0..1, not a percentage")
    if math.isclose(got, want / k, rel_tol=0.02):
        return _verdict(False, "", "that is ε_T, the floor of one arm; the uniform part of the mixture is K·ε_T")
    if math.isclose(got, 1 - want, rel_tol=0.02):
        return _verdict(False, "", "that is the learned part 1 − K·ε_T; the question asks for the uniform part")
    for name, log in (("log10", math.log10), ("log2", math.log2)):
        if math.isclose(got, min(1.0, math.sqrt(k * log(k) / t)), rel_tol=0.02):
            return _verdict(False, "", f"you used {name}; ε_t uses the natural log ln K")
    if math.isclose(got, min(1.0, k * math.log(k) / t), rel_tol=0.02):
        return _verdict(False, "", "take the square root: K·ε_t = √(K ln K / t) once t > K ln K")
    return _verdict(False, "", f"{got:.4g} is not K·ε_T; ε_t = min(1/K, √(ln K / (K t)))")
