"""Figures of random smoothing in kernel gradient descent (chapter 10): smoothed-kernel profiles and spectra, Monte
Carlo against the exact smoothed kernel, validation/test error along the regularization paths, log-log rate curves,
the augmentation gap against the number of noisy copies, and the explorer's two panels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from effdl.learning.smoothing import AugmentationGap, KGDResult, NoiseSweep, RateStudy

__all__ = [
    "augmentation_curves",
    "mc_agreement",
    "noise_explorer_figure",
    "rate_curves",
    "regularization_paths",
    "smoothed_kernels",
]

_COLOURS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3")
_BASE = "#444444"


def _colour(i: int) -> str:
    return _COLOURS[i % len(_COLOURS)]


def smoothed_kernels(
    offsets: np.ndarray,
    base: np.ndarray,
    profiles: Mapping[str, np.ndarray],
    omega: np.ndarray,
    base_spectrum: np.ndarray,
    spectra: Mapping[str, np.ndarray],
    *,
    spectrum_title: str = "spectrum k̂(ω)·|φ(ω)|²",
    title: str | None = None,
) -> go.Figure:
    """Left: the kernel along one axis against the offset t — ``base`` (T,) dashed and one line per noise in
    ``profiles`` ({name: (T,)}). Right (titled ``spectrum_title``): curves on log-log axes against the frequency ω
    (W,) — ``base_spectrum`` (W,) dashed and ``spectra`` ({name: (W,)}; e.g. each smoothed spectrum k̂(ω)|φ(ω)|², or
    each noise's multiplier |φ(ω)|² beside the normalized k̂(ω)/k̂(0)). Values ≤ 1e-300 are dropped on the log
    axes."""
    t = np.asarray(offsets, dtype=float)
    w = np.asarray(omega, dtype=float)
    if set(profiles) != set(spectra):
        raise ValueError(f"profiles and spectra must name the same noises, got {sorted(profiles)}, {sorted(spectra)}")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("K_S along one axis", spectrum_title))
    fig.add_trace(go.Scatter(x=t, y=base, name="base kernel K", line={"color": _BASE, "dash": "dash"}), 1, 1)
    pos = np.asarray(base_spectrum) > 0
    fig.add_trace(
        go.Scatter(
            x=w[pos],
            y=np.asarray(base_spectrum)[pos],
            name="base k̂",
            showlegend=False,
            line={"color": _BASE, "dash": "dash"},
        ),
        1,
        2,
    )
    for i, name in enumerate(profiles):
        fig.add_trace(go.Scatter(x=t, y=profiles[name], name=name, line={"color": _colour(i)}), 1, 1)
        s = np.asarray(spectra[name], dtype=float)
        keep = s > 1e-300
        fig.add_trace(go.Scatter(x=w[keep], y=s[keep], name=name, showlegend=False, line={"color": _colour(i)}), 1, 2)
    fig.update_xaxes(title_text="offset t = x − x′", row=1, col=1)
    fig.update_yaxes(title_text="kernel value", row=1, col=1)
    fig.update_xaxes(title_text="frequency ω", type="log", row=1, col=2)
    fig.update_yaxes(type="log", exponentformat="power", row=1, col=2)
    fig.update_layout(title=title, template="plotly_white", height=420, legend={"orientation": "h", "y": -0.2})
    return fig


def mc_agreement(
    exact: Mapping[str, np.ndarray], mc: Mapping[str, np.ndarray], *, title: str | None = None
) -> go.Figure:
    """Monte-Carlo estimates against the exact smoothed kernel, one marker set per noise ({name: values (any shape)},
    the same names and shapes in both), with the identity dashed; hover gives the relative error."""
    if set(exact) != set(mc):
        raise ValueError(f"exact and mc must name the same noises, got {sorted(exact)} and {sorted(mc)}")
    fig = go.Figure()
    lo, hi = np.inf, -np.inf
    for i, name in enumerate(exact):
        e = np.asarray(exact[name], dtype=float).ravel()
        m = np.asarray(mc[name], dtype=float).ravel()
        if e.shape != m.shape:
            raise ValueError(f"{name}: exact and mc must have the same shape, got {e.shape} and {m.shape}")
        rel = np.abs(m - e) / np.abs(e)
        fig.add_trace(
            go.Scatter(x=e, y=m, mode="markers", name=f"{name} (max {100 * rel.max():.2f}%)",
                       marker={"color": _colour(i), "size": 6}, customdata=100 * rel,
                       hovertemplate="exact %{x:.4f}<br>Monte Carlo %{y:.4f}<br>error %{customdata:.2f}%"),
        )  # fmt: skip
        lo, hi = min(lo, e.min(), m.min()), max(hi, e.max(), m.max())
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="equal", line={"color": _BASE, "dash": "dot"}))
    fig.update_layout(title=title, template="plotly_white", height=420, xaxis_title="exact K_S(x, x′)",
                      yaxis_title="Monte-Carlo estimate")  # fmt: skip
    return fig


def regularization_paths(
    early: KGDResult,
    decay: KGDResult,
    *,
    early_test: np.ndarray,
    decay_test: np.ndarray,
    title: str | None = None,
) -> go.Figure:
    """Validation MSE and test excess risk along both regularization paths on one axis of **effective ridge** λ:
    ``early`` (:func:`~effdl.learning.smoothing.kernel_gd` with a validation split; step t of size η plotted at
    λ = 1/(ηt), t >= 1) and ``decay`` (:func:`~effdl.learning.smoothing.kernel_weight_decay`; at λ); ``early_test``
    and ``decay_test`` the test errors along each ``grid``. The validation choices are marked (circle: early
    stopping, cross: weight decay). Log-log axes, λ decreasing to the right (more fitting)."""
    if early.kind != "early" or decay.kind != "decay" or early.val_mse is None or decay.val_mse is None:
        raise ValueError("early and decay must be a kernel_gd and a kernel_weight_decay result with validation")
    keep = early.grid >= 1
    paths = (
        ("early stopping", 1.0 / (early.lr * early.grid[keep]), early.val_mse[keep],
         np.asarray(early_test)[keep], 1.0 / (early.lr * max(early.chosen, 1.0)), "solid", "circle"),
        ("weight decay", decay.grid, decay.val_mse, np.asarray(decay_test), decay.chosen, "dash", "x"),
    )  # fmt: skip
    fig = go.Figure()
    for label, lam, val, test, chosen, dash, symbol in paths:
        at = int(np.argmin(np.abs(np.log(lam) - np.log(chosen))))
        for j, (ys, what) in enumerate(((val, "validation MSE"), (test, "test excess risk"))):
            fig.add_trace(
                go.Scatter(x=lam, y=ys, mode="lines", name=f"{label}: {what}",
                           line={"color": _colour(j), "dash": dash}),
            )  # fmt: skip
            fig.add_trace(
                go.Scatter(x=[lam[at]], y=[ys[at]], mode="markers", showlegend=False,
                           marker={"color": _colour(j), "size": 11, "symbol": symbol},
                           hovertemplate=f"{label}, chosen on validation: λ = %{{x:.3g}}<br>{what} %{{y:.4f}}"),
            )  # fmt: skip
    fig.update_xaxes(type="log", autorange="reversed", title_text="effective ridge λ (early stopping: 1/(ηt))")
    fig.update_yaxes(type="log", title_text="mean squared error", exponentformat="power")
    fig.update_layout(title=title, template="plotly_white", height=440)
    return fig


def rate_curves(studies: Mapping[str, RateStudy], *, title: str | None = None) -> go.Figure:
    """Excess risk against n on log-log axes, one colour per study ({label: RateStudy}): every repetition as a faint
    dot, the geometric mean per n as a marker, the fitted line (solid, its slope in the legend) and a line of the
    theoretical slope through the same geometric-mean centre (dotted)."""
    fig = go.Figure()
    for i, (label, st) in enumerate(studies.items()):
        c = _colour(i)
        ns = np.asarray(st.ns, dtype=float)
        reps = st.risks.shape[1]
        fig.add_trace(
            go.Scatter(x=np.repeat(ns, reps), y=st.risks.ravel(), mode="markers", showlegend=False, opacity=0.3,
                       marker={"color": c, "size": 5}, hovertemplate="n %{x}<br>risk %{y:.2e}"),
        )  # fmt: skip
        gm = np.exp(np.log(st.risks).mean(1))
        fig.add_trace(go.Scatter(x=ns, y=gm, mode="markers", name=label, marker={"color": c, "size": 9}))
        fit = np.exp(st.intercept) * ns**st.slope
        fig.add_trace(
            go.Scatter(x=ns, y=fit, mode="lines", name=f"fit: slope {st.slope:.2f}", line={"color": c}),
        )
        centre = np.exp(np.mean(np.log(gm)) - st.theory * np.mean(np.log(ns)))
        fig.add_trace(
            go.Scatter(x=ns, y=centre * ns**st.theory, mode="lines", name=f"theory: {st.theory:.2f}",
                       line={"color": c, "dash": "dot"}),
        )  # fmt: skip
    fig.update_xaxes(type="log", title_text="training points n")
    fig.update_yaxes(type="log", title_text="test excess risk E(f̂ − f)²", exponentformat="power")
    fig.update_layout(title=title, template="plotly_white", height=460)
    return fig


def augmentation_curves(gap: AugmentationGap, *, title: str | None = None) -> go.Figure:
    """The augmentation view against the number of noisy copies M (log-log): max |Ĝ − K_S| on the training Gram
    matrix, the same on new points, and the relative prediction gap; a 1/√M line through the first Gram error."""
    M = np.asarray(gap.copies, dtype=float)
    fig = go.Figure()
    rows = (
        ("training Gram error max|Ĝ − K_S|", gap.gram_error),
        ("new-point Gram error", gap.cross_error),
        ("prediction gap (relative RMS)", gap.relative_gap()),
    )
    for i, (name, vals) in enumerate(rows):
        fig.add_trace(go.Scatter(x=M, y=vals, mode="lines+markers", name=name, line={"color": _colour(i)}))
    ref = gap.gram_error[0] * np.sqrt(M[0] / M)
    fig.add_trace(go.Scatter(x=M, y=ref, mode="lines", name="∝ 1/√M", line={"color": _BASE, "dash": "dot"}))
    fig.update_xaxes(type="log", title_text="noisy copies per point M")
    fig.update_yaxes(type="log", title_text="gap to the smoothed kernel", exponentformat="power")
    fig.update_layout(title=title, template="plotly_white", height=420)
    return fig


def _explorer_title(sweep: NoiseSweep, family: str, sd: float, D: int) -> str:
    vmse, risk, step = sweep.table[(family, sd)]
    return (f"{family} noise, sd {sd:g}, D = {D}: validation MSE {vmse:.4f}, test excess risk {risk:.4f}, "
            f"stopped at step {step:g}")  # fmt: skip


def noise_explorer_figure(sweep: NoiseSweep, family: str, sd: float, D: int) -> go.Figure:
    """The explorer's two panels for one setting of ``sweep`` (:class:`~effdl.learning.smoothing.NoiseSweep`).
    Left: the base kernel (dashed) and K_S along one axis in D dimensions (trace 1). Right: the training points,
    the target and the early-stopped fit on the smoothed kernel (trace 4); the curves do not depend on D (1-D data).
    Trace order: base, K_S, training points, fit, target — the widget updates traces 1 and 3 in place."""
    if (family, sd) not in sweep.table or D not in sweep.dims:
        raise ValueError(f"({family!r}, {sd!r}, D={D!r}) is not in the sweep (families {sweep.families}, "
                         f"sds {sweep.sds}, dims {sweep.dims})")  # fmt: skip
    fig = make_subplots(rows=1, cols=2, subplot_titles=("kernel along one axis", "fit on the 1-D data"))
    t = sweep.offsets
    fig.add_trace(go.Scatter(x=t, y=sweep.base, name="base K", line={"color": _BASE, "dash": "dash"}), 1, 1)
    fig.add_trace(go.Scatter(x=t, y=sweep.profiles[(family, sd, D)], name="K_S", line={"color": _colour(0)}), 1, 1)
    x = sweep.train.X[:, 0]
    fig.add_trace(
        go.Scatter(x=x, y=sweep.train.y, mode="markers", name="training points", opacity=0.35,
                   marker={"color": "#999999", "size": 4}),
        1,
        2,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=sweep.grid, y=sweep.curves[(family, sd)], name="fit f̂", line={"color": _colour(1)}), 1, 2
    )
    fig.add_trace(go.Scatter(x=sweep.grid, y=sweep.f_grid, name="target f", line={"color": _BASE, "dash": "dot"}), 1, 2)
    fig.update_xaxes(title_text="offset t", row=1, col=1)
    fig.update_yaxes(title_text="K_S(t e₁)", rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title_text="x", row=1, col=2)
    fig.update_layout(title=_explorer_title(sweep, family, sd, D), template="plotly_white", height=420)
    return fig
