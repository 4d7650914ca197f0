"""effdl.learning.smoothing: smoothed kernels (closed form, quadrature, Monte Carlo), kernel gradient descent, the
augmentation view and the simulators. Rate studies live in test_smoothing_rates.py."""

import numpy as np
import pytest

from effdl.learning.smoothing import (
    GaussianKernel,
    GaussianNoise,
    KernelSpectrum,
    LaplaceNoise,
    MaternKernel,
    PolynomialNoise,
    augmentation_gap,
    augmented_gram,
    kernel_gd,
    kernel_ridge,
    kernel_weight_decay,
    mixed_target,
    noisy_copies,
    smoothed_kernel,
    smoothed_kernel_mc,
    smoothed_profile,
    sobolev_target,
    theory_rate,
)

NOISES = [GaussianNoise(0.07), LaplaceNoise(0.05), PolynomialNoise(0.05, 2.0), PolynomialNoise(0.04, 0.5)]
GRID = np.array([[0.0, 0.0], [0.05, 0.02], [0.1, -0.05], [0.15, 0.1], [-0.08, 0.12]])


def _data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 1))
    return X, np.sin(6 * X[:, 0]) + 0.3 * rng.standard_normal(n)


# ---- smoothed kernels


@pytest.mark.parametrize("noise", NOISES, ids=lambda z: repr(z))
def test_monte_carlo_matches_the_exact_smoothed_kernel_within_2_percent(noise):
    kernel = GaussianKernel(0.1)
    exact = smoothed_kernel(GRID, GRID + 0.01, kernel, noise)
    mc = smoothed_kernel_mc(GRID, GRID + 0.01, kernel, noise, samples=60_000, seed=1)
    assert exact.min() > 0.05, "the grid stays where K_S is not tiny, so relative errors are meaningful"
    assert np.max(np.abs(mc - exact) / exact) <= 0.02


def test_gaussian_closed_form_equals_the_spectral_quadrature():
    kernel, noise = GaussianKernel(0.1), GaussianNoise(0.07)
    t = np.linspace(0.0, 1.0, 101)
    s2 = 0.1**2 + 2 * 0.07**2
    closed_1d = np.sqrt(0.1**2 / s2) * np.exp(-(t**2) / (2 * s2))
    assert np.max(np.abs(smoothed_profile(kernel, noise, t) - closed_1d)) < 1e-12
    # and a 2-D Gram matrix: the closed form against the product of quadrature profiles
    X = np.random.default_rng(0).uniform(size=(7, 2))
    prod = np.prod([smoothed_profile(kernel, noise, np.abs(X[:, j, None] - X[None, :, j])) for j in range(2)], axis=0)
    assert np.max(np.abs(smoothed_kernel(X, None, kernel, noise) - prod)) < 1e-12


def test_quadrature_gram_matches_direct_quadrature_and_laplace_is_polynomial_order_one():
    kernel = GaussianKernel(0.05)
    t = np.linspace(0.0, 1.9, 97)[:, None]
    lap = smoothed_kernel(t, np.zeros((1, 1)), kernel, LaplaceNoise(0.03))[:, 0]
    assert np.max(np.abs(lap - smoothed_profile(kernel, LaplaceNoise(0.03), t[:, 0]))) < 1e-9
    poly = smoothed_kernel(t, np.zeros((1, 1)), kernel, PolynomialNoise(0.03, 1.0))[:, 0]
    assert np.max(np.abs(lap - poly)) < 1e-12
    # a Laplace-smoothed Gaussian kernel: K_S(0) = E exp(−(ε−ε')²/2h²) < 1, and it stays a valid kernel
    X = np.random.default_rng(1).uniform(size=(30, 2))
    K = smoothed_kernel(X, None, kernel, LaplaceNoise(0.03))
    assert np.all(np.diag(K) < 1) and np.linalg.eigvalsh(K).min() > -1e-10


def test_no_noise_is_the_plain_kernel_and_other_kernels_need_monte_carlo():
    X = GRID
    k = GaussianKernel(0.2)
    assert np.array_equal(smoothed_kernel(X, None, k, None), k(X, X))
    assert np.array_equal(smoothed_kernel(X, None, k, GaussianNoise(0.0)), k(X, X))
    with pytest.raises(TypeError, match="smoothed_kernel_mc"):
        smoothed_kernel(X, None, MaternKernel(1.5, 0.2), GaussianNoise(0.1))
    mc = smoothed_kernel_mc(X, None, MaternKernel(1.5, 0.2), GaussianNoise(0.05), samples=200, seed=0)
    assert mc.shape == (5, 5) and np.all(mc < 1)


def test_polynomial_noise_has_its_variance_and_characteristic_function():
    noise = PolynomialNoise(0.1, 2.5)
    x = noise.sample((200_000,), np.random.default_rng(0))
    assert x.var() == pytest.approx(noise.variance, rel=0.02)
    for w in (3.0, 10.0):
        assert np.mean(np.cos(w * x)) == pytest.approx(float(noise.cf(np.array(w))), abs=0.005)


# ---- kernel gradient descent


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("lr_scale", [1.0, 1.6])
def test_eigen_closed_form_equals_the_literal_iteration(weight_decay, lr_scale):
    X, y = _data()
    K = GaussianKernel(0.2)(X)
    lr = lr_scale / (np.linalg.eigvalsh(K)[-1] / len(y) + weight_decay)
    kw = dict(lr=lr, steps=300, weight_decay=weight_decay, checkpoints=[0, 1, 2, 7, 50, 300], keep_path=True)
    eig = kernel_gd(K, y, method="eigen", **kw)
    it = kernel_gd(K, y, method="iterate", **kw)
    assert np.allclose(eig.alphas, it.alphas, atol=1e-10, rtol=1e-8)
    assert np.allclose(eig.train_mse, it.train_mse, atol=1e-12)
    assert np.all(eig.alphas[:, 0] == 0), "α starts at 0"
    # one step by hand: α₁ = lr·y/n
    assert np.allclose(eig.alphas[:, 1], lr * y / len(y))


def test_weight_decay_at_convergence_is_the_ridge_closed_form():
    X, y = _data()
    K = GaussianKernel(0.2)(X)
    lam = 0.01
    ridge = kernel_ridge(K, y, weight_decay=lam)
    assert np.allclose(np.linalg.solve(K / len(y) + lam * np.eye(len(y)), y / len(y)), ridge)
    long = kernel_gd(K, y, steps=10**9, weight_decay=lam)
    assert np.max(np.abs(long.alpha - ridge)) < 1e-8 * np.max(np.abs(ridge))
    path = kernel_weight_decay(K, y, weight_decays=[1e-3, lam, 0.1])
    assert path.chosen == 1e-3, "without validation the smallest λ"
    spec = KernelSpectrum.from_gram(K)
    for v in (1e-3, 0.1):
        one = kernel_weight_decay(K, y, weight_decays=[v], spectrum=spec)
        assert np.allclose(one.alpha, kernel_ridge(K, y, weight_decay=v), atol=1e-8)


def test_early_stopping_chooses_on_validation_not_on_train():
    X, y = _data(60, seed=0)
    Xv, yv = _data(60, seed=1)
    k = GaussianKernel(0.05)
    K, Kv = k(X), k(Xv, X)
    fit = kernel_gd(K, y, steps=10**10, K_val=Kv, y_val=yv, keep_path=True)
    j = int(np.argmin(fit.val_mse))
    assert fit.chosen == fit.grid[j] and np.array_equal(fit.alpha, fit.alphas[:, j])
    assert 0 < fit.chosen < 10**10, "noisy labels: the validation error turns up before the end"
    assert np.all(np.diff(fit.train_mse) <= 1e-12), "training error only falls along the path"
    assert fit.train_mse[-1] < fit.train_mse[j]
    last = kernel_gd(K, y, steps=10**10)
    assert last.chosen == 10**10 and last.val_mse is None
    assert np.allclose(fit.predict(Kv), Kv @ fit.alpha)
    wd = kernel_weight_decay(K, y, weight_decays=np.geomspace(1e-8, 1, 17), K_val=Kv, y_val=yv)
    assert wd.chosen == wd.grid[int(np.argmin(wd.val_mse))] and wd.chosen > 1e-8


# ---- the augmentation view


def test_noisy_copies_converge_to_the_smoothed_kernel_like_one_over_root_m():
    rng = np.random.default_rng(0)
    X, Xn = rng.uniform(size=(15, 2)), rng.uniform(size=(8, 2))
    y = np.sin(4 * X[:, 0]) + X[:, 1]
    gap = augmentation_gap(X, y, Xn, GaussianKernel(0.2), GaussianNoise(0.1), copies=(4, 64, 256), repeats=2, seed=0)
    assert gap.gram_error[0] > gap.gram_error[1] > gap.gram_error[2]
    # 1/√M: from M = 4 to 256 the error shrinks ~8×; accept 4× or more
    assert gap.gram_error[2] < gap.gram_error[0] / 4 and gap.cross_error[2] < gap.cross_error[0] / 4
    assert gap.gram_error[2] < 0.06 and gap.relative_gap()[2] < 0.05
    G = augmented_gram(X, None, GaussianKernel(0.2), GaussianNoise(0.1), copies=8, seed=3)
    assert np.allclose(G, G.T) and np.linalg.eigvalsh(G).min() > -1e-10, "averaged features: a PSD Gram matrix"
    assert np.array_equal(G, augmented_gram(X, None, GaussianKernel(0.2), GaussianNoise(0.1), copies=8, seed=3))


# ---- simulators


def test_manifold_points_have_intrinsic_dimension_d():
    t = sobolev_target(2, 2, D=10, seed=0)
    s = t.sample(400, seed=1)
    A = t.embedding.A
    assert s.X.shape == (400, 10) and A.shape == (10, 4)
    assert np.allclose(A.T @ A, np.eye(4))
    assert np.max(np.abs(s.X - (s.X @ A) @ A.T)) < 1e-12, "the points lie in the embedding's span"
    J = t.embedding.jacobian(s.U[:20])
    assert np.allclose(np.einsum("nDi,nDj->nij", J, J), np.eye(2)), "unit-speed arcs: an isometric embedding"
    eps = 1e-6
    u, step = s.U[:1], np.array([[0.0, eps]])
    fd = (t.embedding(u + step) - t.embedding(u - step)) / (2 * eps)
    assert np.allclose(fd[0], J[0, :, 1], atol=1e-8)
    # local PCA: a small neighbourhood spans d = 2 directions, not 4 or 10
    X = t.sample(4000, seed=2).X
    near = X[np.argsort(((X - X[0]) ** 2).sum(1))[:60]]
    sv = np.linalg.svd(near - near.mean(0), compute_uv=False)
    assert sv[2] < 0.05 * sv[1]
    flat = sobolev_target(2, 2, D=10, embedding="linear", seed=0).sample(50, seed=1).X
    assert np.linalg.matrix_rank(flat, tol=1e-10) == 2


def test_targets_are_unit_norm_cosine_series_with_the_stated_rate():
    t = sobolev_target(1, 2, kmax=5, seed=3)
    U = np.random.default_rng(0).uniform(size=(6, 2))

    def psi(k, x):
        return 1.0 if k == 0 else np.sqrt(2) * np.cos(np.pi * k * x)

    ref = [sum(t.coef[a, b] * psi(a, u[0]) * psi(b, u[1]) for a in range(6) for b in range(6)) for u in U]
    assert np.allclose(ref, t.f(U))
    assert (t.coef**2).sum() == pytest.approx(1.0)
    assert np.mean(sobolev_target(2, 1, seed=0).sample(20_000, seed=0, noisy=False).f ** 2) == pytest.approx(1, abs=0.1)
    assert t.rate == theory_rate(1, 2) == -0.5
    assert mixed_target(1, 3, seed=0).rate == pytest.approx(-2 / 3)
    s = sobolev_target(1, 1, noise_sd=0.5, seed=0).sample(5000, seed=0)
    assert np.std(s.y - s.f) == pytest.approx(0.5, rel=0.05)


def test_same_seed_same_numbers():
    a = sobolev_target(2, 2, D=6, seed=4).sample(30, seed=5)
    b = sobolev_target(2, 2, D=6, seed=4).sample(30, seed=5)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    c = sobolev_target(2, 2, D=6, seed=5).sample(30, seed=5)
    assert not np.array_equal(a.y, c.y)
    kw = dict(samples=50, seed=7)
    m1 = smoothed_kernel_mc(GRID, None, GaussianKernel(0.1), LaplaceNoise(0.05), **kw)
    m2 = smoothed_kernel_mc(GRID, None, GaussianKernel(0.1), LaplaceNoise(0.05), **kw)
    assert np.array_equal(m1, m2)


# ---- bad input


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: GaussianNoise(-0.1), ValueError, "sigma must be a number >= 0"),
        (lambda: LaplaceNoise(-1), ValueError, "scale must be a number >= 0"),
        (lambda: PolynomialNoise(0.1, 0), ValueError, "order must be a number > 0"),
        (lambda: GaussianKernel(0), ValueError, "bandwidth must be a number > 0"),
        (lambda: GaussianKernel(-1.0), ValueError, "bandwidth must be a number > 0"),
        (lambda: GaussianKernel("1"), TypeError, "bandwidth"),
        (lambda: MaternKernel(1.0, 0.1), ValueError, "nu must be one of"),
        (lambda: sobolev_target(1, 2, D=3, embedding="arc"), ValueError, "D must be >= 4"),
        (lambda: sobolev_target(0, 1), ValueError, "m must be a number > 0"),
        (lambda: sobolev_target(1, 1, embedding="spiral"), ValueError, "embedding must be one of"),
        (
            lambda: smoothed_kernel_mc(GRID, None, GaussianKernel(0.1), GaussianNoise(0.1), samples=0),
            ValueError,
            "samples",
        ),
        (lambda: smoothed_kernel(GRID, np.zeros((3, 3)), GaussianKernel(0.1), None), ValueError, "Y must have D = 2"),
        (lambda: smoothed_kernel(GRID, None, GaussianKernel(0.1), "gauss"), TypeError, "noise must be"),
        (lambda: noisy_copies(GRID, None, copies=2), TypeError, "noise must be a noise model"),
        (lambda: smoothed_profile(GaussianKernel(0.1), None, np.zeros(2)), TypeError, "noise must be a noise model"),
        (lambda: smoothed_profile(GaussianKernel(0.1), GaussianNoise(0.1), [np.inf]), ValueError, "t must be finite"),
        (lambda: smoothed_profile(GaussianKernel(0.1), GaussianNoise(0.1), [1e9]), ValueError, "too large for the"),
        (lambda: smoothed_kernel([[0.0], [1e8]], None, GaussianKernel(0.1), LaplaceNoise(0.1)), ValueError, "large"),
        (
            lambda: augmentation_gap(*_data(6), GRID[:, :1], GaussianKernel(0.1), GaussianNoise(0.1), copies=()),
            ValueError,
            "copies must hold at least one",
        ),
        (
            lambda: augmentation_gap(*_data(6), GRID[:, :1], GaussianKernel(0.1), GaussianNoise(0.1), copies=4),
            TypeError,
            "copies must be a sequence",
        ),
        (lambda: augmentation_gap(*_data(6), GRID[:, :1], GaussianKernel(0.1), None), TypeError, "noise must be a"),
        (lambda: sobolev_target(1, 1, bend=-1.0), ValueError, "bend must be a number > 0"),
        (lambda: sobolev_target(1, 1).sample(3, noisy="no"), TypeError, "noisy must be a bool"),
        (lambda: GaussianKernel(0.1)("abc"), TypeError, "X must be a numeric array"),
    ],
)
def test_bad_arguments_raise_clear_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_bad_gd_arguments_raise_clear_errors():
    X, y = _data(20)
    K = GaussianKernel(0.2)(X)
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        kernel_gd(K, y, lr=0.0, steps=5)
    with pytest.raises(ValueError, match="lr must be < 2/"):
        kernel_gd(K, y, lr=1e6, steps=5)
    with pytest.raises(ValueError, match=r"y must have shape \(20,\)"):
        kernel_gd(K, y[:5], steps=5)
    with pytest.raises(ValueError, match="K must be a square Gram matrix"):
        kernel_gd(K[:, :5], y, steps=5)
    with pytest.raises(ValueError, match=r"K_val must have shape \(n_val, 20\)"):
        kernel_gd(K, y, steps=5, K_val=K[:, :3], y_val=y)
    with pytest.raises(ValueError, match="together"):
        kernel_gd(K, y, steps=5, K_val=K)
    with pytest.raises(ValueError, match="weight_decay must be a number >= 0"):
        kernel_gd(K, y, steps=5, weight_decay=-1)
    with pytest.raises(ValueError, match="method must be"):
        kernel_gd(K, y, steps=5, method="sgd")
    with pytest.raises(ValueError, match="weight_decays"):
        kernel_weight_decay(K, y, weight_decays=[0.0])
    with pytest.raises(ValueError, match="weight_decay must be a number > 0"):
        kernel_ridge(K, y, weight_decay=0)
    with pytest.raises(ValueError, match="K_val must be finite"):
        kernel_gd(K, y, steps=5, K_val=np.full((3, 20), np.nan), y_val=y[:3])
    with pytest.raises(TypeError, match="spectrum must be a KernelSpectrum"):
        kernel_gd(K, y, steps=5, spectrum="eigen")
    with pytest.raises(ValueError, match=r"spectrum must come from the \(n, n\) = \(20, 20\)"):
        kernel_weight_decay(K, y, weight_decays=[0.1], spectrum=KernelSpectrum.from_gram(K[:5, :5]))
    with pytest.raises(TypeError, match="weight_decays must be a sequence"):
        kernel_weight_decay(K, y, weight_decays=0.1)
    with pytest.raises(TypeError, match="checkpoints must be a sequence"):
        kernel_gd(K, y, steps=5, checkpoints=5)
    with pytest.raises(ValueError, match="K must be a positive semi-definite"):
        kernel_gd(-K, y, steps=5)
    with pytest.raises(ValueError, match="steps must be <= 10000000 for method='iterate'"):
        kernel_gd(K, y, steps=10**12, method="iterate")
    with pytest.raises(TypeError, match="K must be a numeric array"):
        kernel_gd("K", y, steps=5)
