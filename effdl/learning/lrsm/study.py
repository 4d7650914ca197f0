"""The four variants compared in chapter 11, hyper-parameters chosen on validation, and the study over seeds.

- ``"separate"``: one model per stratum (W fixed at 0), ridge γ;
- ``"common"``: one model for all strata (pooled), ridge γ;
- ``"fixed"``: the Laplacian model with W = s·W₀ fixed (s, the Laplacian weight scale);
- ``"learned"``: W learned jointly from the prior s·W₀, with λ₁ = ``lam1``·s·v, λ₂ = ``lam2``·v/s and
  μ = ``mu``·s, where v = ``data_scale`` (by default :func:`loss_scale` of the training targets: var(y) for the
  squared loss). Relative to s and v so that one grid serves any weight scale and any unit of y: scaling y by c
  scales the data and Laplacian terms by c², and so must λ₁ and λ₂ be.

:func:`select_variants` picks γ (all variants) and s (fixed) on the validation split over grids, then for the
learned graph keeps the fixed graph's (γ, s) and picks (λ₁, λ₂) — coordinate-wise, so the learned variant costs a
few extra fits; the grids include λ₂ large enough to pin W to W₀, i.e. the fixed graph is (nearly) inside the
learned variant's grid. Every choice is on validation; the test split is only scored.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from effdl.learning.lrsm.data import StrataData, imbalanced_strata
from effdl.learning.lrsm.graph import StrataGraph, as_strata_graph
from effdl.learning.lrsm.model import StratifiedModel
from effdl.learning.lrsm.objective import loss_scale

__all__ = [
    "DEFAULT_GRIDS",
    "VARIANTS",
    "Selection",
    "edge_weights",
    "fit_variants",
    "make_variant",
    "run_synthetic_study",
    "select_variants",
    "summarize",
]

VARIANTS = ("separate", "common", "fixed", "learned")
DEFAULT_GRIDS: dict[str, tuple[float, ...]] = {
    "reg": (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
    "scale": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0),
    "lam1": (0.1, 1.0, 10.0),
    "lam2": (0.01, 0.1, 1.0, 10.0),
}


def make_variant(
    name: str,
    graph: Any,
    *,
    loss: str = "squared",
    reg: float = 1e-3,
    scale: float = 1.0,
    lam1: float = 0.1,
    lam2: float = 1.0,
    mu: float = 0.1,
    eta: float = 0.0,
    data_scale: float = 1.0,
    **kwargs: Any,
) -> StratifiedModel:
    """An unfitted :class:`StratifiedModel` for one of :data:`VARIANTS` on ``graph`` (its W₀ times ``scale``).

    ``lam1``, ``lam2``, ``mu`` are relative (λ₁ = lam1·s·v, λ₂ = lam2·v/s, μ = mu·s with s = ``scale`` and
    v = ``data_scale``); they matter only for ``"learned"``. Extra keyword arguments go to
    :class:`StratifiedModel` (``tau``, ``max_iter``, …).
    """
    if name not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {name!r}")
    sg = as_strata_graph(graph)
    for arg, val in (("scale", scale), ("data_scale", data_scale)):
        if isinstance(val, bool) or not isinstance(val, int | float) or not val > 0:
            raise ValueError(f"{arg} must be a number > 0, got {val!r}")
    if name == "separate":
        no_edges = StrataGraph(sg.keys, np.zeros((0, 2), np.int64), np.zeros(0))
        return StratifiedModel(loss, reg=reg, graph=no_edges, **kwargs)
    if name == "common":
        return StratifiedModel(loss, reg=reg, graph=sg, pooled=True, **kwargs)
    scaled = StrataGraph(sg.keys, sg.edges, sg.w0 * scale)
    if name == "fixed":
        return StratifiedModel(loss, reg=reg, graph=scaled, **kwargs)
    return StratifiedModel(
        loss, reg=reg, graph=scaled, learn_graph=True, lam1=lam1 * scale * data_scale,
        lam2=lam2 * data_scale / scale, mu=mu * scale, eta=eta,
        **kwargs,
    )  # fmt: skip


def fit_variants(
    X: Any,
    y: Any,
    strata: Sequence[Hashable],
    graph: Any,
    *,
    variants: Sequence[str] = VARIANTS,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    **common: Any,
) -> dict[str, StratifiedModel]:
    """Fit several variants on the same data: ``{name: fitted model}``.

    ``common`` keyword arguments go to every :func:`make_variant` call (``loss``, ``reg``, ``scale``, …);
    ``params[name]`` overrides them for one variant. ``data_scale`` defaults to :func:`loss_scale` of ``y``.
    """
    params = params or {}
    unknown = set(params) - set(variants)
    if unknown:
        raise ValueError(f"params has entries for variants not fitted: {sorted(unknown)!r}")
    if "data_scale" not in common:
        common = {**common, "data_scale": _data_scale(common.get("loss", "squared"), y, common.get("tau", 0.5))}
    out = {}
    for name in variants:
        out[name] = make_variant(name, graph, **{**common, **params.get(name, {})}).fit(X, y, strata)
    return out


def _data_scale(loss: str, y: Any, tau: float) -> float:
    y = np.asarray(y)
    if loss == "logistic":
        y = (y == np.unique(y)[-1]).astype(np.float64)
    return loss_scale(loss, y, tau=tau)


@dataclass
class Selection:
    """A variant's validation choice: model (fitted on train), params (the chosen make_variant arguments),
    val_loss (mean validation loss of that model) and table (every grid point: params and val_loss)."""

    model: StratifiedModel
    params: dict[str, Any]
    val_loss: float
    table: list[dict[str, Any]] = field(default_factory=list)


def _search(name: str, grid: list[dict[str, Any]], train: StrataData, val: StrataData, graph: Any,
            base: dict[str, Any]) -> Selection:  # fmt: skip
    best: Selection | None = None
    table = []
    for point in grid:
        model = make_variant(name, graph, **{**base, **point}).fit(*train)
        loss = model.score(*val)
        table.append({**point, "val_loss": loss})
        if best is None or loss < best.val_loss:
            best = Selection(model, {**base, **point}, loss)
    assert best is not None
    best.table = table
    return best


def select_variants(
    train: StrataData,
    val: StrataData,
    graph: Any,
    *,
    variants: Sequence[str] = VARIANTS,
    loss: str = "squared",
    grids: Mapping[str, Sequence[float]] | None = None,
    mu: float = 0.1,
    eta: float = 0.0,
    **kwargs: Any,
) -> dict[str, Selection]:
    """Choose each variant's hyper-parameters on ``val`` (see the module docstring); models are fitted on ``train``.

    Args:
        train, val: :class:`StrataData` splits.
        graph: the candidate graph with W₀.
        variants: which of :data:`VARIANTS` (``"learned"`` needs ``"fixed"``'s search and runs it if absent).
        grids: overrides of :data:`DEFAULT_GRIDS` (keys ``reg``, ``scale``, ``lam1``, ``lam2``; lam1/lam2 relative).
        mu, eta: fixed relative μ and η of the learned variant. kwargs: passed to :func:`make_variant` (e.g.
            ``data_scale``, default :func:`loss_scale` of the training targets) and :class:`StratifiedModel`.
    """
    g = {**DEFAULT_GRIDS, **(grids or {})}
    bad = set(g) - set(DEFAULT_GRIDS)
    if bad:
        raise ValueError(f"grids keys must be among {sorted(DEFAULT_GRIDS)}, got {sorted(bad)!r}")
    for key, values in g.items():  # an empty grid left the search with no model (a bare AssertionError)
        if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray) or len(values) == 0:
            raise ValueError(f"grids[{key!r}] must be a non-empty sequence of values, got {values!r}")
    for name in variants:
        if name not in VARIANTS:
            raise ValueError(f"variants must be among {VARIANTS}, got {name!r}")
    base = {"loss": loss, "data_scale": _data_scale(loss, train.y, kwargs.get("tau", 0.5)), **kwargs}
    out: dict[str, Selection] = {}
    for name in ("separate", "common"):
        if name in variants:
            out[name] = _search(name, [{"reg": r} for r in g["reg"]], train, val, graph, base)
    if "fixed" in variants or "learned" in variants:
        fixed = _search("fixed", [{"reg": r, "scale": s} for r in g["reg"] for s in g["scale"]], train, val, graph,
                        base)  # fmt: skip
        if "fixed" in variants:
            out["fixed"] = fixed
        if "learned" in variants:
            reg, scale = fixed.params["reg"], fixed.params["scale"]
            grid = [{"reg": reg, "scale": scale, "lam1": a, "lam2": b, "mu": mu, "eta": eta}
                    for a in g["lam1"] for b in g["lam2"]]  # fmt: skip
            out["learned"] = _search("learned", grid, train, val, graph, base)
    return out


def edge_weights(model: StratifiedModel) -> dict[tuple[Hashable, Hashable], float]:
    """The fitted W on each candidate edge, ``{(key_i, key_j): W_ij}`` (zeros for separate/common models)."""
    if not isinstance(model, StratifiedModel) or not hasattr(model, "strata_"):
        raise TypeError(f"model must be a fitted StratifiedModel, got {model!r:.80}")
    index = {k: i for i, k in enumerate(model.strata_)}
    return {(a, b): float(model.weights_[index[a], index[b]]) for a, b in model.edges_}


def run_synthetic_study(
    seeds: Sequence[int] = (0, 1, 2),
    *,
    variants: Sequence[str] = VARIANTS,
    grids: Mapping[str, Sequence[float]] | None = None,
    **study_kwargs: Any,
) -> list[dict[str, Any]]:
    """:func:`imbalanced_strata` for each seed, :func:`select_variants` on its validation split, test losses.

    Returns one row per (seed, variant): ``seed``, ``variant``, ``val_loss``, ``test_loss``, ``params`` and, for
    graph variants, ``break_weight`` / ``other_weight`` (mean fitted W on the break edges / on the other edges,
    divided by the scale s, so 1 = the prior).
    """
    rows = []
    for seed in seeds:
        study = imbalanced_strata(seed=seed, **study_kwargs)
        loss = study_kwargs.get("loss", "squared")
        sel = select_variants(study.train, study.val, study.graph, variants=variants, loss=loss, grids=grids)
        breaks = {frozenset(e) for e in study.break_edges}
        for name in variants:
            s = sel[name]
            row = {"seed": seed, "variant": name, "val_loss": s.val_loss, "test_loss": s.model.score(*study.test),
                   "params": s.params}  # fmt: skip
            if name in ("fixed", "learned"):
                w = edge_weights(s.model)
                scale = s.params["scale"]
                row["break_weight"] = float(np.mean([v for e, v in w.items() if frozenset(e) in breaks])) / scale
                row["other_weight"] = float(np.mean([v for e, v in w.items() if frozenset(e) not in breaks])) / scale
            rows.append(row)
    return rows


def summarize(rows: Sequence[Mapping[str, Any]], key: str = "test_loss") -> dict[str, tuple[float, float]]:
    """``{variant: (mean, std)}`` of ``key`` over the rows (std with ddof=1; 0 for a single seed)."""
    out: dict[str, tuple[float, float]] = {}
    for r in rows:  # a KeyError from deep in the loop would not say which row or which key was missing
        if not isinstance(r, Mapping) or "variant" not in r or key not in r:
            raise ValueError(f"rows must be mappings with 'variant' and {key!r} (study rows), got {r!r:.80}")
    for name in dict.fromkeys(r["variant"] for r in rows):
        v = np.array([r[key] for r in rows if r["variant"] == name], dtype=np.float64)
        out[name] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0)
    return out
