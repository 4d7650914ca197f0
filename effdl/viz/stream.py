"""Figures of stream learning under a compute budget (chapter 13): test accuracy over time per budget, accuracy
against budget and throughput over a precomputed sweep, what a unit's arrivals become (processed or dropped), a
schedule of tasks sharing a compute capacity, the schedulers' completed tasks over seeds, and a power-law learning
curve fitted to noisy losses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from effdl.learning.stream.curves import PowerLaw, fit_power_law
from effdl.viz.general import mean_std_bars

if TYPE_CHECKING:
    from effdl.learning.stream import BudgetSweep, Comparison, ScheduleResult, StreamResult, Task

__all__ = [
    "stream_accuracy",
    "stream_flow",
    "stream_power_law",
    "stream_schedule",
    "stream_schedulers",
    "stream_tradeoff",
]

_STATUS = {"completed": "#00cc96", "missed": "#ef553b", "abandoned": "#8c8c8c"}
_BUDGET_LINE = {"color": "black", "dash": "dash", "shape": "hv"}
_REPLAY = {"color": "#ab63fa"}
_DOTTED = {"color": "gray", "dash": "dot"}
_SCHED_COLOURS = {"fcfs": "#8c8c8c", "proportional": "#636efa", "adaptive": "#00cc96", "oracle": "#ffa15a"}


def _pick(options: Sequence[Any], value: Any, name: str) -> Any:
    """``value`` if it is one of ``options`` (numbers compared with a relative tolerance), the first option if None."""
    if value is None:
        return options[0]
    for o in options:
        if o == value or (isinstance(o, int | float) and isinstance(value, int | float) and np.isclose(o, value)):
            return o
    raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")


def _budget_colour(i: int, n: int) -> str:
    return plotly.colors.sample_colorscale("Viridis", [i / max(n - 1, 1) * 0.9])[0]


def _accuracy_style(budgets: Sequence[float], current: float | None) -> list[dict[str, Any]]:
    """Per budget (in ``budgets`` order): ``width`` and ``opacity`` of its line, the current budget bold and opaque
    (all opaque when ``current`` is None). A widget assigns these to the existing traces."""
    return [
        {"width": 4.0 if c == current else 1.5, "opacity": 1.0 if current is None or c == current else 0.35}
        for c in budgets
    ]


def stream_accuracy(
    runs: BudgetSweep | Mapping[str, StreamResult],
    *,
    learner: str | None = None,
    rate: float | None = None,
    current: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """Test accuracy over time (units), one line per compute budget c.

    ``runs``: a :class:`~effdl.learning.stream.BudgetSweep` (curves averaged over seeds at ``learner``/``rate``,
    defaults the first of each; one trace per budget in ``sweep.budgets`` order, named ``c = …``, ``current``
    drawn bold) or ``{label: StreamResult}`` (one trace per run, in order). Raises ``ValueError`` for a learner,
    rate or current budget outside the sweep, or an empty mapping.
    """
    fig = go.Figure()
    if isinstance(runs, Mapping):
        if not runs:
            raise ValueError("runs is empty: nothing to plot")
        for i, (label, r) in enumerate(runs.items()):
            fig.add_trace(
                go.Scatter(
                    x=r.times.tolist(),
                    y=r.accuracy.tolist(),
                    mode="lines+markers",
                    name=str(label),
                    line={"color": _budget_colour(i, len(runs))},
                    marker={"size": 4},
                )
            )
        head = "test accuracy over the stream"
    else:
        sweep = runs
        lrn, r = _pick(sweep.learners, learner, "learner"), _pick(sweep.rates, rate, "rate")
        cur = None if current is None else _pick(sweep.budgets, current, "current")
        for i, (c, style) in enumerate(zip(sweep.budgets, _accuracy_style(sweep.budgets, cur), strict=True)):
            fig.add_trace(
                go.Scatter(
                    x=sweep.times.tolist(),
                    y=sweep.curve(lrn, r, c).tolist(),
                    mode="lines",
                    name=f"c = {c:g}",
                    opacity=style["opacity"],
                    line={"color": _budget_colour(i, len(sweep.budgets)), "width": style["width"]},
                    hovertemplate=f"c = {c:g}: " + "t = %{x}, accuracy %{y:.3f}<extra></extra>",
                )
            )
        head = f"test accuracy over the stream ({lrn}, rate r = {r:g} samples/unit; mean over seeds)"
    fig.update_layout(
        title=title or head,
        template="plotly_white",
        height=360,
        xaxis={"title": "time (units)"},
        yaxis={"title": "test accuracy", "range": [0, 1]},
        legend={"title": "budget"},
    )
    return fig


def stream_tradeoff(
    sweep: BudgetSweep,
    *,
    learner: str | None = None,
    metric: str = "mean_accuracy",
    current: tuple[float, float] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Accuracy against the compute budget c (left, log x) and against the throughput (right) for one learner,
    one line per arrival rate; error bars are the standard deviation over the sweep's seeds (both axes on the right).

    ``metric``: ``"mean_accuracy"`` (the stream's area under the curve) or ``"final_accuracy"``. ``current``: a
    ``(rate, budget)`` grid point marked on both panels (default: the first rate, the middle budget).
    Traces: for each rate in ``sweep.rates`` order, its left then its right line; then the current marker, left
    then right (a widget moves their x/y).
    """
    from plotly.subplots import make_subplots

    if metric not in ("mean_accuracy", "final_accuracy"):
        raise ValueError(f"metric must be 'mean_accuracy' or 'final_accuracy', got {metric!r}")
    lrn = _pick(sweep.learners, learner, "learner")
    i = sweep.learners.index(lrn)
    acc, acc_sd = (a[i] for a in sweep.summary(metric))
    thr, thr_sd = (a[i] for a in sweep.summary("throughput"))
    if current is None:
        current = (sweep.rates[0], sweep.budgets[(len(sweep.budgets) - 1) // 2])
    r0, c0 = _pick(sweep.rates, current[0], "rate"), _pick(sweep.budgets, current[1], "budget")
    j0, k0 = sweep.rates.index(r0), sweep.budgets.index(c0)
    name = metric.replace("_", " ")
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"{name} vs budget c", f"{name} vs throughput"))
    for j, r in enumerate(sweep.rates):
        colour = plotly.colors.qualitative.Plotly[j % 10]
        common = {"mode": "lines+markers", "line": {"color": colour}, "legendgroup": f"r{j}", "name": f"r = {r:g}"}
        fig.add_trace(
            go.Scatter(
                x=list(sweep.budgets),
                y=acc[j].tolist(),
                error_y={"type": "data", "array": acc_sd[j].tolist()},
                hovertemplate="c = %{x:g}: %{y:.3f}<extra>" + f"r = {r:g}</extra>",
                **common,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=thr[j].tolist(),
                y=acc[j].tolist(),
                error_x={"type": "data", "array": thr_sd[j].tolist()},
                error_y={"type": "data", "array": acc_sd[j].tolist()},
                showlegend=False,
                customdata=list(sweep.budgets),
                hovertemplate="c = %{customdata:g}: throughput %{x:.3f}, %{y:.3f}<extra>" + f"r = {r:g}</extra>",
                **common,
            ),
            row=1,
            col=2,
        )
    mark = {"size": 15, "symbol": "circle-open", "color": "black", "line": {"width": 2}}
    for col, x in ((1, c0), (2, float(thr[j0, k0]))):
        fig.add_trace(
            go.Scatter(
                x=[x],
                y=[float(acc[j0, k0])],
                mode="markers",
                name="slider",
                marker=mark,
                showlegend=col == 1,
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
    fig.update_xaxes(title_text="budget c (sample-gradients per unit, log)", type="log", row=1, col=1)
    fig.update_xaxes(title_text="throughput (exploited / arrived)", row=1, col=2)
    fig.update_yaxes(title_text=name, row=1, col=1)
    fig.update_layout(
        title=title or f"what a budget buys ({lrn}; error bars: std over {len(sweep.seeds)} seed(s))",
        template="plotly_white",
        height=380,
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def stream_flow(result: StreamResult, *, title: str | None = None) -> go.Figure:
    """What happens to the stream in every unit, and the throughput it adds up to.

    Top: per unit t, the arrivals split into processed fresh (``step_fresh``) and not processed (arrived −
    processed: dropped, or waiting in the queue when the run had one), the budget c per unit as a dashed line, and
    the replayed sample-gradients (if any). Bottom: throughput = exploited / arrived at the evaluation times and
    the rule of thumb min(1, c/r). Traces: processed, not processed, budget, [replayed], throughput, c/r.
    """
    from plotly.subplots import make_subplots

    steps = len(result.step_arrived)
    t = list(range(steps))
    fresh, arrived = result.step_fresh, result.step_arrived
    queued = result.config.get("queue") is not None
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.08)
    lost = "waiting or dropped" if queued else "dropped"
    top = [
        go.Bar(x=t, y=fresh.tolist(), name="processed (fresh)", marker_color="#00cc96"),
        go.Bar(x=t, y=np.maximum(arrived - fresh, 0).tolist(), name=lost, marker_color="#ef553b"),
        go.Scatter(x=t, y=result.step_budget.tolist(), mode="lines", name="budget c", line=_BUDGET_LINE),
    ]
    if result.step_replayed.any():
        top.append(go.Scatter(x=t, y=result.step_replayed.tolist(), mode="lines", name="replayed", line=_REPLAY))
    keep = result.times > 0
    ratio = min(1.0, float(result.step_budget.sum()) / max(float(arrived.sum()), 1.0))
    bottom = [
        go.Scatter(x=result.times[keep].tolist(), y=result.throughput[keep].tolist(), mode="lines+markers",
                   name="throughput", line={"color": "#636efa"}),
        go.Scatter(x=[0, steps], y=[ratio, ratio], mode="lines", name=f"min(1, c/r) = {ratio:.3g}", line=_DOTTED),
    ]  # fmt: skip
    fig.add_traces(top + bottom, rows=[1] * len(top) + [2] * len(bottom), cols=1)
    cfg = result.config
    fig.update_xaxes(title_text="time (units)", row=2, col=1)
    fig.update_yaxes(title_text="samples per unit", row=1, col=1)
    fig.update_yaxes(title_text="throughput", range=[0, 1.05], row=2, col=1)
    fig.update_layout(
        title=title
        or f"rate r = {cfg.get('rate', '?')}, budget c = {cfg.get('budget', '?')} per unit ({cfg.get('learner', '?')},"
        f" policy {cfg.get('policy', '?')}): what each unit's arrivals become",
        template="plotly_white",
        barmode="stack",
        bargap=0.1,
        height=460,
        legend={"orientation": "h", "y": -0.18},
    )
    return fig


def stream_schedule(
    result: ScheduleResult,
    tasks: Sequence[Task],
    *,
    capacity: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """A Gantt-like chart of one simulation: one row per task, a cell per step it received compute (opacity = its
    share of the capacity), coloured completed / missed / abandoned; its window from arrival to deadline as a thin
    grey line, the deadline as a bar, the finish as a diamond.

    ``tasks``: the simulated tasks in the order given to :func:`~effdl.learning.stream.simulate` (the columns of
    ``result.allocation``). ``capacity``: units per step (default the largest total allocated in one step).
    Traces: the windows, then one bar trace per status present (``completed``, ``missed``, ``abandoned``), the
    deadlines, the finishes (if any).
    """
    tasks = list(tasks)
    alloc = np.asarray(result.allocation, dtype=np.float64)
    if alloc.ndim != 2 or alloc.shape[1] != len(tasks):
        raise ValueError(f"tasks must match the result's {alloc.shape[-1]} allocation columns, got {len(tasks)} tasks")
    cap = float(capacity) if capacity is not None else float(alloc.sum(axis=1).max(initial=0.0))
    if not cap > 0:
        raise ValueError(f"capacity must be > 0, got {capacity!r}")
    status = {i: "completed" for i in result.completed}
    status.update({i: "missed" for i in result.missed if i not in set(result.abandoned)})
    status.update({i: "abandoned" for i in result.abandoned if i not in status})
    label = [f"task {k.id}" for k in tasks]
    fig = go.Figure()
    wx: list[float | None] = []
    wy: list[str | None] = []
    for k, lab in zip(tasks, label, strict=True):
        wx += [k.arrival, k.deadline, None]
        wy += [lab, lab, None]
    fig.add_trace(
        go.Scatter(x=wx, y=wy, mode="lines", name="window", line={"color": "#cccccc", "width": 1}, hoverinfo="skip")
    )
    for name, colour in _STATUS.items():
        cols = [j for j, k in enumerate(tasks) if status.get(k.id) == name]
        if not cols:
            continue
        steps, js = np.nonzero(alloc[:, cols] > 0)
        share = alloc[steps, np.array(cols)[js]] / cap
        fig.add_trace(
            go.Bar(
                x=[1.0] * len(steps),
                base=result.times[steps].tolist(),
                y=[label[cols[j]] for j in js],
                orientation="h",
                name=name,
                marker={"color": colour, "opacity": np.clip(0.15 + 0.85 * share, 0, 1).tolist(), "line": {"width": 0}},
                customdata=np.stack([alloc[steps, np.array(cols)[js]], share], axis=1).tolist(),
                hovertemplate="%{y}, step %{base}: %{customdata[0]:.3g} units (%{customdata[1]:.0%})<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(x=[k.deadline for k in tasks], y=label, mode="markers", name="deadline",
                   marker={"symbol": "line-ns", "size": 12, "line": {"width": 2, "color": "black"}},
                   hovertemplate="%{y}: deadline %{x}<extra></extra>")
    )  # fmt: skip
    done = [(label[j], result.finish[k.id]) for j, k in enumerate(tasks) if k.id in result.finish]
    if done:
        diamond = {
            "symbol": "diamond",
            "size": 8,
            "color": _STATUS["completed"],
            "line": {"width": 1, "color": "black"},
        }
        fig.add_trace(
            go.Scatter(x=[f for _, f in done], y=[lab for lab, _ in done], mode="markers", name="finished",
                       marker=diamond, hovertemplate="%{y}: finished at %{x}<extra></extra>")
        )  # fmt: skip
    fig.update_layout(
        title=title
        or f"{result.scheduler}: {len(result.completed)} of {result.n_tasks} tasks completed (opacity = compute share)",
        template="plotly_white",
        barmode="overlay",
        bargap=0.25,
        height=max(300, 22 * len(tasks) + 170),
        margin={"t": 100},
        xaxis={"title": "time (steps)"},
        yaxis={"title": "", "autorange": "reversed", "categoryorder": "array", "categoryarray": label, "dtick": 1},
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
    )
    return fig


def stream_schedulers(
    comparison: Comparison | Mapping[str, Sequence[float]],
    *,
    title: str | None = None,
) -> go.Figure:
    """Share of tasks completed by their deadline per scheduler: the mean over seeds (bar, error bar = std, ddof 1)
    and every seed's value as a dot. ``comparison``: a :class:`~effdl.learning.stream.Comparison` or ``{scheduler:
    [fraction per seed]}``, in display order. Traces: the bars, then the seeds."""
    if isinstance(comparison, Mapping):
        per_seed = {k: [float(v) for v in vs] for k, vs in comparison.items()}
        seeds = {k: list(range(len(v))) for k, v in per_seed.items()}
        n_tasks = None
    else:
        names = list(comparison.summary)
        per_seed = {n: [r["fraction"] for r in comparison.rows if r["scheduler"] == n] for n in names}
        seeds = {n: [r["seed"] for r in comparison.rows if r["scheduler"] == n] for n in names}
        n_tasks = comparison.scenario.n_tasks
    if not per_seed or any(len(v) == 0 for v in per_seed.values()):
        raise ValueError("comparison must give each scheduler at least one value")
    fig = mean_std_bars(per_seed, colours=_SCHED_COLOURS, text_format=".3f", hover_format=".3f", seeds=seeds)
    of = f" (of {n_tasks})" if n_tasks else ""
    fig.update_layout(
        title=title or f"tasks completed by their deadline{of}, over {max(len(v) for v in per_seed.values())} seed(s)",
        template="plotly_white",
        height=380,
        yaxis={"title": "share of tasks completed", "range": [0, 1.05]},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def stream_power_law(
    s: Sequence[float] | np.ndarray,
    loss: Sequence[float] | np.ndarray,
    *,
    fit: PowerLaw | None = None,
    truth: PowerLaw | None = None,
    target: float | None = None,
    extend: float = 4.0,
    title: str | None = None,
) -> go.Figure:
    """Observed losses ``(n,)`` at compute ``s`` ``(n,)`` (units, > 0) and the power law L(s) = a·s^(−b) + c fitted to
    them (``fit``; default :func:`~effdl.learning.stream.fit_power_law`), drawn on a log compute axis up to
    ``extend`` × the largest observed s (dashed beyond the data: an extrapolation), with its asymptote c.

    ``truth``: the hidden curve, dotted. ``target``: a loss, drawn as a line, with the fit's compute-to-target as
    a vertical line (if finite). Traces: observations, fit (observed range), fit (extrapolated), asymptote, [truth],
    [target, compute to target].
    """
    s_arr, l_arr = np.asarray(s, dtype=np.float64).ravel(), np.asarray(loss, dtype=np.float64).ravel()
    if s_arr.shape != l_arr.shape or s_arr.size == 0 or not np.all(s_arr > 0):
        raise ValueError(f"s and loss must have the same non-zero length and s > 0, got {s_arr.size} and {l_arr.size}")
    if not extend >= 1:
        raise ValueError(f"extend must be a number >= 1, got {extend!r}")
    law = fit if fit is not None else fit_power_law(s_arr, l_arr)
    hi = float(s_arr.max()) * extend
    need = law.compute_to(target) if target is not None else float("inf")
    if np.isfinite(need):
        hi = max(hi, need * 1.3)
    lo = float(s_arr.min())
    seen = np.geomspace(lo, float(s_arr.max()), 60)
    beyond = np.geomspace(float(s_arr.max()), hi, 40)
    blue = "#636efa"
    traces = [
        go.Scatter(x=s_arr.tolist(), y=l_arr.tolist(), mode="markers", name="observed loss",
                   marker={"color": "black", "size": 6}),
        go.Scatter(x=seen.tolist(), y=law(seen).tolist(), mode="lines",
                   name=f"fit: {law.a:.3g}·s^−{law.b:.3g} + {law.c:.3g}", line={"color": blue, "width": 3}),
        go.Scatter(x=beyond.tolist(), y=law(beyond).tolist(), mode="lines", name="extrapolated",
                   line={"color": blue, "dash": "dash"}),
        go.Scatter(x=[lo, hi], y=[law.c, law.c], mode="lines", name=f"asymptote c = {law.c:.3g}", line=_DOTTED),
    ]  # fmt: skip
    if truth is not None:
        grid = np.geomspace(lo, hi, 80)
        traces.append(go.Scatter(x=grid.tolist(), y=truth(grid).tolist(), mode="lines", name="true curve",
                                 line={"color": "#ffa15a", "dash": "dot"}))  # fmt: skip
    fig = go.Figure(traces)
    if target is not None:  # traces, not shapes: a shape on a log axis takes log10 coordinates
        red = {"color": "crimson", "dash": "dash"}
        fig.add_trace(go.Scatter(x=[lo, hi], y=[target, target], mode="lines", name=f"target {target:g}", line=red))
        if np.isfinite(need):
            ys = [min(float(l_arr.min()), target, law.c), float(l_arr.max())]
            fig.add_trace(go.Scatter(x=[need, need], y=ys, mode="lines", name=f"s to target ≈ {need:.3g}", line=red))
    fig.update_layout(
        title=title or "learning curve: loss against compute, a power law with an offset",
        template="plotly_white",
        height=360,
        xaxis={"title": "compute s (units, log)", "type": "log"},
        yaxis={"title": "loss"},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
