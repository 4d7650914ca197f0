"""viz.lzss_reach: the cumulative repeat-distance curves of notebook 09's "where the design loses" section."""

import numpy as np
import pytest

from effdl import viz


def test_lzss_reach_counts_repeats_within_each_distance():
    d = np.array([0, 0, 2, 2, 0, 3, 300])
    fig = viz.lzss_reach({"toy": d, "walk": np.array([0, 1])}, windows={"LZSS W ≤ 255": 255})
    toy = fig.data[0]
    assert toy.name == "toy" and list(toy.x) == [2, 3, 300]
    assert list(toy.y) == pytest.approx([2 / 7, 3 / 7, 4 / 7])  # never-seen strings keep the curve below 1
    assert list(fig.data[1].y) == [0.5]
    assert fig.layout.xaxis.type == "log" and fig.layout.shapes[0].x0 == 255
    with pytest.raises(ValueError, match="empty"):
        viz.lzss_reach({})
    with pytest.raises(ValueError, match="distances\\['bad'\\]"):
        viz.lzss_reach({"bad": np.array([-1])})
