"""Checkers for stream learning under a compute budget (chapter 13): throughput by hand, reservoir sampling (the
inclusion probability and Algorithm R), the power law's compute-to-target and fit, the budget slider's task, and
which tasks a scheduler completes in a small hand scenario."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from effdl.exercises._common import _attempt, _missing, _number, _verdict, checker
from effdl.learning.stream import Feeder, PowerLaw, Task, fit_power_law, per_step_counts, simulate

__all__ = [
    "HAND_TASKS",
    "check_compute_to_target",
    "check_inclusion_probability",
    "check_power_law_fit",
    "check_reservoir",
    "check_scheduled_tasks",
    "check_stream_budget",
    "check_throughput",
    "hand_tasks",
]

#: The hand scenario of the scheduling exercise: ``(arrival, deadline, work)`` per task id 0.., in steps and compute
#: units, capacity 1 unit per step. FCFS completes {2}; a deadline-aware schedule completes {1, 2, 3}.
HAND_TASKS: tuple[tuple[int, int, float], ...] = ((0, 5, 6.0), (1, 4, 2.0), (2, 8, 3.0), (3, 7, 2.0))


def hand_tasks(spec: Sequence[tuple[int, int, float]] = HAND_TASKS) -> list[Task]:
    """Tasks that need exactly ``work`` compute units: curve L(s) = 1/s (a = 1, b = 1, c = 0), target 1/work."""
    return [Task(i, int(a), int(d), 1.0 / float(w), PowerLaw(1.0, 1.0, 0.0)) for i, (a, d, w) in enumerate(spec)]


def _throughput(rate: float, budget: float, policy: str, queue: int | None, steps: int) -> float:
    """Fresh samples processed / arrived over ``steps`` units of an SGD learner (no model needed: bookkeeping only)."""
    feeder = Feeder(policy, queue=queue, seed=0)
    arrivals, budgets = per_step_counts(rate, steps), per_step_counts(budget, steps)
    nxt, done = 0, 0
    for a, c in zip(arrivals, budgets, strict=True):
        avail = feeder.arrive(np.arange(nxt, nxt + a))
        nxt += int(a)
        done += len(feeder.take(min(avail, int(c))))
    return done / max(int(arrivals.sum()), 1)


@checker
def check_throughput(
    answer: float | None,
    rate: float,
    budget: float,
    *,
    policy: str = "drop",
    queue: int | None = None,
    steps: int = 100,
    tol: float = 0.01,
) -> bool:
    """Exercise: the throughput (exploited / arrived, a share in [0, 1]) of online SGD over ``steps`` units at
    ``rate`` samples/unit with ``budget`` sample-gradients/unit under ``policy`` (and ``queue``); the truth is the
    stream's own bookkeeping (:class:`~effdl.learning.stream.Feeder`), min(1, c/r) for a steady stream."""
    if _missing(answer):
        return False
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give the throughput as a number (a share in [0, 1]), got {answer!r}")
    want = _throughput(rate, budget, policy, queue, steps)
    where = f"(r = {rate:g}/unit, c = {budget:g}/unit, policy {policy!r})"
    if abs(got - want) <= tol:
        return _verdict(
            True,
            f"throughput {want:.3f} {where}: the learner keeps min(c, r) of every unit's r arrivals; the policy "
            "decides which samples are kept, not how many.",
            "",
        )
    if abs(got - 100 * want) <= 100 * tol:
        return _verdict(False, "", f"give a share in [0, 1], not a percentage {where}")
    if math.isclose(got, rate / budget, rel_tol=1e-3):
        return _verdict(False, "", f"that is r/c, inverted: the learner processes c of every r arrivals {where}")
    if math.isclose(got, min(budget, rate), rel_tol=1e-3) and want < 1:
        return _verdict(False, "", f"that is samples per unit; throughput divides by the arrivals r {where}")
    if abs(got - (1 - want)) <= tol:
        return _verdict(False, "", f"that is the dropped share; throughput is the processed share {where}")
    if got > 1:
        return _verdict(False, "", f"throughput is a share of the arrivals, at most 1 {where}")
    return _verdict(False, "", f"{got:g} is off: how many of a unit's r arrivals can c sample-gradients cover? {where}")


@checker
def check_inclusion_probability(answer: float | None, buffer: int, n: int) -> bool:
    """Exercise: the probability that a given item of a stream of ``n`` items is in a reservoir of ``buffer``
    slots after Algorithm R has seen them all: min(1, B/n), whatever the item's position."""
    if _missing(answer):
        return False
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give a probability (a number in [0, 1]), got {answer!r}")
    want = min(1.0, buffer / n)
    where = f"(B = {buffer}, n = {n})"
    if math.isclose(got, want, rel_tol=1e-3, abs_tol=1e-6):
        return _verdict(
            True, f"P = min(1, B/n) = {want:.4g} {where}, for the first item as for the last: a uniform sample.", ""
        )
    if math.isclose(got, n / buffer, rel_tol=1e-3):
        return _verdict(False, "", f"that is n/B, inverted (and above 1): B slots shared by n items {where}")
    if math.isclose(got, 1 / n, rel_tol=1e-3) or math.isclose(got, 1 / buffer, rel_tol=1e-3):
        return _verdict(False, "", f"each of the B slots holds one of the n items: count all B slots {where}")
    if math.isclose(got, buffer / (n + 1), rel_tol=1e-3):
        return _verdict(False, "", "B/(k+1) is the k-th item's chance to enter (0-based k); after all n it is B/n")
    if not 0 <= got <= 1:
        return _verdict(False, "", f"a probability lies in [0, 1], got {got:g} {where}")
    return _verdict(False, "", f"{got:g} is off: the buffer is a uniform sample of size B from n items {where}")


@checker
def check_reservoir(fn: Callable[[Sequence[int], int, np.random.Generator], Any] | None, trials: int = 3000) -> bool:
    """Exercise: ``fn(stream, capacity, rng)`` is Algorithm R: it returns the ``min(n, capacity)`` distinct items it
    keeps of ``stream`` (a list of ``n`` ints). Checked on a short stream (all kept), then over ``trials`` runs of a
    stream of 20 items with 5 slots: every item must be kept with frequency ≈ 5/20 (within 5 standard errors)."""
    if _missing(fn):
        return False
    rng = np.random.default_rng(0)
    short = list(range(100, 103))
    try:
        out = _attempt(fn, list(short), 5, rng)
        kept = sorted(int(v) for v in np.asarray(out).ravel())
    except Exception as err:
        return _verdict(False, "", f"your function raised {type(err).__name__}: {str(err)[:120]} (3 items, 5 slots)")
    if kept != short:
        return _verdict(False, "", f"with fewer items than slots every item is kept: expected {short}, got {kept}")
    n, cap = 20, 5
    counts = np.zeros(n)
    for _ in range(trials):
        try:
            out = _attempt(fn, list(range(n)), cap, rng)
            kept = [int(v) for v in np.asarray(out).ravel()]
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {str(err)[:120]} (20 items)")
        if len(kept) != cap or len(set(kept)) != cap or not set(kept) <= set(range(n)):
            return _verdict(False, "", f"return {cap} distinct items of the stream (20 items, 5 slots), got {kept}")
        counts[kept] += 1
    freq = counts / trials
    p = cap / n
    se = math.sqrt(p * (1 - p) / trials)
    if np.all(np.abs(freq - p) <= 5 * se):
        return _verdict(True, f"every item kept with frequency ≈ {p:g} ({freq.min():.3f} to {freq.max():.3f}).", "")
    if freq[-cap:].mean() > 0.9:
        return _verdict(False, "", "you keep the last items: item k (0-based) enters only with probability B/(k+1)")
    late, early = freq[-5:].mean(), freq[cap : cap + 5].mean()
    if late > early + 5 * se:
        return _verdict(False, "", "late items are kept too often: item k enters with probability B/(k+1), not B/n")
    if early > late + 5 * se or freq[:cap].mean() > p + 5 * se:
        return _verdict(False, "", "early items stay too often: an entering item replaces a uniformly drawn slot")
    return _verdict(
        False, "", f"the items are not kept uniformly (frequencies {freq.min():.3f}–{freq.max():.3f}, want {p:g})"
    )


@checker
def check_compute_to_target(answer: float | None, a: float, b: float, c: float, target: float) -> bool:
    """Exercise: the compute s at which L(s) = a·s^(−b) + c reaches ``target``: (a / (target − c))^(1/b), or
    ``math.inf`` when target ≤ c (never)."""
    if _missing(answer):
        return False
    got = _number(answer)
    if got is None:
        return _verdict(False, "", f"give the compute as a number (math.inf if never), got {answer!r}")
    want = PowerLaw(a, b, c).compute_to(target)
    where = f"(a = {a:g}, b = {b:g}, c = {c:g}, target {target:g})"
    if math.isinf(want):
        ok = math.isinf(got) and got > 0
        return _verdict(ok, f"never: the loss only approaches c = {c:g} ≥ the target.", f"target ≤ c {where}: never")
    if math.isclose(got, want, rel_tol=1e-3):
        return _verdict(True, f"s = (a / (target − c))^(1/b) ≈ {want:.4g} units {where}.", "")
    if target > 0 and math.isclose(got, (a / target) ** (1 / b), rel_tol=1e-3):
        return _verdict(False, "", f"you left out the offset c: only a·s^(−b) = target − c shrinks {where}")
    if math.isclose(got, (a / (target - c)) ** b, rel_tol=1e-3):
        return _verdict(False, "", f"the exponent: solve s^(−b) = (target − c)/a, so s = (…)^(1/b), not (…)^b {where}")
    if math.isclose(got, ((target - c) / a) ** (1 / b), rel_tol=1e-3):
        return _verdict(False, "", f"inverted: s^(−b) = (target − c)/a gives s = (a/(target − c))^(1/b) {where}")
    return _verdict(False, "", f"{got:g} is off: L({got:g}) = {PowerLaw(a, b, c)(max(got, 1e-300)):.4g} {where}")


def _law(answer: Any) -> PowerLaw | None:
    if isinstance(answer, PowerLaw):
        return answer
    try:
        a, b, c = (float(v) for v in answer)
    except (TypeError, ValueError):
        return None
    return PowerLaw(a, b, c)


@checker
def check_power_law_fit(answer: Any, s: Sequence[float], loss: Sequence[float], slack: float = 1.5) -> bool:
    """Exercise: a fit of L(s) = a·s^(−b) + c to observations ``(s, loss)``, given as ``(a, b, c)`` or a
    :class:`~effdl.learning.stream.PowerLaw`. Accepted when its squared error in log L is within ``slack`` × that of
    :func:`~effdl.learning.stream.fit_power_law` (plus 1e-9) with a > 0, b > 0 and 0 ≤ c < min(loss)."""
    if _missing(answer):
        return False
    law = _law(answer)
    if law is None:
        return _verdict(False, "", f"give (a, b, c) or a PowerLaw, got {type(answer).__name__}")
    s_arr, l_arr = np.asarray(s, dtype=np.float64), np.asarray(loss, dtype=np.float64)
    if not (law.a > 0 and law.b > 0 and 0 <= law.c < l_arr.min()):
        return _verdict(False, "", f"need a > 0, b > 0 and 0 ≤ c < the smallest loss {l_arr.min():.4g}, got {law}")
    ref = fit_power_law(s_arr, l_arr)

    def sse(p: PowerLaw) -> float:
        return float(np.sum((np.log(p(s_arr)) - np.log(l_arr)) ** 2))

    got, best = sse(law), sse(ref)
    if got <= slack * best + 1e-9:
        return _verdict(
            True,
            f"a = {law.a:.3g}, b = {law.b:.3g}, c = {law.c:.3g}: squared log error {got:.3g} (reference {best:.3g}).",
            "",
        )
    if law.c == 0 and ref.c > 0:
        return _verdict(False, "", "with c = 0 the curve cannot flatten: fit the offset too (e.g. a grid of c)")
    return _verdict(False, "", f"squared log error {got:.3g}, a fit reaches {best:.3g}: try other (a, b, c)")


@checker
def check_stream_budget(
    answer: float | None, explorer: Any, target: float, rate: float, *, learner: str = "sgd", tol: float = 5e-4
) -> bool:
    """Try it (stream_explorer): the smallest budget c on the slider whose mean stream accuracy (mean over seeds,
    ``explorer.table[(learner, rate, c)][0]``) reaches ``target`` at ``rate``; within ``tol`` below counts (the
    readout shows 3 decimals). If no budget reaches it, the answer is ``math.inf``."""
    if _missing(answer):
        return False
    rates = sorted({k[1] for k in explorer.table if k[0] == learner})
    r = [v for v in rates if math.isclose(v, float(rate), rel_tol=1e-9)]
    if not r:
        raise ValueError(f"rate must be one of the explorer's {rates} for learner {learner!r}, got {rate!r}")
    acc = {k[2]: v[0] for k, v in explorer.table.items() if k[0] == learner and k[1] == r[0]}
    grid = sorted(acc)
    reach = [c for c in grid if acc[c] >= target - tol]
    got = _number(answer)
    if got is not None and math.isinf(got):
        if not reach:
            return _verdict(True, f"no budget reaches {target:g} at r = {rate:g} (best {max(acc.values()):.3f}).", "")
        return _verdict(False, "", f"c = {reach[0]:g} reaches {target:g}: move the slider up from the left")
    match = [c for c in grid if got is not None and math.isclose(c, got, rel_tol=1e-6)]
    if not match:
        return _verdict(False, "", f"give one of the slider's budgets {[f'{c:g}' for c in grid]}, got {answer!r}")
    c = match[0]
    if reach and c == reach[0]:
        return _verdict(
            True,
            f"c = {c:g}: mean accuracy {acc[c]:.3f} ≥ {target:g} at r = {rate:g} (c/r = {c / rate:.2f}).",
            "",
        )
    if c in reach:
        return _verdict(False, "", f"c = {c:g} reaches {target:g}, but a smaller budget does too")
    return _verdict(False, "", f"at c = {c:g} the mean accuracy is {acc[c]:.3f} < {target:g}: more compute is needed")


@checker
def check_scheduled_tasks(
    answer: Any,
    scheduler: str = "fcfs",
    tasks: Sequence[tuple[int, int, float]] = HAND_TASKS,
    *,
    capacity: float = 1.0,
) -> bool:
    """Exercise: the ids of the tasks that ``scheduler`` completes by their deadline in the hand scenario ``tasks``
    (``(arrival, deadline, work)`` per id; :data:`HAND_TASKS` by default) with ``capacity`` units per step; the truth
    is :func:`~effdl.learning.stream.simulate` without observation noise."""
    if _missing(answer):
        return False
    try:
        got = {int(v) for v in answer}
    except (TypeError, ValueError):
        return _verdict(False, "", f"give the completed task ids as a list, e.g. [0, 2], got {answer!r}")
    objs = hand_tasks(tasks)
    want = set(simulate(objs, scheduler, capacity=capacity, noise=0.0, seed=0).completed)
    if got == want:
        return _verdict(True, f"{scheduler} completes {sorted(want)} of {len(objs)} tasks.", "")
    unknown = sorted(got - set(range(len(objs))))
    if unknown:
        return _verdict(False, "", f"the task ids are 0..{len(objs) - 1}, got {unknown}")
    best = set(simulate(objs, "oracle", capacity=capacity, noise=0.0, seed=0).completed)
    if scheduler != "oracle" and got == best:
        return _verdict(False, "", f"{sorted(best)} is what a deadline-aware schedule completes; {scheduler} does not")
    for i in sorted(got - want):
        arrival, deadline, work = tasks[i]
        if work > (deadline - arrival) * capacity:
            return _verdict(False, "", f"task {i} needs {work:g} units but its window holds {deadline - arrival} steps")
        return _verdict(False, "", f"task {i} misses its deadline under {scheduler}: trace who gets the capacity")
    return _verdict(False, "", f"{scheduler} completes more: trace the schedule step by step (task {min(want - got)})")
