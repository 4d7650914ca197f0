"""Multi-task time-sharing of a compute capacity: tasks, a scenario generator, the simulator, scheduler comparison.

A task arrives at step ``arrival``, must reach loss ``target`` by step ``deadline``, and follows a learning curve
L(s) = a·s^(−b) + c in the compute s it has received (hidden from the schedulers, which only see noisy losses).
Capacity C units per step is split among the active tasks by a scheduler (:mod:`~effdl.learning.stream.schedulers`).
A task counts as completed iff its true loss reaches the target at or before its deadline; at the deadline an
unfinished task leaves and counts as missed.

The default :class:`Scenario` is set from first principles, not tuned to any scheduler:

- compute needed to reach the target is log-normal (median 100 units, σ = 0.75: job sizes are heavy-tailed);
- the user sets a deadline without knowing the curve: relative deadline uniform in 1–4 × the median job's
  standalone time (median/C), independent of the job's own size, so some jobs are infeasible even alone;
- curves: b ~ U(0.3, 0.7), c ~ U(0.05, 0.5), a ~ U(0.5, 2) (loss-vs-compute exponents of that order are typical);
  the target is L at the needed compute; observed losses carry 2 % multiplicative log-normal noise;
- Poisson arrivals at a rate that offers ``load`` = 1.5 × the capacity in expected work (over-subscription, so
  what gets compute first matters; at load < 1 the schedulers differ little, and what caps them all is the tasks
  whose deadline no schedule can meet).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from effdl.core.checks import is_int, positive_int
from effdl.learning.stream.arrivals import _positive_number, _real, _seed
from effdl.learning.stream.curves import PowerLaw
from effdl.learning.stream.schedulers import SCHEDULERS, Scheduler, TaskView, make_scheduler

__all__ = ["Comparison", "Scenario", "ScheduleResult", "Task", "compare_schedulers", "simulate"]


@dataclass(frozen=True)
class Task:
    """A training task: steps ``arrival`` < ``deadline``, ``target`` loss, hidden ``curve`` (compute → loss)."""

    id: int
    arrival: int
    deadline: int
    target: float
    curve: PowerLaw

    @property
    def required(self) -> float:
        """Compute units at which the true loss reaches the target (``inf`` if never)."""
        return self.curve.compute_to(self.target)


_MAX_SPAN = 10**6  # simulate steps one time unit at a time


def _range(name: str, value: object) -> tuple[float, float]:
    if isinstance(value, tuple | list) and len(value) == 2:
        # numbers, and finite: an infinite bound would reach rng.uniform and then int() of an infinite deadline
        for v in value:
            if not math.isfinite(_real(f"{name} bounds", v)):
                raise ValueError(f"{name} must be a pair (low, high) of finite numbers, got {value!r}")
    if not (isinstance(value, tuple | list) and len(value) == 2 and 0 <= value[0] <= value[1]):
        raise ValueError(f"{name} must be a pair (low, high) with 0 <= low <= high, got {value!r}")
    return float(value[0]), float(value[1])


@dataclass(frozen=True)
class Scenario:
    """A distribution over task sets (module docstring). Compute in units, time in steps, ``capacity`` units/step.

    ``deadline_range`` is in units of the median job's standalone time ``median_compute / capacity``.
    """

    n_tasks: int = 40
    capacity: float = 10.0
    load: float = 1.5
    median_compute: float = 100.0
    compute_sigma: float = 0.75
    deadline_range: tuple[float, float] = (1.0, 4.0)
    a_range: tuple[float, float] = (0.5, 2.0)
    b_range: tuple[float, float] = (0.3, 0.7)
    c_range: tuple[float, float] = (0.05, 0.5)
    noise: float = 0.02

    def __post_init__(self) -> None:
        if isinstance(self.n_tasks, bool) or not isinstance(self.n_tasks, int) or self.n_tasks < 1:
            raise ValueError(f"n_tasks must be an int >= 1, got {self.n_tasks!r}")
        for name in ("capacity", "load", "median_compute"):
            _positive_number(name, getattr(self, name))
        for name in ("compute_sigma", "noise"):
            if not math.isfinite(_real(name, getattr(self, name))):  # inf spreads inf/NaN compute and losses
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")
        if not self.compute_sigma >= 0 or not self.noise >= 0:
            raise ValueError(f"compute_sigma and noise must be >= 0, got {self.compute_sigma}, {self.noise}")
        for name in ("deadline_range", "a_range", "b_range", "c_range"):
            _range(name, getattr(self, name))
        if self.deadline_range[0] <= 0 or self.a_range[0] <= 0 or self.b_range[0] <= 0:
            raise ValueError("deadline_range, a_range and b_range must be positive")

    @property
    def arrival_rate(self) -> float:
        """Tasks per step: load × capacity / E[required compute] (log-normal mean = median·exp(σ²/2))."""
        return self.load * self.capacity / (self.median_compute * math.exp(self.compute_sigma**2 / 2))

    def sample(self, seed: int | None = 0) -> list[Task]:
        """Draw ``n_tasks`` tasks (ids 0.., in arrival order); the same seed gives the same tasks."""
        rng = np.random.default_rng(_seed(seed))  # type: ignore[arg-type]
        n = self.n_tasks
        arrival = np.floor(np.cumsum(rng.exponential(1.0 / self.arrival_rate, n))).astype(np.int64)
        standalone = self.median_compute / self.capacity
        rel = np.maximum(np.ceil(rng.uniform(*self.deadline_range, n) * standalone), 1).astype(np.int64)
        need = self.median_compute * np.exp(self.compute_sigma * rng.standard_normal(n))
        a, b, c = (rng.uniform(*r, n) for r in (self.a_range, self.b_range, self.c_range))
        return [
            Task(i, int(arrival[i]), int(arrival[i] + rel[i]), float(c[i] + a[i] * need[i] ** -b[i]),
                 PowerLaw(float(a[i]), float(b[i]), float(c[i])))
            for i in range(n)
        ]  # fmt: skip


@dataclass
class ScheduleResult:
    """One simulation: ``completed``/``missed``/``abandoned`` task ids, ``finish`` (the end of the step in which it
    reached its target) per completed id,
    ``spent`` compute per id, ``allocation`` ``(steps, n_tasks)`` units given per step, ``times`` ``(steps,)``, and
    ``idle`` = capacity left unused in total (units)."""

    scheduler: str
    n_tasks: int
    completed: tuple[int, ...]
    missed: tuple[int, ...]
    abandoned: tuple[int, ...]
    finish: dict[int, float]
    spent: np.ndarray
    times: np.ndarray
    allocation: np.ndarray = field(repr=False)
    idle: float = 0.0

    @property
    def fraction(self) -> float:
        """Share of the tasks completed by their deadline."""
        return len(self.completed) / self.n_tasks


def simulate(
    tasks: Sequence[Task],
    scheduler: str | Scheduler,
    *,
    capacity: float = 10.0,
    noise: float = 0.02,
    seed: int | None = 0,
    max_rounds: int = 8,
) -> ScheduleResult:
    """Step time from the first arrival to the last deadline, sharing ``capacity`` units per step.

    Each step: tasks with ``arrival <= t < deadline`` that have not finished are active; the scheduler's allocation
    (validated: non-negative, only active ids, sum ≤ what is left) is applied; a task whose true loss reaches its
    target finishes at the end of that step, and the compute it did not need goes back into another round
    (at most ``max_rounds`` per step). Every task given compute reports one loss L(s)·exp(noise·ε), ε ~ N(0, 1).
    """
    capacity = _positive_number("capacity", capacity)
    if not 0 <= _real("noise", noise) < math.inf:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    max_rounds = positive_int("max_rounds", max_rounds)  # 0 or less silently gave no task any compute
    seed = _seed(seed)  # type: ignore[assignment]
    sched = make_scheduler(scheduler) if isinstance(scheduler, str) else scheduler
    if not isinstance(sched, Scheduler):
        raise TypeError(f"scheduler must be a name in {SCHEDULERS} or a Scheduler, got {type(scheduler).__name__}")
    if isinstance(tasks, Task) or not isinstance(tasks, Iterable):
        raise TypeError(f"tasks must be a sequence of Task, got {type(tasks).__name__}")
    tasks = list(tasks)
    if not tasks:
        raise ValueError("tasks must not be empty")
    for k in tasks:
        if not isinstance(k, Task):
            raise TypeError(f"tasks must hold Task objects, got {type(k).__name__}")
        if not (is_int(k.arrival) and is_int(k.deadline) and isinstance(k.curve, PowerLaw)):
            raise TypeError(f"task {k.id!r} must have int arrival/deadline and a PowerLaw curve, got {k!r:.120}")
    if len({t.id for t in tasks}) != len(tasks) or any(t.deadline <= t.arrival for t in tasks):
        raise ValueError("tasks must have distinct ids and deadline > arrival")
    rng = np.random.default_rng(seed)
    index = {t.id: i for i, t in enumerate(tasks)}
    required = np.array([t.required for t in tasks])
    spent = np.zeros(len(tasks))
    obs: list[tuple[list[float], list[float]]] = [([], []) for _ in tasks]
    finish: dict[int, float] = {}
    t0, t1 = min(t.arrival for t in tasks), max(t.deadline for t in tasks)
    if t1 - t0 > _MAX_SPAN:  # one Python step per time unit and a (span, n_tasks) table: this would not finish
        raise ValueError(
            f"tasks must span at most {_MAX_SPAN} steps from first arrival to last deadline, got {t1 - t0}"
        )
    alloc_hist = np.zeros((t1 - t0, len(tasks)))
    sched.start(capacity)
    idle = 0.0
    for t in range(t0, t1):
        left = capacity
        for _ in range(max_rounds):
            active = [k for k in tasks if k.arrival <= t < k.deadline and k.id not in finish]
            if not active or left <= 1e-12:
                break
            views = [TaskView(k.id, k.arrival, k.deadline, k.target, float(spent[index[k.id]]),
                              np.array(obs[index[k.id]][0]), np.array(obs[index[k.id]][1]),
                              k.curve if sched.needs_truth else None) for k in active]  # fmt: skip
            alloc = sched.allocate(t, views, left)
            ids = {k.id for k in active}
            if any(i not in ids for i in alloc) or any(not u >= 0 for u in alloc.values()):
                raise ValueError(f"scheduler {sched.name!r} allocated to inactive ids or negative amounts: {alloc}")
            total = sum(alloc.values())
            if total > left * (1 + 1e-9):
                raise ValueError(f"scheduler {sched.name!r} allocated {total} > {left} units left this step")
            returned = False
            for i, units in alloc.items():
                j = index[i]
                if units <= 0:
                    continue
                used = min(units, max(required[j] - spent[j], 0.0))
                returned |= used < units  # what the task did not need goes back into another round
                spent[j] += used
                # reached the target within step t: done at the step's end (relative tolerance for rounding in
                # compute_to, so a task needing exactly k steps of compute finishes in k steps)
                if spent[j] >= required[j] * (1 - 1e-9):
                    finish[i] = t + 1
                alloc_hist[t - t0, j] += used
                left -= used
                if used > 0:
                    s = spent[j]
                    obs[j][0].append(s)
                    obs[j][1].append(float(tasks[j].curve(s) * math.exp(noise * rng.standard_normal())))
            if not returned:
                break
        idle += left
    completed = tuple(t.id for t in tasks if t.id in finish)
    missed = tuple(t.id for t in tasks if t.id not in finish)
    return ScheduleResult(sched.name, len(tasks), completed, missed, tuple(sorted(sched.abandoned)), finish, spent,
                          np.arange(t0, t1), alloc_hist, idle)  # fmt: skip


@dataclass
class Comparison:
    """:func:`compare_schedulers` output: ``rows`` (one per seed × scheduler: seed, scheduler, completed, n_tasks,
    fraction, abandoned) and ``summary`` ``{scheduler: (mean, std)}`` of the completed fraction (std ddof=1)."""

    rows: list[dict[str, Any]]
    summary: dict[str, tuple[float, float]]
    scenario: Scenario


def compare_schedulers(
    scenario: Scenario | None = None,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    schedulers: Sequence[str] = SCHEDULERS,
    options: Mapping[str, Mapping[str, float]] | None = None,
) -> Comparison:
    """Simulate every scheduler on the same task sets, one per seed (a paired comparison).

    ``scenario`` defaults to :class:`Scenario` ``()``; ``options[name]`` are keyword arguments for that scheduler
    (e.g. ``{"adaptive": {"optimism": 2.0}}``). The observation noise is seeded from the seed too.
    """
    scenario = Scenario() if scenario is None else scenario
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario or None, got {type(scenario).__name__}")
    for arg, seq in (("seeds", seeds), ("schedulers", schedulers)):
        if isinstance(seq, str) or not isinstance(seq, Sequence | list | tuple):  # "fcfs" would iterate letters
            raise TypeError(f"{arg} must be a sequence, got {seq!r}")
        if not seq:
            raise ValueError(f"{arg} must not be empty")
    for seed in seeds:
        _seed(seed)
    for name in schedulers:
        if name not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {name!r}")
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"options must be a mapping {{scheduler: {{option: value}}}}, got {type(options).__name__}")
    options = options or {}
    unused = sorted(set(options) - set(schedulers), key=str)
    if unused:  # a misspelt scheduler name would otherwise drop its options without a word
        raise ValueError(f"options name schedulers that are not compared: {unused}; schedulers are {list(schedulers)}")
    rows = []
    for seed in seeds:
        s_tasks, s_noise = np.random.SeedSequence(seed).spawn(2)
        tasks = scenario.sample(int(s_tasks.generate_state(1)[0]))
        for name in schedulers:
            r = simulate(tasks, make_scheduler(name, **options.get(name, {})), capacity=scenario.capacity,
                         noise=scenario.noise, seed=int(s_noise.generate_state(1)[0]))  # fmt: skip
            rows.append({"seed": seed, "scheduler": name, "completed": len(r.completed), "n_tasks": r.n_tasks,
                         "fraction": r.fraction, "abandoned": len(r.abandoned)})  # fmt: skip
    summary = {}
    for name in schedulers:
        v = np.array([r["fraction"] for r in rows if r["scheduler"] == name])
        summary[name] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0)
    return Comparison(rows, summary, scenario)
