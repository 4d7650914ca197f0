"""The tour's "Try it" checker (chapter 00): the Pareto frontier read off the explorer's own data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from effdl import exercises

# Against latency: A (cheap, 90%) and C (slow, 99%) are on the frontier; B is dominated by A.
# Against params: B (smallest) and C are on it; A is dominated by C (as many parameters, more accurate).
POINTS = [
    {"name": "A", "accuracy": 90.0, "params": 300, "latency_ms": 1.0},
    {"name": "B", "accuracy": 89.0, "params": 100, "latency_ms": 2.0},
    {"name": "C", "accuracy": 99.0, "params": 300, "latency_ms": 3.0},
]
EXPLORER = SimpleNamespace(points=POINTS, name="name")


def test_the_right_frontier_passes_in_any_order(capsys):
    assert exercises.check_pareto_models(["C", "A"], EXPLORER, x="latency_ms") is True
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (["B", "C"], "frontier against params"),
        (["A", "B", "C"], "B is dominated: A"),
        (["A"], "C is on the frontier too"),
        (["A", "Z"], "not among the models"),
    ],
)
def test_a_wrong_frontier_is_not_yet_with_a_hint(answer, hint, capsys):
    assert exercises.check_pareto_models(answer, EXPLORER, x="latency_ms") is False
    out = capsys.readouterr().out
    assert "not yet" in out and hint in out


def test_none_is_not_yet(capsys):
    assert exercises.check_pareto_models(None, EXPLORER) is False
    assert "not yet" in capsys.readouterr().out


def test_the_widget_exposes_its_points():
    from effdl import widgets

    box = widgets.pareto_explorer(POINTS, x="params", y="accuracy")
    assert box.points == POINTS and box.points is not POINTS and box.name == "name"
    assert exercises.check_pareto_models(["A", "C"], box) is True
