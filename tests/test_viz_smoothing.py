"""effdl.viz.smoothing: the chapter 10 figures are built from small inputs with the expected traces."""

import numpy as np
import pytest

from effdl import viz
from effdl.learning.smoothing import (
    GaussianKernel,
    GaussianNoise,
    augmentation_gap,
    kernel_gd,
    kernel_weight_decay,
    noise_sweep,
    rate_study,
    sobolev_target,
)


def test_smoothed_kernels_has_two_panels_and_one_line_per_noise():
    t = np.linspace(-0.3, 0.3, 11)
    w = np.geomspace(1, 100, 9)
    fig = viz.smoothed_kernels(t, np.exp(-t * t), {"a": t * 0 + 0.5, "b": t * 0 + 0.4}, w, np.exp(-w), {"a": w, "b": w})
    assert len(fig.data) == 6  # base + base spectrum + 2 × (profile, spectrum)
    assert fig.layout.xaxis2.type == "log"
    with pytest.raises(ValueError, match="same noises"):
        viz.smoothed_kernels(t, t, {"a": t}, w, w, {"b": w})


def test_mc_agreement_reports_the_max_relative_error():
    fig = viz.mc_agreement({"g": np.array([1.0, 0.5])}, {"g": np.array([1.01, 0.5])})
    assert "1.00%" in fig.data[0].name and len(fig.data) == 2
    with pytest.raises(ValueError, match="same shape"):
        viz.mc_agreement({"g": np.ones(2)}, {"g": np.ones(3)})


def test_regularization_paths_marks_both_choices():
    rng = np.random.default_rng(0)
    X, Xv = rng.uniform(size=(20, 1)), rng.uniform(size=(10, 1))
    k = GaussianKernel(0.2)
    y, yv = np.sin(5 * X[:, 0]), np.sin(5 * Xv[:, 0])
    gd = kernel_gd(k(X, X), y, steps=50, K_val=k(Xv, X), y_val=yv, keep_path=True)
    wd = kernel_weight_decay(k(X, X), y, weight_decays=np.geomspace(1e-6, 1, 7), K_val=k(Xv, X), y_val=yv)
    fig = viz.regularization_paths(gd, wd, early_test=gd.val_mse, decay_test=wd.val_mse)
    assert len(fig.data) == 8 and fig.layout.xaxis.autorange == "reversed"
    with pytest.raises(ValueError, match="kernel_gd and a kernel_weight_decay"):
        viz.regularization_paths(wd, gd, early_test=wd.val_mse, decay_test=gd.val_mse)


def test_rate_and_augmentation_curves():
    st = rate_study(sobolev_target(1, 1, seed=0), (20, 40), reps=2, n_test=50, noise=GaussianNoise(0.1), seed=0)
    fig = viz.rate_curves({"a": st})
    assert len(fig.data) == 4 and fig.layout.xaxis.type == "log"
    assert f"{st.slope:.2f}" in fig.data[2].name
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(10, 1))
    gap = augmentation_gap(X, np.sin(X[:, 0]), X[:4], GaussianKernel(0.2), GaussianNoise(0.05), copies=(1, 4),
                           steps=10, repeats=1)  # fmt: skip
    fig = viz.augmentation_curves(gap)
    assert len(fig.data) == 4 and list(fig.data[0].x) == [1, 4]


def test_noise_explorer_figure_shows_the_setting():
    sw = noise_sweep(sobolev_target(1, 1, seed=0), n=20, n_val=20, n_test=50, sds=(0.0, 0.1), dims=(1, 2),
                     grid_points=20, seed=0)  # fmt: skip
    fig = viz.noise_explorer_figure(sw, "laplace", 0.1, 2)
    assert len(fig.data) == 5 and "laplace noise, sd 0.1, D = 2" in fig.layout.title.text
    assert np.allclose(fig.data[1].y, sw.profiles[("laplace", 0.1, 2)])
    with pytest.raises(ValueError, match="is not in the sweep"):
        viz.noise_explorer_figure(sw, "laplace", 0.3, 2)
