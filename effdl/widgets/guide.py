"""Explorer of the capstone's decision guide (chapter 14): the accuracy a user will give up (a slider, in points)
and the goal (disk, latency, energy) pick the best measured stage, shown as a star on the Pareto figure of that
goal. It browses stages computed earlier (:func:`effdl.guide.run_pipeline`): nothing is retrained on a move."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from effdl.guide.pipeline import Stage
from effdl.guide.study import GOALS, Advice, decide
from effdl.viz.guide import pipeline_pareto

__all__ = ["guide_explorer"]

_DROPS = tuple(round(0.005 * i, 3) for i in range(21))  # 0 … 10 points, in half points


def guide_explorer(stages: Sequence[Stage], *, goal: str = "disk", max_drop: float = 0.02) -> W.VBox:
    """Browse the decision guide over measured ``stages``: the slider (class ``effdl-main-control``) sets the
    accuracy drop allowed against the unchanged model (validation accuracy, 0–10 points), the dropdown the goal of
    :data:`effdl.guide.GOALS`. The readout states :func:`effdl.guide.decide`'s choice; the figure is
    :func:`effdl.viz.pipeline_pareto` of validation accuracy (where the choice is made) against the goal's metric,
    with the constraint as a dashed line and the choice starred.

    Attributes of the returned box: ``slider``, ``goal`` (the dropdown), ``figure``, ``readout``, ``stages`` and
    ``choice()`` (the current :class:`effdl.guide.Advice`). Raises ``ValueError`` for an unknown goal or a
    ``max_drop`` not on the slider (multiples of 0.005 in [0, 0.1])."""
    if goal not in GOALS:
        raise ValueError(f"goal must be one of {sorted(GOALS)}, got {goal!r}")
    start = min(_DROPS, key=lambda d: abs(d - max_drop))
    if abs(start - max_drop) > 1e-9:
        raise ValueError(f"max_drop must be a multiple of 0.005 in [0, 0.1], got {max_drop!r}")
    stages = list(stages)
    advice = {(g, d): decide(stages, max_drop=d, goals=(g,))[0] for g in GOALS for d in _DROPS}

    def build(g: str, d: float) -> go.Figure:
        a = advice[(g, d)]
        return pipeline_pareto(
            stages, x=GOALS[g][0], accuracy="val_acc", chosen=a.stage, floor=a.reference.val_acc - d,
            title=f"best for {GOALS[g][1]} within {100 * d:g} points of validation accuracy",
        )  # fmt: skip

    figure = go.FigureWidget(build(goal, start))
    slider = W.SelectionSlider(
        options=[(f"{100 * d:g} points", d) for d in _DROPS],
        value=start,
        description="max drop",
        continuous_update=False,
        layout=W.Layout(width="460px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    goal_box = W.Dropdown(options=[(GOALS[g][1], g) for g in GOALS], value=goal, description="goal")
    readout = W.HTML()

    def show(a: Advice) -> None:
        s = a.stage
        readout.value = (
            f"<b>{a.text}</b><br>{s.file_bytes:,} bytes on disk ({s.ratio:.1f}×) · latency {s.latency_ms:.3g} ms ± "
            f"{s.latency_iqr_ms:.2g} · {s.energy_uj:.3g} µJ per image · validation {100 * s.val_acc:.1f} % "
            f"(fp32 {100 * a.reference.val_acc:.1f} %)"
        )

    def update(change: Any = None) -> None:
        g, d = goal_box.value, float(slider.value)
        new = build(g, d)
        with figure.batch_update():
            for trace, fresh in zip(figure.data, new.data, strict=True):
                trace.x, trace.y, trace.text = fresh.x, fresh.y, fresh.text
                if fresh.customdata is not None:
                    trace.customdata = fresh.customdata
            figure.layout.xaxis.title.text = new.layout.xaxis.title.text
            figure.layout.xaxis.type = new.layout.xaxis.type
            figure.layout.title.text = new.layout.title.text
        show(advice[(g, d)])

    show(advice[(goal, start)])
    slider.observe(update, names="value")
    goal_box.observe(update, names="value")
    box = W.VBox([goal_box, slider, readout, figure])
    box.slider, box.goal, box.figure, box.readout, box.stages = slider, goal_box, figure, readout, stages
    box.choice = lambda: advice[(goal_box.value, float(slider.value))]
    return box
