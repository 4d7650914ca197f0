"""The rank explorer's "Try it" checker (chapter 02), on small fake explorer data."""

from types import SimpleNamespace

import pytest

from effdl import exercises
from effdl.exercises import ExerciseNotSolved


def _explorer() -> SimpleNamespace:
    # unfactorized 90%; the curve crosses 89% (within 1 point) at rank 8; rank 6 (between points) reaches 89.5%
    ranks, accs = [1, 2, 4, 8, 16, 32], [20.0, 40.0, 70.0, 89.2, 90.1, 90.0]
    live = {6: 89.5, 5: 85.0, 3: 60.0}

    def accuracy_at(name: str, r: int) -> float:
        return live.get(r, dict(zip(ranks, accs, strict=True)).get(r, 90.0))

    return SimpleNamespace(
        layers=["features.1", "features.3"],
        dense_accuracy=90.0,
        curve=lambda name: (ranks, accs),
        accuracy_at=accuracy_at,
        energies=lambda name: [i / 32 for i in range(1, 33)],
    )


def test_the_smallest_rank_on_the_curve_is_right(capsys):
    assert exercises.check_rank_within(8, _explorer()) is True
    assert "✅" in capsys.readouterr().out


def test_a_smaller_rank_found_with_the_slider_is_right_too(capsys):
    assert exercises.check_rank_within(6, _explorer()) is True
    assert "between the curve's points" in capsys.readouterr().out


def test_a_larger_rank_is_not_yet_with_a_hint(capsys):
    assert exercises.check_rank_within(16, _explorer()) is False
    assert "not yet" in (out := capsys.readouterr().out) and "smaller rank does too" in out


def test_a_rank_below_the_target_is_not_yet(capsys):
    assert exercises.check_rank_within(4, _explorer()) is False
    assert "move the rank up" in capsys.readouterr().out
    assert exercises.check_rank_within(99, _explorer()) is False
    assert "outside" in capsys.readouterr().out


def test_none_is_not_yet(capsys, monkeypatch):
    monkeypatch.delenv("EFFDL_SOLUTIONS", raising=False)
    assert exercises.check_rank_within(None, _explorer()) is False
    assert "not yet" in capsys.readouterr().out
    monkeypatch.setenv("EFFDL_SOLUTIONS", "1")
    with pytest.raises(ExerciseNotSolved):
        exercises.check_rank_within(16, _explorer())


def test_on_the_real_widget():
    import torch

    import effdl
    from effdl import widgets

    model = effdl.build("mlp", "digits", hidden=(12,), seed=0)
    _, test = effdl.load("digits")
    explorer = widgets.lowrank_explorer(model, effdl.subset(test, 100), points=4)
    ranks, accs = explorer.curve(explorer.layers[0])
    answer = min(r for r, a in zip(ranks, accs, strict=True) if a >= explorer.dense_accuracy - 1)
    assert exercises.check_rank_within(answer, explorer) is True
    assert isinstance(explorer.accuracy_at(explorer.layers[0], 1), float) and torch.is_tensor(torch.tensor(accs))
