"""Checkers of chapter 12 (FLAD bandits): EXP3's π_t, UCB1's bounds, the cosine reward, the step task, K·ε_T."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from effdl.exercises import ExerciseNotSolved
from effdl.exercises import flad as ex


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


def _eps(t, k):
    return 1.0 / k if t == 0 else min(1.0 / k, math.sqrt(math.log(k) / (k * t)))


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def test_check_exp3_probs(capsys):
    def right(g, t, k):
        return (1 - k * _eps(t, k)) * _softmax(_eps(t - 1, k) * g) + _eps(t, k)

    assert ex.check_exp3_probs(right) is True
    assert "K ln K" in capsys.readouterr().out
    slips = {
        "previous step's rate": lambda g, t, k: (1 - k * _eps(t, k)) * _softmax(_eps(t, k) * g) + _eps(t, k),
        "mix in the floor": lambda g, t, k: _softmax(_eps(t - 1, k) * g),
        "scale the gains": lambda g, t, k: (1 - k * _eps(t, k)) * _softmax(g) + _eps(t, k),
        "sum to 1": lambda g, t, k: (1 - _eps(t, k)) * _softmax(_eps(t - 1, k) * g) + _eps(t, k),
        "uniform only while": lambda g, t, k: np.full(k, 1 / k),
        "cap ε_t": lambda g, t, k: (
            (1 - k * math.sqrt(math.log(k) / (k * t))) * _softmax(_eps(t - 1, k) * g) + math.sqrt(math.log(k) / (k * t))
        ),
        "shape": lambda g, t, k: np.ones(k + 1) / (k + 1),
        "raised ZeroDivisionError": lambda g, t, k: 1 / 0,
    }
    for hint, fn in slips.items():
        assert ex.check_exp3_probs(fn) is False, hint
        assert hint in capsys.readouterr().out, hint
    assert ex.check_exp3_probs(lambda g, t, k: "uniform") is False  # a wrong type: a hint, no crash
    assert "return an array" in capsys.readouterr().out
    assert ex.check_exp3_probs(None) is False
    assert "not yet" in capsys.readouterr().out

    def unfinished(g, t, k):
        raise NotImplementedError

    assert ex.check_exp3_probs(unfinished) is False
    assert "NotImplementedError" in capsys.readouterr().out


def test_check_ucb1_scores(capsys):
    def right(values, counts):
        return values + np.sqrt(2 * np.log(counts.sum() + 1) / counts)

    assert ex.check_ucb1_scores(right) is True
    out = capsys.readouterr().out
    assert "arm 3 (greedy: arm 0)" in out  # the bonus picks the rarely played arm
    slips = {
        "Σ n_a + 1": lambda v, n: v + np.sqrt(2 * np.log(n.sum()) / n),
        "left out the 2": lambda v, n: v + np.sqrt(np.log(n.sum() + 1) / n),
        "square root": lambda v, n: v + 2 * np.log(n.sum() + 1) / n,
        "own plays": lambda v, n: v + np.sqrt(2 * np.log(n.sum() + 1) / (n.sum() + 1)),
        "argmax": lambda v, n: int(np.argmax(right(v, n))),
        "differ": lambda v, n: v,
    }
    for hint, fn in slips.items():
        assert ex.check_ucb1_scores(fn) is False, hint
        assert hint in capsys.readouterr().out, hint
    assert ex.check_ucb1_scores(lambda v, n: {"a": 1}) is False
    assert ex.check_ucb1_scores(None) is False


def test_check_cosine_reward(capsys):
    def right(a, b):
        na, nb = a.norm(), b.norm()
        return 0.0 if na == 0 or nb == 0 else float((a * b).sum() / (na * nb))

    assert ex.check_cosine_reward(right) is True
    assert "−1 for opposite" in capsys.readouterr().out
    assert ex.check_cosine_reward(lambda a, b: torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), 0))
    capsys.readouterr()
    slips = {
        "return 0.0": lambda a, b: float((a * b).sum() / (a.norm() * b.norm())),
        "both norms: the cosine": lambda a, b: float((a * b).sum()),
        "product of both norms": lambda a, b: float((a * b).sum() / a.norm()),
        "flatten": lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim=1),
        "return one float": lambda a, b: "close",
    }
    for hint, fn in slips.items():
        assert ex.check_cosine_reward(fn) is False, hint
        assert hint in capsys.readouterr().out, hint
    assert ex.check_cosine_reward(None) is False


def _explorer():
    steps = range(1, 11)
    exp3 = [1.0, 1.0, 1.2, 1.6, 2.1, 1.9, 2.4, 2.6, 2.5, 2.8]
    ucb1 = [1.0, 1.5, 2.2, 2.0, 2.3, 2.3, 2.4, 2.4, 2.5, 2.5]
    return SimpleNamespace(
        table={t: {"exp3": (e, 1.0, 0.5), "ucb1": (u, 0.9, 0.6)} for t, e, u in zip(steps, exp3, ucb1, strict=True)}
    )


def test_check_flad_crossing(capsys):
    box = _explorer()
    assert ex.check_flad_crossing(5, box) is True
    assert "first reaches 2.10" in capsys.readouterr().out
    assert ex.check_flad_crossing(5.0, box) is True  # a float that is an integer is fine
    capsys.readouterr()
    assert ex.check_flad_crossing(3, box, strategy="ucb1") is True
    capsys.readouterr()
    cases = {
        4: "only 1.60",
        7: "earlier: move back",
        3: "where ucb1 crosses",
        2.1: "an integer",
        99: "on the slider",
        "never": "reaches 2",
    }
    for answer, hint in cases.items():
        assert ex.check_flad_crossing(answer, box) is False, answer
        assert hint in capsys.readouterr().out, answer
    assert ex.check_flad_crossing("never", box, level=5.0) is True
    capsys.readouterr()
    assert ex.check_flad_crossing(4, box, level=5.0) is False
    assert "ever reach" in capsys.readouterr().out
    assert ex.check_flad_crossing(5, box, strategy="exploit") is False
    assert "no 'exploit' run" in capsys.readouterr().out
    assert ex.check_flad_crossing([5], box) is False  # a wrong type: a hint, no crash
    assert ex.check_flad_crossing(None, box) is False
    assert "not yet" in capsys.readouterr().out


def test_check_flad_crossing_reads_a_real_explorer(capsys):
    from effdl.learning.flad import EXP3, FLADLog
    from effdl.widgets.flad import flad_explorer

    kinds = ("aligned", "noisy", "adversarial", "adversarial")
    bandit, log, rng = EXP3(4), FLADLog(), np.random.default_rng(0)
    for t in range(1, 61):
        p, a = bandit.probs(), bandit.select(rng)
        bandit.update(a, {"aligned": 0.8, "noisy": 0.0, "adversarial": -0.5}[kinds[a]])
        log.step.append(t), log.arm.append(a), log.reward.append(0.0), log.probs.append(p)
    box = flad_explorer({"exp3": log}, kinds)
    ratios = {t: box.table[t]["exp3"][0] for t in box.steps}
    first = min(t for t in box.steps if ratios[t] >= 1.5)
    assert ex.check_flad_crossing(first, box, level=1.5) is True
    assert ex.check_flad_crossing(first + 1, box, level=1.5) is False
    assert "already was ≥ 1.5 earlier" in capsys.readouterr().out


def test_check_exp3_uniform_share(capsys):
    want = math.sqrt(50 * math.log(50) / 1500)
    assert ex.check_exp3_uniform_share(round(want, 3)) is True
    assert "36 %" in capsys.readouterr().out
    assert ex.check_exp3_uniform_share(1.0, n_arms=20, steps=50) is True  # t ≤ K ln K: still uniform
    capsys.readouterr()
    cases = {
        100 * want: "not a percentage",
        want / 50: "floor of one arm",
        1 - want: "learned part",
        math.sqrt(50 * math.log10(50) / 1500): "log10",
        50 * math.log(50) / 1500: "square root",
        0.9: "not K·ε_T",
        "a lot": "give a number",
    }
    for answer, hint in cases.items():
        assert ex.check_exp3_uniform_share(answer) is False, hint
        assert hint in capsys.readouterr().out, hint
    assert ex.check_exp3_uniform_share(None) is False


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    with pytest.raises(ExerciseNotSolved):
        ex.check_exp3_uniform_share(0.9)
