"""Quantization checkers (chapter 04): the bit-width explorer's "Try it", LSQ's step gradient and the per-channel
spread, on small fake explorer data, a tiny model and the real widget."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from effdl import exercises, widgets


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)


def _explorer() -> SimpleNamespace:
    accs = {1: 60.0, 2: 90.0, 3: 95.2, 4: 95.9, 5: 96.1, 6: 96.0, 7: 96.2, 8: 96.2}
    results = {(b, True, "minmax"): (a, 1000 * b) for b, a in accs.items()}
    results[(3, False, "minmax")] = (99.0, 3000)  # another setting the truth must ignore
    return SimpleNamespace(results=results, baseline=96.3)


def test_ptq_bits_within_right_wrong_and_none(capsys):
    ex = _explorer()
    assert exercises.check_ptq_bits_within(4, ex) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_ptq_bits_within(3, ex) is False
    assert "more than 1 point(s) below float" in capsys.readouterr().out
    assert exercises.check_ptq_bits_within(6, ex) is False
    assert "a smaller width is too" in capsys.readouterr().out
    assert exercises.check_ptq_bits_within(9, ex) is False
    assert "1..8" in capsys.readouterr().out
    assert exercises.check_ptq_bits_within(None, ex) is False
    assert "not yet" in capsys.readouterr().out


def test_ptq_bits_within_on_the_real_widget():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x = torch.randn(60, 8, generator=torch.Generator().manual_seed(0))
    box = widgets.quant_explorer(model, (x, model(x).argmax(-1)), bits=4)
    assert box.baseline == 100.0
    truth = min(b for (b, pc, o), (a, _) in box.results.items() if pc and o == "minmax" and a >= box.baseline - 1)
    assert exercises.check_ptq_bits_within(truth, box) is True


def test_lsq_step_grad_right_slips_and_none(capsys):
    assert exercises.check_lsq_step_grad((-0.3, -4.0, 3.0)) is True
    assert "✅" in capsys.readouterr().out
    assert exercises.check_lsq_step_grad((0.3, 4.0, -3.0)) is False
    assert "sign is flipped" in capsys.readouterr().out
    assert exercises.check_lsq_step_grad((-0.3, -0.3, 0.0)) is False  # round(x/s) − x/s everywhere, no clamp
    assert "clamp first" in capsys.readouterr().out
    g = 1 / (3 * 3) ** 0.5
    assert exercises.check_lsq_step_grad((-0.3 * g, -4.0 * g, 3.0 * g)) is False
    assert "before LSQ's scale" in capsys.readouterr().out
    assert exercises.check_lsq_step_grad((1.0, 2.0)) is False
    assert "one number per element" in capsys.readouterr().out
    assert exercises.check_lsq_step_grad(None) is False
    assert "not yet" in capsys.readouterr().out


def test_channel_spread_right_wrong_and_none(capsys):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 0.25, 0]]))  # spread 4
        model[2].weight.copy_(torch.tensor([[1.0, 0, 0], [0, 0.5, 0]]))  # spread 2
    assert exercises.check_channel_spread("0", model) is True
    assert "4.0×" in capsys.readouterr().out
    assert exercises.check_channel_spread("2", model) is False
    assert "another layer spreads wider" in capsys.readouterr().out
    assert exercises.check_channel_spread("fc", model) is False
    assert "give a layer name" in capsys.readouterr().out
    assert exercises.check_channel_spread(None, model) is False
    assert "not yet" in capsys.readouterr().out
