"""The chapter-08 co-design front figure (kept apart from test_viz.py, which other chapters share)."""

from __future__ import annotations

import pytest

from effdl import viz


def test_codesign_front_groups_front_constraint_and_choice():
    rows = [
        {"config": "a", "kind": "sweep", "e": 1.0, "acc": 80.0},
        {"config": "b", "kind": "sweep", "e": 2.0, "acc": 70.0},  # dominated by a
        {"config": "c", "kind": "baseline", "e": 10.0, "acc": 95.0},
        {"config": "d", "kind": "sweep", "e": 4.0, "acc": 90.0},
    ]
    fig = viz.codesign_front(rows, energy="e", accuracy="acc", min_accuracy=88.0, chosen="d")
    sweep, base, front, constraint, star = fig.data
    assert (sweep.name, base.name, front.name, star.name) == ("sweep", "baseline", "Pareto front", "chosen")
    assert list(sweep.x) == [1.0, 2.0, 4.0] and list(base.y) == [95.0]
    assert list(front.text) == ["a", "d", "c"]  # b is dominated; sorted by energy
    assert list(constraint.y) == [88.0, 88.0] and "88.00%" in constraint.name
    assert star.x == (4.0,) and star.text == ("d",) and fig.layout.xaxis.type == "log"
    assert len(viz.codesign_front(rows, energy="e", accuracy="acc").data) == 3
    with pytest.raises(ValueError, match="chosen='z'"):
        viz.codesign_front(rows, energy="e", accuracy="acc", chosen="z")
    with pytest.raises(ValueError, match="no \\['acc'\\]"):
        viz.codesign_front([{"config": "a", "kind": "k", "e": 1.0}], energy="e", accuracy="acc")
    with pytest.raises(ValueError, match="rows is empty"):
        viz.codesign_front([])
