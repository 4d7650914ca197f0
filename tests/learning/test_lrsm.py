"""effdl.learning.lrsm: gradients, MAPG against independent solvers, baselines in closed form, graphs, bad input."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.optimize
import torch

from effdl.learning.lrsm import (
    Objective,
    StrataGraph,
    StratifiedModel,
    as_strata_graph,
    cartesian_product,
    fit_variants,
    imbalanced_strata,
    laplacian,
    loss_value,
    path_graph,
)


def small_problem(loss: str, *, seed: int = 1, k: int = 4, p: int = 2, n: int = 40):
    rng = np.random.default_rng(seed)
    strata = rng.integers(0, k, n)
    X = rng.normal(size=(n, p))
    y = X @ np.linspace(1.0, -1.0, p) + 0.5 * strata + rng.normal(size=n)
    if loss == "logistic":
        y = (y > 0.5).astype(int)
    return X, y, strata.tolist(), path_graph(range(k))


# --- an independent objective: dense W, the ¼ Σ_ij form, torch.logdet, autograd for the gradient -------------------
def torch_objective(model: StratifiedModel, learn: bool):
    obj = model._objective
    k, d = obj.n_strata, obj.d
    X, y, s = torch.tensor(obj.X), torch.tensor(obj.y), torch.tensor(obj.s)
    i, j = torch.tensor(obj.edges[:, 0]), torch.tensor(obj.edges[:, 1])
    w0 = torch.tensor(obj.w0)
    mask = torch.tensor(obj.ridge_mask)

    def dense(w):
        W = torch.zeros(k, k, dtype=torch.float64)
        return W.index_put((i, j), w).index_put((j, i), w, accumulate=True)

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        vt = torch.tensor(v, requires_grad=True)
        theta, w = vt[: k * d].reshape(k, d), vt[k * d :]
        z = (X * theta[s]).sum(1)
        if model.loss == "squared":
            ell = (z - y) ** 2
        elif model.loss == "logistic":
            ell = torch.nn.functional.softplus(z) - y * z
        else:  # the Moreau envelope of the pinball loss, written as min over s of ρ(s) + (r − s)²/2δ in closed form
            r, tau, dl = y - z, model.tau, model.delta_
            ell = torch.where(
                r > tau * dl,
                tau * r - tau**2 * dl / 2,
                torch.where(r < -(1 - tau) * dl, (tau - 1) * r - (1 - tau) ** 2 * dl / 2, r**2 / (2 * dl)),
            )
        W = dense(w)
        diff2 = ((theta[:, None, :] - theta[None, :, :]) ** 2).sum(-1)
        F = ell.mean() + model.reg / 2 * ((theta * mask) ** 2).sum() + 0.25 * (W * diff2).sum()
        if learn:
            lap = torch.diag(W.sum(1)) - W
            F = F - model.lam1 * torch.logdet(model.mu * torch.eye(k, dtype=torch.float64) + lap)
            F = F + model.lam2 * ((1 - model.eta) / 2 * ((W - dense(w0)) ** 2).sum() + model.eta * W.abs().sum())
        F.backward()
        return F.item(), vt.grad.numpy().copy()

    x0 = np.concatenate([np.zeros(k * d), obj.w0])
    bounds = [(None, None)] * (k * d) + ([(0, None)] * len(obj.w0) if learn else [(w, w) for w in obj.w0])
    return fun, x0, bounds


def lbfgs_minimum(model: StratifiedModel, learn: bool) -> float:
    fun, x0, bounds = torch_objective(model, learn)
    res = scipy.optimize.minimize(
        fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-11, "maxcor": 30},
    )  # fmt: skip
    return float(res.fun)


def assert_monotone(model: StratifiedModel) -> None:
    h = np.asarray(model.history_)
    assert len(h) == model.n_iter_ + 1
    assert np.all(np.diff(h) <= 1e-12 * np.maximum(1.0, np.abs(h[1:])))


# --- gradients --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["squared", "logistic", "quantile"])
def test_smooth_gradient_matches_finite_differences(loss: str) -> None:
    rng = np.random.default_rng(0)
    k, d, n = 4, 3, 30
    edges = np.array([[0, 1], [1, 2], [2, 3], [0, 3]])
    y = rng.normal(size=n) if loss != "logistic" else (rng.random(n) < 0.5).astype(float)
    obj = Objective(
        loss=loss, X=rng.normal(size=(n, d)), y=y, s=rng.integers(0, k, n), n_strata=k, edges=edges,
        w0=rng.uniform(0.5, 1.5, 4), reg=0.3, ridge_mask=np.array([1.0, 1.0, 0.0]), lam1=0.7, lam2=0.4, eta=0.3,
        mu=0.2, tau=0.3, delta=0.5,
    )  # fmt: skip
    theta, w = rng.normal(size=(k, d)), rng.uniform(0.2, 2.0, 4)
    _, g_theta, g_w = obj.smooth(theta, w, learn_graph=True)
    eps = 1e-6
    num_theta = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        e = np.zeros_like(theta)
        e[idx] = eps
        num_theta[idx] = obj.smooth(theta + e, w, learn_graph=True)[0] - obj.smooth(theta - e, w, learn_graph=True)[0]
        num_theta[idx] /= 2 * eps
    num_w = np.array([
        (obj.smooth(theta, w + eps * np.eye(4)[e], learn_graph=True)[0]
         - obj.smooth(theta, w - eps * np.eye(4)[e], learn_graph=True)[0]) / (2 * eps)
        for e in range(4)
    ])  # fmt: skip
    np.testing.assert_allclose(g_theta, num_theta, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g_w, num_w, rtol=1e-6, atol=1e-7)
    # the Laplacian term's Θ-gradient is L(W)Θ (¼ Σ_ij W_ij‖θ_i − θ_j‖² = ½ tr ΘᵀLΘ); its w-gradient ½‖θ_i − θ_j‖²
    lap = laplacian(k, edges, w)
    W = np.zeros((k, k))
    W[edges[:, 0], edges[:, 1]] = W[edges[:, 1], edges[:, 0]] = w
    quarter = 0.25 * sum(W[a, b] * np.sum((theta[a] - theta[b]) ** 2) for a in range(k) for b in range(k))
    assert quarter == pytest.approx(0.5 * np.trace(theta.T @ lap @ theta), rel=1e-12)
    # the log-det gradient: ∂ log det(μI + L)/∂w_e = (e_i − e_j)ᵀ(μI + L)⁻¹(e_i − e_j), checked against slogdet
    inv = np.linalg.inv(0.2 * np.eye(k) + lap)
    for e, (a, b) in enumerate(edges):
        u = np.eye(k)[a] - np.eye(k)[b]
        bump = laplacian(k, edges, w + eps * np.eye(4)[e])
        fd = (np.linalg.slogdet(0.2 * np.eye(k) + bump)[1] - np.linalg.slogdet(0.2 * np.eye(k) + lap)[1]) / eps
        assert u @ inv @ u == pytest.approx(fd, rel=1e-5)


# --- MAPG against an independent solver ----------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["squared", "logistic", "quantile"])
@pytest.mark.parametrize("learn", [False, True])
def test_mapg_matches_lbfgs(loss: str, learn: bool) -> None:
    X, y, strata, g = small_problem(loss, k=4, p=2)
    eta = 0.3 if learn and loss == "squared" else 0.0  # ℓ₁ on W ≥ 0 is linear there: smooth on the feasible set
    model = StratifiedModel(
        loss, graph=g, learn_graph=learn, reg=0.05, lam1=0.2, lam2=0.3, eta=eta, mu=0.5, tau=0.3, smoothing=0.2,
        tol=1e-10, max_iter=20000,
    ).fit(X, y, strata)  # fmt: skip
    assert model.converged_
    assert_monotone(model)
    ref = lbfgs_minimum(model, learn)
    assert abs(model.objective() - ref) <= 1e-4 * abs(ref)
    assert model.objective() >= ref - 1e-9 * abs(ref)  # MAPG does not beat the optimum: same problem


def test_quantile_matches_linprog_without_the_smooth_terms() -> None:
    """Separate quantile regressions (W = 0, γ = 0) are a linear program; the smoothed fit's exact pinball objective
    is above the LP optimum by at most max(τ, 1−τ)²·δ/2."""
    X, y, strata, _ = small_problem("quantile", k=3, p=2, n=60)
    tau = 0.3
    model = StratifiedModel("quantile", reg=0.0, tau=tau, smoothing=1e-3, tol=1e-10, max_iter=20000).fit(X, y, strata)
    assert_monotone(model)
    n = len(y)
    exact = float(np.mean(loss_value("quantile", model.decision_function(X, strata), y, tau=tau)))
    # variables per stratum: θ_k (3) free; u, v ≥ 0 per sample with x̃ᵀθ_{s} + u − v = y
    k, d = 3, 3
    Xa = np.hstack([X, np.ones((n, 1))])
    a_eq = np.zeros((n, k * d + 2 * n))
    for i, s in enumerate(strata):
        a_eq[i, s * d : (s + 1) * d] = Xa[i]
    a_eq[:, k * d : k * d + n] = np.eye(n)
    a_eq[:, k * d + n :] = -np.eye(n)
    c = np.concatenate([np.zeros(k * d), np.full(n, tau / n), np.full(n, (1 - tau) / n)])
    bounds = [(None, None)] * (k * d) + [(0, None)] * (2 * n)
    lp = scipy.optimize.linprog(c, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
    assert lp.status == 0
    gap = max(tau, 1 - tau) ** 2 * model.delta_ / 2
    assert lp.fun - 1e-9 <= exact <= lp.fun + gap + 1e-9


def test_quantile_fixed_graph_matches_an_exact_qp() -> None:
    """With the Laplacian and the ridge the exact quantile problem is a QP (epigraph form), solved by SLSQP."""
    X, y, strata, g = small_problem("quantile", k=3, p=1, n=24)
    tau = 0.7
    model = StratifiedModel("quantile", graph=g, reg=0.1, tau=tau, smoothing=1e-3, tol=1e-10, max_iter=20000)
    model.fit(X, y, strata)
    assert_monotone(model)
    n, k, d = len(y), 3, 2
    Xa = np.hstack([X, np.ones((n, 1))])
    sg = as_strata_graph(g)
    lap = laplacian(k, sg.edges, sg.w0)
    mask = np.array([1.0, 0.0])

    def exact_f(theta: np.ndarray) -> float:
        z = np.einsum("nd,nd->n", Xa, theta[strata])
        quad = 0.05 * np.sum((theta * mask) ** 2) + 0.5 * np.trace(theta.T @ lap @ theta)
        return float(np.mean(loss_value("quantile", z, y, tau=tau))) + quad

    def f(v: np.ndarray) -> float:
        theta = v[: k * d].reshape(k, d)
        u, w = v[k * d : k * d + n], v[k * d + n :]
        return float(np.sum(tau * u + (1 - tau) * w) / n + 0.05 * np.sum((theta * mask) ** 2)
                     + 0.5 * np.trace(theta.T @ lap @ theta))  # fmt: skip

    def eq(v: np.ndarray) -> np.ndarray:
        theta = v[: k * d].reshape(k, d)
        return np.einsum("nd,nd->n", Xa, theta[strata]) + v[k * d : k * d + n] - v[k * d + n :] - y

    r0 = y - model.decision_function(X, strata)
    v0 = np.concatenate([model.theta_.ravel(), np.maximum(r0, 0), np.maximum(-r0, 0)])
    res = scipy.optimize.minimize(
        f, v0, method="SLSQP", constraints=[{"type": "eq", "fun": eq}],
        bounds=[(None, None)] * (k * d) + [(0, None)] * (2 * n), options={"maxiter": 2000, "ftol": 1e-14},
    )  # fmt: skip
    assert res.success
    gap = max(tau, 1 - tau) ** 2 * model.delta_ / 2
    assert res.fun - 1e-7 <= exact_f(model.theta_) <= res.fun + gap + 1e-7


# --- baselines in closed form ---------------------------------------------------------------------------------------
def ridge_closed_form(Xa: np.ndarray, y: np.ndarray, n_total: int, reg: float) -> np.ndarray:
    d = Xa.shape[1]
    mask = np.diag(np.r_[np.ones(d - 1), 0.0])
    return np.linalg.solve(2 * Xa.T @ Xa / n_total + reg * mask, 2 * Xa.T @ y / n_total)


def test_separate_common_and_fixed_graph_equal_their_closed_forms() -> None:
    X, y, strata, g = small_problem("squared", k=4, p=3, n=50)
    n = len(y)
    Xa = np.hstack([X, np.ones((n, 1))])
    s = np.asarray(strata)
    models = fit_variants(X, y, strata, g, variants=("separate", "common", "fixed"), reg=0.2, scale=0.5, tol=1e-10)
    for m in models.values():
        assert_monotone(m)
    sep = models["separate"]
    for k in range(4):  # each stratum's ridge on its own data, with the data term's 1/N weight
        np.testing.assert_allclose(sep.theta_[k], ridge_closed_form(Xa[s == k], y[s == k], n, 0.2), atol=1e-7)
    assert np.all(sep.weights_ == 0)
    common = models["common"]
    np.testing.assert_allclose(common.theta_, np.tile(ridge_closed_form(Xa, y, n, 0.2), (4, 1)), atol=1e-7)
    # fixed graph: (blockdiag(2X_kᵀX_k/N + γM) + L ⊗ I) vec Θ = vec(2X_kᵀy_k/N)
    d = Xa.shape[1]
    lap = 0.5 * laplacian(4, np.array([[0, 1], [1, 2], [2, 3]]), np.ones(3))
    mask = np.diag(np.r_[np.ones(d - 1), 0.0])
    blocks = [2 * Xa[s == k].T @ Xa[s == k] / n + 0.2 * mask for k in range(4)]
    a = np.kron(lap, np.eye(d))
    for k in range(4):
        a[k * d : (k + 1) * d, k * d : (k + 1) * d] += blocks[k]
    rhs = np.concatenate([2 * Xa[s == k].T @ y[s == k] / n for k in range(4)])
    np.testing.assert_allclose(models["fixed"].theta_.ravel(), np.linalg.solve(a, rhs), atol=1e-7)
    np.testing.assert_allclose(models["fixed"].weights_, 0.5 * nx.to_numpy_array(g, nodelist=range(4)))


def test_a_stratum_without_data_is_fitted_from_its_neighbours() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    strata = ["a"] * 20 + ["c"] * 20
    y = X[:, 0] + np.r_[np.zeros(20), 2 * np.ones(20)]
    m = StratifiedModel(graph=path_graph(["a", "b", "c"]), reg=0.0, tol=1e-10).fit(X, y, strata)
    assert m.strata_ == ["a", "b", "c"] and m.n_samples_.tolist() == [20, 0, 20]
    np.testing.assert_allclose(m.theta_[1], (m.theta_[0] + m.theta_[2]) / 2, atol=1e-8)
    assert m.predict(X[:1], ["b"]).shape == (1,)
    learned = StratifiedModel(graph=path_graph(["a", "b", "c"]), learn_graph=True, reg=0.01, lam2=1.0).fit(X, y, strata)
    assert_monotone(learned)
    assert np.all(np.isfinite(learned.theta_))


# --- the estimator's surface ----------------------------------------------------------------------------------------
def test_logistic_predict_proba_and_score() -> None:
    X, y, strata, g = small_problem("logistic")
    labels = np.where(y == 1, "yes", "no")
    m = StratifiedModel("logistic", graph=g, reg=0.1).fit(X, labels, strata)
    proba = m.predict_proba(X, strata)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(1), 1)
    assert set(m.predict(X, strata)) <= {"yes", "no"} and m.classes_.tolist() == ["no", "yes"]
    assert m.score(X, labels, strata) == pytest.approx(-np.mean(np.log(proba[np.arange(len(y)), y])))
    with pytest.raises(ValueError, match="predict_proba needs loss='logistic'"):
        StratifiedModel(graph=g).fit(X, y, strata).predict_proba(X, strata)


def test_tuple_strata_and_cartesian_product_graph() -> None:
    g = cartesian_product(path_graph(["F", "M"], weight=2.0), path_graph(range(3), weight=0.5))
    sg = as_strata_graph(g)
    assert set(sg.keys) == {(s, a) for s in "FM" for a in range(3)} and len(sg.edges) == 7
    W = sg.dense()
    assert W[sg.index[("F", 1)], sg.index[("M", 1)]] == 2.0 and W[sg.index[("F", 1)], sg.index[("F", 2)]] == 0.5
    assert np.allclose(W, W.T) and np.all(np.diag(W) == 0)
    rng = np.random.default_rng(0)
    keys = [("F", 0), ("M", 2), ("F", 1)] * 10
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    m = StratifiedModel(graph=g).fit(X, y, keys)
    assert m.theta_.shape == (6, 3) and m.weights_.shape == (6, 6)
    assert m.predict(X, np.array(keys, dtype=object)).shape == (30,)


def test_graph_input_forms_agree() -> None:
    from_nx = as_strata_graph(path_graph(["x", "y", "z"], weight=2.0))
    from_dict = as_strata_graph({("x", "y"): 2.0, ("y", "z"): 2.0, ("z", "y"): 2.0})
    from_list = as_strata_graph([("x", "y", 2.0), ("y", "z", 2.0)])
    for sg in (from_dict, from_list):
        assert sg.keys == from_nx.keys and np.array_equal(sg.edges, from_nx.edges) and np.array_equal(sg.w0, from_nx.w0)
    assert as_strata_graph([("x", "y")]).w0.tolist() == [1.0]


def test_same_seed_same_result() -> None:
    a, b = imbalanced_strata(seed=3, n_bins=4, breaks=(2,)), imbalanced_strata(seed=3, n_bins=4, breaks=(2,))
    assert np.array_equal(a.train.X, b.train.X) and np.array_equal(a.true_theta, b.true_theta)
    assert not np.array_equal(a.train.y[:5], imbalanced_strata(seed=4, n_bins=4, breaks=(2,)).train.y[:5])
    m1 = StratifiedModel(graph=a.graph, learn_graph=True, reg=1e-3, lam1=0.01, lam2=10.0, mu=1e-3, seed=0).fit(*a.train)
    m2 = StratifiedModel(graph=a.graph, learn_graph=True, reg=1e-3, lam1=0.01, lam2=10.0, mu=1e-3, seed=0).fit(*a.train)
    assert np.array_equal(m1.theta_, m2.theta_) and np.array_equal(m1.weights_, m2.weights_)
    assert_monotone(m1)


# --- bad input ------------------------------------------------------------------------------------------------------
def test_bad_graphs_raise() -> None:
    dg = nx.DiGraph()
    dg.add_edge("a", "b", weight=1.0)
    dg.add_edge("b", "a", weight=2.0)
    with pytest.raises(ValueError, match="not symmetric"):
        as_strata_graph(dg)
    with pytest.raises(ValueError, match="not symmetric"):
        as_strata_graph({("a", "b"): 1.0, ("b", "a"): 3.0})
    one_way = nx.DiGraph([("a", "b")])
    with pytest.raises(ValueError, match="no reverse arc"):
        as_strata_graph(one_way)
    with pytest.raises(ValueError, match="≥ 0"):
        as_strata_graph([("a", "b", -1.0)])
    with pytest.raises(ValueError, match="zero diagonal"):
        as_strata_graph([("a", "a", 1.0)])
    with pytest.raises(TypeError, match="networkx Graph"):
        as_strata_graph(3)
    with pytest.raises(ValueError, match="≥ 0"):
        path_graph([1, 2], weight=-2)
    with pytest.raises(ValueError, match="distinct"):
        path_graph([1, 1])


def test_bad_model_arguments_raise() -> None:
    g = path_graph(range(3))
    with pytest.raises(ValueError, match="loss must be one of"):
        StratifiedModel("hinge")
    with pytest.raises(ValueError, match=r"tau must be in \(0, 1\)"):
        StratifiedModel("quantile", tau=1.0)
    with pytest.raises(ValueError, match="lam1 must be a finite number ≥ 0"):
        StratifiedModel(graph=g, lam1=-1)
    with pytest.raises(ValueError, match="lam2 must be a finite number ≥ 0"):
        StratifiedModel(graph=g, lam2=-0.1)
    with pytest.raises(ValueError, match="lam2 must be > 0 when learn_graph"):
        StratifiedModel(graph=g, learn_graph=True, lam2=0.0)
    with pytest.raises(ValueError, match="mu must be a finite number > 0"):
        StratifiedModel(graph=g, mu=0.0)
    with pytest.raises(ValueError, match="reg must be"):
        StratifiedModel(reg=-1e-3)
    with pytest.raises(ValueError, match=r"eta must be in \[0, 1\]"):
        StratifiedModel(eta=1.5)
    with pytest.raises(ValueError, match="learn_graph=True needs a graph"):
        StratifiedModel(learn_graph=True)
    with pytest.raises(TypeError, match="lam1 must be a real number"):
        StratifiedModel(lam1="big")
    with pytest.raises(TypeError, match="learn_graph must be a bool, got 'yes'"):
        StratifiedModel(graph=g, learn_graph="yes")
    with pytest.raises(TypeError, match="pooled must be a bool"):
        StratifiedModel(pooled=1)
    with pytest.raises(ValueError, match="seed must be None or an int >= 0"):
        StratifiedModel(seed=-1)


def test_bad_data_raise() -> None:
    g = path_graph(range(3))
    X, y = np.zeros((6, 2)), np.arange(6.0)
    strata = [0, 1, 2, 0, 1, 2]
    m = StratifiedModel(graph=g)
    with pytest.raises(ValueError, match=r"strata \[7\] are not in the graph"):
        m.fit(X, y, [0, 1, 2, 7, 1, 2])
    with pytest.raises(ValueError, match="one key per sample"):
        m.fit(X, y, strata[:5])
    with pytest.raises(ValueError, match="y must be 1-D with one value per row of X"):
        m.fit(X, y[:4], strata)
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        m.fit(np.zeros(6), y, strata)
    with pytest.raises(ValueError, match="X must be finite"):
        m.fit(np.full((6, 2), np.nan), y, strata)
    with pytest.raises(ValueError, match="exactly two classes"):
        StratifiedModel("logistic", graph=g).fit(X, np.zeros(6), strata)
    with pytest.raises(RuntimeError, match="not fitted"):
        StratifiedModel().predict(X, strata)
    fitted = m.fit(X, y, strata)
    with pytest.raises(ValueError, match=r"strata \['z'\] are not in the graph"):
        fitted.predict(X[:1], ["z"])
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.zeros((1, 3)), [0])
    with pytest.raises(TypeError, match="hashable"):
        m.fit(X, y, [{"a": 1}] * 6)


def test_strata_graph_dense_and_laplacian() -> None:
    sg = StrataGraph(("a", "b", "c"), np.array([[0, 1], [1, 2]]), np.array([2.0, 3.0]))
    W = sg.dense()
    np.testing.assert_array_equal(W, [[0, 2, 0], [2, 0, 3], [0, 3, 0]])
    np.testing.assert_array_equal(laplacian(3, sg.edges, sg.w0), np.diag(W.sum(1)) - W)
