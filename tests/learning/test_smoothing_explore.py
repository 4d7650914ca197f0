"""effdl.learning.smoothing.explore (matched noises and the explorer's precomputed grid) and the keep_path option of
kernel_weight_decay."""

import math

import numpy as np
import pytest

from effdl.learning.smoothing import (
    FAMILIES,
    GaussianKernel,
    GaussianNoise,
    LaplaceNoise,
    PolynomialNoise,
    kernel_ridge,
    kernel_weight_decay,
    matched_noise,
    noise_sweep,
    smoothed_profile,
    sobolev_target,
)


def test_matched_noises_have_the_requested_standard_deviation():
    for fam in FAMILIES:
        z = matched_noise(fam, 0.08)
        assert math.isclose(z.variance, 0.08**2, rel_tol=1e-12), fam
        draws = z.sample((200_000,), np.random.default_rng(0))
        assert abs(draws.std() - 0.08) < 0.002, fam
    assert matched_noise("gaussian", 0.1) == GaussianNoise(0.1)
    assert matched_noise("laplace", 0.1) == LaplaceNoise(0.1 / math.sqrt(2))
    assert matched_noise("polynomial", 0.1, order=3.0) == PolynomialNoise(0.1 / math.sqrt(6), 3.0)
    with pytest.raises(ValueError, match="family must be one of"):
        matched_noise("cauchy", 0.1)
    with pytest.raises(ValueError, match="sd must be a number >= 0"):
        matched_noise("gaussian", -1.0)


@pytest.fixture(scope="module")
def sweep():
    target = sobolev_target(1, 1, seed=0)
    return noise_sweep(target, n=40, n_val=40, n_test=100, sds=(0.0, 0.05, 0.2), dims=(1, 3), grid_points=50, seed=0)


def test_noise_sweep_tabulates_every_setting(sweep):
    assert sweep.families == FAMILIES and sweep.sds == (0.0, 0.05, 0.2) and sweep.dims == (1, 3)
    assert set(sweep.table) == {(f, s) for f in FAMILIES for s in sweep.sds}
    assert set(sweep.profiles) == {(f, s, D) for f in FAMILIES for s in sweep.sds for D in (1, 3)}
    t = sweep.offsets
    k = GaussianKernel(0.05)
    assert np.allclose(sweep.base, k.profile(t))
    # no noise: the base kernel; D dimensions: the 1-D profile times p(0)^(D-1)
    assert np.allclose(sweep.profiles[("laplace", 0.0, 1)], sweep.base, atol=1e-10)
    p = smoothed_profile(k, matched_noise("laplace", 0.2), t)
    p0 = smoothed_profile(k, matched_noise("laplace", 0.2), np.zeros(1))[0]
    assert np.allclose(sweep.profiles[("laplace", 0.2, 3)], p * p0**2, atol=1e-12)
    assert sweep.curves[("gaussian", 0.05)].shape == (50,) and sweep.f_grid.shape == (50,)
    for vmse, risk, step in sweep.table.values():
        assert vmse > 0 and risk > 0 and step >= 0


def test_noise_sweep_best_reads_the_table(sweep):
    for fam in FAMILIES:
        vals = {s: sweep.table[(fam, s)] for s in sweep.sds}
        assert sweep.best(fam) == min(vals, key=lambda s: vals[s][0])
        assert sweep.best(fam, on="test") == min(vals, key=lambda s: vals[s][1])
    with pytest.raises(ValueError, match="on must be"):
        sweep.best("gaussian", on="train")


def test_noise_sweep_validates_its_arguments():
    with pytest.raises(ValueError, match="target must be 1-D"):
        noise_sweep(sobolev_target(1, 2, seed=0), n=10)
    with pytest.raises(TypeError, match="target must be a Target"):
        noise_sweep("f")
    with pytest.raises(ValueError, match="family must be one of"):
        noise_sweep(sobolev_target(1, 1, seed=0), n=10, families=("uniform",))
    with pytest.raises(ValueError, match="seed must be None or an int >= 0"):
        noise_sweep(sobolev_target(1, 1, seed=0), n=10, seed=-1)
    with pytest.raises(ValueError, match="offsets must hold at least one finite offset"):
        noise_sweep(sobolev_target(1, 1, seed=0), n=10, offsets=np.array([np.nan]))
    with pytest.raises(TypeError, match="sds must be a sequence"):
        noise_sweep(sobolev_target(1, 1, seed=0), n=10, sds=0.1)


def test_weight_decay_keeps_its_path_in_grid_order():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(15, 1))
    K = GaussianKernel(0.2)(X, X)
    y = np.sin(5 * X[:, 0])
    lams = (1e-2, 1e-4, 1e-3)
    fit = kernel_weight_decay(K, y, weight_decays=lams, keep_path=True)
    assert fit.alphas.shape == (15, 3)
    for j, lam in enumerate(fit.grid):
        assert np.allclose(fit.alphas[:, j], kernel_ridge(K, y, weight_decay=lam), atol=1e-8)
    assert kernel_weight_decay(K, y, weight_decays=lams).alphas is None
