"""Explorer of stream learning under a compute budget (chapter 13): the compute budget c per unit over a precomputed
:class:`~effdl.learning.stream.BudgetSweep`, with the arrival rate and the learner as dropdowns, showing the
accuracy over time per budget and what each budget buys in accuracy and throughput."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl.viz.stream import _accuracy_style, _pick, stream_accuracy, stream_tradeoff

if TYPE_CHECKING:
    from effdl.learning.stream import BudgetSweep

__all__ = ["stream_explorer"]


def stream_explorer(
    sweep: BudgetSweep,
    *,
    learner: str | None = None,
    rate: float | None = None,
    budget: float | None = None,
    metric: str = "mean_accuracy",
) -> W.VBox:
    """Browse a :class:`~effdl.learning.stream.BudgetSweep` (``effdl.learning.stream.budget_sweep``): the budget
    slider (the main control: sample-gradients per unit), an arrival-rate dropdown (samples per unit) and a learner
    dropdown. A move only looks the grid point up and updates the two ``FigureWidget`` in place (the curves' y and
    line styles of :func:`~effdl.viz.stream.stream_accuracy`, the marker and, on a learner change, the lines of
    :func:`~effdl.viz.stream.stream_tradeoff`): nothing is rerun. ``learner``/``rate``/``budget``: the start
    (defaults: the first learner, the first rate, the middle budget); ``metric``: the accuracy summarised,
    ``"mean_accuracy"`` (over the stream) or ``"final_accuracy"``.

    Attributes of the returned box: ``slider`` (budget, class ``effdl-main-control``), ``rate``, ``learner`` (the
    dropdowns), ``curves`` and ``tradeoff`` (the figures), ``readout``, ``sweep`` and ``table`` (``{(learner, rate,
    budget): (accuracy mean over seeds, its std, throughput mean, compute mean)}``, the accuracy being ``metric``).
    Raises ``ValueError`` if a start value is not in the sweep.
    """
    lrn0 = _pick(sweep.learners, learner, "learner")
    r0 = _pick(sweep.rates, rate, "rate")
    c0 = sweep.budgets[(len(sweep.budgets) - 1) // 2] if budget is None else _pick(sweep.budgets, budget, "budget")
    if metric not in ("mean_accuracy", "final_accuracy"):
        raise ValueError(f"metric must be 'mean_accuracy' or 'final_accuracy', got {metric!r}")
    acc, acc_sd = sweep.summary(metric)
    (thr, thr_sd), comp = sweep.summary("throughput"), sweep.summary("compute")[0]
    table: dict[tuple[str, float, float], tuple[float, float, float, float]] = {
        (lrn, r, c): (float(acc[i, j, k]), float(acc_sd[i, j, k]), float(thr[i, j, k]), float(comp[i, j, k]))
        for i, lrn in enumerate(sweep.learners)
        for j, r in enumerate(sweep.rates)
        for k, c in enumerate(sweep.budgets)
    }
    n_b, n_r = len(sweep.budgets), len(sweep.rates)

    def title(lrn: str, r: float) -> str:
        return f"test accuracy over the stream ({lrn}, rate r = {r:g}/unit; mean over {len(sweep.seeds)} seed(s))"

    curves = go.FigureWidget(stream_accuracy(sweep, learner=lrn0, rate=r0, current=c0, title=title(lrn0, r0)))
    tradeoff = go.FigureWidget(stream_tradeoff(sweep, learner=lrn0, metric=metric, current=(r0, c0)))
    slider = W.SelectionSlider(
        options=[(f"{c:g}", c) for c in sweep.budgets],
        value=c0,
        description="budget c",
        continuous_update=False,
        layout=W.Layout(width="420px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    rate_box = W.Dropdown(options=[(f"{r:g}", r) for r in sweep.rates], value=r0, description="rate r")
    learner_box = W.Dropdown(options=list(sweep.learners), value=lrn0, description="learner")
    readout = W.HTML()
    name = metric.replace("_", " ")

    def show(lrn: str, r: float, c: float) -> None:
        a, sd, t, total = table[(lrn, r, c)]
        readout.value = (
            f"<b>{lrn}</b>, rate r = <b>{r:g}</b>/unit, budget c = <b>{c:g}</b>/unit: {name} <b>{a:.3f}</b> ± {sd:.3f}"
            f" · throughput <b>{t:.3f}</b> (c/r = {c / r:.3f}) · compute {total:,.0f} sample-gradients"
        )

    def update(change: Any = None) -> None:
        lrn, r, c = learner_box.value, float(rate_box.value), float(slider.value)
        i = sweep.learners.index(lrn)
        with curves.batch_update():
            for k, (trace, style) in enumerate(zip(curves.data[:n_b], _accuracy_style(sweep.budgets, c), strict=True)):
                trace.y = sweep.curve(lrn, r, sweep.budgets[k]).tolist()
                trace.line.width, trace.opacity = style["width"], style["opacity"]
            curves.layout.title.text = title(lrn, r)
        with tradeoff.batch_update():
            if change is not None and change.get("owner") is learner_box:
                for jj in range(n_r):
                    tradeoff.data[2 * jj].y = acc[i, jj].tolist()
                    tradeoff.data[2 * jj].error_y.array = acc_sd[i, jj].tolist()
                    tradeoff.data[2 * jj + 1].x = thr[i, jj].tolist()
                    tradeoff.data[2 * jj + 1].y = acc[i, jj].tolist()
                    tradeoff.data[2 * jj + 1].error_y.array = acc_sd[i, jj].tolist()
                    tradeoff.data[2 * jj + 1].error_x.array = thr_sd[i, jj].tolist()
            a, _, t, _ = table[(lrn, r, c)]
            tradeoff.data[2 * n_r].x, tradeoff.data[2 * n_r].y = [c], [a]
            tradeoff.data[2 * n_r + 1].x, tradeoff.data[2 * n_r + 1].y = [t], [a]
            tradeoff.layout.title.text = f"what a budget buys ({lrn}; error bars: std over {len(sweep.seeds)} seed(s))"
        show(lrn, r, c)

    show(lrn0, r0, c0)
    for control in (slider, rate_box, learner_box):
        control.observe(update, names="value")
    box = W.VBox([W.HBox([learner_box, rate_box]), slider, readout, curves, tradeoff])
    box.slider, box.rate, box.learner = slider, rate_box, learner_box
    box.curves, box.tradeoff, box.readout = curves, tradeoff, readout
    box.sweep, box.table = sweep, table
    return box
