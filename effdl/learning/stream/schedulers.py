"""Schedulers that share a compute capacity among training tasks whose learning curves they do not know.

Each step the simulator (:func:`effdl.learning.stream.scheduling.simulate`) shows a scheduler the active tasks as
:class:`TaskView` (arrival, deadline, target loss, compute spent, observed noisy losses) and asks for an
allocation ``{task id: compute units}`` summing to at most the capacity. Compute a task cannot use (it reached its
target mid-step) is offered again in another round of the same step, so every scheduler is work-conserving.

- ``"fcfs"``: everything to the earliest arrival (ties: lower id) until it finishes or its deadline passes;
- ``"proportional"``: an equal split among the active tasks (processor sharing);
- ``"adaptive"``: fits each task's curve L(s) = a·s^(−b) + c online (:func:`~effdl.learning.stream.curves.fit_power_law`
  on its observed losses), estimates the compute left to the target optimistically (the least over the curves its
  observations cannot rule out, a confidence set that shrinks as they accumulate, as in UCB), abandons a
  task whose optimistic remainder exceeds what the whole capacity could deliver before its deadline, admits tasks
  in order of expected gain per unit of compute (one completion / optimistic remainder) while the admitted set stays
  feasible by earliest deadline first, and runs the admitted tasks EDF. New tasks first get a small probe share until
  they have ``min_obs`` observations;
- ``"oracle"``: the same policy with the true curves and no probing or optimism (a reference, not a method).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from effdl.learning.stream.arrivals import _real
from effdl.learning.stream.curves import PowerLaw, fit_power_law, profile

__all__ = ["FCFS", "SCHEDULERS", "Adaptive", "Proportional", "Scheduler", "TaskView", "make_scheduler"]

SCHEDULERS = ("fcfs", "proportional", "adaptive", "oracle")


@dataclass(frozen=True)
class TaskView:
    """What a scheduler may see of a task at time ``t``: ids and times in steps, compute in units.

    ``s_obs``/``loss_obs`` ``(n,)``: compute at which a loss was observed and the (noisy) loss; ``truth``: the true
    curve, given only to the oracle (``None`` otherwise).
    """

    id: int
    arrival: int
    deadline: int
    target: float
    spent: float
    s_obs: np.ndarray
    loss_obs: np.ndarray
    truth: PowerLaw | None = None


@dataclass(frozen=True)
class _Fit:
    """A task's fit from ``n`` observations: the point estimate and the plausible profile curves ``(a, b, c)``."""

    n: int
    point: PowerLaw
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray


class Scheduler:
    """Base class: ``allocate(t, active, capacity) -> {id: units}``; ``abandoned`` lists ids given up on."""

    name = "base"
    needs_truth = False

    def __init__(self) -> None:
        self.abandoned: set[int] = set()
        self.capacity = math.nan  # units per step, set by start()

    def start(self, capacity: float) -> None:
        """Called once before a simulation with the capacity per step (``allocate`` gets what is left of a step)."""
        self.capacity = capacity

    def allocate(self, t: int, active: Sequence[TaskView], capacity: float) -> dict[int, float]:
        raise NotImplementedError


class FCFS(Scheduler):
    """First come, first served: the whole capacity to the earliest-arrived active task."""

    name = "fcfs"

    def allocate(self, t: int, active: Sequence[TaskView], capacity: float) -> dict[int, float]:
        if not active:
            return {}
        first = min(active, key=lambda v: (v.arrival, v.id))
        return {first.id: capacity}


class Proportional(Scheduler):
    """Proportional (equal) share: capacity / n to each of the n active tasks."""

    name = "proportional"

    def allocate(self, t: int, active: Sequence[TaskView], capacity: float) -> dict[int, float]:
        return {v.id: capacity / len(active) for v in active} if active else {}


class Adaptive(Scheduler):
    """Online learning-curve fits, optimistic compute-to-target, abandonment and EDF admission (module docstring).

    Args:
        min_obs: observations before a task is fitted (≥ 3). probe: share of the capacity a new task gets per step
            while it has fewer than ``min_obs`` observations (the probes together take at most half the capacity).
        optimism: the bonus κ in remainder / (1 + κ/√n). refit_growth: refit a task when its observation count has
            grown by this factor since its last fit (fits cost milliseconds; the remainder is updated every step).
        noise_floor: the least noise (std of log loss) assumed when the residuals of a few points look too clean.
        oracle: use the tasks' true curves (``TaskView.truth``) instead of fits.

    Optimism: the data rarely pin the offset c down early on. Every c whose profile fit (:func:`profile`) has a
    squared error within ``optimism²`` noise variances of the best (a likelihood-ratio confidence set, σ² estimated
    from the residuals) is plausible; the optimistic compute-to-target is the least over them. Few or noisy
    observations keep low offsets (fast curves) plausible, so a task is not given up on the evidence of a few
    points, and the bonus shrinks as observations accumulate, as in UCB.
    """

    def __init__(self, *, min_obs: int = 4, probe: float = 0.05, optimism: float = 2.0, refit_growth: float = 1.2,
                 noise_floor: float = 0.01, oracle: bool = False) -> None:  # fmt: skip
        super().__init__()
        if isinstance(min_obs, bool) or not isinstance(min_obs, int) or min_obs < 3:
            raise ValueError(f"min_obs must be an int >= 3, got {min_obs!r}")
        for name, value in (("probe", probe), ("optimism", optimism), ("refit_growth", refit_growth),
                            ("noise_floor", noise_floor)):  # fmt: skip
            _real(name, value)  # a string would fail the comparisons below with an error that names nothing
        if not 0 < probe <= 0.5:
            raise ValueError(f"probe must be a share in (0, 0.5], got {probe!r}")
        if not optimism >= 0:
            raise ValueError(f"optimism must be a number >= 0, got {optimism!r}")
        if not refit_growth >= 1:
            raise ValueError(f"refit_growth must be a number >= 1, got {refit_growth!r}")
        if not noise_floor > 0:
            raise ValueError(f"noise_floor must be a number > 0, got {noise_floor!r}")
        self.min_obs, self.probe, self.optimism, self.refit_growth = min_obs, probe, optimism, refit_growth
        self.noise_floor = noise_floor
        self.oracle = oracle
        self.needs_truth = oracle
        self.name = "oracle" if oracle else "adaptive"
        self._fits: dict[int, _Fit] = {}

    def _fit(self, v: TaskView) -> _Fit | None:
        n = len(v.s_obs)
        if n < self.min_obs:
            return None
        cached = self._fits.get(v.id)
        if cached is None or n >= cached.n * self.refit_growth:
            c, a, b, sse = profile(v.s_obs, v.loss_obs)
            var = max(float(sse.min()) / max(n - 3, 1), self.noise_floor**2)
            keep = sse <= sse.min() + self.optimism**2 * var  # likelihood-ratio set of offsets c
            cached = _Fit(n, fit_power_law(v.s_obs, v.loss_obs), a[keep], b[keep], c[keep])
            self._fits[v.id] = cached
        return cached

    def curve(self, v: TaskView) -> PowerLaw | None:
        """The current estimate of ``v``'s curve (``None`` until it has ``min_obs`` observations)."""
        if self.oracle:
            return v.truth
        fit = self._fit(v)
        return None if fit is None else fit.point

    def remaining(self, v: TaskView) -> tuple[float, float]:
        """(estimated, optimistic) compute left to ``v``'s target; ``(nan, nan)`` before it can be fitted.

        The optimistic value is the least compute-to-target over the plausible curves (see the class docstring)."""
        if self.oracle:
            assert v.truth is not None, "the oracle needs TaskView.truth"
            est = max(v.truth.compute_to(v.target) - v.spent, 0.0)
            return est, est
        fit = self._fit(v)
        if fit is None:
            return math.nan, math.nan
        est = max(fit.point.compute_to(v.target) - v.spent, 0.0)
        gap = v.target - fit.c
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            need = np.where(gap > 0, (fit.a / np.where(gap > 0, gap, 1.0)) ** (1.0 / fit.b), np.inf)
        opt = max(min(float(need.min()), fit.point.compute_to(v.target)) - v.spent, 0.0)
        return est, opt

    def allocate(self, t: int, active: Sequence[TaskView], capacity: float) -> dict[int, float]:
        live = [v for v in active if v.id not in self.abandoned]
        probing = [] if self.oracle else [v for v in live if len(v.s_obs) < self.min_obs]
        alloc: dict[int, float] = {}
        if probing:
            each = min(self.probe * capacity, 0.5 * capacity / len(probing))
            alloc = {v.id: each for v in probing}
        free = capacity - sum(alloc.values())
        full = self.capacity if math.isfinite(self.capacity) else capacity

        def reach(deadline: int) -> float:  # compute the scheduler can still give by a deadline, this step included
            return capacity + full * (deadline - t - 1)

        cands = []
        for v in live:
            if v.id in alloc:
                continue
            est, opt = self.remaining(v)
            if opt > full * (v.deadline - t):  # not even the whole capacity would make it: give up for good
                self.abandoned.add(v.id)
                continue
            cands.append((opt, v.deadline, v.id, est))
        # admission by gain per unit of compute (1 completion / remainder), keeping the admitted set EDF-feasible
        admitted: list[tuple[float, int, int, float]] = []
        for cand in sorted(cands):
            trial = sorted([*admitted, cand], key=lambda c: (c[1], c[2]))
            work = np.cumsum([c[0] for c in trial])
            if all(w <= reach(c[1]) + 1e-9 for w, c in zip(work, trial, strict=True)):
                admitted = trial
        order = admitted or sorted(cands, key=lambda c: (c[1], c[2]))
        if order:
            alloc[order[0][2]] = free  # EDF: the simulator hands back what the task cannot use
        elif probing:  # nothing fitted yet: the probes share the rest
            for v in probing:
                alloc[v.id] += free / len(probing)
        return alloc


def make_scheduler(name: str, **kwargs: float) -> Scheduler:
    """A fresh scheduler by name (one of :data:`SCHEDULERS`); ``kwargs`` go to :class:`Adaptive`."""
    if name not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {name!r}")
    if kwargs and name not in ("adaptive", "oracle"):
        raise ValueError(f"scheduler {name!r} takes no options, got {sorted(kwargs)}")
    if name == "fcfs":
        return FCFS()
    if name == "proportional":
        return Proportional()
    return Adaptive(oracle=name == "oracle", **kwargs)  # type: ignore[arg-type]
