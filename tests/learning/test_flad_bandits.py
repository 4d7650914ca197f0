"""effdl.learning.flad.bandits and reward: EXP3 and UCB1 by hand, the ε floor, smoothing, cosine, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from effdl.learning.flad import (
    EXP3,
    UCB1,
    Exploit,
    RewardSmoother,
    TargetOnly,
    Uniform,
    gradient_alignment,
    last_layer_names,
    make_strategy,
    resolve_reward_params,
)


def test_exp3_probabilities_sum_to_one_and_respect_the_epsilon_floor():
    rng = np.random.default_rng(0)
    for k in (2, 5, 50):
        s = EXP3(k)
        for _ in range(300):
            p = s.probs()
            eps = s.epsilon(s.t + 1)
            assert p.shape == (k,)
            assert p.sum() == pytest.approx(1.0, abs=1e-12)
            assert (p >= eps - 1e-15).all()
            arm = s.select(rng)
            s.update(arm, float(rng.uniform(-1, 1)) + (3.0 if arm == 0 else 0.0))  # arm 0 far better
        assert s.probs().argmax() == 0  # and it is found (how much mass it gets is capped by the floor ε)
        assert s.t == 300 and s.counts.sum() == 300


def test_exp3_survives_huge_gains():
    s = EXP3(3)
    s.gains[:] = [1e6, -1e6, 0.0]  # exp would overflow without the max subtraction
    s.t = 10**6
    p = s.probs()
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0)
    assert p.argmax() == 0 and p.min() >= s.epsilon(s.t + 1)


def test_exp3_update_by_hand():
    s = EXP3(2)
    # step 1: ε_1 = min(1/2, sqrt(ln 2 / 2)) = 1/2, so π is uniform whatever Ĝ is
    assert s.epsilon(1) == 0.5 and s.epsilon(0) == 0.5
    np.testing.assert_allclose(s.probs(), [0.5, 0.5])
    s.update(0, 0.8)  # Ĝ_0 = 0.8 / 0.5
    np.testing.assert_allclose(s.gains, [1.6, 0.0])
    # step 2: ε_2 = sqrt(ln 2 / 4), softmax(ε_1 Ĝ) = softmax([0.8, 0])
    eps2 = math.sqrt(math.log(2) / 4)
    assert s.epsilon(2) == pytest.approx(eps2)
    e = math.exp(0.8)
    expected = [(1 - 2 * eps2) * e / (e + 1) + eps2, (1 - 2 * eps2) / (e + 1) + eps2]
    np.testing.assert_allclose(s.probs(), expected, rtol=1e-12)
    np.testing.assert_allclose(s.probs(), [0.531810, 0.468190], atol=1e-6)
    s.update(1, -0.3)  # importance-weighted by the π it was drawn from
    np.testing.assert_allclose(s.gains, [1.6, -0.3 / expected[1]], rtol=1e-12)
    assert s.counts.tolist() == [1, 1]


def test_exp3_samples_from_its_probabilities():
    s = EXP3(4)
    s.gains[:] = [0.0, 5.0, 0.0, 0.0]
    s.t = 400  # ε small enough that the softmax matters
    p = s.probs()
    rng = np.random.default_rng(1)
    draws = np.bincount([s.select(rng) for _ in range(20000)], minlength=4) / 20000
    np.testing.assert_allclose(draws, p, atol=0.015)


def test_single_arm_is_always_played():
    s = EXP3(1)
    assert s.epsilon(5) == 0.0 and s.probs().tolist() == [1.0]
    assert s.select(np.random.default_rng(0)) == 0


def test_ucb_plays_unseen_arms_first_in_order():
    s = UCB1(4)
    s.update(2, 0.9)  # played out of order: the pass continues with the remaining unseen arms, lowest first
    rng = np.random.default_rng(0)
    order = []
    for _ in range(3):
        a = s.select(rng)
        order.append(a)
        s.update(a, -0.5)
    assert order == [0, 1, 3]
    assert s.select(rng) == 2  # every arm seen once: now the bound decides (equal bonus, best value)
    np.testing.assert_allclose(s.probs(), [0, 0, 1, 0])


def test_ucb_formula_by_hand():
    s = UCB1(3)
    for a, r in enumerate([0.2, 0.5, 0.1]):
        assert s.select(np.random.default_rng(0)) == a
        s.update(a, r)
    # t = 1 after the pass: bound = R̂ + sqrt(2 ln(1 + 3) / 1)
    np.testing.assert_allclose(s.bounds(), np.array([0.2, 0.5, 0.1]) + math.sqrt(2 * math.log(4)))
    assert s.next_arm() == 1
    s.update(1, 0.4)  # R̂_1 is now 0.4, n_1 = 2, t = 2
    expected = np.array([0.2, 0.4, 0.1]) + np.sqrt(2 * math.log(5) / np.array([1, 2, 1]))
    np.testing.assert_allclose(s.bounds(), expected, rtol=1e-12)
    np.testing.assert_allclose(expected, [1.99412, 1.66864, 1.89412], atol=1e-5)
    assert s.next_arm() == 0
    np.testing.assert_allclose(s.shares(), [0.25, 0.5, 0.25])


def test_exploit_is_greedy_after_the_pass_and_uniform_is_uniform():
    s = Exploit(3)
    for r in [0.2, 0.5, 0.1]:
        s.update(s.next_arm(), r)
    for _ in range(5):
        assert s.next_arm() == 1
        s.update(1, 0.45)
    u = Uniform(4)
    np.testing.assert_allclose(u.probs(), 0.25)
    assert not TargetOnly(3).uses_auxiliary
    with pytest.raises(RuntimeError, match="target_only"):
        TargetOnly(3).select(np.random.default_rng(0))


def test_strategies_reject_bad_input():
    with pytest.raises(ValueError, match="strategy must be one of"):
        make_strategy("exp4", 3)
    with pytest.raises(TypeError, match="strategy must be"):
        make_strategy(3, 3)
    with pytest.raises(ValueError, match="n_arms"):
        EXP3(0)
    with pytest.raises(ValueError, match="n_arms=2"):
        make_strategy(EXP3(2), 3)
    s = UCB1(3)
    with pytest.raises(ValueError, match=r"arm must be an int in 0\.\.2, got 3"):
        s.update(3, 0.1)
    with pytest.raises(ValueError, match="reward must be finite"):
        s.update(0, float("nan"))
    with pytest.raises(TypeError, match="rng"):
        EXP3(2).select(0)


def test_reward_smoother_is_an_ema_started_at_the_first_reward():
    sm = RewardSmoother(2, 0.9)
    assert sm.update(0, 1.0) == 1.0  # first reward taken as is
    assert sm.update(0, 0.0) == pytest.approx(0.9)
    assert sm.update(0, 0.5) == pytest.approx(0.9 * 0.9 + 0.1 * 0.5)
    assert sm.update(1, -0.2) == -0.2 and sm.counts.tolist() == [3, 1]
    assert RewardSmoother(1, 0.0).update(0, 0.3) == 0.3
    for bad in (1.0, -0.1, 2):
        with pytest.raises(ValueError, match=r"beta must be in \[0, 1\)"):
            RewardSmoother(2, bad)
    with pytest.raises(TypeError, match="beta"):
        RewardSmoother(2, "0.5")


def test_gradient_alignment_is_the_cosine():
    a = [torch.tensor([[1.0, 2.0]]), torch.tensor([2.0])]
    b = [torch.tensor([[2.0, 0.0]]), torch.tensor([1.0])]
    assert gradient_alignment(a, b) == pytest.approx((2 + 0 + 2) / (3 * math.sqrt(5)))
    assert gradient_alignment(torch.ones(3), -torch.ones(3)) == pytest.approx(-1.0)
    assert gradient_alignment(torch.zeros(3), torch.ones(3)) == 0.0
    with pytest.raises(ValueError, match="same shapes"):
        gradient_alignment(torch.ones(3), torch.ones(4))


def test_last_layer_is_the_last_module_with_parameters():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 2), nn.ReLU()), nn.Flatten())
    assert last_layer_names(model) == ["2.0.weight", "2.0.bias"]
    assert last_layer_names(nn.Linear(2, 2)) == ["weight", "bias"]
    assert [n for n, _ in resolve_reward_params(model, ["0.bias"])] == ["0.bias"]
    with pytest.raises(ValueError, match="does not have"):
        resolve_reward_params(model, ["head.weight"])
    with pytest.raises(ValueError, match="no parameters"):
        last_layer_names(nn.ReLU())
    with pytest.raises(TypeError, match="reward_params"):
        resolve_reward_params(model, "0.bias")
