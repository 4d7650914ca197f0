"""Figures of the compression chapters: pruning (01), low-rank (02), distillation (03), quantization (04), R² (05)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import torch

from effdl.viz.general import label

# Pruning (chapter 01)


def layer_sparsity_bars(per_layer: Mapping[str, Mapping[str, float]], *, title: str | None = None) -> go.Figure:
    """Grouped bars of per-layer sparsity (%): ``{method: {layer name: sparsity in [0, 1]}}``, one colour per
    method (e.g. ``{"layer-wise": ..., "global": ...}``), layers on the x axis in the order first seen."""
    if not per_layer:
        raise ValueError("per_layer is empty: nothing to plot")
    fig = go.Figure()
    for method, values in per_layer.items():
        fig.add_trace(
            go.Bar(
                x=list(values),
                y=[100 * float(v) for v in values.values()],
                name=str(method),
                hovertemplate="%{x}: %{y:.1f}% zeros<extra>" + str(method) + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        title=title or "sparsity of each layer",
        xaxis_title="layer",
        yaxis_title="sparsity (% of the layer's weights)",
        yaxis_range=[0, 100],
        template="plotly_white",
        height=380,
    )
    return fig


def sensitivity_curves(scan: Mapping[str, Sequence[tuple[float, float]]], *, title: str | None = None) -> go.Figure:
    """One line per layer: test accuracy (%) against the sparsity (%) of that layer alone
    (``{layer: [(sparsity, accuracy in [0, 1]), ...]}``, as ``effdl.compress.prune.sensitivity_scan`` returns)."""
    if not scan:
        raise ValueError("scan is empty: nothing to plot")
    fig = go.Figure()
    for layer, points in scan.items():
        pts = sorted(points)
        fig.add_trace(
            go.Scatter(
                x=[100 * s for s, _ in pts],
                y=[100 * a for _, a in pts],
                mode="lines+markers",
                name=str(layer),
                hovertemplate=str(layer) + " at %{x:.0f}% sparsity: %{y:.2f}%<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or "sensitivity: accuracy when one layer alone is pruned",
        xaxis_title="sparsity of the layer (%)",
        yaxis_title=label("accuracy"),
        template="plotly_white",
        height=400,
    )
    return fig


def sparsity_tradeoff(
    curve: Sequence[tuple[float, float]],
    *,
    current: tuple[float, float] | None = None,
    sizes: Mapping[str, float] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Left: accuracy (%) against sparsity (%) from ``curve`` = ``[(sparsity, accuracy in [0, 1]), ...]``, with a
    marker at ``current`` = ``(sparsity, accuracy)``. Right (when ``sizes`` is given): storage in kB per format,
    e.g. ``{"dense": bits, "bitmask": bits, "csr": bits}``. Traces: 0 curve, 1 marker, 2 size bars."""
    from plotly.subplots import make_subplots

    pts = sorted(curve)
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.65, 0.35],
        subplot_titles=("accuracy against sparsity", "storage of the weights"),
    )
    fig.add_trace(
        go.Scatter(
            x=[100 * s for s, _ in pts],
            y=[100 * a for _, a in pts],
            mode="lines+markers",
            name="sweep",
            marker={"size": 5},
            hovertemplate="%{x:.0f}% sparse: %{y:.2f}%<extra></extra>",
        ),
        row=1,
        col=1,
    )
    cx, cy = ([100 * current[0]], [100 * current[1]]) if current is not None else ([], [])
    fig.add_trace(
        go.Scatter(
            x=cx,
            y=cy,
            mode="markers",
            name="current",
            marker={"size": 14, "color": "crimson", "symbol": "diamond"},
            hovertemplate="now: %{x:.0f}% sparse, %{y:.2f}%<extra></extra>",
        ),
        row=1,
        col=1,
    )
    names = list(sizes) if sizes else []
    fig.add_trace(
        go.Bar(
            x=names,
            y=[float(sizes[n]) / 8 / 1e3 for n in names] if sizes else [],
            name="size",
            marker={"color": ["grey", "steelblue", "darkorange", "seagreen"][: len(names)]},
            texttemplate="%{y:.0f} kB",
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f} kB<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(title_text="sparsity (% of the pruned weights)", range=[-2, 100], row=1, col=1)
    fig.update_yaxes(title_text=label("accuracy"), row=1, col=1)
    fig.update_yaxes(title_text="kB (32-bit values)", row=1, col=2)
    fig.update_layout(title=title, template="plotly_white", height=420, showlegend=False)
    return fig


def gradual_pruning_curves(history: Any, *, title: str | None = None) -> go.Figure:
    """The AGP run of ``effdl.compress.prune.gradual_prune``: the sparsity schedule (line, left axis, from
    ``history.schedule`` = ``[(step, sparsity)]``) and the test accuracy after each epoch (markers, right
    axis, ``history.val_accuracy``), against epochs (``history.steps`` steps over ``history.epoch``)."""
    from plotly.subplots import make_subplots

    epochs = list(history.epoch)
    per_epoch = history.steps / max(len(epochs), 1)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=[step / per_epoch for step, _ in history.schedule],
            y=[100 * s for _, s in history.schedule],
            mode="lines",
            line={"shape": "hv"},
            name="sparsity (schedule)",
        ),
        secondary_y=False,
    )
    if history.val_accuracy:
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=[100 * a for a in history.val_accuracy],
                mode="lines+markers",
                name="test accuracy",
            ),
            secondary_y=True,
        )
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="sparsity (%)", range=[0, 100], secondary_y=False)
    fig.update_yaxes(title_text=label("accuracy"), secondary_y=True)
    fig.update_layout(
        title=title or "gradual pruning (Zhu & Gupta): the cubic schedule and the accuracy",
        template="plotly_white",
        height=400,
    )
    return fig


def relative_bars(rows: Mapping[str, Mapping[str, float]], *, baseline: str, title: str | None = None) -> go.Figure:
    """Grouped bars of each model's metrics as ratios to ``baseline`` (a key of ``rows``):
    ``{model: {metric: value}}``, one group per metric (e.g. MACs, parameters, latency), one colour per model."""
    if baseline not in rows:
        raise ValueError(f"baseline {baseline!r} is not among the rows {list(rows)}")
    metrics = list(rows[baseline])
    fig = go.Figure()
    for model_name, values in rows.items():
        ratios = [float(values[m]) / float(rows[baseline][m]) for m in metrics]
        fig.add_trace(
            go.Bar(
                x=[label(m) for m in metrics],
                y=ratios,
                name=str(model_name),
                texttemplate="%{y:.2f}",
                textposition="outside",
            )
        )
    fig.update_layout(
        barmode="group",
        title=title or f"relative to {baseline} (1.0 = the same)",
        yaxis_title=f"× {baseline}",
        template="plotly_white",
        height=400,
    )
    return fig


# ----------------------------------------------------------------------------------------------------------
# Low-rank factorization (chapter 02)


def singular_value_spectra(spectra: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    """Two panels for ``spectra`` (name -> 1-D singular values, descending, e.g. ``lowrank.singular_values(layer)``).

    Left: normalized singular values ``σ_i / σ_1`` against the index i (log y). Right: retained energy
    ``sum(σ[:r]²) / sum(σ²)`` (%) against the rank as a fraction of the full rank k, so that layers of different
    sizes compare on one axis.
    """
    from plotly.subplots import make_subplots

    from effdl.compress.lowrank import retained_energy

    if not spectra:
        raise ValueError("spectra is empty: nothing to plot")
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("normalized singular values σᵢ / σ₁", "retained energy Σσ² up to rank r"),
        horizontal_spacing=0.1,
    )
    palette = px.colors.qualitative.Plotly
    for i, (name, values) in enumerate(spectra.items()):
        s = torch.as_tensor(values).detach().double().flatten()
        if s.numel() == 0:
            raise ValueError(f"spectra[{name!r}] is empty")
        k = s.numel()
        color = palette[i % len(palette)]
        norm = (s / s[0]).clamp_min(1e-12) if s[0] > 0 else torch.ones_like(s)
        fig.add_trace(
            go.Scatter(
                x=list(range(1, k + 1)),
                y=norm.tolist(),
                mode="lines",
                name=name,
                legendgroup=name,
                line={"color": color},
                hovertemplate="i = %{x}<br>σᵢ/σ₁ = %{y:.3g}<extra>" + name + "</extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[r / k for r in range(1, k + 1)],
                y=(100 * retained_energy(s)).tolist(),
                mode="lines",
                name=name,
                legendgroup=name,
                showlegend=False,
                line={"color": color},
                customdata=list(range(1, k + 1)),
                hovertemplate="rank %{customdata} (%{x:.0%} of full)<br>energy %{y:.1f}%<extra>" + name + "</extra>",
            ),
            row=1,
            col=2,
        )
    fig.update_yaxes(type="log", title_text="σᵢ / σ₁", row=1, col=1)
    fig.update_xaxes(title_text="index i", row=1, col=1)
    fig.update_yaxes(title_text="retained energy (%)", range=[0, 101], row=1, col=2)
    fig.update_xaxes(title_text="rank / full rank", tickformat=".0%", row=1, col=2)
    fig.update_layout(
        title=title or "singular-value spectra",
        template="plotly_white",
        height=470,
        legend={"orientation": "h", "y": -0.22},
        margin={"b": 110},
    )
    return fig


def rank_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    baseline: float | None = None,
    marker: tuple[float, float] | None = None,
    break_even: float | None = None,
    x_title: str = "rank",
    y_title: str = "test accuracy (%)",
    log_x: bool = False,
    title: str | None = None,
) -> go.Figure:
    """One line per entry of ``curves`` (name -> (ranks, values), e.g. accuracy in % against rank).

    ``baseline``: a dashed horizontal line (the unfactorized model); ``break_even``: a dotted vertical line at the
    rank above which the factorization stops saving parameters; ``marker``: one highlighted ``(rank, value)``
    point. The marker trace is always the last trace (empty when ``marker`` is None) so widgets can move it.
    """
    fig = go.Figure()
    all_x: list[float] = []
    for name, (xs, ys) in curves.items():
        xs, ys = [float(v) for v in xs], [float(v) for v in ys]
        if len(xs) != len(ys):
            raise ValueError(f"curves[{name!r}] has {len(xs)} ranks but {len(ys)} values")
        all_x += xs
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=name))
    if baseline is not None and all_x:
        fig.add_trace(
            go.Scatter(
                x=[min(all_x), max(all_x)],
                y=[baseline, baseline],
                mode="lines",
                line={"dash": "dash", "color": "grey"},
                name=f"unfactorized ({baseline:.4g})",
                hoverinfo="skip",
            )
        )
    if break_even is not None:
        fig.add_vline(
            x=break_even,
            line={"dash": "dot", "color": "firebrick"},
            annotation_text="break-even",
            annotation_position="top left",
        )
    mx, my = ([marker[0]], [marker[1]]) if marker is not None else ([], [])
    fig.add_trace(
        go.Scatter(x=mx, y=my, mode="markers", marker={"size": 14, "color": "crimson", "symbol": "diamond"}, name="now")
    )
    fig.update_layout(
        title=title or f"{y_title} against {x_title}",
        xaxis_title=x_title,
        yaxis_title=y_title,
        xaxis_type="log" if log_x else "linear",
        template="plotly_white",
        height=420,
    )
    return fig


# ----------------------------------------------------------------------------------------------------------
# Distillation (chapter 03)


def soft_targets_bars(
    probs: Mapping[str, Sequence[float]], *, classes: Sequence[str] | None = None, title: str | None = None
) -> go.Figure:
    """Grouped bars of probability distributions over the same classes, one colour per entry of ``probs``.

    ``probs``: e.g. ``{"T = 1": p1, "T = 4": p4}`` with each ``p`` a length-C sequence (or tensor) of probabilities
    in [0, 1]; shown in %. ``classes``: the C bar labels (default ``"0"`` … ``"C-1"``).
    """
    if not probs:
        raise ValueError("probs is empty: nothing to plot")
    rows = {name: [float(v) for v in (p.tolist() if hasattr(p, "tolist") else p)] for name, p in probs.items()}
    sizes = {len(v) for v in rows.values()}
    if len(sizes) != 1:
        raise ValueError(f"every distribution must have the same number of classes, got sizes {sorted(sizes)}")
    n = sizes.pop()
    names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"classes has {len(names)} labels for {n} probabilities")
    fig = go.Figure()
    for name, p in rows.items():
        fig.add_trace(
            go.Bar(
                x=names,
                y=[100 * v for v in p],
                name=name,
                hovertemplate="class %{x}: %{y:.2f}%<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        title=title or "softened probabilities",
        xaxis_title="class",
        yaxis_title="probability (%)",
        barmode="group",
        template="plotly_white",
        height=380,
    )
    return fig


def distill_sweep_heatmap(
    rows: Sequence[Mapping[str, Any]],
    *,
    baseline: float | None = None,
    marker: tuple[float, float] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Heatmap of a temperature × alpha sweep: ``rows`` are dicts with ``T``, ``alpha`` and ``accuracy`` (in %).

    With ``baseline`` (the student alone, in %) the colours and labels show the gain in points over it (diverging
    colours around 0); otherwise the accuracy. ``marker=(T, alpha)`` circles one cell (last trace: widgets move it).
    """
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    for key in ("T", "alpha", "accuracy"):
        missing = [i for i, r in enumerate(rows) if key not in r]
        if missing:
            raise ValueError(f"rows {missing} have no {key!r}; each row needs T, alpha and accuracy")
    temps = sorted({float(r["T"]) for r in rows})
    alphas = sorted({float(r["alpha"]) for r in rows})
    xs, ys = [f"{t:g}" for t in temps], [f"{a:g}" for a in alphas]
    grid: list[list[float | None]] = [[None] * len(temps) for _ in alphas]
    for r in rows:
        v = float(r["accuracy"]) - (baseline if baseline is not None else 0.0)
        grid[alphas.index(float(r["alpha"]))][temps.index(float(r["T"]))] = v
    fmt = "{:+.2f}" if baseline is not None else "{:.2f}"
    text = [["" if v is None else fmt.format(v) for v in row] for row in grid]
    what = "gain over the student alone (points)" if baseline is not None else "test accuracy (%)"
    heat = go.Heatmap(
        x=xs,
        y=ys,
        z=grid,
        text=text,
        texttemplate="%{text}",
        colorscale="RdBu" if baseline is not None else "Viridis",
        zmid=0.0 if baseline is not None else None,
        colorbar={"title": {"text": "points" if baseline is not None else "%"}},
        hovertemplate="T = %{x}, α = %{y}<br>" + what + ": %{text}<extra></extra>",
    )
    mx, my = ([f"{float(marker[0]):g}"], [f"{float(marker[1]):g}"]) if marker is not None else ([], [])
    mark = go.Scatter(
        x=mx,
        y=my,
        mode="markers",
        marker={"symbol": "circle-open", "size": 38, "color": "black", "line": {"width": 3}},
        name="selected",
        hoverinfo="skip",
        showlegend=False,
    )
    fig = go.Figure([heat, mark])
    fig.update_layout(
        title=title or f"distilled student: {what}",
        xaxis={"title": "temperature T", "type": "category"},
        yaxis={"title": "α (weight of the teacher's soft targets)", "type": "category"},
        template="plotly_white",
        height=380,
    )
    return fig


def seed_bars(
    groups: Mapping[str, Sequence[float]], *, ylabel: str = "test accuracy (%)", title: str | None = None
) -> go.Figure:
    """One bar per group at the mean of its values, with every value (one per seed) drawn as a point on it.

    ``groups``: e.g. ``{"student alone": [83.8, 83.4, 83.3], "distilled": [85.4, 86.4, 85.7]}``. The y axis starts
    near the smallest value (not at 0) so that differences of a point stay visible; the title says so.
    """
    if not groups or any(len(v) == 0 for v in groups.values()):
        raise ValueError("groups must map each name to at least one value")
    names = list(groups)
    vals = {k: [float(v) for v in vs] for k, vs in groups.items()}
    means = [sum(v) / len(v) for v in vals.values()]
    ticks = [f"{k}<br>mean {m:.2f}" for k, m in zip(names, means, strict=True)]  # bar text would hide the points
    fig = go.Figure(
        go.Bar(
            x=ticks,
            y=means,
            marker={"color": px.colors.qualitative.Plotly[: len(names)], "opacity": 0.7},
            name="mean",
            hovertemplate="%{x}: mean %{y:.2f}<extra></extra>",
        )
    )
    n_points = max(len(v) for v in vals.values())
    for i in range(n_points):  # one trace per run index: hovering a point names its run
        fig.add_trace(
            go.Scatter(
                x=[t for t, k in zip(ticks, names, strict=True) if i < len(vals[k])],
                y=[vals[k][i] for k in names if i < len(vals[k])],
                mode="markers",
                marker={"size": 11, "color": "black", "symbol": "diamond-open", "line": {"width": 2}},
                name="each run",
                showlegend=i == 0,
                legendgroup="runs",
                hovertemplate="%{x}: %{y:.2f}<extra>run " + str(i) + "</extra>",
            )
        )
    lo = min(min(v) for v in vals.values())
    hi = max(max(v) for v in vals.values())
    pad = max(0.5, 0.3 * (hi - lo))
    fig.update_layout(
        title=title or f"{ylabel}: mean over runs (bars) and each run (points); axis does not start at 0",
        yaxis={"title": ylabel, "range": [lo - pad, hi + pad]},
        template="plotly_white",
        height=400,
    )
    return fig


# ----------------------------------------------------------------------------------------------------------
# Quantization (chapter 04)


def bits_accuracy_curves(
    curves: Mapping[str, Mapping[int, float]],
    *,
    baseline: float | None = None,
    baseline_name: str = "fp32",
    ylabel: str | None = None,
    log_y: bool = False,
    title: str | None = None,
) -> go.Figure:
    """A metric against bit-width, one line per method: ``{method: {bits: value}}`` (default: test accuracy in %);
    the x axis runs from many bits to few (left to right), and ``baseline`` (e.g. the fp32 accuracy) is a dotted
    horizontal line. ``ylabel`` names another metric (e.g. an error), ``log_y`` puts it on a log scale."""
    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    fig = go.Figure()
    all_bits: set[int] = set()
    for name, points in curves.items():
        bits = sorted(points, reverse=True)
        all_bits.update(bits)
        fig.add_trace(
            go.Scatter(
                x=[str(b) for b in bits],
                y=[float(points[b]) for b in bits],
                mode="lines+markers",
                name=str(name),
                hovertemplate=f"{name}<br>%{{x}} bits: %{{y:.4g}}<extra></extra>",
            )
        )
    order = [str(b) for b in sorted(all_bits, reverse=True)]
    if baseline is not None:
        fig.add_hline(
            y=float(baseline),
            line_dash="dot",
            line_color="gray",
            annotation_text=f"{baseline_name} {baseline:.4g}",
            annotation_position="bottom left",
        )
    fig.update_layout(
        title=title or f"{ylabel or 'test accuracy'} against bit-width",
        xaxis={"title": "bits per weight", "type": "category", "categoryorder": "array", "categoryarray": order},
        yaxis={"title": ylabel or label("accuracy"), "type": "log" if log_y else "linear"},
        template="plotly_white",
        height=420,
    )
    return fig


def _hist(values: torch.Tensor, lo: float, hi: float, bins: int) -> tuple[list[float], list[int], float]:
    """Bin centres, counts and bin width of ``values`` over ``[lo, hi]`` (computed here: a figure then carries
    ``bins`` bars instead of every value, so a live widget sends kilobytes, not megabytes, per update)."""
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(values.double(), bins=bins, min=lo, max=hi)
    width = (hi - lo) / bins
    centres = [lo + (i + 0.5) * width for i in range(bins)]
    return centres, [int(c) for c in counts.tolist()], width


def quant_histograms(
    weight: torch.Tensor,
    quantized: torch.Tensor,
    *,
    bins: int = 120,
    title: str | None = None,
) -> go.Figure:
    """Two panels for one layer: the float weights with their quantized values overlaid (the spikes are the
    quantization levels), and the error ``quantized − weight``. ``weight`` and ``quantized``: tensors of the same
    shape (any). Histograms are binned here (``bins`` bars per trace, shared edges for float and quantized)."""
    from plotly.subplots import make_subplots

    if weight.shape != quantized.shape:
        raise ValueError(
            f"weight and quantized must have the same shape, got {tuple(weight.shape)} and {tuple(quantized.shape)}"
        )
    w = weight.detach().float().flatten()
    q = quantized.detach().float().flatten()
    err = q - w
    lo, hi = float(torch.minimum(w.min(), q.min())), float(torch.maximum(w.max(), q.max()))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("weights: float and quantized", "error (quantized − float)"))
    for values, name, colour in ((w, "float", "#636efa"), (q, "quantized", "#ef553b")):
        x, y, width = _hist(values, lo, hi, bins)
        fig.add_trace(go.Bar(x=x, y=y, width=width, name=name, opacity=0.6, marker_color=colour), row=1, col=1)
    e_lo, e_hi = float(err.min()), float(err.max())
    x, y, width = _hist(err, e_lo, e_hi, bins)
    fig.add_trace(go.Bar(x=x, y=y, width=width, name="error", marker_color="#d62728"), row=1, col=2)
    rmse = float(err.pow(2).mean().sqrt())
    fig.update_layout(
        title=title or f"{w.numel():,} weights; RMS error {rmse:.2e}, max |error| {float(err.abs().max()):.2e}",
        barmode="overlay",
        bargap=0,
        template="plotly_white",
        height=380,
    )
    fig.update_xaxes(title_text="weight value", row=1, col=1)
    fig.update_xaxes(title_text="error", row=1, col=2)
    fig.update_yaxes(title_text="count", row=1, col=1)
    return fig


# ----------------------------------------------------------------------------------------------------------
# Range regularization (chapter 05)


def weight_histograms(
    weights: Mapping[str, torch.Tensor],
    *,
    standardize: bool = True,
    bins: int = 80,
    log_y: bool = True,
    title: str | None = None,
) -> go.Figure:
    """One layer's weight distribution under several trainings, overlaid: ``{name: weight tensor}`` (any shapes).

    With ``standardize`` (default) each tensor is divided by its own standard deviation, so the x axis reads "how
    many standard deviations out" and distributions of different scales compare; each trace's name carries its
    ``max|w| / std``. The y axis is the share of the layer's weights per bin in % (log scale by default, so that
    a handful of outliers in the tails stays visible). Histograms are binned here over a common range.
    """
    if not weights:
        raise ValueError("weights is empty: nothing to plot")
    values: dict[str, torch.Tensor] = {}
    for name, w in weights.items():
        flat = torch.as_tensor(w).detach().float().flatten()
        if flat.numel() < 2:
            raise ValueError(f"weights[{name!r}] needs at least 2 values, got {flat.numel()}")
        std = float(flat.std())
        values[name] = flat / std if standardize and std > 0 else flat
    lo = min(float(v.min()) for v in values.values())
    hi = max(float(v.max()) for v in values.values())
    fig = go.Figure()
    for name, v in values.items():
        x, counts, _ = _hist(v, lo, hi, bins)
        share = [100 * c / v.numel() for c in counts]
        ratio = float(v.abs().max() / v.std())
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[s if s > 0 else None for s in share],
                mode="lines",
                line={"shape": "hvh", "width": 2},
                name=f"{name} (max|w|/std {ratio:.2f})",
                connectgaps=False,
                hovertemplate=f"{name}<br>%{{x:.2f}}: %{{y:.3g}}% of the weights<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or "weight distribution" + (" (in standard deviations)" if standardize else ""),
        xaxis_title="weight / std(weight)" if standardize else "weight value",
        yaxis={"title": "share of weights per bin (%)", "type": "log" if log_y else "linear"},
        template="plotly_white",
        height=380,
    )
    return fig


def range_ratio_bars(ratios: Mapping[str, Mapping[str, float]], *, title: str | None = None) -> go.Figure:
    """``max|W| / std(W)`` per layer, one group of bars per layer and one colour per training:
    ``{name: {layer: ratio}}`` (e.g. ``effdl.compress.range_reg.range_ratio`` of each model).

    A dotted line marks √3 ≈ 1.73, the ratio of a uniform distribution (a Gaussian of a few thousand weights sits
    near 3–4); a ratio below it means the weights pile up at the edges of their range.
    """
    if not ratios or any(not r for r in ratios.values()):
        raise ValueError("ratios must map each name to a non-empty {layer: ratio}")
    layers = list(next(iter(ratios.values())))
    fig = go.Figure()
    for name, per_layer in ratios.items():
        missing = [n for n in layers if n not in per_layer]
        if missing:
            raise ValueError(f"ratios[{name!r}] has no value for layers {missing}")
        fig.add_trace(
            go.Bar(
                x=layers,
                y=[float(per_layer[n]) for n in layers],
                name=str(name),
                hovertemplate=f"{name}<br>%{{x}}: %{{y:.2f}}<extra></extra>",
            )
        )
    fig.add_hline(
        y=3**0.5, line_dash="dot", line_color="gray", annotation_text="uniform: √3", annotation_position="top left"
    )
    fig.update_layout(
        title=title or "outlier measure max|W| / std(W) per layer",
        xaxis_title="layer",
        yaxis_title="max|W| / std(W)",
        barmode="group",
        template="plotly_white",
        height=400,
    )
    return fig


def grouped_seed_bars(
    groups: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    ylabel: str = "test accuracy (%)",
    title: str | None = None,
) -> go.Figure:
    """Grouped bars with every run shown: ``{category: {series: [one value per seed]}}``, e.g.
    ``{"PTQ 2-bit": {"baseline": [28.5, 25.0], "L∞": [68.9, 50.3]}}``. Each bar is the mean of its values; the
    values themselves are black points on it (hover names the seed index). The axis starts at 0."""
    if not groups:
        raise ValueError("groups is empty: nothing to plot")
    categories = list(groups)
    series: list[str] = []
    for cat, by_series in groups.items():
        if not by_series or any(len(v) == 0 for v in by_series.values()):
            raise ValueError(f"groups[{cat!r}] must map each series to at least one value")
        series += [s for s in by_series if s not in series]
    colours = px.colors.qualitative.Plotly
    fig = go.Figure()
    for i, name in enumerate(series):
        cats = [c for c in categories if name in groups[c]]
        vals = [[float(v) for v in groups[c][name]] for c in cats]
        colour = colours[i % len(colours)]
        fig.add_trace(
            go.Bar(
                x=cats,
                y=[sum(v) / len(v) for v in vals],
                name=str(name),
                marker_color=colour,
                offsetgroup=str(i),
                hovertemplate=f"{name}<br>%{{x}}: mean %{{y:.2f}}<extra></extra>",
            )
        )
        xs = [c for c, v in zip(cats, vals, strict=True) for _ in v]
        ys = [x for v in vals for x in v]
        runs = [str(j) for v in vals for j in range(len(v))]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers",
                marker={"color": "black", "size": 7, "symbol": "diamond-open"},
                offsetgroup=str(i),
                name="each run",
                legendgroup="runs",
                showlegend=i == 0,
                customdata=runs,
                hovertemplate=f"{name}<br>%{{x}}: %{{y:.2f}} (run %{{customdata}})<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or f"{ylabel}: mean over runs (bars) and each run (points)",
        yaxis_title=ylabel,
        barmode="group",
        scattermode="group",
        template="plotly_white",
        height=430,
    )
    return fig


def trajectory_curves(
    history: Any,
    layers: Sequence[str],
    *,
    relative: bool = True,
    ylabel: str = "hardness α",
    title: str | None = None,
) -> go.Figure:
    """A learned per-layer value over training, one line per layer: ``history`` ``(steps, len(layers))`` (a tensor
    or nested list, e.g. ``SoftMinMaxRegularizer.history``: α used at each step). ``relative`` plots the change
    since the first step, ``value − value[0]``, so that small moves show; hover gives the value itself."""
    h = torch.as_tensor(history, dtype=torch.float64)
    if h.ndim != 2 or h.shape[0] == 0:
        raise ValueError(f"history must be (steps, layers) with at least one step, got shape {tuple(h.shape)}")
    if len(layers) != h.shape[1]:
        raise ValueError(f"layers must name the {h.shape[1]} columns of history, got {len(layers)} names")
    steps = list(range(1, h.shape[0] + 1))
    fig = go.Figure()
    for j, name in enumerate(layers):
        col = h[:, j]
        y = (col - col[0]) if relative else col
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=y.tolist(),
                mode="lines",
                name=str(name),
                customdata=col.tolist(),
                hovertemplate=f"{name}<br>step %{{x}}: {ylabel} %{{customdata:.6g}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or f"{ylabel} per layer during training",
        xaxis_title="training step",
        yaxis_title=f"{ylabel} − its initial value" if relative else ylabel,
        template="plotly_white",
        height=400,
    )
    return fig
