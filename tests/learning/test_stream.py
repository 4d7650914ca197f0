"""effdl.learning.stream: arrivals and budget accounting (exact, by hand), the drop/sample policies, reservoir
uniformity, the stream simulator's bookkeeping, argument checks and determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from torch.utils.data import TensorDataset

from effdl.learning.stream import (
    BudgetSweep,
    Feeder,
    Reservoir,
    budget_sweep,
    per_step_counts,
    rotate,
    run_stream,
)


@pytest.fixture(scope="module")
def tiny() -> tuple[TensorDataset, TensorDataset]:
    """60 train / 20 test random 1×4×4 "images" in 3 classes: fast, and enough to check the bookkeeping."""
    g = torch.Generator().manual_seed(0)
    x, xt = torch.randn(60, 1, 4, 4, generator=g), torch.randn(20, 1, 4, 4, generator=g)
    return TensorDataset(x, torch.arange(60) % 3), TensorDataset(xt, torch.arange(20) % 3)


# ------------------------------------------------------------------------------------------------ arrivals
def test_per_step_counts_are_exact_floors() -> None:
    assert per_step_counts(2.5, 4).tolist() == [2, 3, 2, 3]
    assert per_step_counts(3, 5).tolist() == [3] * 5
    assert per_step_counts(0.4, 5).tolist() == [0, 0, 1, 0, 1]
    assert per_step_counts(7.3, 100).sum() == 730


def test_drop_takes_the_newest_and_counts_the_rest_as_dropped() -> None:
    f = Feeder("drop")
    assert f.arrive(np.arange(5)) == 5
    assert f.take(3).tolist() == [2, 3, 4]
    assert f.dropped == 2
    f.arrive(np.arange(5, 7))
    assert f.take(3).tolist() == [5, 6] and f.dropped == 2


def test_fifo_queue_drops_at_the_tail_and_serves_the_oldest() -> None:
    f = Feeder("drop", queue=4)
    assert f.arrive(np.arange(6)) == 4 and f.dropped == 2  # 4 and 5 find the queue full
    assert f.take(3).tolist() == [0, 1, 2]
    assert f.arrive(np.arange(6, 10)) == 4 and f.dropped == 3  # room for 3: 6, 7, 8
    assert f.take(3).tolist() == [3, 6, 7]


def test_sample_policy_is_a_uniform_subsample() -> None:
    f = Feeder("sample", seed=0)
    counts = np.zeros(10)
    for _ in range(2000):
        f.arrive(np.arange(10))
        got = f.take(3)
        assert len(set(got.tolist())) == 3 and np.all(np.diff(got) > 0)
        counts[got] += 1
    assert stats.chisquare(counts).pvalue > 1e-3  # each id taken ~600 times


def test_reservoir_is_a_uniform_sample_of_the_stream() -> None:
    n, cap, reps = 200, 20, 600
    hits = np.zeros(n)
    for rep in range(reps):
        res = Reservoir(cap, seed=rep)
        for chunk in np.array_split(np.arange(n), 7):  # offers in uneven chunks, as a stream does
            res.offer(chunk)
        assert len(res) == cap and res.seen == n and len(set(res.items.tolist())) == cap
        hits[res.items] += 1
    # each id is kept with probability cap/n = 0.1, early or late alike
    assert stats.chisquare(hits).pvalue > 1e-3
    assert abs(hits[: n // 2].sum() - hits[n // 2 :].sum()) < 0.1 * hits.sum()


def test_reservoir_fills_in_order_then_samples_distinct_items() -> None:
    res = Reservoir(5, seed=0)
    res.offer(np.array([10, 11, 12]))
    assert res.items.tolist() == [10, 11, 12] and len(res) == 3
    assert sorted(res.sample(10).tolist()) == [10, 11, 12]  # capped at the buffer's size, no repeats


# ------------------------------------------------------------------------------------------------ simulator
def test_budget_accounting_by_hand(tiny: tuple) -> None:
    # rate 2.5 → arrivals 2,3,2,3 (10); budget 1.5 → 1,2,1,2 (6): online SGD processes min(arrived, budget)
    r = run_stream(tiny, rate=2.5, budget=1.5, steps=4, eval_every=2, drift="none")
    assert r.step_arrived.tolist() == [2, 3, 2, 3] and r.step_budget.tolist() == [1, 2, 1, 2]
    assert r.step_fresh.tolist() == [1, 2, 1, 2] and r.step_replayed.tolist() == [0] * 4
    assert r.times.tolist() == [0, 2, 4]
    assert r.arrived.tolist() == [0, 5, 10] and r.compute.tolist() == [0, 3, 6] and r.exploited.tolist() == [0, 3, 6]
    assert np.isnan(r.throughput[0]) and r.throughput[1:].tolist() == [0.6, 0.6]


def test_rate_at_most_budget_means_throughput_one(tiny: tuple) -> None:
    for rate, budget in ((3, 4), (4, 4), (1.5, 2.0)):
        r = run_stream(tiny, rate=rate, budget=budget, steps=6, eval_every=3)
        assert r.final_throughput == 1.0 and r.compute[-1] == r.arrived[-1]


@pytest.mark.parametrize(("policy", "queue"), [("drop", None), ("drop", 7), ("sample", None)])
@pytest.mark.parametrize("learner", ["sgd", "replay"])
def test_never_more_than_the_budget(tiny: tuple, learner: str, policy: str, queue: int | None) -> None:
    r = run_stream(tiny, rate=9, budget=4, steps=8, learner=learner, policy=policy, queue=queue, buffer=10)
    used = r.step_fresh + r.step_replayed
    assert np.all(used <= r.step_budget)
    assert r.compute[-1] == used.sum() and r.exploited[-1] <= min(r.arrived[-1], r.compute[-1])
    if learner == "replay":  # work-conserving once the reservoir holds enough samples
        assert np.all(used[1:] == r.step_budget[1:])
    else:
        assert r.final_throughput == pytest.approx(4 / 9)


def test_replay_splits_compute_between_new_and_replayed(tiny: tuple) -> None:
    r = run_stream(tiny, rate=10, budget=4, steps=3, learner="replay", buffer=100, replay_fraction=0.5)
    assert r.step_fresh.tolist() == [4, 2, 2]  # nothing to replay in the first unit: all compute to new samples
    assert r.step_replayed.tolist() == [0, 2, 2]
    # rate below the budget: the compute new samples cannot use is replayed
    r = run_stream(tiny, rate=2, budget=5, steps=3, learner="replay", buffer=100, replay_fraction=0.0)
    assert r.step_fresh.tolist() == [2, 2, 2] and r.step_replayed.tolist() == [0, 2, 3]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"budget": 0}, "budget"),
        ({"budget": -1.0}, "budget"),
        ({"rate": -2}, "rate"),
        ({"policy": "lifo"}, "policy"),
        ({"learner": "adam"}, "learner"),
        ({"buffer": 0, "learner": "replay"}, "buffer"),
        ({"drift": "spin"}, "drift"),
        ({"replay_fraction": 1.5}, "replay_fraction"),
        ({"queue": 0}, "queue"),
        ({"steps": 0}, "steps"),
        ({"seed": -1}, "seed must be None or an int >= 0"),
    ],
)
def test_bad_input_names_the_argument(tiny: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        run_stream(tiny, steps=kwargs.pop("steps", 2), **kwargs)


def test_bad_types_raise_type_error(tiny: tuple) -> None:
    with pytest.raises(TypeError, match="budget"):
        run_stream(tiny, budget="4")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="buffer"):
        Reservoir(2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data"):
        run_stream([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed must be None or an int >= 0"):
        run_stream(tiny, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed must be None or an int >= 0"):
        Feeder("sample", seed="a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ids must be a 1-D array of integer ids"):
        Reservoir(3).offer(np.array([1.5, 2.7]))
    with pytest.raises(ValueError, match="ids must be a 1-D array of integer ids"):
        Feeder().arrive(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match=r"rate·steps must be < 2\*\*53"):
        per_step_counts(1e300, 3)
    x, y = tiny[0].tensors
    with pytest.raises(ValueError, match="data must have non-empty train and test splits"):
        run_stream((TensorDataset(x[:0], y[:0]), tiny[1]), steps=2)
    with pytest.raises(ValueError, match="data's train images must be finite"):
        run_stream((TensorDataset(x * np.nan, y), tiny[1]), steps=2)
    with pytest.raises(ValueError, match="data's train labels must be integer class ids"):
        run_stream((TensorDataset(x, y + 0.5), tiny[1]), steps=2)
    with pytest.raises(ValueError, match=r"x must be a tensor of images \(N, C, H, W\)"):
        rotate(torch.zeros(3, 8), 90.0)
    with pytest.raises(ValueError, match="degrees must be a scalar or hold one angle per image"):
        rotate(torch.zeros(3, 1, 4, 4), torch.zeros(2))
    with pytest.raises(TypeError, match="learners must be a sequence"):
        budget_sweep([4.0], [2.0], learners="sgd", data=tiny, steps=2)


def test_same_seed_same_result(tiny: tuple) -> None:
    kw = {"rate": 8, "budget": 3, "steps": 10, "learner": "replay", "policy": "sample", "buffer": 6}
    a, b, c = run_stream(tiny, seed=3, **kw), run_stream(tiny, seed=3, **kw), run_stream(tiny, seed=4, **kw)
    assert np.array_equal(a.accuracy, b.accuracy) and np.array_equal(a.exploited, b.exploited)
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(p, q)
    assert any(not torch.equal(p, q) for p, q in zip(a.model.parameters(), c.model.parameters(), strict=True))


def test_threads_are_restored(tiny: tuple) -> None:
    before = torch.get_num_threads()
    run_stream(tiny, rate=4, budget=2, steps=2, num_threads=1)
    assert torch.get_num_threads() == before


def test_a_given_model_is_copied_not_changed(tiny: tuple) -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    before = [p.detach().clone() for p in model.parameters()]
    r = run_stream(tiny, model=model, rate=4, budget=4, steps=3)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters(), strict=True))
    assert r.model is not model


def test_rotate_matches_rot90_and_keeps_zero_angle() -> None:
    x = torch.arange(32.0).reshape(2, 1, 4, 4)
    assert torch.allclose(rotate(x, 90.0), torch.rot90(x, 1, dims=(2, 3)), atol=1e-5)  # counter-clockwise
    assert torch.allclose(rotate(x, torch.tensor([0.0, 180.0]))[0], x[0], atol=1e-5)
    assert torch.allclose(rotate(x, torch.tensor([0.0, 180.0]))[1], torch.rot90(x[1], 2, dims=(1, 2)), atol=1e-5)


def test_budget_sweep_grid(tiny: tuple) -> None:
    sweep = budget_sweep([6, 12], [2, 6], learners=["sgd"], seeds=[0, 1], data=tiny, steps=4, eval_every=2,
                         progress=False)  # fmt: skip
    assert isinstance(sweep, BudgetSweep)
    assert sweep.accuracy.shape == (1, 2, 2, 2, 3) and sweep.throughput.shape == (1, 2, 2, 2)
    assert sweep.throughput[0, :, :, 0].tolist() == [[2 / 6, 1.0], [2 / 12, 6 / 12]]
    assert sweep.compute[0, 1, 1, 0] == 24
    mean, std = sweep.summary("throughput")
    assert mean.shape == (1, 2, 2) and np.all(std == 0)
    assert sweep.curve("sgd", 6, 2).shape == (3,)
    with pytest.raises(ValueError, match="learners"):
        budget_sweep([6], [2], learners=["adam"], data=tiny, steps=2)
