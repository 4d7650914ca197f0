import pytest
import torch

from effdl import viz


def test_trajectory_curves_relative_and_absolute():
    h = torch.tensor([[100.0, 10.0], [100.5, 9.0], [101.0, 8.5]])
    fig = viz.trajectory_curves(h, ["a", "b"])
    assert [t.name for t in fig.data] == ["a", "b"]
    assert list(fig.data[0].x) == [1, 2, 3]
    assert list(fig.data[0].y) == [0.0, 0.5, 1.0] and list(fig.data[1].y) == [0.0, -1.0, -1.5]
    assert list(fig.data[1].customdata) == [10.0, 9.0, 8.5]  # hover shows the value itself
    assert "initial value" in fig.layout.yaxis.title.text
    fig = viz.trajectory_curves(h.tolist(), ["a", "b"], relative=False, ylabel="margin |M|")
    assert list(fig.data[0].y) == [100.0, 100.5, 101.0] and fig.layout.yaxis.title.text == "margin |M|"


def test_trajectory_curves_bad_input():
    with pytest.raises(ValueError, match=r"history must be \(steps, layers\)"):
        viz.trajectory_curves(torch.zeros(0, 2), ["a", "b"])
    with pytest.raises(ValueError, match="layers must name the 2 columns"):
        viz.trajectory_curves(torch.zeros(3, 2), ["a"])
