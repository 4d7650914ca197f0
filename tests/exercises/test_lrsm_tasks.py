"""Checkers of chapter 11 (stratified models): the Laplacian, the prox on W, the log-det gradient, the λ₂ task."""

from types import SimpleNamespace

import numpy as np
import pytest

from effdl import exercises
from effdl.exercises import ExerciseNotSolved
from effdl.learning import lrsm


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


def _dense(k, edges, w):
    W = np.zeros((k, k))
    W[edges[:, 0], edges[:, 1]] = w
    W[edges[:, 1], edges[:, 0]] = w
    return W


def test_check_laplacian(capsys):
    assert exercises.check_laplacian(lambda k, e, w: lrsm.laplacian(k, e, w)) is True
    assert "½ tr" in capsys.readouterr().out
    slips = {
        "flipped": lambda k, e, w: -lrsm.laplacian(k, e, w),
        "D + W": lambda k, e, w: np.diag(_dense(k, e, w).sum(1)) + _dense(k, e, w),
        "symmetric": lambda k, e, w: np.diag(_dense(k, e, w).sum(1)) - np.triu(_dense(k, e, w)),
        "doubled": lambda k, e, w: 2 * np.diag(_dense(k, e, w).sum(1)) - _dense(k, e, w),
        "shape": lambda k, e, w: np.zeros((k + 1, k)),
    }
    for hint, fn in slips.items():
        assert exercises.check_laplacian(fn) is False
        assert hint in capsys.readouterr().out, hint
    assert exercises.check_laplacian(None) is False
    assert "not yet" in capsys.readouterr().out

    def unfinished(k, e, w):
        raise NotImplementedError

    assert exercises.check_laplacian(unfinished) is False
    assert "NotImplementedError" in capsys.readouterr().out


def test_check_prox_w(capsys):
    assert exercises.check_prox_w(lambda v, t, a, e: np.maximum(v - 2 * t * a * e, 0)) is True
    capsys.readouterr()
    slips = {
        "twice": lambda v, t, a, e: np.maximum(v - t * a * e, 0),
        "clip at 0": lambda v, t, a, e: v - 2 * t * a * e,
        "did not shift": lambda v, t, a, e: np.maximum(v, 0),
        "two-sided": lambda v, t, a, e: np.sign(v) * np.maximum(np.abs(v) - 2 * t * a * e, 0),
    }
    for hint, fn in slips.items():
        assert exercises.check_prox_w(fn) is False
        assert hint in capsys.readouterr().out, hint
    assert exercises.check_prox_w(None) is False


def _resist(k, e, w, mu):
    inv = np.linalg.inv(mu * np.eye(k) + lrsm.laplacian(k, e, w))
    return inv, e[:, 0], e[:, 1]


def test_check_logdet_gradient_matches_finite_differences(capsys):
    def right(k, e, w, mu):
        inv, i, j = _resist(k, e, w, mu)
        return inv[i, i] + inv[j, j] - 2 * inv[i, j]

    # the truth is the derivative of log det: check it against central differences on one graph
    k, e, w, mu = 5, np.array([[0, 1], [1, 2], [2, 3], [0, 4]]), np.array([1.0, 0.5, 2.0, 0.3]), 0.2
    fd = []
    for idx in range(len(w)):
        d = np.zeros_like(w)
        d[idx] = 1e-6
        f = [np.linalg.slogdet(mu * np.eye(k) + lrsm.laplacian(k, e, w + s * d))[1] for s in (1, -1)]
        fd.append((f[0] - f[1]) / 2e-6)
    assert np.allclose(right(k, e, w, mu), fd, rtol=1e-5)
    assert exercises.check_logdet_gradient(right) is True
    capsys.readouterr()
    slips = {
        "sign": lambda k, e, w, mu: -right(k, e, w, mu),
        "cross term": lambda k, e, w, mu: (lambda inv, i, j: inv[i, i] + inv[j, j])(*_resist(k, e, w, mu)),
        "factor 2": lambda k, e, w, mu: 2 * right(k, e, w, mu),
    }
    for hint, fn in slips.items():
        assert exercises.check_logdet_gradient(fn) is False
        assert hint in capsys.readouterr().out, hint
    assert exercises.check_logdet_gradient(None) is False


def test_check_lrsm_lam2(capsys):
    explorer = SimpleNamespace(
        table={
            0.01: (1.02, 1.05, 0.0, 2),
            0.1: (1.00, 1.06, 0.0, 2),
            1.0: (1.01, 1.04, 0.8, 0),
            10.0: (1.10, 1.20, 1.0, 0),
        }
    )
    assert exercises.check_lrsm_lam2(0.1, explorer) is True
    assert "0.1" in capsys.readouterr().out
    assert exercises.check_lrsm_lam2(1.0, explorer) is False
    assert "test loss" in capsys.readouterr().out
    assert exercises.check_lrsm_lam2(10.0, explorer) is False
    assert "pinned" in capsys.readouterr().out
    assert exercises.check_lrsm_lam2(0.01, explorer) is False
    assert exercises.check_lrsm_lam2(0.5, explorer) is False
    assert "slider's values" in capsys.readouterr().out
    assert exercises.check_lrsm_lam2(None, explorer) is False
    assert "not yet" in capsys.readouterr().out
    near = SimpleNamespace(table={0.01: (1.00002, 1.0, 0.0, 2), 0.1: (1.0, 1.1, 0.0, 2)})
    assert exercises.check_lrsm_lam2(0.01, near) is True  # within the readout's 4 decimals


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    with pytest.raises(ExerciseNotSolved):
        exercises.check_prox_w(lambda v, t, a, e: v)
