"""effdl.widgets.noise_explorer: the noise-scale slider and the dropdowns browse a precomputed sweep in place."""

import numpy as np
import pytest

from effdl import widgets
from effdl.learning.smoothing import noise_sweep, sobolev_target


@pytest.fixture(scope="module")
def sweep():
    return noise_sweep(sobolev_target(1, 1, seed=0), n=30, n_val=30, n_test=60, sds=(0.0, 0.05, 0.2), dims=(1, 4),
                       grid_points=30, seed=0)  # fmt: skip


def test_explorer_updates_its_figure_in_place(sweep):
    box = widgets.noise_explorer(sweep)
    assert "effdl-main-control" in box.slider._dom_classes
    assert box.slider.value == 0.05 and box.family.value == "gaussian" and box.dim.value == 1
    fig = box.figure
    box.slider.value = 0.2
    assert box.figure is fig
    assert np.allclose(fig.data[1].y, sweep.profiles[("gaussian", 0.2, 1)])
    assert np.allclose(fig.data[3].y, sweep.curves[("gaussian", 0.2)])
    box.family.value = "laplace"
    box.dim.value = 4
    assert np.allclose(fig.data[1].y, sweep.profiles[("laplace", 0.2, 4)])
    assert "laplace" in box.readout.value and "D = <b>4</b>" in box.readout.value
    assert box.table == sweep.table and box.sweep is sweep


def test_explorer_rejects_start_values_outside_the_sweep(sweep):
    with pytest.raises(ValueError, match="sd must be one of"):
        widgets.noise_explorer(sweep, sd=0.3)
    with pytest.raises(ValueError, match="family must be one of"):
        widgets.noise_explorer(sweep, family="cauchy")
    with pytest.raises(ValueError, match="dim must be one of"):
        widgets.noise_explorer(sweep, dim=2)
    box = widgets.noise_explorer(sweep, family="polynomial", sd=0.0, dim=4)
    assert box.slider.value == 0.0 and "polynomial" in box.figure.layout.title.text
