"""Figures of chapter 13 (stream learning): accuracy over time, the budget/throughput trade-off, a stream's flow,
a schedule, the schedulers' completed tasks, a power-law fit."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest
from torch import nn

from effdl.exercises.stream import hand_tasks
from effdl.learning.stream import BudgetSweep, Comparison, PowerLaw, Scenario, StreamResult, simulate
from effdl.viz.stream import (
    stream_accuracy,
    stream_flow,
    stream_power_law,
    stream_schedule,
    stream_schedulers,
    stream_tradeoff,
)


def tiny_sweep() -> BudgetSweep:
    """learner sgd, rates (8, 16), budgets (2, 4, 8), seeds (0, 1), times (0, 5, 10); numbers made up."""
    shape = (1, 2, 3, 2)
    base = np.array([0.3, 0.5, 0.7])  # by budget
    mean = np.broadcast_to(base[None, None, :, None], shape).copy()
    mean[0, 1] -= 0.1  # a faster stream at the same budget: lower
    mean[..., 0] -= 0.02
    mean[..., 1] += 0.02  # seeds ± 0.02 around the budget's value
    acc = np.stack([np.full(shape, 0.1), mean - 0.1, mean + 0.1], axis=-1)
    thr = np.array([2.0, 4.0, 8.0])[None, None, :, None] / np.array([8.0, 16.0])[None, :, None, None]
    thr = np.broadcast_to(np.minimum(thr, 1.0), shape).copy()
    comp = np.broadcast_to(np.array([20.0, 40.0, 80.0])[None, None, :, None], shape).copy()
    return BudgetSweep(("sgd",), (8.0, 16.0), (2.0, 4.0, 8.0), (0, 1), np.array([0, 5, 10]), acc, acc[..., -1],
                       mean, thr, comp)  # fmt: skip


def test_stream_accuracy_one_line_per_budget():
    sweep = tiny_sweep()
    fig = stream_accuracy(sweep, rate=16.0, current=4.0)
    assert isinstance(fig, go.Figure) and len(fig.data) == 3
    assert [t.name for t in fig.data] == ["c = 2", "c = 4", "c = 8"]
    assert np.allclose(fig.data[2].y, sweep.curve("sgd", 16.0, 8.0))
    assert list(fig.data[0].x) == [0, 5, 10]
    assert fig.data[1].line.width == 4.0 and fig.data[0].opacity < 1
    assert "16" in fig.layout.title.text
    with pytest.raises(ValueError, match="rate must be one of"):
        stream_accuracy(sweep, rate=3.0)
    with pytest.raises(ValueError, match="current must be one of"):
        stream_accuracy(sweep, current=5.0)
    times = np.array([0, 2])
    run = StreamResult(times, np.array([0.1, 0.4]), *([np.zeros(2)] * 5), *([np.zeros(2, np.int64)] * 4), {},
                       nn.Identity())  # fmt: skip
    assert list(stream_accuracy({"one run": run}).data[0].y) == [0.1, 0.4]
    with pytest.raises(ValueError, match="empty"):
        stream_accuracy({})


def test_stream_tradeoff_means_spread_and_marker():
    sweep = tiny_sweep()
    fig = stream_tradeoff(sweep, current=(16.0, 8.0))
    assert len(fig.data) == 2 * 2 + 2
    assert np.allclose(fig.data[0].y, [0.3, 0.5, 0.7]) and list(fig.data[0].x) == [2.0, 4.0, 8.0]
    assert np.allclose(fig.data[0].error_y.array, [0.02 * math.sqrt(2)] * 3)  # std ddof 1 of ± 0.02
    assert np.allclose(fig.data[3].x, [0.125, 0.25, 0.5]) and np.allclose(fig.data[3].y, [0.2, 0.4, 0.6])
    assert list(fig.data[4].x) == [8.0] and np.allclose(fig.data[4].y, [0.6]) and np.allclose(fig.data[5].x, [0.5])
    assert fig.layout.xaxis.type == "log"
    assert np.allclose(stream_tradeoff(sweep, metric="final_accuracy").data[0].y, [0.4, 0.6, 0.8])
    with pytest.raises(ValueError, match="metric"):
        stream_tradeoff(sweep, metric="loss")


def test_stream_flow_splits_arrivals():
    arrived, budget = np.array([8, 8, 8, 8]), np.array([3, 3, 3, 3])
    fresh = np.minimum(arrived, budget)
    times = np.array([0, 2, 4])
    run = StreamResult(times, np.array([0.1, 0.3, 0.4]), np.array([0, 16, 32]), np.array([0, 6, 12]),
                       np.array([0, 6, 12]), np.array([0, 6, 12]), np.array([np.nan, 0.375, 0.375]), arrived,
                       budget, fresh, np.zeros(4, np.int64),
                       {"rate": 8, "budget": 3, "learner": "sgd", "policy": "drop", "queue": None},
                       nn.Identity())  # fmt: skip
    fig = stream_flow(run)
    names = [t.name for t in fig.data]
    assert names[:3] == ["processed (fresh)", "dropped", "budget c"] and "replayed" not in names
    assert list(fig.data[0].y) == [3, 3, 3, 3] and list(fig.data[1].y) == [5, 5, 5, 5]
    assert list(fig.data[3].x) == [2, 4] and list(fig.data[3].y) == [0.375, 0.375]  # t = 0 (nan) left out
    assert fig.data[4].y[0] == 0.375 and fig.layout.barmode == "stack"


def test_stream_schedule_and_schedulers():
    tasks = hand_tasks()
    res = simulate(tasks, "fcfs", capacity=1.0, noise=0.0)
    fig = stream_schedule(res, tasks)
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"window", "completed", "missed", "deadline", "finished"}
    done = by_name["completed"]
    assert list(done.base) == [5, 6, 7] and set(done.y) == {"task 2"}  # FCFS: task 0 holds steps 0..4
    assert list(by_name["missed"].base) == [0, 1, 2, 3, 4] and set(by_name["missed"].y) == {"task 0"}
    assert list(by_name["deadline"].x) == [5, 4, 8, 7] and list(by_name["finished"].x) == [8]
    assert np.allclose(done.marker.opacity, 1.0)  # the whole capacity
    with pytest.raises(ValueError, match="allocation columns"):
        stream_schedule(res, tasks[:2])
    rows = [{"seed": s, "scheduler": n, "fraction": f} for s, fs in enumerate([(0.5, 0.25), (0.75, 0.25)])
            for n, f in zip(("fcfs", "oracle"), fs, strict=True)]  # fmt: skip
    comp = Comparison(rows, {"fcfs": (0.625, 0.18), "oracle": (0.25, 0.0)}, Scenario(n_tasks=4))
    fig = stream_schedulers(comp)
    assert list(fig.data[0].x) == ["fcfs", "oracle"] and np.allclose(fig.data[0].y, [0.625, 0.25])
    assert np.allclose(fig.data[0].error_y.array, [0.25 / math.sqrt(2), 0.0])
    assert len(fig.data[1].x) == 4 and list(fig.data[1].customdata) == [0, 1, 0, 1]
    assert "of 4" in fig.layout.title.text
    assert np.allclose(stream_schedulers({"a": [0.5]}).data[0].y, [0.5])
    with pytest.raises(ValueError):
        stream_schedulers({"a": []})


def test_stream_power_law_fit_and_target():
    law = PowerLaw(2.0, 0.5, 0.1)
    s = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    fig = stream_power_law(s, law(s), target=0.3, truth=law)
    assert list(fig.data[0].x) == s.tolist()
    fit_name = fig.data[1].name
    assert "2·s^−0.5 + 0.1" in fit_name  # the fit recovers a noiseless power law
    assert np.allclose(fig.data[3].y, [0.1, 0.1], atol=1e-6) and fig.data[4].name == "true curve"
    need = law.compute_to(0.3)  # 100 units
    assert fig.data[5].y == (0.3, 0.3) and np.allclose(fig.data[6].x, [need, need], rtol=1e-4)
    assert fig.data[2].x[-1] >= need and fig.layout.xaxis.type == "log"
    given = stream_power_law(s, law(s), fit=PowerLaw(1.0, 1.0, 0.0))
    assert np.isclose(given.data[1].y[0], 1.0) and len(given.data) == 4
    with pytest.raises(ValueError, match="same non-zero length"):
        stream_power_law([1.0, 2.0], [1.0])
