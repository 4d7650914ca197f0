"""The λ₂ explorer of chapter 11: precomputed positions, in-place updates, the data the Try-it checker reads."""

import math

import pytest

from effdl import widgets
from effdl.learning import lrsm


@pytest.fixture(scope="module")
def grid():
    study = lrsm.imbalanced_strata(n_bins=6, breaks=(3,), n_test=20, seed=0)
    params = {"reg": 1e-4, "scale": 0.01, "lam1": 0.1, "mu": 0.1}
    models = {b: lrsm.make_variant("learned", study.graph, lam2=b, **params).fit(*study.train) for b in (0.01, 100.0)}
    return study, models


def test_graph_explorer_precomputes_and_updates_in_place(grid):
    study, models = grid
    box = widgets.graph_explorer(
        models,
        study.val,
        study.test,
        scale=0.01,
        highlight=study.break_edges,
        sizes=dict(zip(study.keys, study.sizes.tolist(), strict=True)),
    )
    assert "effdl-main-control" in box.slider._dom_classes
    assert sorted(box.table) == [0.01, 100.0]
    val, test, brk, cut = box.table[100.0]
    assert math.isclose(val, models[100.0].score(*study.val)) and math.isclose(test, models[100.0].score(*study.test))
    assert abs(brk - 1.0) < 0.05 and cut == 0  # a large λ₂ pins W to W₀ (= 1 after dividing by the scale)
    assert box.slider.value == 0.01  # the lower middle of two
    box.slider.value = 100.0
    assert list(box.path.data[2].x) == [100.0, 100.0]
    assert "100" in box.graph.layout.title.text and "100" in box.readout.value
    edges = len(box.weights[100.0])
    assert list(box.graph.data[edges].customdata) == list(box.weights[100.0].values())


def test_graph_explorer_rejects_bad_input(grid):
    study, models = grid
    with pytest.raises(ValueError, match="empty"):
        widgets.graph_explorer({}, study.val, study.test)
    with pytest.raises(ValueError, match="one of the grid"):
        widgets.graph_explorer(models, study.val, study.test, value=3.0)
    with pytest.raises(ValueError, match="> 0"):
        widgets.graph_explorer({0.0: models[0.01]}, study.val, study.test)
