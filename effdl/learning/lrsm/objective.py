"""The objective F(Θ, W) of a Laplacian regularized stratified model with a learned graph, and its gradient.

Conventions (all float64). N samples, K strata, d = p (+1 for the intercept, the last column of Θ), E edges with
weights ``w`` (E,) and the symmetric matrix W built from them (zero diagonal, support = the candidate edges)::

    F(Θ, w) = (1/N) Σ_i ℓ(x_iᵀ θ_{s_i}, y_i)                         data: the mean over all N samples, i.e. stratum k
                                                                        weighs n_k/N (large strata weigh more)
            + (γ/2) Σ_k ‖θ_k‖²                                         ridge (not on the intercept by default)
            + ¼ Σ_ij W_ij ‖θ_i − θ_j‖² = ½ Σ_e w_e ‖θ_i − θ_j‖² = ½ tr(Θᵀ L Θ)
            − λ₁ log det(μI + L(W))
            + λ₂ [(1−η)/2 ‖W − W₀‖²_F + η ‖W‖₁] = λ₂ Σ_e [(1−η)(w_e − w0_e)² + 2η w_e]   (W counts each edge twice)

Gradients: ∇_Θ = (1/N) Σ_i ℓ'(z_i, y_i) e_{s_i} x̃_iᵀ + γ M ⊙ Θ + L Θ;
∂F/∂w_e = ½‖θ_i − θ_j‖² − λ₁ (e_i − e_j)ᵀ (μI + L)⁻¹ (e_i − e_j) + 2λ₂(1−η)(w_e − w0_e) (smooth part). The
non-smooth part 2λ₂η Σ_e w_e + ι(w ≥ 0) has the prox ``max(v − 2αλ₂η, 0)``: the ℓ₁ shift then the clip, which is
also the projection onto W ≥ 0 / symmetric / zero diagonal / support since ``w`` only lives on the support.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.special

from effdl.learning.lrsm.graph import laplacian

__all__ = ["LOSSES", "Objective", "loss_derivative", "loss_scale", "loss_value"]

LOSSES = ("squared", "logistic", "quantile")


def loss_value(loss: str, z: np.ndarray, y: np.ndarray, *, tau: float = 0.5, delta: float = 0.0) -> np.ndarray:
    """Per-sample loss ℓ(z, y) for scores ``z`` (N,) and targets ``y`` (N,).

    ``squared``: (z − y)². ``logistic``: log(1 + eᶻ) − y z with y ∈ {0, 1} (the log-loss of P(y=1) = σ(z)).
    ``quantile``: the pinball loss ρ_τ(r) = max(τ r, (τ − 1) r) of r = y − z; with ``delta`` > 0 its Moreau envelope
    (quadratic r²/(2δ) for −(1−τ)δ ≤ r ≤ τδ, linear shifted by τ²δ/2 or (1−τ)²δ/2 outside), which is below the exact
    loss by at most max(τ, 1−τ)²·δ/2 and has a 1/δ-Lipschitz derivative.
    """
    if loss == "squared":
        return (z - y) ** 2
    if loss == "logistic":
        return np.logaddexp(0.0, z) - y * z
    if loss == "quantile":
        r = y - z
        if delta <= 0:
            return np.maximum(tau * r, (tau - 1.0) * r)
        hi, lo = tau * delta, -(1.0 - tau) * delta
        below = np.where(r < lo, (tau - 1.0) * r - (1 - tau) ** 2 * delta / 2, r**2 / (2 * delta))
        return np.where(r > hi, tau * r - tau**2 * delta / 2, below)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def loss_derivative(loss: str, z: np.ndarray, y: np.ndarray, *, tau: float = 0.5, delta: float = 0.0) -> np.ndarray:
    """∂ℓ/∂z per sample (for ``quantile`` with ``delta`` = 0 a subgradient)."""
    if loss == "squared":
        return 2.0 * (z - y)
    if loss == "logistic":
        return scipy.special.expit(z) - y
    if loss == "quantile":
        r = y - z
        if delta <= 0:
            return np.where(r > 0, -tau, 1.0 - tau)
        return -np.clip(r / delta, -(1.0 - tau), tau)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def loss_scale(loss: str, y: np.ndarray, *, tau: float = 0.5) -> float:
    """The mean training loss of the best constant prediction (the null model): var(y) for squared, the binary
    entropy of the positive rate (nats) for logistic (y in {0, 1}), the mean pinball loss about the τ-quantile for
    quantile. Used to express λ₁ and λ₂ relative to the data (F's data term is on this scale). Floored at 1e-12."""
    y = np.asarray(y, dtype=np.float64)
    if loss == "squared":
        v = float(np.var(y))
    elif loss == "logistic":
        p = float(np.clip(np.mean(y), 1e-12, 1 - 1e-12))
        v = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    elif loss == "quantile":
        v = float(np.mean(loss_value("quantile", np.quantile(y, tau), y, tau=tau)))
    else:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return max(v, 1e-12)


@dataclass
class Objective:
    """F(Θ, w) on one data set; see the module docstring for the formula.

    Attributes:
        loss, tau, delta: the loss (``delta`` > 0 smooths the quantile loss).
        X: (N, d) float64 design with the intercept column already appended when fitted.
        y: (N,) float64 targets (0/1 for logistic).
        s: (N,) int stratum index of each sample in 0..K−1.
        n_strata: K.
        edges: (E, 2) int candidate edges; w0: (E,) prior weights.
        reg: γ; ridge_mask: (d,) 1 where the ridge applies (0 on the intercept unless it is penalized).
        lam1, lam2, eta, mu: the graph terms' weights (only used when the graph is learned).
    """

    loss: str
    X: np.ndarray
    y: np.ndarray
    s: np.ndarray
    n_strata: int
    edges: np.ndarray
    w0: np.ndarray
    reg: float
    ridge_mask: np.ndarray
    lam1: float = 0.0
    lam2: float = 0.0
    eta: float = 0.0
    mu: float = 1.0
    tau: float = 0.5
    delta: float = 0.0

    def __post_init__(self) -> None:
        n = len(self.y)
        # S (K, N) sums per-sample rows into strata: ∇ of the data term = S (ℓ' ⊙ X) / N.
        self._S = scipy.sparse.csr_matrix((np.ones(n), (self.s, np.arange(n))), shape=(self.n_strata, n))
        self._n = max(n, 1)

    @property
    def d(self) -> int:
        """Columns of Θ."""
        return self.X.shape[1]

    # --- pieces -------------------------------------------------------------------------------------------------
    def scores(self, theta: np.ndarray) -> np.ndarray:
        """z_i = x̃_iᵀ θ_{s_i}, (N,)."""
        return np.einsum("nd,nd->n", self.X, theta[self.s])

    def data_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """(1/N) Σ ℓ and its gradient (K, d) w.r.t. Θ."""
        if len(self.y) == 0:
            return 0.0, np.zeros_like(theta)
        z = self.scores(theta)
        val = float(loss_value(self.loss, z, self.y, tau=self.tau, delta=self.delta).sum()) / self._n
        g = loss_derivative(self.loss, z, self.y, tau=self.tau, delta=self.delta)
        grad = np.asarray(self._S @ (g[:, None] * self.X)) / self._n
        return val, grad

    def laplacian(self, w: np.ndarray) -> np.ndarray:
        """L(W), (K, K)."""
        return laplacian(self.n_strata, self.edges, w)

    def theta_part(self, theta: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Data + ridge + Laplacian terms: value, ∇_Θ (K, d), and ½‖θ_i − θ_j‖² per edge (E,) = their ∂/∂w."""
        val, grad = self.data_and_grad(theta)
        masked = theta * self.ridge_mask
        val += 0.5 * self.reg * float(np.sum(masked * theta))
        grad = grad + self.reg * masked
        if len(self.edges):
            diff = theta[self.edges[:, 0]] - theta[self.edges[:, 1]]
            half_sq = 0.5 * np.sum(diff * diff, axis=1)
            val += float(w @ half_sq)
            grad = grad + self.laplacian(w) @ theta
        else:
            half_sq = np.zeros(0)
        return val, grad, half_sq

    def graph_part(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        """−λ₁ log det(μI + L) + λ₂(1−η) Σ_e (w_e − w0_e)² and its gradient (E,) w.r.t. ``w``."""
        m = self.mu * np.eye(self.n_strata) + self.laplacian(w)
        chol = scipy.linalg.cho_factor(m, lower=True)
        logdet = 2.0 * float(np.sum(np.log(np.diag(chol[0]))))
        inv = scipy.linalg.cho_solve(chol, np.eye(self.n_strata))
        i, j = self.edges[:, 0], self.edges[:, 1]
        resist = inv[i, i] + inv[j, j] - 2.0 * inv[i, j]  # (e_i − e_j)ᵀ (μI + L)⁻¹ (e_i − e_j)
        dev = w - self.w0
        val = -self.lam1 * logdet + self.lam2 * (1.0 - self.eta) * float(dev @ dev)
        grad = -self.lam1 * resist + 2.0 * self.lam2 * (1.0 - self.eta) * dev
        return val, grad

    def l1(self, w: np.ndarray) -> float:
        """The non-smooth part's value on w ≥ 0: λ₂ η ‖W‖₁ = 2 λ₂ η Σ_e w_e."""
        return 2.0 * self.lam2 * self.eta * float(np.sum(w))

    # --- the total -------------------------------------------------------------------------------------------------
    def smooth(self, theta: np.ndarray, w: np.ndarray, *, learn_graph: bool) -> tuple[float, np.ndarray, np.ndarray]:
        """The smooth part f and its gradients (∇_Θ (K, d), ∇_w (E,)); without ``learn_graph`` only the Θ terms."""
        val, g_theta, g_w = self.theta_part(theta, w)
        if learn_graph:
            gv, gg = self.graph_part(w)
            val += gv
            g_w = g_w + gg
        return val, g_theta, g_w

    def value(self, theta: np.ndarray, w: np.ndarray, *, learn_graph: bool) -> float:
        """F (the smooth part plus, when the graph is learned, the ℓ₁ term); w must be ≥ 0."""
        val = self.smooth(theta, w, learn_graph=learn_graph)[0]
        return val + (self.l1(w) if learn_graph else 0.0)

    def prox_w(self, v: np.ndarray, step: float) -> np.ndarray:
        """prox of step·(2λ₂η Σ w + ι(w ≥ 0)): shift by 2·step·λ₂η, clip at 0."""
        return np.maximum(v - 2.0 * step * self.lam2 * self.eta, 0.0)


DENSE_METRIC_MAX = 3000  # K·d up to which the Θ metric is the full (K·d, K·d) matrix (else its diagonal blocks)


def theta_metric(obj: Objective, w: np.ndarray) -> np.ndarray:
    """The Θ part of the variable metric, as a (K·d, K·d) matrix over Θ raveled row by row, or (K, d, d) diagonal
    blocks when K·d > ``DENSE_METRIC_MAX``.

    H = blockdiag_k(c·X_kᵀX_k/N + γ·diag(mask)) + L(W) ⊗ I_d, with c the bound on ℓ'' (2 squared, ¼ logistic, 1/δ
    smoothed quantile): the exact Θ-Hessian for the squared loss, a majorizer's for the others (the blocks replace
    L ⊗ I_d by deg_k·I_d). A floor of 1e-8 × the mean diagonal keeps it positive definite.
    """
    k, n, d = obj.n_strata, max(len(obj.y), 1), obj.d
    c = {"squared": 2.0, "logistic": 0.25}.get(obj.loss, 1.0 / obj.delta if obj.delta > 0 else 1.0)
    gram = np.zeros((k, d, d))
    np.add.at(gram, obj.s, obj.X[:, :, None] * obj.X[:, None, :])
    blocks = c * gram / n + obj.reg * np.diag(obj.ridge_mask)[None]
    if k * d > DENSE_METRIC_MAX:
        deg = np.diag(obj.laplacian(w)) if len(obj.edges) else np.zeros(k)
        h = blocks + np.einsum("k,ij->kij", deg, np.eye(d))
        floor = 1e-8 * max(float(np.mean(np.trace(h, axis1=1, axis2=2))) / d, 1e-12)
        return h + floor * np.eye(d)[None]
    h = scipy.linalg.block_diag(*blocks) if k else np.zeros((0, 0))
    if len(obj.edges):
        h = h + np.kron(obj.laplacian(w), np.eye(d))
    floor = 1e-8 * max(float(np.mean(np.diag(h))) if len(h) else 0.0, 1e-12)
    return h + floor * np.eye(k * d)


def w_metric(obj: Objective, w: np.ndarray) -> np.ndarray:
    """The w part of the variable metric, (E,): λ₁ R_e² + 2λ₂(1−η), the exact ∂²F/∂w_e² of the graph terms
    (R_e = (e_i − e_j)ᵀ(μI + L)⁻¹(e_i − e_j), the effective resistance), floored at 1e-12 × its maximum."""
    k = obj.n_strata
    m = obj.mu * np.eye(k) + obj.laplacian(w)
    inv = scipy.linalg.cho_solve(scipy.linalg.cho_factor(m, lower=True), np.eye(k))
    i, j = obj.edges[:, 0], obj.edges[:, 1]
    resist = inv[i, i] + inv[j, j] - 2.0 * inv[i, j]
    d_w = obj.lam1 * resist**2 + 2.0 * obj.lam2 * (1.0 - obj.eta)
    return np.maximum(d_w, 1e-12 * max(float(d_w.max()) if len(d_w) else 0.0, 1e-12))
