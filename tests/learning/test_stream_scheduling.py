"""effdl.learning.stream scheduling: power-law fits, FCFS order, proportional split, work conservation, deadlines,
abandonment, the scenario and the comparison helper."""

from __future__ import annotations

import numpy as np
import pytest

from effdl.learning.stream import (
    SCHEDULERS,
    Adaptive,
    PowerLaw,
    Scenario,
    Scheduler,
    Task,
    compare_schedulers,
    fit_power_law,
    make_scheduler,
    simulate,
)


def _task(i: int, arrival: int, deadline: int, required: float, curve: PowerLaw | None = None) -> Task:
    """A task whose target is reached after exactly ``required`` units of compute."""
    curve = curve or PowerLaw(1.0, 0.5, 0.1)
    return Task(i, arrival, deadline, float(curve(required)), curve)


# ------------------------------------------------------------------------------------------------ curves
@pytest.mark.parametrize(("a", "b", "c"), [(1.5, 0.5, 0.2), (0.8, 0.3, 0.0), (2.0, 0.7, 0.45)])
def test_fit_recovers_a_noiseless_power_law(a: float, b: float, c: float) -> None:
    s = np.geomspace(1, 200, 12)
    fit = fit_power_law(s, PowerLaw(a, b, c)(s))
    assert fit.a == pytest.approx(a, rel=1e-3) and fit.b == pytest.approx(b, rel=1e-3)
    assert fit.c == pytest.approx(c, abs=1e-3)


def test_compute_to_inverts_the_curve() -> None:
    curve = PowerLaw(1.2, 0.4, 0.3)
    assert curve(curve.compute_to(0.5)) == pytest.approx(0.5)
    assert curve.compute_to(0.3) == float("inf") and curve.compute_to(0.1) == float("inf")


def test_fit_rejects_too_few_or_bad_points() -> None:
    with pytest.raises(ValueError, match="length"):
        fit_power_law([1, 2], [1.0, 0.9])
    with pytest.raises(ValueError, match="positive"):
        fit_power_law([1, 2, 3], [1.0, 0.0, 0.5])
    s = np.arange(1.0, 6.0)
    with pytest.raises(TypeError, match="refine must be an int >= 0"):
        fit_power_law(s, PowerLaw(1.0, 0.5, 0.1)(s), refine=1.5)  # used to loop inside scipy
    with pytest.raises(ValueError, match="grid must be a positive int"):
        fit_power_law(s, PowerLaw(1.0, 0.5, 0.1)(s), grid=0)
    with pytest.raises(ValueError, match="positive and finite"):
        fit_power_law(s * np.inf, PowerLaw(1.0, 0.5, 0.1)(s))
    with pytest.raises(ValueError, match="s and loss must be 1-D"):
        fit_power_law(np.ones((5, 2)), np.ones((5, 2)))


# ------------------------------------------------------------------------------------------------ simulator
def test_fcfs_serves_in_arrival_order_and_hands_leftovers_on() -> None:
    tasks = [_task(0, 0, 10, 15.0), _task(1, 0, 10, 12.0), _task(2, 1, 10, 100.0)]
    r = simulate(tasks, "fcfs", capacity=10.0, noise=0.0)
    # step 0: all to task 0; step 1: 5 finish task 0, 5 go on to task 1; step 2: 7 finish task 1, 3 to task 2
    assert r.allocation[:3] == pytest.approx(np.array([[10, 0, 0], [5, 5, 0], [0, 7, 3]]))
    assert r.finish == {0: 2, 1: 3} and r.completed == (0, 1) and r.missed == (2,)
    assert r.allocation.sum(axis=1) == pytest.approx(np.full(10, 10.0))  # never idle while a task is active


def test_proportional_splits_equally_among_active_tasks() -> None:
    tasks = [_task(0, 0, 20, 1000.0), _task(1, 0, 20, 1000.0), _task(2, 2, 20, 1000.0)]
    r = simulate(tasks, "proportional", capacity=9.0, noise=0.0)
    assert r.allocation[0].tolist() == [4.5, 4.5, 0.0] and r.allocation[2].tolist() == pytest.approx([3.0] * 3)


def test_proportional_gives_what_a_finishing_task_leaves_to_the_others() -> None:
    r = simulate([_task(0, 0, 5, 2.0), _task(1, 0, 5, 100.0)], "proportional", capacity=10.0, noise=0.0)
    assert r.allocation[0] == pytest.approx(np.array([2.0, 8.0])) and r.completed == (0,)


def test_tasks_past_their_deadline_are_not_counted() -> None:
    # 50 units at 10 per step: steps 0..4 finish it at the end of step 4, i.e. at time 5
    assert simulate([_task(0, 0, 5, 50.0)], "fcfs", capacity=10.0).completed == (0,)
    late = simulate([_task(0, 0, 4, 50.0)], "fcfs", capacity=10.0)
    # no compute after the deadline
    assert late.completed == () and late.missed == (0,) and late.spent[0] == pytest.approx(40.0)
    # FCFS keeps serving an early task that will miss; the later one then misses too
    r = simulate([_task(0, 0, 3, 80.0), _task(1, 1, 3, 10.0)], "fcfs", capacity=10.0)
    assert r.completed == () and r.fraction == 0.0


def test_oracle_abandons_the_hopeless_task_and_saves_the_other() -> None:
    tasks = [_task(0, 0, 3, 80.0), _task(1, 1, 3, 10.0)]
    r = simulate(tasks, "oracle", capacity=10.0)
    assert r.completed == (1,) and r.abandoned == (0,)


def test_adaptive_gives_up_on_an_unreachable_target_and_finishes_the_rest() -> None:
    unreachable = Task(0, 0, 40, 0.05, PowerLaw(1.0, 0.5, 0.3))  # target below the irreducible loss
    tasks = [unreachable, _task(1, 0, 40, 150.0), _task(2, 5, 40, 100.0)]
    r = simulate(tasks, "adaptive", capacity=10.0, noise=0.0)
    assert 0 in r.abandoned and r.completed == (1, 2)
    assert r.spent[0] < 40  # not a quarter of the compute went to the hopeless task


def test_bad_scheduler_input_raises() -> None:
    with pytest.raises(ValueError, match="scheduler"):
        make_scheduler("sjf")
    with pytest.raises(ValueError, match="scheduler"):
        compare_schedulers(Scenario(n_tasks=2), seeds=[0], schedulers=["edf"])
    with pytest.raises(ValueError, match="capacity"):
        simulate([_task(0, 0, 5, 1.0)], "fcfs", capacity=0)
    with pytest.raises(ValueError, match="optimism"):
        Adaptive(optimism=-1.0)
    with pytest.raises(TypeError, match="probe must be a number"):
        Adaptive(probe="0.1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_rounds must be a positive int"):
        simulate([_task(0, 0, 5, 1.0)], "fcfs", max_rounds=0)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        simulate([_task(0, 0, 5, 1.0)], "fcfs", noise=float("inf"))
    with pytest.raises(TypeError, match="seed must be None or an int >= 0"):
        simulate([_task(0, 0, 5, 1.0)], "fcfs", seed="a")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tasks must hold Task objects"):
        simulate(["a"], "fcfs")  # type: ignore[list-item]
    with pytest.raises(TypeError, match="PowerLaw curve"):
        simulate([Task(0, 0, 5, 0.5, None)], "fcfs")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tasks must span at most"):
        simulate([_task(0, 0, 10**9, 1.0)], "fcfs")  # used to hang
    with pytest.raises(ValueError, match="schedulers must not be empty"):
        compare_schedulers(Scenario(n_tasks=2), seeds=[0], schedulers=[])
    with pytest.raises(TypeError, match="options must be a mapping"):
        compare_schedulers(Scenario(n_tasks=2), seeds=[0], options=[1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="options name schedulers that are not compared"):
        compare_schedulers(Scenario(n_tasks=2), seeds=[0], schedulers=["fcfs"], options={"adaptiv": {"optimism": 1}})
    with pytest.raises(ValueError, match="seed must be None or an int >= 0"):
        compare_schedulers(Scenario(n_tasks=2), seeds=[-1])
    with pytest.raises(ValueError, match="deadline_range must be a pair"):
        Scenario(deadline_range=(1.0, float("inf")))
    with pytest.raises(TypeError, match="compute_sigma must be a number"):
        Scenario(compute_sigma="0.5")  # type: ignore[arg-type]

    class Greedy(Scheduler):
        name = "greedy"

        def allocate(self, t, active, capacity):  # type: ignore[no-untyped-def]
            return {v.id: capacity for v in active}

    with pytest.raises(ValueError, match="allocated"):
        simulate([_task(0, 0, 5, 100.0), _task(1, 0, 5, 100.0)], Greedy())


def test_scenario_is_seeded_and_oversubscribed() -> None:
    sc = Scenario()
    a, b = sc.sample(3), sc.sample(3)
    assert a == b and a != sc.sample(4)
    assert len(a) == 40 and all(t.arrival < t.deadline for t in a)
    assert all(np.isfinite(t.required) for t in a)
    # offered work over the arrival span exceeds the capacity (load 1.5 in expectation)
    span = a[-1].arrival - a[0].arrival
    assert sum(t.required for t in a) > sc.capacity * span
    with pytest.raises(ValueError, match="n_tasks"):
        Scenario(n_tasks=0)


def test_compare_schedulers_is_paired_and_reproducible() -> None:
    small = Scenario(n_tasks=8)
    c1 = compare_schedulers(small, seeds=[0, 1])
    c2 = compare_schedulers(small, seeds=[0, 1])
    assert c1.rows == c2.rows and set(c1.summary) == set(SCHEDULERS) and len(c1.rows) == 2 * len(SCHEDULERS)
    for name, (mean, std) in c1.summary.items():
        v = [r["fraction"] for r in c1.rows if r["scheduler"] == name]
        assert mean == pytest.approx(np.mean(v)) and std == pytest.approx(np.std(v, ddof=1))
