"""Laplacian regularized stratified models with a learned graph (chapter 11).

A stratified model fits one parameter vector θ_k per stratum k (e.g. sex × age bin), tied to neighbouring strata
by a graph with weights W; the graph is learned jointly with the models (the weights of edges between strata that
differ shrink), which a fixed graph cannot do when strata are imbalanced:

    F(Θ, W) = (1/N) Σ_i ℓ(x̃_iᵀθ_{s_i}, y_i) + (γ/2) Σ_k ‖θ_k‖² + ¼ Σ_ij W_ij ‖θ_i − θ_j‖²
              − λ₁ log det(μI + L(W)) + λ₂[(1−η)/2 ‖W − W₀‖²_F + η ‖W‖₁],

minimized by monotone accelerated proximal gradient over (Θ, W) (W symmetric, ≥ 0, zero diagonal, on the candidate
edges). Modules:

- :mod:`~effdl.learning.lrsm.graph`: :func:`path_graph`, :func:`cartesian_product`, :func:`as_strata_graph`
  (validates W₀), :func:`laplacian`;
- :mod:`~effdl.learning.lrsm.objective`: the losses and F with its gradients (conventions written out there);
- :mod:`~effdl.learning.lrsm.solver`: :func:`mapg`;
- :mod:`~effdl.learning.lrsm.model`: :class:`StratifiedModel` (``fit`` / ``predict`` / ``predict_proba`` /
  ``score`` = mean loss);
- :mod:`~effdl.learning.lrsm.data`: :func:`imbalanced_strata` (the synthetic study), :func:`diabetes_strata`,
  :func:`split_strata`;
- :mod:`~effdl.learning.lrsm.study`: the variants separate / common / fixed / learned (:func:`make_variant`,
  :func:`fit_variants`), choices on validation (:func:`select_variants`), :func:`run_synthetic_study`,
  :func:`summarize`, :func:`edge_weights`.
"""

from effdl.learning.lrsm.data import StrataData, SyntheticStudy, diabetes_strata, imbalanced_strata, split_strata
from effdl.learning.lrsm.graph import StrataGraph, as_strata_graph, cartesian_product, laplacian, path_graph
from effdl.learning.lrsm.model import StratifiedModel
from effdl.learning.lrsm.objective import LOSSES, Objective, loss_value
from effdl.learning.lrsm.solver import MAPGResult, mapg
from effdl.learning.lrsm.study import (
    DEFAULT_GRIDS,
    VARIANTS,
    Selection,
    edge_weights,
    fit_variants,
    make_variant,
    run_synthetic_study,
    select_variants,
    summarize,
)

__all__ = [
    "DEFAULT_GRIDS",
    "LOSSES",
    "VARIANTS",
    "MAPGResult",
    "Objective",
    "Selection",
    "StrataData",
    "StrataGraph",
    "StratifiedModel",
    "SyntheticStudy",
    "as_strata_graph",
    "cartesian_product",
    "diabetes_strata",
    "edge_weights",
    "fit_variants",
    "imbalanced_strata",
    "laplacian",
    "loss_value",
    "make_variant",
    "mapg",
    "path_graph",
    "run_synthetic_study",
    "select_variants",
    "split_strata",
    "summarize",
]
