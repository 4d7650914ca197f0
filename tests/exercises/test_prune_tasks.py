"""Pruning checkers (chapter 01): the sparsity slider's "Try it" and the AGP schedule, on small fake explorer data
and the real widget."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from effdl import exercises, widgets


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


def _explorer() -> SimpleNamespace:
    accs = {0.0: 0.970, 0.5: 0.968, 0.8: 0.962, 0.85: 0.955, 0.9: 0.962, 0.95: 0.90}
    return SimpleNamespace(results={s: (a, {"dense": 1000}, 10) for s, a in accs.items()})


def test_sparsity_within_right_wrong_and_none(capsys):
    ex = _explorer()
    assert exercises.check_sparsity_within(0.9, ex) is True  # the largest within 1 point, past a dip at 85%
    assert "✅" in capsys.readouterr().out
    assert exercises.check_sparsity_within(0.8, ex) is False
    assert "but also higher up" in capsys.readouterr().out
    assert exercises.check_sparsity_within(0.95, ex) is False
    assert "more than 1 point(s) below" in capsys.readouterr().out
    assert exercises.check_sparsity_within(90, ex) is False
    assert "not a percentage" in capsys.readouterr().out
    assert exercises.check_sparsity_within(0.42, ex) is False
    assert "not a slider position" in capsys.readouterr().out
    assert exercises.check_sparsity_within(None, ex) is False
    assert "not yet" in capsys.readouterr().out


def test_sparsity_within_on_the_real_widget():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x = torch.randn(60, 8, generator=torch.Generator().manual_seed(0))
    box = widgets.sparsity_explorer(model, (x, model(x).argmax(-1)), value=0.5, max_sparsity=0.9, sweep_step=0.1)
    base = 100 * box.results[0.0][0]
    truth = max(s for s, (a, _, _) in box.results.items() if 100 * a >= base - 1)
    assert exercises.check_sparsity_within(truth, box) is True


def test_agp_sparsity_right_slips_and_none(capsys):
    assert exercises.check_agp_sparsity((0.5203125, 0.7875)) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_agp_sparsity((52.03125, 78.75)) is False
    assert "not percentages" in capsys.readouterr().out
    assert exercises.check_agp_sparsity((0.225, 0.45)) is False
    assert "linear ramp" in capsys.readouterr().out
    assert exercises.check_agp_sparsity((0.9 * 0.25**3, 0.9 * 0.5**3)) is False
    assert "cubed the progress" in capsys.readouterr().out
    assert exercises.check_agp_sparsity((0.5,)) is False
    assert "one sparsity per step" in capsys.readouterr().out
    assert exercises.check_agp_sparsity(None) is False
    assert "not yet" in capsys.readouterr().out
