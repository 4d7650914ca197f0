"""The budget explorer of chapter 13: a precomputed sweep, in-place updates, the data the Try-it checker reads."""

import numpy as np
import pytest

from effdl.learning.stream import BudgetSweep
from effdl.widgets.stream import stream_explorer


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


def two_learners():
    s = tiny_sweep()
    s.learners = ("sgd", "replay")
    for name in ("accuracy", "final_accuracy", "mean_accuracy", "throughput", "compute"):
        v = getattr(s, name)
        setattr(s, name, np.concatenate([v, v + (0.05 if name != "compute" else 0.0)], axis=0))
    return s


def test_stream_explorer_precomputes_and_updates_in_place():
    sweep = two_learners()
    box = stream_explorer(sweep)
    assert "effdl-main-control" in box.slider._dom_classes
    assert box.slider.value == 4.0 and box.rate.value == 8.0 and box.learner.value == "sgd"
    assert len(box.table) == 2 * 2 * 3
    mean, sd, thr, comp = box.table[("sgd", 16.0, 8.0)]
    assert np.isclose(mean, 0.6) and np.isclose(sd, 0.02 * np.sqrt(2)) and thr == 0.5 and comp == 80.0
    curves, tradeoff = box.curves, box.tradeoff
    assert curves.data[1].line.width == 4.0
    box.slider.value = 8.0
    assert box.curves is curves and curves.data[2].line.width == 4.0 and curves.data[1].line.width == 1.5
    assert list(tradeoff.data[4].x) == [8.0] and np.allclose(tradeoff.data[4].y, [0.7])
    box.rate.value = 16.0
    assert np.allclose(curves.data[2].y, sweep.curve("sgd", 16.0, 8.0))
    assert np.allclose(tradeoff.data[5].x, [0.5]) and np.allclose(tradeoff.data[5].y, [0.6])
    assert "16" in curves.layout.title.text and "<b>16</b>" in box.readout.value and "0.600" in box.readout.value
    box.learner.value = "replay"
    assert np.allclose(tradeoff.data[0].y, [0.35, 0.55, 0.75]) and np.allclose(tradeoff.data[4].y, [0.65])
    assert np.allclose(curves.data[0].y, sweep.curve("replay", 16.0, 2.0)) and "replay" in box.readout.value
    assert box.sweep is sweep


def test_stream_explorer_rejects_bad_start():
    sweep = tiny_sweep()
    with pytest.raises(ValueError, match="budget must be one of"):
        stream_explorer(sweep, budget=3.0)
    with pytest.raises(ValueError, match="rate must be one of"):
        stream_explorer(sweep, rate=1.0)
    with pytest.raises(ValueError, match="learner must be one of"):
        stream_explorer(sweep, learner="adam")
    with pytest.raises(ValueError, match="metric"):
        stream_explorer(sweep, metric="loss")
    box = stream_explorer(sweep, rate=16.0, budget=2.0, metric="final_accuracy")
    assert np.isclose(box.table[("sgd", 16.0, 2.0)][0], 0.3) and box.slider.value == 2.0
