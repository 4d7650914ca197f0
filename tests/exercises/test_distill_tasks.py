"""The distillation explorers' "Try it" checkers (chapter 03), on small fake explorer data and a real widget."""

from types import SimpleNamespace

import pytest
import torch

from effdl import exercises, widgets
from effdl.compress.distill import soften
from effdl.exercises import ExerciseNotSolved

LOGITS = torch.tensor([6.0, 2.0, 1.0, 0.0])


def _temperature_explorer() -> SimpleNamespace:
    def probs(t: float) -> list[float]:
        return soften(LOGITS, t).tolist()

    temps = [0.5 * i for i in range(1, 41)]
    return SimpleNamespace(temperatures=temps, probabilities={t: probs(t) for t in temps}, probs=probs)


def _truth(ex) -> float:
    return min(t for t in ex.temperatures if max(ex.probabilities[t]) < 0.5)


def test_temperature_share_right_wrong_and_none(capsys, monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)
    ex = _temperature_explorer()
    truth = _truth(ex)
    assert exercises.check_temperature_share(truth, ex) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_temperature_share(truth - 0.5, ex) is False
    assert "raise T" in capsys.readouterr().out
    assert exercises.check_temperature_share(truth + 2.0, ex) is False
    assert "a smaller T already does" in capsys.readouterr().out
    assert exercises.check_temperature_share(None, ex) is False
    assert "not yet" in capsys.readouterr().out


def test_temperature_share_on_the_real_widget():
    box = widgets.temperature_explorer(LOGITS, T=4.0)
    assert box.temperatures[0] == 0.5 and box.temperatures[-1] == 20.0 and len(box.temperatures) == 40
    assert exercises.check_temperature_share(_truth(box), box) is True


def _rows() -> list[dict]:
    return [
        {"T": 2.0, "alpha": 0.5, "accuracy": 80.0, "val_accuracy": 81.0},
        {"T": 2.0, "alpha": 0.9, "accuracy": 83.0, "val_accuracy": 80.0},
        {"T": 4.0, "alpha": 0.5, "accuracy": 81.0, "val_accuracy": 84.0},
        {"T": 4.0, "alpha": 0.9, "accuracy": 82.0, "val_accuracy": 79.0},
    ]


def test_best_sweep_cell_right_wrong_and_none(capsys, monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)
    ex = widgets.distill_sweep_explorer(_rows(), baseline=78.0)
    assert exercises.check_best_sweep_cell((2.0, 0.9), ex) is True
    out = capsys.readouterr().out
    assert "✅" in out and "+5.00 points" in out and "validation digits chose T = 4" in out
    assert exercises.check_best_sweep_cell((4.0, 0.5), ex) is False
    assert "chosen on the validation digits" in capsys.readouterr().out
    assert exercises.check_best_sweep_cell((4.0, 0.9), ex) is False
    assert "another cell does better" in capsys.readouterr().out
    assert exercises.check_best_sweep_cell((0.9, 2.0), ex) is False
    assert "the order is (T, alpha)" in capsys.readouterr().out
    assert exercises.check_best_sweep_cell(None, ex) is False
    assert "not yet" in capsys.readouterr().out
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    with pytest.raises(ExerciseNotSolved):
        exercises.check_best_sweep_cell((4.0, 0.9), ex)
