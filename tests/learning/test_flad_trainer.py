"""effdl.learning.flad.trainer: the reward by hand, the update, G + 1 backward passes whatever K, seeds, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from effdl.learning.flad import UCB1, FLADTrainer


def toy_data(n: int, seed: int, classes: int = 3, dim: int = 4):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=g), torch.randint(0, classes, (n,), generator=g)


def toy_model(seed: int = 0, dim: int = 4, classes: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(dim, 5), nn.ReLU(), nn.Linear(5, classes))


def test_reward_and_update_by_hand():
    # W = 0, no bias: softmax is (½, ½), so the cross-entropy gradient of one example (x, y) is (p − e_y) xᵀ.
    model = nn.Linear(2, 2, bias=False)
    nn.init.zeros_(model.weight)
    target = (torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    aux_same = (torch.tensor([[1.0, 1.0]]), torch.tensor([0]))
    aux_flip = (torch.tensor([[1.0, 1.0]]), torch.tensor([1]))
    tr = FLADTrainer(model, target, [aux_same, aux_flip], UCB1(2), G=2, optimizer="sgd", lr=0.1, aux_weight=0.5)
    tr.step()  # UCB plays arm 0 first
    g_t = torch.tensor([[-0.5, 0.0], [0.5, 0.0]])
    g_a = torch.tensor([[-0.5, -0.5], [0.5, 0.5]])  # the mean of G = 2 identical batches
    assert tr.log.arm == [0]
    assert tr.log.reward[0] == pytest.approx(0.5 / math.sqrt(0.5))  # cos = ⟨g_a, g_t⟩ / (‖g_a‖ ‖g_t‖) = 1/√2
    # first SGD step (the momentum buffer starts at the gradient): W = −lr (g_t + λ g_a)
    torch.testing.assert_close(model.weight.detach(), -0.1 * (g_t + 0.5 * g_a))
    tr.step()
    assert tr.log.arm == [0, 1]
    assert tr.log.reward[1] < -0.5  # the flipped labels point against the target
    assert tr.log.aux_loss[0] == pytest.approx(math.log(2))
    assert tr.reward_names == ["weight"]


def test_rewards_are_smoothed_per_arm_in_the_log():
    auxes = [toy_data(20, s) for s in (1, 2)]
    tr = FLADTrainer(toy_model(), toy_data(12, 0), auxes, "uniform", beta=0.7, batch_size=4)
    log = tr.fit(12, progress=False)
    for arm in (0, 1):
        rs = [r for a, r in zip(log.arm, log.reward, strict=True) if a == arm]
        sm = [r for a, r in zip(log.arm, log.smoothed, strict=True) if a == arm]
        expected = [rs[0]]
        for r in rs[1:]:
            expected.append(0.7 * expected[-1] + 0.3 * r)
        np.testing.assert_allclose(sm, expected, rtol=1e-12)


@pytest.mark.parametrize("k", [2, 25])
def test_each_step_costs_g_plus_one_backward_passes_whatever_k(k):
    calls = []

    class Counted(nn.Module):  # a hook on the logits fires once per backward pass through them
        def __init__(self) -> None:
            super().__init__()
            self.inner = toy_model()

        def forward(self, x):
            out = self.inner(x)
            out.register_hook(lambda g: calls.append(1))
            return out

    model = Counted()
    auxes = [toy_data(8, s) for s in range(k)]
    for strategy, per_step in (("exp3", 4), ("ucb1", 4), ("target_only", 1)):
        calls.clear()
        tr = FLADTrainer(model, toy_data(8, 0), auxes, strategy, G=3, batch_size=4)
        tr.fit(5, progress=False)
        assert len(calls) == 5 * per_step
        assert len(tr._aux_batches) <= 5  # only the arms played were ever touched


def test_same_seed_same_logs_and_another_seed_differs():
    auxes = [toy_data(16, s) for s in range(1, 6)]

    def run(seed: int):
        tr = FLADTrainer(toy_model(), toy_data(10, 0), auxes, "exp3", G=2, batch_size=4, seed=seed)
        return tr.fit(30, val=toy_data(10, 9), eval_every=5, progress=False)

    a, b, c = run(0), run(0), run(1)
    assert a.arm == b.arm and a.reward == b.reward and a.target_loss == b.target_loss
    assert a.val_accuracy == b.val_accuracy and a.best_step == b.best_step
    for pa, pb in zip(a.probs, b.probs, strict=True):
        np.testing.assert_array_equal(pa, pb)
    assert a.arm != c.arm
    assert len(a.probs) == 30 and a.probs[-1].shape == (5,)
    assert a.val_step == [5, 10, 15, 20, 25, 30]
    assert a.counts(5).sum() == 30


def test_fit_restores_the_best_validation_weights_and_evaluates():
    val = toy_data(10, 9)
    tr = FLADTrainer(toy_model(), toy_data(10, 0), [toy_data(16, 1)], "exp3", batch_size=4)
    log = tr.fit(10, val=val, eval_every=2, progress=False)
    best = log.val_accuracy[log.val_step.index(log.best_step)]
    assert best == max(log.val_accuracy)
    assert tr.evaluate(val).accuracy == pytest.approx(best)
    dist = tr.distribution()
    assert dist.shape == (1,) and dist.sum() == pytest.approx(1.0)


def test_target_only_takes_no_auxiliary_data():
    tr = FLADTrainer(toy_model(), toy_data(10, 0), [], "target_only", batch_size=4)
    log = tr.fit(3, progress=False)
    assert log.arm == [-1, -1, -1] and all(math.isnan(r) for r in log.reward)


def test_bad_input_raises_naming_the_argument():
    model, target, auxes = toy_model(), toy_data(10, 0), [toy_data(10, 1)]
    cases = [
        (dict(auxiliaries=[]), ValueError, "K = 0"),
        (dict(G=0), ValueError, "G must be a positive int"),
        (dict(G=1.5), TypeError, "G must be a positive int"),
        (dict(batch_size=0), ValueError, "batch_size must be a positive int"),
        (dict(strategy="greedy"), ValueError, "strategy must be one of"),
        (dict(beta=1.0), ValueError, r"beta must be in \[0, 1\)"),
        (dict(lr=0), ValueError, "lr must be"),
        (dict(aux_weight=-1.0), ValueError, "aux_weight must be"),
        (dict(optimizer="rmsprop"), ValueError, "optimizer must be one of"),
        (dict(reward_params=["nope"]), ValueError, "reward_params"),
        (dict(seed=-1), ValueError, "seed must be"),
        (dict(auxiliaries=toy_data(10, 1)), TypeError, "auxiliaries must be a list"),
        (dict(auxiliaries=[torch.ones(3)]), TypeError, r"auxiliaries\[0\]"),
        (dict(target=[1, 2]), TypeError, "target must be"),
        (dict(target=(torch.ones(4, 2), torch.zeros(3))), ValueError, "target's inputs and targets must have the same"),
    ]
    for kwargs, exc, msg in cases:
        args = {"model": model, "target": target, "auxiliaries": auxes, **kwargs}
        with pytest.raises(exc, match=msg):
            FLADTrainer(**args)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        FLADTrainer(model, target, auxes).fit(0)
