"""The step explorer of chapter 12: precomputed mixtures, in-place updates, the data the Try-it checker reads."""

import math

import numpy as np
import pytest

from effdl.learning.flad import EXP3, UCB1, FLADLog, FLADTrainer, default_model, few_shot_suite
from effdl.viz.flad import flad_mass_ratio
from effdl.widgets.flad import flad_explorer

KINDS6 = ("aligned", "noisy", "adversarial", "aligned", "adversarial", "noisy")


def simulate(name: str, steps: int = 40, seed: int = 0) -> FLADLog:
    """A FLADLog of the real bandit on synthetic rewards (aligned high, adversarial low): no training."""
    rng, mean = np.random.default_rng(seed), {"aligned": 0.5, "noisy": 0.1, "adversarial": -0.4}
    bandit, log = (EXP3(6) if name == "exp3" else UCB1(6)), FLADLog()
    for t in range(1, steps + 1):
        p = bandit.probs()
        a = bandit.select(rng)
        r = float(np.clip(mean[KINDS6[a]] + 0.2 * rng.normal(), -1, 1))
        bandit.update(a, r)
        log.step.append(t), log.arm.append(a), log.reward.append(r), log.probs.append(p)
    return log


def test_flad_explorer_precomputes_and_updates_in_place():
    logs = {"exp3": simulate("exp3"), "ucb1": simulate("ucb1")}
    box = flad_explorer(logs, KINDS6)
    assert "effdl-main-control" in box.slider._dom_classes
    assert box.slider.value == 40 and box.steps == list(range(1, 41)) and sorted(box.table) == box.steps
    assert box.mixtures["exp3"].shape == (40, 6)
    assert math.isclose(box.table[40]["exp3"][0], flad_mass_ratio(logs["exp3"].probs[-1], KINDS6))
    ucb_shares = np.bincount(logs["ucb1"].arm[:12], minlength=6) / 12
    assert math.isclose(box.table[12]["ucb1"][2], flad_mass_ratio(ucb_shares, KINDS6, "adversarial"))
    order = [0, 3, 1, 5, 2, 4]
    before = list(box.policy.data[0].y)
    box.slider.value = 12
    assert list(box.policy.data[0].y) != before
    assert np.allclose(box.policy.data[0].y, np.asarray(logs["exp3"].probs[11])[order])
    assert np.allclose(box.policy.data[1].y, ucb_shares[order])
    assert list(box.mass.data[-1].x) == [12, 12] and "step 12" in box.policy.layout.title.text
    assert box.policy.layout.yaxis.range[1] >= 1.1 * max(max(box.policy.data[0].y), max(box.policy.data[1].y)) - 1e-12
    assert f"{box.table[12]['exp3'][0]:.2f}" in box.policy.layout.annotations[0].text
    assert "step t = <b>12</b>" in box.readout.value and "K·ε_t = <b>0.95</b>" in box.readout.value  # √(6 ln 6 / 12)
    box.kind.value = "adversarial"
    assert np.allclose(box.mass.data[1].y, [box.table[t]["ucb1"][2] for t in box.steps])
    assert "adversarial mass" in box.readout.value


def test_flad_explorer_on_real_trainer_logs():
    suite = few_shot_suite(n_aux=6, n_train=20, n_val=20, aux_size=40, dataset="digits", seed=0)
    logs = {}
    for name in ("exp3", "ucb1"):
        model = default_model(0, suite.num_classes, in_shape=(1, 8, 8))
        trainer = FLADTrainer(model, suite.target_train, suite.auxiliaries, name, seed=0)
        logs[name] = trainer.fit(15, progress=False)
    box = flad_explorer(logs, suite.kinds, step=8)
    assert box.slider.value == 8 and box.steps == list(range(1, 16))
    assert np.allclose(box.mixtures["exp3"][7], logs["exp3"].probs[7])
    box.slider.value = 15
    assert math.isclose(box.table[15]["ucb1"][0], suite.mass_ratio(trainer.distribution()))


def test_flad_explorer_rejects_bad_input():
    logs = {"exp3": simulate("exp3"), "ucb1": simulate("ucb1", steps=30)}
    with pytest.raises(ValueError, match="same number"):
        flad_explorer(logs, KINDS6)
    with pytest.raises(ValueError, match="non-empty"):
        flad_explorer({}, KINDS6)
    with pytest.raises(ValueError, match="kind of each"):
        flad_explorer({"exp3": simulate("exp3")}, KINDS6[:4])
    with pytest.raises(ValueError, match="logged steps"):
        flad_explorer({"exp3": simulate("exp3")}, KINDS6, step=99)
