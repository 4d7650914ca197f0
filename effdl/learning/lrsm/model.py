"""The estimator: :class:`StratifiedModel` (fit / predict / score), one parameter vector per stratum tied by a graph.

Variants by constructor arguments: a ``graph`` with ``learn_graph=True`` learns W jointly with Θ (the method);
``learn_graph=False`` keeps W = W₀ (the fixed-graph Laplacian model); ``graph=None`` or a graph without edges fits
each stratum on its own (separate models, W = 0); ``pooled=True`` fits one model shared by all strata (common model).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from effdl.core.checks import check_bool, seed_or_none
from effdl.learning.lrsm.graph import StrataGraph, as_strata_graph
from effdl.learning.lrsm.objective import LOSSES, Objective, loss_value
from effdl.learning.lrsm.solver import mapg

__all__ = ["StratifiedModel"]


def _check_nonneg(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not np.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '≥ 0'}, got {value!r}")
    return v


def _as_keys(strata: Any, n: int) -> list[Hashable]:
    if isinstance(strata, np.ndarray) and strata.ndim == 2:  # rows of a 2-D array as tuple keys, e.g. (sex, age)
        keys = [tuple(r.tolist()) for r in strata]
    else:
        keys = [k.item() if isinstance(k, np.generic) else (tuple(k) if isinstance(k, list) else k) for k in strata]
    if len(keys) != n:
        raise ValueError(f"strata must have one key per sample: len(strata) = {len(keys)}, X has {n} rows")
    for k in keys:
        try:
            hash(k)
        except TypeError:
            raise TypeError(f"strata keys must be hashable (int, str, tuple), got {k!r}") from None
    return keys


def _ordered_unique(keys: Sequence[Hashable]) -> list[Hashable]:
    uniq = list(dict.fromkeys(keys))
    try:
        return sorted(uniq)  # type: ignore[type-var]
    except TypeError:
        return uniq


class StratifiedModel:
    """Laplacian regularized stratified model, optionally learning the graph (see :mod:`effdl.learning.lrsm`).

    Minimizes F(Θ, W) = (1/N) Σ_i ℓ(x̃_iᵀ θ_{s_i}, y_i) + (γ/2) Σ_k ‖θ_k‖² + ¼ Σ_ij W_ij ‖θ_i − θ_j‖²
    − λ₁ log det(μI + L(W)) + λ₂[(1−η)/2 ‖W − W₀‖²_F + η ‖W‖₁] by monotone accelerated proximal gradient
    (:func:`effdl.learning.lrsm.solver.mapg`); the data term is the mean over all N training samples, so stratum k
    weighs n_k/N. The W terms are present only with ``learn_graph=True``; W stays symmetric, ≥ 0, zero on the
    diagonal and on the candidate graph's edges.

    Args:
        loss: ``"squared"`` ((z−y)²), ``"logistic"`` (log-loss, two classes) or ``"quantile"`` (pinball at ``tau``,
            fitted through its Moreau envelope of width δ = ``smoothing``·std(y); score uses the exact loss).
        reg: γ ≥ 0, the ridge weight (per stratum; not on the intercept unless ``penalize_intercept``).
        graph: the candidate graph with prior weights W₀ (anything :func:`as_strata_graph` accepts) or None
            (separate models over the strata present in the data).
        learn_graph: learn W (True) or keep W = W₀ (False).
        lam1: λ₁ ≥ 0, weight of −log det(μI + L(W)). lam2: λ₂ > 0 (when learning), weight of the W₀ prior.
            eta: η ∈ [0, 1], the ℓ₁ share of that prior. mu: μ > 0.
        tau: quantile level in (0, 1). smoothing: relative width of the quantile loss's smoothing (> 0).
        fit_intercept: append an intercept column (the last column of ``theta_``).
        penalize_intercept: apply the ridge to the intercept too.
        pooled: fit one model shared by all strata (the "common" baseline; every row of ``theta_`` is equal).
        max_iter, tol: MAPG's iteration cap and relative tolerance.
        warm_start: start from the previous fit's Θ and W (when the strata and shapes agree).
        seed: accepted for a uniform API; the fit is deterministic (Θ starts at 0, W at W₀), so equal seeds give
            equal results.

    Attributes (after ``fit``):
        theta_ (K, d), coef_ (K, p), intercept_ (K,); weights_ (K, K) learned or fixed W; strata_ (list of K keys,
        row order); history_ (F per iterate, non-increasing); n_iter_; converged_; n_samples_ (K,) per stratum;
        classes_ (logistic).
    """

    def __init__(
        self,
        loss: str = "squared",
        *,
        reg: float = 1e-3,
        graph: Any = None,
        learn_graph: bool = False,
        lam1: float = 0.1,
        lam2: float = 0.1,
        eta: float = 0.0,
        mu: float = 1.0,
        tau: float = 0.5,
        smoothing: float = 1e-2,
        fit_intercept: bool = True,
        penalize_intercept: bool = False,
        pooled: bool = False,
        max_iter: int = 3000,
        tol: float = 1e-7,
        warm_start: bool = False,
        seed: int | None = None,
    ) -> None:
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        self.loss = loss
        self.reg = _check_nonneg(reg, "reg")
        self.graph = None if graph is None else as_strata_graph(graph)
        self.learn_graph = check_bool("learn_graph", learn_graph)
        self.lam1 = _check_nonneg(lam1, "lam1")
        self.lam2 = _check_nonneg(lam2, "lam2")
        self.eta = _check_nonneg(eta, "eta")
        if self.eta > 1:
            raise ValueError(f"eta must be in [0, 1], got {eta!r}")
        self.mu = _check_nonneg(mu, "mu", positive=True)
        self.tau = _check_nonneg(tau, "tau")
        if not 0 < self.tau < 1:
            raise ValueError(f"tau must be in (0, 1) (the quantile level), got {tau!r}")
        self.smoothing = _check_nonneg(smoothing, "smoothing", positive=True)
        if self.learn_graph and self.graph is None:
            raise ValueError("learn_graph=True needs a graph (the candidate edges and their prior weights W₀)")
        if self.learn_graph and self.lam2 == 0:
            raise ValueError(
                "lam2 must be > 0 when learn_graph=True: without the W₀ prior, −λ₁ log det(μI + L) lets the weight of "
                "an edge between equal strata grow without bound (the objective is unbounded below)"
            )
        if self.learn_graph and pooled:
            raise ValueError("pooled=True fits one common model: it cannot learn a graph (learn_graph must be False)")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
            raise ValueError(f"max_iter must be an int ≥ 1, got {max_iter!r}")
        self.tol = _check_nonneg(tol, "tol", positive=True)
        self.fit_intercept = check_bool("fit_intercept", fit_intercept)
        self.penalize_intercept = check_bool("penalize_intercept", penalize_intercept)
        self.pooled, self.max_iter = check_bool("pooled", pooled), max_iter
        self.warm_start, self.seed = check_bool("warm_start", warm_start), seed_or_none("seed", seed)

    # --- input handling -----------------------------------------------------------------------------------------------
    def _design(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array (n_samples, n_features), got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X must be finite (no NaN or inf)")
        return np.hstack([X, np.ones((len(X), 1))]) if self.fit_intercept else X

    def _index(self, strata: Any, n: int) -> np.ndarray:
        keys = _as_keys(strata, n)
        index = {k: i for i, k in enumerate(self.strata_)}
        missing = [k for k in dict.fromkeys(keys) if k not in index]
        if missing:
            raise ValueError(
                f"strata {missing[:5]!r} are not in the graph (its strata: {self.strata_[:8]!r}"
                f"{' …' if len(self.strata_) > 8 else ''}); add them to the graph"
            )
        return np.array([index[k] for k in keys], dtype=np.int64)

    def _target(self, y: Any, n: int, *, fitting: bool) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n:
            raise ValueError(f"y must be 1-D with one value per row of X ({n}), got shape {y.shape}")
        if self.loss == "logistic":
            if fitting:
                classes = np.unique(y)
                if len(classes) != 2:
                    raise ValueError(f"logistic loss needs exactly two classes in y, got {classes.tolist()!r}")
                self.classes_ = classes
            elif not np.all(np.isin(y, self.classes_)):
                raise ValueError(f"y has labels outside the fitted classes {self.classes_.tolist()!r}")
            return (y == self.classes_[1]).astype(np.float64)
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError("y must be finite (no NaN or inf)")
        return y

    # --- fit --------------------------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, strata: Any) -> StratifiedModel:
        """Fit on X (N, p), y (N,), strata (N hashable keys, or an (N, m) array whose rows become tuple keys).

        Raises ValueError for length mismatches, a stratum not in the graph (named), non-finite data, a logistic
        target without exactly two classes. A graph stratum without samples is fitted from its neighbours only.
        """
        Xa = self._design(X)
        n = len(Xa)
        keys = _as_keys(strata, n)
        yv = self._target(y, n, fitting=True)
        sg = (
            self.graph
            if self.graph is not None
            else StrataGraph(tuple(_ordered_unique(keys)), np.zeros((0, 2), np.int64), np.zeros(0))
        )
        prev = (getattr(self, "strata_", None), getattr(self, "theta_", None), getattr(self, "_w", None))
        self.strata_ = list(sg.keys)
        s = self._index(keys, n)
        self.n_samples_ = np.bincount(s, minlength=len(self.strata_))
        k_fit = 1 if self.pooled else len(self.strata_)
        s_fit = np.zeros(n, np.int64) if self.pooled else s
        edges = np.zeros((0, 2), np.int64) if self.pooled else sg.edges
        w0 = np.zeros(0) if self.pooled else sg.w0
        mask = np.ones(Xa.shape[1])
        if self.fit_intercept and not self.penalize_intercept:
            mask[-1] = 0.0
        delta = 0.0
        if self.loss == "quantile":
            delta = self.smoothing * (float(np.std(yv)) if n > 1 and np.std(yv) > 0 else 1.0)
        self.delta_ = delta
        obj = Objective(
            loss=self.loss, X=Xa, y=yv, s=s_fit, n_strata=k_fit, edges=edges, w0=w0, reg=self.reg,
            ridge_mask=mask, lam1=self.lam1, lam2=self.lam2, eta=self.eta, mu=self.mu, tau=self.tau, delta=delta,
        )  # fmt: skip
        theta0, w_init = np.zeros((k_fit, Xa.shape[1])), w0.copy()
        if (
            self.warm_start and not self.pooled and prev[0] == self.strata_ and prev[1] is not None
            and prev[2] is not None and prev[1].shape == theta0.shape and prev[2].shape == w0.shape
        ):  # fmt: skip
            theta0 = prev[1].copy()
            w_init = prev[2].copy() if self.learn_graph else w_init
        res = mapg(obj, theta0, w_init, learn_graph=self.learn_graph, max_iter=self.max_iter, tol=self.tol)
        self._objective = obj
        self.theta_ = np.repeat(res.theta, len(self.strata_), axis=0) if self.pooled else res.theta
        self._w = res.w
        self.weights_ = np.zeros((len(self.strata_),) * 2) if self.pooled else sg.dense(res.w)
        self.edges_ = [(sg.keys[i], sg.keys[j]) for i, j in sg.edges]
        self.history_ = res.history
        self.n_iter_, self.converged_ = res.n_iter, res.converged
        return self

    # --- use --------------------------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "theta_"):
            raise RuntimeError("this StratifiedModel is not fitted yet: call fit(X, y, strata) first")

    @property
    def coef_(self) -> np.ndarray:
        """(K, p) feature weights per stratum."""
        self._check_fitted()
        return self.theta_[:, :-1] if self.fit_intercept else self.theta_

    @property
    def intercept_(self) -> np.ndarray:
        """(K,) intercepts (zeros without ``fit_intercept``)."""
        self._check_fitted()
        return self.theta_[:, -1] if self.fit_intercept else np.zeros(len(self.theta_))

    def decision_function(self, X: Any, strata: Any) -> np.ndarray:
        """Scores z_i = x̃_iᵀ θ_{s_i}, (N,) (the prediction for squared/quantile; the logit for logistic)."""
        self._check_fitted()
        Xa = self._design(X)
        if Xa.shape[1] != self.theta_.shape[1]:
            raise ValueError(f"X has {Xa.shape[1] - self.fit_intercept} features, the model was fitted on "
                             f"{self.theta_.shape[1] - self.fit_intercept}")  # fmt: skip
        s = self._index(strata, len(Xa))
        return np.einsum("nd,nd->n", Xa, self.theta_[s])

    def predict(self, X: Any, strata: Any) -> np.ndarray:
        """(N,) predictions: the value for squared/quantile (the τ-quantile), the class label for logistic."""
        z = self.decision_function(X, strata)
        if self.loss == "logistic":
            return self.classes_[(z > 0).astype(int)]
        return z

    def predict_proba(self, X: Any, strata: Any) -> np.ndarray:
        """(N, 2) class probabilities [P(classes_[0]), P(classes_[1])] (logistic loss only)."""
        if self.loss != "logistic":
            raise ValueError(f"predict_proba needs loss='logistic', this model has loss={self.loss!r}")
        p1 = 1.0 / (1.0 + np.exp(-self.decision_function(X, strata)))
        return np.column_stack([1.0 - p1, p1])

    def score(self, X: Any, y: Any, strata: Any) -> float:
        """The mean loss on (X, y, strata) — lower is better, unlike scikit-learn's ``score``: the mean squared
        error, the mean log-loss (natural log) or the mean exact pinball loss at ``tau``."""
        z = self.decision_function(X, strata)
        yv = self._target(y, len(z), fitting=False)
        return float(np.mean(loss_value(self.loss, z, yv, tau=self.tau, delta=0.0)))

    def objective(self) -> float:
        """F at the fitted (Θ, W) on the training data (the last entry of ``history_``)."""
        self._check_fitted()
        return self.history_[-1]

    def __repr__(self) -> str:
        kind = "pooled" if self.pooled else "learned graph" if self.learn_graph else (
            "separate" if self.graph is None or not len(self.graph.edges) else "fixed graph")  # fmt: skip
        return f"StratifiedModel(loss={self.loss!r}, {kind}, reg={self.reg:g})"
