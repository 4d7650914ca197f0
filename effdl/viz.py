"""Plotly figure builders: pure functions, data in, ``go.Figure`` out (widgets.py makes them live)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import torch

from effdl.core.footprint import pareto_front

__all__ = [
    "EDRAM_COLORS",
    "LZSS_COLORS",
    "METRIC_LABELS",
    "SCALING_METHODS",
    "activation_memory_curves",
    "bits_accuracy_curves",
    "codec_comparison",
    "codesign_front",
    "codesign_scatter",
    "compression_robustness",
    "distill_sweep_heatmap",
    "energy_bars",
    "gradual_pruning_curves",
    "grouped_seed_bars",
    "image_grid",
    "label",
    "latency_box",
    "layer_sparsity_bars",
    "lifetime_chart",
    "lm_curves",
    "lzss_chunk_ratios",
    "lzss_pipeline",
    "lzss_reach",
    "lzss_sweep_curves",
    "lzss_tokens",
    "pareto_scatter",
    "quant_histograms",
    "range_ratio_bars",
    "rank_curves",
    "relative_bars",
    "retention_curve",
    "seed_bars",
    "sensitivity_curves",
    "singular_value_spectra",
    "size_loss_scatter",
    "soft_targets_bars",
    "sparsity_tradeoff",
    "training_curves",
    "trajectory_curves",
    "weight_histograms",
]

# Axis titles with units for the metrics the workbench records.
METRIC_LABELS: dict[str, str] = {
    "accuracy": "test accuracy (%)",
    "params": "parameters",
    "nonzero": "non-zero parameters",
    "size_mb": "size on disk (MB)",
    "bits": "size (bits)",
    "flops": "FLOPs per sample",
    "macs": "MACs per sample",
    "bops": "bit operations per sample",
    "latency_ms": "latency per batch (ms)",
    "val_accuracy": "validation accuracy (%)",
    "train_loss": "training loss",
    "val_loss": "validation loss",
}

# Lower is better for every cost; higher is better for these.
_HIGHER_IS_BETTER = {"accuracy", "val_accuracy", "train_accuracy"}


def label(metric: str) -> str:
    """A readable axis title for a metric name."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def pareto_scatter(
    points: Sequence[Mapping[str, Any]],
    *,
    x: str,
    y: str,
    name: str = "name",
    log_x: bool = False,
    title: str | None = None,
) -> go.Figure:
    """Scatter of ``points`` (dicts with keys ``name``, ``x`` and ``y``) with the Pareto frontier drawn as a line.

    Costs (size, FLOPs, latency) are minimized and ``accuracy`` maximized when finding the frontier.
    """
    if not points:
        raise ValueError("points is empty: nothing to plot")
    for key in (x, y, name):
        missing = [i for i, p in enumerate(points) if key not in p]
        if missing:
            raise ValueError(f"points {missing} have no {key!r}; available keys: {sorted(points[0])}")
    xs = [float(p[x]) for p in points]
    ys = [float(p[y]) for p in points]
    names = [str(p[name]) for p in points]
    front = pareto_front(list(zip(xs, ys, strict=True)), maximize=(x in _HIGHER_IS_BETTER, y in _HIGHER_IS_BETTER))
    front = sorted(front, key=lambda i: xs[i])

    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[xs[i] for i in front],
            y=[ys[i] for i in front],
            mode="lines",
            line={"dash": "dot", "color": "grey"},
            name="Pareto frontier",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers+text",
            text=names,
            textposition="top center",
            marker={"size": 12, "color": list(range(len(xs))), "colorscale": "Viridis"},
            name="models",
            hovertemplate="%{text}<br>" + label(x) + ": %{x:.4g}<br>" + label(y) + ": %{y:.4g}<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or f"{label(y)} against {label(x)}",
        xaxis_title=label(x),
        yaxis_title=label(y),
        xaxis_type="log" if log_x else "linear",
        template="plotly_white",
        height=450,
        showlegend=True,
    )
    return fig


def training_curves(
    histories: Mapping[str, Any], *, metric: str = "val_accuracy", title: str | None = None
) -> go.Figure:
    """One line per model: ``metric`` (a :class:`effdl.core.train.History` field) against epoch."""
    fig = go.Figure()
    for model_name, hist in histories.items():
        values = list(getattr(hist, metric))
        if metric.endswith("accuracy"):
            values = [100 * v for v in values]
        fig.add_trace(go.Scatter(x=list(hist.epoch), y=values, mode="lines+markers", name=model_name))
    fig.update_layout(
        title=title or f"{label(metric)} during training",
        xaxis_title="epoch",
        yaxis_title=label(metric),
        template="plotly_white",
        height=380,
    )
    return fig


def image_grid(
    images: torch.Tensor, labels: Sequence[int] | torch.Tensor | None = None, *, columns: int = 8, title: str = ""
) -> go.Figure:
    """Show ``images`` (N, C, H, W) — standardized or not, each rescaled to its own range — as a grid of tiles."""
    if images.dim() != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images must be (N, 1 or 3, H, W), got shape {tuple(images.shape)}")
    x = images.detach().float().cpu()
    lo = x.amin(dim=(1, 2, 3), keepdim=True)
    hi = x.amax(dim=(1, 2, 3), keepdim=True)
    x = ((x - lo) / (hi - lo).clamp_min(1e-8) * 255).to(torch.uint8)
    arr = x[:, 0].numpy() if x.shape[1] == 1 else x.permute(0, 2, 3, 1).numpy()
    fig = px.imshow(arr, facet_col=0, facet_col_wrap=columns, binary_string=True, facet_col_spacing=0.01)
    names = [str(int(v)) for v in labels] if labels is not None else [str(i) for i in range(len(arr))]
    for ann in fig.layout.annotations:  # facet titles read "facet_col=7": show the label instead
        ann.text = names[int(ann.text.split("=")[1])]
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    rows = -(-len(arr) // columns)
    fig.update_layout(title=title, height=90 * rows + 60, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def latency_box(latencies: Mapping[str, Any], *, title: str | None = None) -> go.Figure:
    """Box plot of every timed run per model (``Latency.samples_ms``): the spread that a single number hides."""
    fig = go.Figure()
    for model_name, lat in latencies.items():
        fig.add_trace(go.Box(y=list(lat.samples_ms), name=model_name, boxpoints="all", jitter=0.4, pointpos=0))
    first = next(iter(latencies.values()))
    fig.update_layout(
        title=title or f"latency of one batch of {first.batch_size} ({first.threads} threads, {first.device})",
        yaxis_title="milliseconds per batch",
        template="plotly_white",
        height=400,
        showlegend=False,
    )
    return fig


# ----------------------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------------------
# Train large, then compress (chapter 07)

_LM_AXES = {
    "step": "optimizer steps",
    "seconds": "training wall-clock (s)",
    "flops": "training FLOPs (measured)",
}


def _field(obj: Any, key: str) -> list[float]:
    value = obj[key] if isinstance(obj, Mapping) else getattr(obj, key)
    return [float(v) for v in value]


def lm_curves(
    curves: Mapping[str, Any],
    *,
    x: str = "step",
    baseline: float | None = None,
    target: float | None = None,
    log_x: bool | None = None,
    title: str | None = None,
) -> go.Figure:
    """Validation loss (bits/char) of several language models against ``x``: ``"step"``, ``"seconds"`` (training
    wall-clock) or ``"flops"`` (cumulative training FLOPs, log axis by default). ``curves``: name -> an
    ``effdl.compress.scaling.LMCurve`` (or a dict with ``step``, ``seconds``, ``flops`` and ``val_bpc`` lists).
    ``baseline`` (e.g. the unigram entropy) is a dotted line, ``target`` (e.g. the smallest model's final loss)
    a dashed one. Step 0 (the untrained model) is left out on a log axis."""
    if x not in _LM_AXES:
        raise ValueError(f"x must be one of {', '.join(repr(a) for a in _LM_AXES)}, got {x!r}")
    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    log = (x == "flops") if log_x is None else bool(log_x)
    fig = go.Figure()
    for name, curve in curves.items():
        xs, ys = _field(curve, x), _field(curve, "val_bpc")
        if log:
            xs, ys = [a for a in xs if a > 0], [b for a, b in zip(xs, ys, strict=True) if a > 0]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                marker={"size": 4},
                name=str(name),
                hovertemplate=f"{name}<br>{_LM_AXES[x]}: %{{x:.4g}}<br>val loss: %{{y:.3f}} bits/char<extra></extra>",
            )
        )
    if baseline is not None:
        fig.add_hline(
            y=float(baseline),
            line_dash="dot",
            line_color="gray",
            annotation_text=f"unigram entropy {baseline:.2f}",
            annotation_position="top right",
        )
    if target is not None:
        fig.add_hline(
            y=float(target),
            line_dash="dash",
            line_color="black",
            annotation_text=f"target {target:.3f}",
            annotation_position="bottom right",
        )
    fig.update_layout(
        title=title or f"validation loss against {_LM_AXES[x]}",
        xaxis={"title": _LM_AXES[x], "type": "log" if log else "linear"},
        yaxis_title="validation loss (bits/char)",
        template="plotly_white",
        height=400,
    )
    return fig


def compression_robustness(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Relative loss increase (%) against compression, one line per model, two panels: magnitude pruning (x =
    sparsity %) and post-training quantization (x = bits per weight, many to few). ``rows``:
    ``effdl.compress.scaling.compress_curve`` rows (``name``, ``method``, ``sparsity``, ``bits``,
    ``rel_increase``); each model's fp32 row (0%) starts both lines."""
    from plotly.subplots import make_subplots

    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    need = ("name", "method", "sparsity", "bits", "rel_increase")
    for i, r in enumerate(rows):
        missing = [k for k in need if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; compress_curve rows have {list(need)}")
    fig = make_subplots(rows=1, cols=2, subplot_titles=("magnitude pruning", "post-training quantization"))
    colours = px.colors.qualitative.Plotly
    names = list(dict.fromkeys(str(r["name"]) for r in rows))
    all_bits: set[int] = set()
    for i, name in enumerate(names):
        mine = [r for r in rows if str(r["name"]) == name]
        colour = colours[i % len(colours)]
        pr = sorted(
            (float(r["sparsity"]), 100 * float(r["rel_increase"])) for r in mine if r["method"] in ("none", "prune")
        )
        qu = sorted(
            ((int(r["bits"]), 100 * float(r["rel_increase"])) for r in mine if r["method"] in ("none", "quant")),
            reverse=True,
        )
        all_bits.update(b for b, _ in qu)
        fig.add_trace(
            go.Scatter(
                x=[100 * s for s, _ in pr],
                y=[v for _, v in pr],
                mode="lines+markers",
                name=name,
                legendgroup=name,
                line={"color": colour},
                hovertemplate=f"{name}<br>%{{x:.0f}}% pruned: %{{y:+.2f}}%<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=[str(b) for b, _ in qu],
                y=[v for _, v in qu],
                mode="lines+markers",
                name=name,
                legendgroup=name,
                showlegend=False,
                line={"color": colour},
                hovertemplate=f"{name}<br>%{{x}} bits: %{{y:+.2f}}%<extra></extra>",
            ),
            row=1,
            col=2,
        )
    order = [str(b) for b in sorted(all_bits, reverse=True)]
    fig.update_xaxes(title_text="sparsity of the compressed layers (%)", row=1, col=1)
    fig.update_xaxes(
        title_text="bits per weight", type="category", categoryorder="array", categoryarray=order, row=1, col=2
    )
    fig.update_yaxes(title_text="validation loss increase (%)", row=1, col=1)
    fig.update_layout(
        title=title or "robustness to compression: relative increase of the validation loss (lower is more robust)",
        template="plotly_white",
        height=420,
    )
    return fig


SCALING_METHODS: dict[str, tuple[str, ...]] = {
    "any": ("none", "prune", "quant", "prune+quant"),
    "prune": ("none", "prune"),
    "quant": ("none", "quant"),
    "prune+quant": ("none", "prune+quant"),
}


def size_loss_scatter(
    rows: Sequence[Mapping[str, Any]],
    *,
    method: str = "any",
    budget_bits: float | None = None,
    best: Sequence[Mapping[str, Any]] = (),
    title: str | None = None,
) -> go.Figure:
    """The headline plot of "train large, then compress": validation loss (bits/char) against compressed size
    (kbit, log axis), one marker trace per model, for the rows of one compression ``method`` (``"any"``,
    ``"prune"``, ``"quant"``, ``"prune+quant"``; the fp32 rows are always shown). ``rows``:
    ``effdl.compress.scaling.compress_curve`` rows of several models.

    Trace order (widgets update them in place): one per model, then the Pareto frontier of the shown points, then
    the size budget (a vertical line at ``budget_bits``, empty if None), then ``best`` (rows drawn as stars)."""
    if method not in SCALING_METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in SCALING_METHODS)}, got {method!r}")
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    need = ("name", "method", "label", "size_bits", "val_bpc")
    for i, r in enumerate(rows):
        missing = [k for k in need if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; compress_curve rows have {list(need)}")
    shown = [r for r in rows if r["method"] in SCALING_METHODS[method]]
    names = list(dict.fromkeys(str(r["name"]) for r in rows))
    fig = go.Figure()
    for name in names:
        mine = sorted((r for r in shown if str(r["name"]) == name), key=lambda r: float(r["size_bits"]))
        fig.add_trace(
            go.Scatter(
                x=[float(r["size_bits"]) / 1e3 for r in mine],
                y=[float(r["val_bpc"]) for r in mine],
                text=[str(r["label"]) for r in mine],
                mode="markers",
                marker={"size": 9, "opacity": 0.8},
                name=name,
                hovertemplate=f"{name}, %{{text}}<br>%{{x:,.0f}} kbit<br>%{{y:.3f}} bits/char<extra></extra>",
            )
        )
    keep = pareto_front([(float(r["size_bits"]), float(r["val_bpc"])) for r in shown], maximize=(False, False))
    front = [shown[i] for i in keep]
    fig.add_trace(
        go.Scatter(
            x=[float(r["size_bits"]) / 1e3 for r in front],
            y=[float(r["val_bpc"]) for r in front],
            mode="lines",
            line={"color": "gray", "dash": "dot", "shape": "hv"},
            name="best at each size",
            hoverinfo="skip",
        )
    )
    ys = [float(r["val_bpc"]) for r in rows]
    lo, hi = min(ys), max(ys)
    bx = [budget_bits / 1e3] * 2 if budget_bits is not None else []
    fig.add_trace(
        go.Scatter(
            x=bx,
            y=[lo, hi] if bx else [],
            mode="lines",
            line={"color": "crimson", "width": 2},
            name="size budget",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[float(r["size_bits"]) / 1e3 for r in best],
            y=[float(r["val_bpc"]) for r in best],
            text=[f"{r['name']}, {r['label']}" for r in best],
            mode="markers",
            marker={"symbol": "star", "size": 18, "color": "gold", "line": {"width": 1, "color": "black"}},
            name="best under the budget",
            hovertemplate="%{text}<br>%{x:,.0f} kbit<br>%{y:.3f} bits/char<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or "validation loss against compressed size: every model, every compression level",
        xaxis={"title": "compressed size (kbit, log scale)", "type": "log"},
        yaxis_title="validation loss (bits/char)",
        template="plotly_white",
        height=460,
    )
    return fig


# ----------------------------------------------------------------------------------------------------------
# LZSS for multi-byte data (chapter 09)

LZSS_COLORS: dict[str, str] = {"literal": "#636efa", "match": "#ef553b", "stored": "#b0b0b0"}


def lzss_tokens(
    symbols: Sequence[Any], tokens: Sequence[Any], *, per_row: int = 16, title: str | None = None
) -> go.Figure:
    """An LZSS parse drawn symbol by symbol: one cell per input symbol (its value written in it), coloured by the
    kind of the token that covers it — literal, match or stored — with each match labelled ``length×, −offset`` in
    its first cell and an arrow from there back to where its copy starts. ``tokens``:
    :func:`effdl.hardware.lzss.parse`'s list (``chunk, symbol, kind, length, offset``); ``symbols``: the input's
    symbol values (e.g. ``codes.tolist()``), ``per_row`` cells per row.

    Cells are rectangle shapes; traces: one text trace per kind present (literal, match, stored order; its x/y are
    the cells' centres, hover names the token), then one legend swatch per kind."""
    if not isinstance(per_row, int) or per_row < 1:
        raise ValueError(f"per_row must be an int ≥ 1, got {per_row!r}")
    values = list(symbols)
    covered = sum(int(t.length) for t in tokens)
    if covered != len(values):
        raise ValueError(f"tokens cover {covered} symbols but symbols has {len(values)}")
    row_gap = 1.3  # rows are 1.3 units apart: room for the arrows above each row
    kind_of, info, label = [""] * len(values), [""] * len(values), [""] * len(values)
    for i, t in enumerate(tokens):
        for j in range(int(t.symbol), int(t.symbol) + int(t.length)):
            kind_of[j] = t.kind
            what = f"match: copy {t.length} from {t.offset} back" if t.kind == "match" else t.kind
            info[j] = f"token {i} (chunk {t.chunk}): {what}"
        if t.kind == "match":
            label[int(t.symbol)] = f"<br><span style='font-size:9px'>{t.length}×, −{t.offset}</span>"
    pos = [(i % per_row, -row_gap * (i // per_row)) for i in range(len(values))]
    fig = go.Figure()
    for (x, y), kind in zip(pos, kind_of, strict=True):
        fig.add_shape(
            type="rect",
            x0=x - 0.46,
            x1=x + 0.46,
            y0=y - 0.4,
            y1=y + 0.4,
            fillcolor=LZSS_COLORS[kind],
            line={"width": 0},
            opacity=0.9,
            layer="below",
        )
    for t in tokens:  # each token outlined, one box per row it spans
        first, last = int(t.symbol), int(t.symbol) + int(t.length) - 1
        for r in range(first // per_row, last // per_row + 1):
            a, b = max(first, r * per_row) % per_row, min(last, (r + 1) * per_row - 1) % per_row
            fig.add_shape(
                type="rect",
                x0=a - 0.49,
                x1=b + 0.49,
                y0=-row_gap * r - 0.43,
                y1=-row_gap * r + 0.43,
                line={"color": "#333", "width": 1.5},
                fillcolor="rgba(0,0,0,0)",
            )
    present = [k for k in ("literal", "match", "stored") if k in kind_of]
    for kind in present:
        idx = [i for i, k in enumerate(kind_of) if k == kind]
        fig.add_trace(
            go.Scatter(
                x=[pos[i][0] for i in idx],
                y=[pos[i][1] for i in idx],
                text=[f"{values[i]}{label[i]}" for i in idx],
                customdata=[[i, info[i]] for i in idx],
                mode="text",
                textfont={"color": "white", "size": 12},
                name=kind,
                showlegend=False,
                hovertemplate="symbol %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            )
        )
    for kind in present:  # legend swatches
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker={"symbol": "square", "size": 14, "color": LZSS_COLORS[kind]},
                name=kind,
            )
        )
    for n, t in enumerate(t for t in tokens if t.kind == "match"):
        (x, y), (sx, sy) = pos[int(t.symbol)], pos[int(t.symbol) - int(t.offset)]
        lift = 0.47 + 0.1 * (n % 2)  # alternate heights so that neighbouring arrows do not overlap
        fig.add_annotation(
            x=sx,
            y=sy + lift,
            ax=x,
            ay=y + lift,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=2,
            arrowwidth=1.5,
            arrowcolor="#444",
            text="",
        )
    rows = -(-len(values) // per_row) if values else 1
    fig.update_layout(
        title=title or "the greedy parse: literals, matches (arrows point to the copy's source)",
        xaxis={"visible": False, "range": [-0.6, per_row - 0.4]},
        yaxis={"visible": False, "range": [-row_gap * (rows - 1) - 0.6, 0.75]},
        template="plotly_white",
        height=140 + 75 * rows,
        width=max(420, 58 * per_row + 80),
        legend={"orientation": "h", "y": -0.02},
        margin={"l": 20, "r": 20},
    )
    return fig


def lzss_pipeline(blob: bytes, *, title: str | None = None) -> go.Figure:
    """The chunk-parallel design of GPULZ drawn from a real blob (:mod:`effdl.hardware.lzss.format`), on one byte
    scale, top to bottom:

    1. the input cut into ``k`` chunks of ``C`` bytes;
    2. every chunk coded on its own, in parallel, into a worst-case slot of its own (flag bytes, then data bytes;
       a chunk that would not shrink is stored raw, grey);
    3. the prefix sums of the per-chunk sizes, which say where each chunk lands;
    4. the compacted blob: header, the two tables, all flag bytes, all data bytes, (tail,) CRC.

    Shapes are rectangles (and dotted lines for the compaction); one invisible scatter trace per row carries the
    hover text (input, coded, offsets, blob), then three legend swatches."""
    import numpy as np

    from effdl.hardware.lzss.format import CRC_SIZE, HEADER_SIZE, chunk_stats, read_header

    h = read_header(blob)
    st = chunk_stats(blob)
    k = h.chunks
    if k == 0:
        raise ValueError(
            "blob is a stored stream (no chunk compressed, or an input shorter than one symbol): no chunks to draw"
        )
    c = h.chunk
    flag_end, data_end = np.cumsum(st["flag_bytes"]), np.cumsum(st["data_bytes"])
    tables = 8 * k
    fig = go.Figure()
    ys = {"input": 3.0, "coded": 2.0, "offsets": 1.0, "blob": 0.0}

    def box(x0: float, x1: float, y: float, color: str, line: str = "white", dash: str | None = None) -> None:
        fig.add_shape(
            type="rect",
            x0=x0,
            x1=x1,
            y0=y - 0.3,
            y1=y + 0.3,
            fillcolor=color,
            line={"color": line, "width": 1, "dash": dash or "solid"},
            layer="below",
        )

    hover: dict[str, tuple[list[float], list[str]]] = {name: ([], []) for name in ys}
    for i in range(k):
        lo = i * c
        box(lo, lo + int(st["raw_bytes"][i]), ys["input"], "#9ecae1")
        hover["input"][0].append(lo + st["raw_bytes"][i] / 2)
        hover["input"][1].append(f"chunk {i}: {st['raw_bytes'][i]:,} bytes = {st['symbols'][i]:,} symbols")
        box(lo, lo + c, ys["coded"], "rgba(0,0,0,0)", line="#888", dash="dot")  # the worst-case slot
        f, d = int(st["flag_bytes"][i]), int(st["data_bytes"][i])
        if st["stored"][i]:
            box(lo, lo + d, ys["coded"], LZSS_COLORS["stored"])
            what = f"stored raw: {d:,} data bytes, no flags"
        else:
            box(lo, lo + f, ys["coded"], "#2ca02c")
            box(lo + f, lo + f + d, ys["coded"], LZSS_COLORS["match"])
            what = f"{st['matches'][i]} matches, {st['literals'][i]} literals: {f} flag + {d:,} data bytes"
        hover["coded"][0].append(lo + c / 2)
        hover["coded"][1].append(f"chunk {i} coded alone: {what}")
        hover["offsets"][0].append(lo + c / 2)
        hover["offsets"][1].append(
            f"chunk {i}: flags at {flag_end[i] - f:,}, data at {data_end[i] - d:,} (exclusive prefix sums)"
        )
        fig.add_annotation(
            x=lo + c / 2,
            y=ys["offsets"],
            text=f"{flag_end[i] - f:,} · {data_end[i] - d:,}",
            showarrow=False,
            font={"size": 10},
        )
    # the compacted blob
    parts = [("header", HEADER_SIZE, "#636363"), ("tables", tables, "#969696")]
    x = 0
    for name, size, color in parts:
        box(x, x + size, ys["blob"], color)
        hover["blob"][0].append(x + size / 2)
        hover["blob"][1].append(f"{name}: {size:,} bytes")
        x += size
    for i in range(k):  # every chunk's flags, then every chunk's data: compaction by the prefix sums
        f = int(st["flag_bytes"][i])
        if f:
            box(x, x + f, ys["blob"], "#2ca02c")
        x += f
    for i in range(k):
        d = int(st["data_bytes"][i])
        box(x, x + d, ys["blob"], LZSS_COLORS["stored"] if st["stored"][i] else LZSS_COLORS["match"])
        hover["blob"][0].append(x + d / 2)
        hover["blob"][1].append(f"chunk {i}'s data: bytes {x:,}..{x + d:,} of the blob")
        x += d
    box(x, x + h.tail + CRC_SIZE, ys["blob"], "#636363")
    total = x + h.tail + CRC_SIZE
    data_at = HEADER_SIZE + tables + int(flag_end[-1])
    for i in range(k):  # compaction: every chunk's data moves from its slot to its prefix-sum offset
        d0 = int(data_end[i] - st["data_bytes"][i])
        fig.add_shape(
            type="line",
            x0=i * c + int(st["flag_bytes"][i]),
            y0=ys["coded"] - 0.32,
            x1=data_at + d0,
            y1=ys["blob"] + 0.32,
            line={"color": "#888", "width": 1, "dash": "dot"},
        )
    for name, (hx, text) in hover.items():
        fig.add_trace(
            go.Scatter(
                x=hx,
                y=[ys[name]] * len(hx),
                text=text,
                mode="markers",
                marker={"size": 14, "opacity": 0},
                name=name,
                showlegend=False,
                hovertemplate="%{text}<extra></extra>",
            )
        )
    for name, color in (("flag bytes", "#2ca02c"), ("data bytes", LZSS_COLORS["match"]), ("stored chunk", "#b0b0b0")):
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", marker={"symbol": "square", "size": 12, "color": color}, name=name
            )
        )
    labels = {
        "input": f"1 · input: {k} chunks of {c:,} bytes",
        "coded": "2 · each chunk coded alone (in parallel)",
        "offsets": "3 · prefix sums → offsets (flags · data)",
        "blob": f"4 · compacted blob: {total:,} bytes",
    }
    width = max(k * c, total)
    fig.update_layout(
        title=title or f"chunk-parallel LZSS: {h.length:,} bytes → {total:,} bytes (ratio {h.length / total:.2f})",
        xaxis={"title": "bytes", "range": [-0.02 * width, 1.02 * width], "showgrid": False},
        yaxis={
            "tickvals": list(ys.values()),
            "ticktext": [labels[n] for n in ys],
            "range": [-0.6, 3.6],
            "showgrid": False,
            "zeroline": False,
        },
        legend={"orientation": "h", "y": -0.25},
        template="plotly_white",
        height=380,
        margin={"l": 280},
    )
    return fig


def lzss_chunk_ratios(blob: bytes, *, title: str | None = None) -> go.Figure:
    """Per-chunk compression ratio along the input (``raw bytes / (flag + data bytes)``): coded chunks in one colour,
    stored ones (ratio 1) in grey, and the blob's overall ratio (container included) as a dashed line.
    Trace order (widgets update them in place): coded chunks, stored chunks, overall ratio."""
    import numpy as np

    from effdl.hardware.lzss.format import chunk_stats, read_header

    h = read_header(blob)
    st = chunk_stats(blob)
    size = st["flag_bytes"] + st["data_bytes"]
    ratio = np.divide(st["raw_bytes"], size, out=np.ones(h.chunks), where=size > 0)
    start = np.arange(h.chunks) * h.chunk
    width = np.full(h.chunks, h.chunk)
    stored_name = "stored chunk"
    if h.stored_stream and h.length:  # no chunk compressed: one grey bar, the whole input stored verbatim
        ratio, start, width = np.ones(1), np.zeros(1, np.int64), np.array([h.length])
        st = {"stored": np.ones(1, bool)}
        stored_name = "stored stream (nothing compressed)"
    fig = go.Figure()
    for stored, name, color in ((False, "coded chunk", LZSS_COLORS["match"]), (True, stored_name, "#b0b0b0")):
        sel = st["stored"] == stored
        fig.add_trace(
            go.Bar(
                x=(start[sel] / 1e3).tolist(),
                y=ratio[sel].tolist(),
                width=(width[sel] / 1e3).tolist(),
                offset=0,
                marker={"color": color, "line": {"width": 0}},
                name=name,
                hovertemplate="chunk at %{x:,.1f} kB: ratio %{y:.2f}<extra></extra>",
            )
        )
    overall = h.length / len(blob) if len(blob) else 1.0
    end = max(h.length, 1) / 1e3
    fig.add_trace(
        go.Scatter(
            x=[0, end],
            y=[overall, overall],
            mode="lines",
            line={"color": "black", "dash": "dash"},
            name=f"whole blob: {overall:.2f}",
        )
    )
    fig.update_layout(
        title=title or f"ratio per chunk (S = {h.symbol_size}, W = {h.window}, C = {h.chunk:,} bytes)",
        xaxis_title="position in the input (kB)",
        yaxis_title="raw bytes / coded bytes",
        template="plotly_white",
        bargap=0,
        height=340,
    )
    return fig


def codec_comparison(
    rows: Sequence[Mapping[str, Any]], *, codecs: Sequence[str] | None = None, title: str | None = None
) -> go.Figure:
    """Codecs side by side: grouped bars (one group per dataset, one bar per codec) in three stacked panels —
    compression ratio, compress MB/s and decompress MB/s (log axes), IQR as error bars. ``rows``: dicts with keys
    ``dataset``, ``codec``, ``ratio``, ``compress MB/s``, ``compress IQR MB/s``, ``decompress MB/s``,
    ``decompress IQR MB/s`` (``effdl.hardware.lzss.peers.Result.as_dict()``); ``codecs``: which ones, in order
    (default: all, first-seen order). One trace per codec and panel."""
    from plotly.subplots import make_subplots

    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    datasets = list(dict.fromkeys(str(r["dataset"]) for r in rows))
    names = list(codecs) if codecs is not None else list(dict.fromkeys(str(r["codec"]) for r in rows))
    by = {(str(r["dataset"]), str(r["codec"])): r for r in rows}
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=("compression ratio (higher is better)", "compress MB/s", "decompress MB/s"),
    )
    palette = px.colors.qualitative.Plotly + px.colors.qualitative.Set2
    for i, name in enumerate(names):
        color = palette[i % len(palette)]
        for row, key, iqr in (
            (1, "ratio", None),
            (2, "compress MB/s", "compress IQR MB/s"),
            (3, "decompress MB/s", "decompress IQR MB/s"),
        ):
            ds = [d for d in datasets if (d, name) in by and by[(d, name)].get(key) is not None]
            fig.add_trace(
                go.Bar(
                    x=ds,
                    y=[float(by[(d, name)][key]) for d in ds],
                    error_y=None
                    if iqr is None
                    else {"type": "data", "array": [float(by[(d, name)].get(iqr) or 0) / 2 for d in ds]},
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    marker_color=color,
                    hovertemplate=f"{name}<br>%{{x}}: %{{y:.3g}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
    fig.add_hline(y=1, line={"color": "gray", "dash": "dot"}, row=1, col=1)
    fig.update_yaxes(type="log", row=2, col=1)
    fig.update_yaxes(type="log", row=3, col=1)
    fig.update_layout(
        title=title or "LZSS against its peers: ratio and single-threaded throughput",
        barmode="group",
        template="plotly_white",
        height=820,
    )
    return fig


def lzss_sweep_curves(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """The codec's parameters one at a time: compression ratio (top) and compress MB/s (bottom) against the window
    W, the chunk size C (log axis) and the symbol size S. ``rows``: ``effdl.hardware.lzss.peers.sweep`` dicts
    (``param`` in W/C/S, ``value``, ``ratio``, ``compress MB/s``). One trace per panel, W, C, S order, ratio first."""
    from plotly.subplots import make_subplots

    params = [p for p in ("W", "C", "S") if any(r["param"] == p for r in rows)]
    if not params:
        raise ValueError("rows has no W, C or S sweep: nothing to plot")
    axis = {"W": "window W (symbols)", "C": "chunk C (bytes)", "S": "symbol size S (bytes)"}
    fig = make_subplots(rows=2, cols=len(params), shared_xaxes="columns", horizontal_spacing=0.07)
    for col, p in enumerate(params, start=1):
        mine = sorted((r for r in rows if r["param"] == p), key=lambda r: float(r["value"]))
        for row, key, color in ((1, "ratio", "#ef553b"), (2, "compress MB/s", "#636efa")):
            fig.add_trace(
                go.Scatter(
                    x=[r["value"] for r in mine],
                    y=[float(r[key]) for r in mine],
                    mode="lines+markers",
                    line={"color": color},
                    name=f"{key} vs {p}",
                    showlegend=False,
                    hovertemplate=f"{p} = %{{x}}: {key} %{{y:.3g}}<extra></extra>",
                ),
                row=row,
                col=col,
            )
        fig.update_xaxes(title_text=axis[p], row=2, col=col, type="log" if p == "C" else "linear")
        if p == "S":
            fig.update_xaxes(tickvals=[1, 2, 4], row=2, col=col)
    fig.update_yaxes(title_text="ratio", row=1, col=1)
    fig.update_yaxes(title_text="compress MB/s", row=2, col=1)
    fig.update_layout(
        title=title or "GPULZ's trade-offs: a longer window and bigger chunks find more matches, at a price",
        template="plotly_white",
        height=520,
    )
    return fig


def lzss_reach(
    distances: Mapping[str, Sequence[int]],
    *,
    windows: Mapping[str, float] | None = None,
    unit: str = "symbols",
    title: str | None = None,
) -> go.Figure:
    """How far back repeats lie: for each dataset, the fraction of positions whose string last occurred at most ``d``
    back (a cumulative curve over ``d``, log axis). ``distances``: name → repeat distances, 0 = never before (as
    :func:`effdl.hardware.lzss.data.repeat_distance` returns them); the curve ends below 1 by the share of never-seen
    strings. ``windows``: label → distance drawn as a dashed vertical line (a codec's reach). One trace per dataset."""
    import numpy as np

    if not distances:
        raise ValueError("distances is empty: nothing to plot")
    fig = go.Figure()
    for name, d in distances.items():
        d = np.asarray(d, dtype=np.int64)
        if d.ndim != 1 or d.size == 0 or (d < 0).any():
            raise ValueError(f"distances[{name!r}] must be a non-empty 1-D array of ints ≥ 0")
        seen = np.sort(d[d > 0])
        x = np.unique(seen)
        y = np.searchsorted(seen, x, side="right") / d.size
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                name=name,
                line={"shape": "hv"},
                hovertemplate=f"{name}: %{{y:.1%}} within %{{x}} {unit}<extra></extra>",
            )
        )
    for label, w in (windows or {}).items():
        fig.add_vline(x=float(w), line_dash="dash", line_color="#888", annotation_text=label)
    fig.update_layout(
        title=title or "How far back does the same string occur? (the window must reach it)",
        xaxis={"title": f"distance back ({unit}, log)", "type": "log"},
        yaxis={"title": "fraction of positions", "range": [0, 1.02], "tickformat": ".0%"},
        template="plotly_white",
        height=400,
    )
    return fig


# ----------------------------------------------------------------------------------------------------------
# eDRAM and reversible networks (chapter 08)

EDRAM_COLORS: dict[str, str] = {
    "mac": "#636efa",
    "onchip_read": "#00cc96",
    "onchip_write": "#19d3f3",
    "refresh": "#ef553b",
    "dram": "#ab63fa",
    "standard": "#ef553b",
    "reversible": "#00cc96",
}
_EDRAM_COMPONENTS = ("mac", "onchip_read", "onchip_write", "refresh", "dram")  # = effdl.hardware.edram.COMPONENTS
_EDRAM_LABELS = {
    "mac": "MACs",
    "onchip_read": "on-chip reads",
    "onchip_write": "on-chip writes",
    "refresh": "eDRAM refresh",
    "dram": "off-chip DRAM",
}


def retention_curve(
    temperatures_c: Sequence[float],
    retention_s: Sequence[float],
    *,
    mark: tuple[float, float] | None = (100.0, 3.35e-6),
    title: str | None = None,
) -> go.Figure:
    """eDRAM retention time (µs, log axis) against temperature (°C), with ``mark = (°C, seconds)`` highlighted
    (default: CAMEL's worst case, 3.35 µs at 100 °C). Trace order: the curve, then the mark."""
    if len(temperatures_c) != len(retention_s) or not len(temperatures_c):
        raise ValueError(
            f"temperatures_c and retention_s must be non-empty and of equal length, got "
            f"{len(temperatures_c)} and {len(retention_s)}"
        )
    fig = go.Figure(
        go.Scatter(
            x=[float(t) for t in temperatures_c],
            y=[1e6 * float(r) for r in retention_s],
            mode="lines",
            name="retention time",
            line={"color": "#636efa"},
            hovertemplate="%{x:.0f} °C: %{y:.3g} µs<extra></extra>",
        )
    )
    if mark is not None:
        fig.add_trace(
            go.Scatter(
                x=[float(mark[0])],
                y=[1e6 * float(mark[1])],
                mode="markers+text",
                text=[f"{1e6 * mark[1]:.2f} µs @ {mark[0]:.0f} °C"],
                textposition="top right",
                marker={"color": "#ef553b", "size": 10},
                name="CAMEL's worst case",
            )
        )
    fig.update_layout(
        title=title or "eDRAM retention falls exponentially with temperature",
        xaxis_title="temperature (°C)",
        yaxis_title="retention time (µs)",
        yaxis_type="log",
        template="plotly_white",
        height=360,
    )
    return fig


def activation_memory_curves(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Saved activation memory (kB) against depth, one line per model. ``rows``: dicts with ``model``, ``depth``
    and ``bytes`` (e.g. from :func:`effdl.saved_activation_bytes`). One trace per model, first-seen order."""
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    for i, r in enumerate(rows):
        missing = [k for k in ("model", "depth", "bytes") if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; need model, depth and bytes")
    fig = go.Figure()
    for name in dict.fromkeys(str(r["model"]) for r in rows):
        mine = sorted((int(r["depth"]), float(r["bytes"])) for r in rows if str(r["model"]) == name)
        fig.add_trace(
            go.Scatter(
                x=[d for d, _ in mine],
                y=[b / 1e3 for _, b in mine],
                mode="lines+markers",
                name=name,
                hovertemplate=f"{name}<br>depth %{{x}}: %{{y:,.1f}} kB<extra></extra>",
            )
        )
    fig.update_layout(
        title=title or "activation memory kept for backward, one training step",
        xaxis_title="depth (blocks)",
        yaxis_title="saved activations (kB)",
        template="plotly_white",
        height=380,
    )
    return fig


def lifetime_chart(
    lifetimes: Mapping[str, Sequence[Mapping[str, Any]]], *, retention_us: float, title: str | None = None
) -> go.Figure:
    """Every stored tensor's lifetime (µs, log axis) in write order, one marker trace per schedule, against the
    eDRAM retention time (a dashed line). ``lifetimes``: ``{label: effdl.hardware.edram.lifetimes(result)}``;
    spilled tensors are drawn as open markers (they live off chip and need no refresh). Trace order: one per
    label, then the retention line (widgets update them in place)."""
    if not lifetimes:
        raise ValueError("lifetimes is empty: nothing to plot")
    if not (isinstance(retention_us, int | float) and retention_us > 0):
        raise ValueError(f"retention_us must be a number > 0, got {retention_us!r}")
    fig = go.Figure()
    most = 1
    palette = px.colors.qualitative.Plotly
    for i, (name, rows) in enumerate(lifetimes.items()):
        most = max(most, len(rows))
        key = "reversible" if "reversible" in name else "standard" if "standard" in name else None
        fig.add_trace(
            go.Scatter(
                x=list(range(len(rows))),
                y=[max(float(r["lifetime_us"]), 1e-4) for r in rows],
                mode="markers",
                name=name,
                marker={
                    "color": EDRAM_COLORS[key] if key else palette[i % len(palette)],
                    "size": 6,
                    "symbol": ["circle-open" if r["where"] == "spilled" else "circle" for r in rows],
                },
                customdata=[[r["name"], int(r["bytes"]), int(r["refreshes"]), r["where"]] for r in rows],
                hovertemplate=f"{name}<br>%{{customdata[0]}} (%{{customdata[1]:,}} bytes, %{{customdata[3]}})<br>"
                "lifetime %{y:.3g} µs, %{customdata[2]} refreshes<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[-0.5, most - 0.5],
            y=[float(retention_us)] * 2,
            mode="lines",
            line={"color": "black", "dash": "dash"},
            name=f"retention {retention_us:.3g} µs",
        )
    )
    fig.update_layout(
        title=title or "data lifetime of every stored tensor against the eDRAM retention time",
        xaxis_title="stored tensor (in write order)",
        yaxis_title="lifetime (µs)",
        yaxis_type="log",
        template="plotly_white",
        height=420,
    )
    return fig


def energy_bars(rows: Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Training-step energy per scenario (µJ), stacked by component: MACs, on-chip reads, on-chip writes, eDRAM
    refresh, off-chip DRAM. ``rows``: :func:`effdl.hardware.edram.compare` rows (``scenario``, ``<component>_uj``,
    ``total_uj``). Trace order: the five components, then the totals written above the bars."""
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    for i, r in enumerate(rows):
        missing = [k for k in ("scenario", "total_uj", *(f"{c}_uj" for c in _EDRAM_COMPONENTS)) if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; pass effdl.hardware.edram.compare rows")
    x = [str(r["scenario"]) for r in rows]
    fig = go.Figure()
    for c in _EDRAM_COMPONENTS:
        fig.add_trace(
            go.Bar(
                x=x,
                y=[float(r[f"{c}_uj"]) for r in rows],
                name=_EDRAM_LABELS[c],
                marker_color=EDRAM_COLORS[c],
                hovertemplate=f"{_EDRAM_LABELS[c]}: %{{y:.3g}} µJ<extra>%{{x}}</extra>",
            )
        )
    totals = [float(r["total_uj"]) for r in rows]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=totals,
            mode="text",
            text=[f"{t:.3g} µJ" for t in totals],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        title=title or "energy of one training step, by component",
        barmode="stack",
        yaxis_title="energy per training step (µJ)",
        yaxis_range=[0, 1.15 * max(totals)] if max(totals) > 0 else None,
        template="plotly_white",
        height=420,
    )
    return fig


def codesign_scatter(rows: Sequence[Mapping[str, Any]], *, retention_us: float, title: str | None = None) -> go.Figure:
    """The co-design sweep: the reversible schedule's longest tensor lifetime (µs, log axis) against the energy
    ratio standard + SRAM / reversible + eDRAM, one marker per configuration, filled when the reversible schedule
    needs no refresh. ``rows``: dicts with ``config`` (a label), ``max_lifetime_us``, ``energy_ratio`` and
    ``refreshes``. Trace order: no refresh, refresh, the retention line."""
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    fig = go.Figure()
    for free, name, symbol in ((True, "reversible: no refresh", "circle"), (False, "reversible: refresh", "x")):
        mine = [r for r in rows if (int(r["refreshes"]) == 0) == free]
        fig.add_trace(
            go.Scatter(
                x=[float(r["max_lifetime_us"]) for r in mine],
                y=[float(r["energy_ratio"]) for r in mine],
                mode="markers",
                name=name,
                marker={"symbol": symbol, "size": 10, "color": EDRAM_COLORS["reversible" if free else "standard"]},
                text=[str(r["config"]) for r in mine],
                hovertemplate="%{text}<br>longest lifetime %{x:.3g} µs<br>energy %{y:.2f}× lower<extra></extra>",
            )
        )
    top = max(max(float(r["energy_ratio"]) for r in rows), 1.0)
    fig.add_trace(
        go.Scatter(
            x=[retention_us, retention_us],
            y=[0, 1.1 * top],
            mode="lines",
            line={"color": "black", "dash": "dash"},
            name=f"retention {retention_us:.3g} µs",
        )
    )
    fig.update_layout(
        title=title or "co-design: the reversible schedule's longest lifetime against the energy it saves",
        xaxis_title="longest stored-tensor lifetime, reversible schedule (µs)",
        yaxis_title="energy: standard + SRAM / reversible + eDRAM",
        xaxis_type="log",
        template="plotly_white",
        height=420,
    )
    return fig


def codesign_front(
    rows: Sequence[Mapping[str, Any]],
    *,
    energy: str = "energy_uj_per_sample",
    accuracy: str = "val_accuracy",
    group: str = "kind",
    min_accuracy: float | None = None,
    chosen: str | None = None,
    title: str | None = None,
) -> go.Figure:
    """The co-design space: accuracy (%) against training energy (µJ per sample, log axis), one marker trace per
    ``row[group]`` (first-seen order), the Pareto front over all rows (lower energy, higher accuracy) as a line,
    the declared accuracy constraint ``min_accuracy`` as a dashed horizontal line, and the ``chosen`` row (its
    ``config``) as a star. ``rows``: dicts with ``config`` (a label), ``energy``, ``accuracy`` and ``group``
    keys. Trace order: the groups, the front, the constraint (when given), the chosen point (when given)."""
    if not rows:
        raise ValueError("rows is empty: nothing to plot")
    for i, r in enumerate(rows):
        missing = [k for k in ("config", energy, accuracy, group) if k not in r]
        if missing:
            raise ValueError(f"rows[{i}] has no {missing}; need config, {energy}, {accuracy} and {group}")
    xs = [float(r[energy]) for r in rows]
    ys = [float(r[accuracy]) for r in rows]
    if min(xs) <= 0:
        raise ValueError(f"{energy} must be > 0 for the log axis, got {min(xs)}")
    fig = go.Figure()
    palette = px.colors.qualitative.Plotly
    for i, name in enumerate(dict.fromkeys(str(r[group]) for r in rows)):
        mine = [j for j, r in enumerate(rows) if str(r[group]) == name]
        fig.add_trace(
            go.Scatter(
                x=[xs[j] for j in mine],
                y=[ys[j] for j in mine],
                mode="markers",
                name=name,
                marker={"size": 9, "color": palette[i % len(palette)]},
                text=[str(rows[j]["config"]) for j in mine],
                hovertemplate="%{text}<br>%{x:.3g} µJ per sample<br>accuracy %{y:.2f}%<extra>" + name + "</extra>",
            )
        )
    front = sorted(pareto_front(list(zip(xs, ys, strict=True)), maximize=(False, True)), key=lambda j: xs[j])
    fig.add_trace(
        go.Scatter(
            x=[xs[j] for j in front],
            y=[ys[j] for j in front],
            mode="lines",
            line={"dash": "dot", "color": "grey"},
            name="Pareto front",
            text=[str(rows[j]["config"]) for j in front],
            hovertemplate="%{text}<extra>Pareto front</extra>",
        )
    )
    if min_accuracy is not None:
        fig.add_trace(
            go.Scatter(
                x=[min(xs) / 1.2, max(xs) * 1.2],
                y=[float(min_accuracy)] * 2,
                mode="lines",
                line={"color": "black", "dash": "dash"},
                name=f"constraint: accuracy ≥ {float(min_accuracy):.2f}%",
            )
        )
    if chosen is not None:
        hits = [j for j, r in enumerate(rows) if str(r["config"]) == chosen]
        if not hits:
            raise ValueError(f"chosen={chosen!r} is no row's config")
        j = hits[0]
        fig.add_trace(
            go.Scatter(
                x=[xs[j]],
                y=[ys[j]],
                mode="markers+text",
                marker={"symbol": "star", "size": 16, "color": "gold", "line": {"color": "black", "width": 1}},
                text=[chosen],
                textposition="bottom right",
                name="chosen",
            )
        )
    fig.update_layout(
        title=title or "co-design: accuracy against training energy, with the Pareto front",
        xaxis_title="training energy per sample (µJ, log)",
        yaxis_title=f"{label(accuracy)}",
        xaxis_type="log",
        template="plotly_white",
        height=460,
    )
    return fig
