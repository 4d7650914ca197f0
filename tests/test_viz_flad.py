"""Figures of chapter 12 (FLAD bandits): mixtures over the arms, EXP3's ε floor, rewards per kind, the study."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from effdl.learning.flad import EXP3, UCB1, FLADLog
from effdl.viz import flad as fviz

KINDS6 = ("aligned", "noisy", "adversarial", "aligned", "adversarial", "noisy")
MEAN = {"aligned": 0.5, "noisy": 0.1, "adversarial": -0.4}


def simulate(name: str, steps: int = 40, seed: int = 0) -> FLADLog:
    """A FLADLog of the real bandit on synthetic rewards (mean per kind + noise): no training, milliseconds."""
    rng = np.random.default_rng(seed)
    bandit = EXP3(6) if name == "exp3" else UCB1(6)
    log = FLADLog()
    for t in range(1, steps + 1):
        p = bandit.probs()
        a = bandit.select(rng)
        r = float(np.clip(MEAN[KINDS6[a]] + 0.2 * rng.normal(), -1, 1))
        bandit.update(a, r)
        log.step.append(t), log.arm.append(a), log.reward.append(r), log.probs.append(p)
        log.smoothed.append(r), log.estimates.append(bandit.estimates())
    return log


def test_mixture_is_pi_for_exp3_and_running_shares_for_ucb1():
    exp3, ucb1 = simulate("exp3"), simulate("ucb1")
    assert np.array_equal(fviz.flad_mixture(exp3), np.asarray(exp3.probs))
    mix = fviz.flad_mixture(ucb1)
    assert mix.shape == (40, 6) and np.allclose(mix.sum(1), 1.0)
    assert np.allclose(mix[5], 1 / 6)  # the initialization pass plays every arm once
    assert np.allclose(mix[-1], np.bincount(ucb1.arm, minlength=6) / 40)
    assert np.allclose(fviz.flad_mixture(ucb1, stochastic=True), np.asarray(ucb1.probs))
    assert math.isclose(fviz.flad_mass_ratio([0.5, 0, 0, 0.5, 0, 0], KINDS6), 3.0)  # all mass on 2 of 6 arms
    assert math.isnan(fviz.flad_mass_ratio([0.5, 0.5], ["noisy", "noisy"]))


def test_arm_probs_stacks_arms_grouped_by_kind():
    log = simulate("exp3")
    fig = fviz.flad_arm_probs(log.probs, KINDS6)
    assert isinstance(fig, go.Figure) and len(fig.data) == 6
    assert [t.name for t in fig.data] == ["aligned", "aligned", "noisy", "noisy", "adversarial", "adversarial"]
    assert [t.showlegend for t in fig.data] == [True, False, True, False, True, False]
    assert np.allclose(fig.data[1].y, np.asarray(log.probs)[:, 3]) and list(fig.data[0].x) == list(range(1, 41))
    assert all(t.stackgroup == "mix" for t in fig.data)
    with pytest.raises(ValueError, match="kinds"):
        fviz.flad_arm_probs(log.probs, KINDS6[:5])
    with pytest.raises(ValueError, match=r"\(T, K\)"):
        fviz.flad_arm_probs([0.5, 0.5], KINDS6)


def test_policy_side_by_side_and_animation_frames():
    mixes = {s: fviz.flad_mixture(simulate(s)) for s in ("exp3", "ucb1")}
    fig = fviz.flad_policy({s: m[-1] for s, m in mixes.items()}, KINDS6, step=40)
    assert [t.name for t in fig.data[:2]] == ["exp3", "ucb1"] and [t.name for t in fig.data[2:]] == list(fviz.KINDS)
    order = [0, 3, 1, 5, 2, 4]
    assert list(fig.data[0].x) == [str(a) for a in order] and np.allclose(fig.data[1].y, mixes["ucb1"][-1, order])
    ratio = fviz.flad_mass_ratio(mixes["exp3"][-1], KINDS6)
    assert fig.layout.annotations[0].text == f"exp3<br>aligned mass ÷ share {ratio:.2f}"
    assert "40" in fig.layout.title.text
    anim = fviz.flad_policy_animation(mixes, KINDS6, n_frames=5)
    assert [f.name for f in anim.frames] == ["1", "11", "21", "30", "40"]
    assert np.allclose(anim.frames[-1].data[0].y, mixes["exp3"][-1, order])
    assert anim.frames[-1].layout.annotations[1].text.startswith("ucb1<br>aligned mass ÷ share")
    assert len(anim.layout.sliders[0].steps) == 5
    with pytest.raises(ValueError, match="shape"):
        fviz.flad_policy({"a": [0.5, 0.5], "b": [1.0]}, ["aligned", "noisy"])


def test_mass_over_time_has_a_cursor():
    mixes = {s: fviz.flad_mixture(simulate(s)) for s in ("exp3", "ucb1")}
    fig = fviz.flad_mass_over_time(mixes, KINDS6, current=7)
    assert len(fig.data) == 3 and list(fig.data[-1].x) == [7, 7]
    assert math.isclose(fig.data[0].y[-1], fviz.flad_mass_ratio(mixes["exp3"][-1], KINDS6))
    assert math.isclose(fig.data[0].y[0], 1.0)  # EXP3 starts uniform
    with pytest.raises(ValueError, match="kind"):
        fviz.flad_mass_over_time(mixes, KINDS6, kind="good")


def test_epsilon_share_is_one_until_k_ln_k_then_sqrt():
    fig = fviz.flad_epsilon((10, 50), steps=1500)
    assert len(fig.data) == 4  # two lines, the K ln K markers, the bars
    t, share = np.asarray(fig.data[1].x), np.asarray(fig.data[1].y)
    klnk = 50 * math.log(50)
    assert np.allclose(share[t <= klnk], 1.0)
    assert np.allclose(share[t > klnk], np.sqrt(klnk / t[t > klnk]))
    assert math.isclose(share[-1], math.sqrt(klnk / 1500)) and t[-1] == 1500
    assert np.allclose(fig.data[2].x, [10 * math.log(10), klnk]) and np.allclose(fig.data[3].y, fig.data[2].x)
    with pytest.raises(ValueError, match="≥ 2"):
        fviz.flad_epsilon((1, 10))


def test_rewards_smoothed_per_kind():
    log = simulate("exp3", steps=60)
    fig = fviz.flad_rewards(log, KINDS6, window=5)
    assert [t.name for t in fig.data] == ["aligned", "noisy", "adversarial"] * 2
    arms, r = np.asarray(log.arm), np.asarray(log.reward)
    sel = np.flatnonzero(np.isin(arms, [0, 3]))
    assert list(fig.data[0].x) == (sel + 1).tolist()
    assert math.isclose(fig.data[0].y[-1], r[sel][-5:].mean()) and math.isclose(fig.data[0].y[0], r[sel][0])
    assert np.allclose(fig.data[3].y, r[sel])  # the raw dots
    assert fig.data[0].y[-1] > fig.data[2].y[-1]  # aligned rewards above adversarial ones
    assert len(fviz.flad_rewards(log, KINDS6, raw=False).data) == 3
    with pytest.raises(ValueError, match="window"):
        fviz.flad_rewards(log, KINDS6, window=0)


def test_strategies_mass_and_step_time():
    acc = {"exp3": [0.776, 0.80], "ucb1": [0.813, 0.85], "target_only": [0.633, 0.62]}
    fig = fviz.flad_strategies(acc)
    assert np.allclose(fig.data[0].y, [78.8, 83.15, 62.65])
    assert math.isclose(fig.data[0].error_y.array[0], 100 * np.std([0.776, 0.80], ddof=1))
    assert len(fig.data[1].x) == 6 and "2 seeds" in fig.layout.title.text
    mass = {k: {"exp3": [2.82, 2.6], "ucb1": [2.5, 2.4], "target_only": [1.0, 1.0]} for k in fviz.KINDS}
    mfig = fviz.flad_mass(mass, ceiling=4.0)
    assert [t.name for t in mfig.data[:3]] == list(fviz.KINDS) and list(mfig.data[0].x) == ["exp3", "ucb1"]
    assert np.allclose(mfig.data[0].y, [2.71, 2.45])
    times = {("exp3", 10): [0.010, 0.012, 0.011], ("exp3", 100): [0.011, 0.011, 0.013], ("ucb1", 10): [0.01] * 3}
    tfig = fviz.flad_step_time(times)
    assert list(tfig.data[0].x) == [10, 100] and np.allclose(tfig.data[0].y, [11.0, 11.0])
    assert np.allclose(tfig.data[0].error_y.array, [1.0, 2.0]) and np.allclose(tfig.data[0].error_y.arrayminus, [1, 0])
    assert tfig.data[-1].name.startswith("∝ K") and np.allclose(tfig.data[-1].y, [11.0, 110.0])
    with pytest.raises(ValueError):
        fviz.flad_strategies({"exp3": []})


def test_study_result_is_accepted_directly():
    from effdl.learning.flad import RunResult, StudyResult

    runs = [
        RunResult(s, seed, acc, acc, 10, np.full(4, 0.25), {"aligned": m, "noisy": 1.0, "adversarial": 0.5}, 1.0)
        for s, seed, acc, m in [("exp3", 0, 0.7, 2.0), ("exp3", 1, 0.8, 3.0), ("uniform", 0, 0.5, 1.0)]
    ]
    study = StudyResult(runs)
    assert np.allclose(fviz.flad_strategies(study).data[0].y, [75.0, 50.0])
    assert np.allclose(fviz.flad_mass(study).data[0].y, [2.5, 1.0])
