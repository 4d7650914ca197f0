"""effdl.exercises.smoothing: each checker accepts the right answer, says "not yet" with a hint to the usual slips,
and "not yet" to None."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from effdl import exercises
from effdl.exercises import ExerciseNotSolved


def good_smoothed(X, Y, h, sigma):
    s2 = h**2 + 2 * sigma**2
    d2 = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    return (h**2 / s2) ** (X.shape[1] / 2) * np.exp(-d2 / (2 * s2))


def test_gaussian_smoothed_checker(capsys):
    assert exercises.check_gaussian_smoothed(good_smoothed)
    assert "✅" in capsys.readouterr().out

    def one_sided(X, Y, h, sigma):  # noise on one argument only: σ² instead of 2σ²
        return good_smoothed(X, Y, h, sigma / math.sqrt(2))

    assert not exercises.check_gaussian_smoothed(one_sided)
    assert "2σ²" in capsys.readouterr().out

    def no_amplitude(X, Y, h, sigma):
        s2 = h**2 + 2 * sigma**2
        return np.exp(-(((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)) / (2 * s2))

    assert not exercises.check_gaussian_smoothed(no_amplitude)
    assert "amplitude" in capsys.readouterr().out

    def unfinished(X, Y, h, sigma):
        raise NotImplementedError

    assert not exercises.check_gaussian_smoothed(unfinished)
    assert "not yet" in capsys.readouterr().out
    assert not exercises.check_gaussian_smoothed(None)
    assert "fill in" in capsys.readouterr().out


def good_gd(K, y, lr, steps, weight_decay):
    a = np.zeros(len(y))
    for _ in range(steps):
        a = a - lr * ((K @ a - y) / len(y) + weight_decay * a)
    return a


def test_kernel_gd_checker(capsys):
    assert exercises.check_kernel_gd(good_gd)
    assert "✅" in capsys.readouterr().out

    def no_decay(K, y, lr, steps, weight_decay):
        return good_gd(K, y, lr, steps, 0.0)

    assert not exercises.check_kernel_gd(no_decay)
    assert "weight-decay term" in capsys.readouterr().out

    def off_by_one(K, y, lr, steps, weight_decay):
        return good_gd(K, y, lr, steps - 1, weight_decay)

    assert not exercises.check_kernel_gd(off_by_one)
    assert "steps" in capsys.readouterr().out

    def no_n(K, y, lr, steps, weight_decay):
        a = np.zeros(len(y))
        for _ in range(steps):
            a = a - lr / len(y) * ((K @ a - y) + weight_decay * a)  # some other wrong update
        return a

    assert not exercises.check_kernel_gd(no_n)
    assert "not yet" in capsys.readouterr().out
    assert not exercises.check_kernel_gd(None)


def test_halving_factor_checker(capsys):
    assert exercises.check_halving_factor(2**1.5, m=2, d=2, D=10)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_halving_factor(2**3.5, m=2, d=2, D=10)
    assert "ambient" in capsys.readouterr().out
    assert not exercises.check_halving_factor(2 ** (2 / 3), m=2, d=2, D=10)
    assert "exponent" in capsys.readouterr().out
    assert not exercises.check_halving_factor(2, m=2, d=2)
    assert "parametric" in capsys.readouterr().out
    assert not exercises.check_halving_factor(None, m=2, d=2)


def _study():
    ns = np.array([100, 200, 400, 800])
    rng = np.random.default_rng(0)
    risks = 0.5 * ns[:, None] ** -0.6 * np.exp(0.3 * rng.standard_normal((4, 5)))
    slope = np.polyfit(np.log(ns), np.log(risks).mean(1), 1)[0]
    mean_slope = np.polyfit(np.log(ns), np.log(risks.mean(1)), 1)[0]
    return SimpleNamespace(ns=ns, risks=risks, slope=slope, mean_slope=mean_slope, theory=-2 / 3)


def test_loglog_slope_checker(capsys):
    st = _study()
    assert exercises.check_loglog_slope(st.slope, st)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_loglog_slope(st.mean_slope, st)
    assert "arithmetic" in capsys.readouterr().out
    assert not exercises.check_loglog_slope(-2 / 3, st)
    assert "theoretical" in capsys.readouterr().out
    assert not exercises.check_loglog_slope("steep", st)
    assert not exercises.check_loglog_slope(None, st)


def test_best_noise_scale_checker(capsys):
    table = {
        ("laplace", 0.0): (0.30, 0.05, 3),
        ("laplace", 0.1): (0.26, 0.03, 20),
        ("laplace", 0.2): (0.27, 0.02, 90),
        ("gaussian", 0.0): (0.30, 0.05, 3),
        ("gaussian", 0.1): (0.28, 0.04, 20),
        ("gaussian", 0.2): (0.25, 0.03, 90),
    }
    box = SimpleNamespace(table=table)
    assert exercises.check_best_noise_scale(0.1, box, "laplace")
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_best_noise_scale(0.2, box, "laplace")
    assert "test risk" in capsys.readouterr().out
    assert not exercises.check_best_noise_scale(0.3, box, "laplace")
    assert "slider" in capsys.readouterr().out
    assert not exercises.check_best_noise_scale(None, box, "laplace")
    with pytest.raises(ValueError, match="family must be one of"):
        exercises.check_best_noise_scale(0.1, box, "cauchy")


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    with pytest.raises(ExerciseNotSolved):
        exercises.check_halving_factor(3.0, m=2, d=2)
