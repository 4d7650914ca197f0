"""Chapter 07's new checkers: Kaplan's training compute and the size-budget task on the scaling explorer."""

from __future__ import annotations

import types

import pytest

from effdl import exercises
from effdl.exercises import ExerciseNotSolved

ROWS = [
    {"name": "s", "method": "none", "label": "fp32", "size_bits": 100_000, "val_bpc": 2.80},
    {"name": "s", "method": "quant", "label": "8-bit", "size_bits": 30_000, "val_bpc": 2.81},
    {"name": "s", "method": "quant", "label": "4-bit", "size_bits": 18_000, "val_bpc": 2.95},
    {"name": "L", "method": "none", "label": "fp32", "size_bits": 600_000, "val_bpc": 2.78},
]
EXPLORER = types.SimpleNamespace(rows=ROWS)  # what widgets.scaling_explorer exposes


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


def test_kaplan_flops(capsys) -> None:
    assert exercises.check_kaplan_flops(6 * 1000 * 2048, n_params=1000, tokens=2048)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_kaplan_flops(2 * 1000 * 2048, n_params=1000, tokens=2048)
    assert "forward pass only" in capsys.readouterr().out
    assert not exercises.check_kaplan_flops(12345, n_params=1000, tokens=2048)
    assert "not yet" in capsys.readouterr().out
    assert not exercises.check_kaplan_flops(None, n_params=1000, tokens=2048)
    assert "not yet" in capsys.readouterr().out
    with pytest.raises(ValueError, match="n_params must be an int > 0"):
        exercises.check_kaplan_flops(1, n_params=0, tokens=1)


def test_near_best_budget(capsys) -> None:
    # lowest loss 2.78; within 1%: <= 2.8078 -> fp32 of s (100 kbit) and the 8-bit s? 2.81 > 2.8078, so 100 kbit
    assert exercises.check_near_best_budget(100, EXPLORER)
    assert "✅ 100 kbit: s, fp32" in capsys.readouterr().out
    assert exercises.check_near_best_budget(100.4, EXPLORER)  # a slider reading, rounded
    assert not exercises.check_near_best_budget(600, EXPLORER)
    assert "where the very lowest loss appears" in capsys.readouterr().out
    assert not exercises.check_near_best_budget(30, EXPLORER)
    assert "still more than 1% above" in capsys.readouterr().out
    assert not exercises.check_near_best_budget(100_000, EXPLORER)
    assert "answer in kbit" in capsys.readouterr().out
    assert not exercises.check_near_best_budget(None, EXPLORER)
    assert "not yet" in capsys.readouterr().out
    assert exercises.check_near_best_budget(30, EXPLORER, within=0.02)  # 2.81 <= 1.02 * 2.78


def test_strict_mode_raises(monkeypatch) -> None:
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    with pytest.raises(ExerciseNotSolved):
        exercises.check_near_best_budget(30, EXPLORER)
    with pytest.raises(TypeError, match="scaling_explorer"):
        exercises.check_near_best_budget(1, {"rows": ROWS})
