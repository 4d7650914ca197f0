"""Explorer of FLAD bandits (chapter 12): a step slider over runs trained earlier (one FLADLog per strategy), showing
each strategy's mixture over the auxiliary datasets at step t side by side, and the mass on one kind of dataset ÷ its
uniform share along training with a cursor at t."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from effdl.learning.flad.bandits import EXP3
from effdl.learning.flad.tasks import KINDS
from effdl.viz.flad import (
    _kinds,
    _mass_curve,
    _order,
    _panel_title,
    _policy_top,
    flad_mass_over_time,
    flad_mixture,
    flad_policy,
)

__all__ = ["flad_explorer"]


def flad_explorer(logs: Mapping[str, Any], kinds: Sequence[str], *, step: int | None = None) -> W.VBox:
    """The step slider over FLAD runs: ``logs`` ``{strategy: FLADLog}`` (e.g. ``{r.strategy: r.log for r in
    study.runs}`` from ``compare_strategies(..., keep_logs=True)``; every log as long, T steps, on the same K arms),
    ``kinds`` (K,) the arms' kinds (``suite.kinds``); ``step``: where the slider starts (default T).

    Everything is computed once here: each run's mixture after every step (:func:`effdl.viz.flad.flad_mixture`: π_t
    for EXP3, the selection shares of steps 1..t for UCB1) and its mass ratios. A move only looks step t up and
    updates the two ``FigureWidget`` in place (the bars of :func:`effdl.viz.flad.flad_policy` and their panel titles,
    the cursor of :func:`effdl.viz.flad.flad_mass_over_time`); the ``kind`` dropdown swaps the curves' kind.

    Attributes of the returned box: ``slider`` (class ``effdl-main-control``), ``kind`` (the dropdown), ``policy``
    and ``mass`` (the figures), ``readout``, ``logs``, ``steps`` (list of T ints), ``mixtures`` (``{strategy: float64
    (T, K)}``) and ``table`` (``{step: {strategy: (aligned, noisy, adversarial) mass ÷ uniform share}}``, NaN for a
    kind with no arm). Raises ``ValueError`` for no logs, logs of different lengths or K, or a ``step`` not logged.
    """
    if not isinstance(logs, Mapping) or not logs:
        raise ValueError("logs must be a non-empty {strategy: FLADLog}")
    mixtures = {s: flad_mixture(lg) for s, lg in logs.items()}
    shapes = {m.shape for m in mixtures.values()}
    if len(shapes) != 1:
        raise ValueError(f"logs must have the same number of steps and arms, got shapes {sorted(shapes)}")
    n_steps, n_arms = shapes.pop()
    if isinstance(kinds, str) or len(kinds) != n_arms:
        raise ValueError(f"kinds must list the kind of each of the {n_arms} arms, got {kinds!r}")
    kinds = _kinds(kinds, n_arms)
    first = next(iter(logs.values()))
    logged = getattr(first, "step", None)
    steps = list(range(1, n_steps + 1)) if logged is None or len(logged) == 0 else [int(s) for s in logged]
    if len(steps) != n_steps or len(set(steps)) != n_steps:
        raise ValueError(f"the first log's step list must hold {n_steps} distinct steps, got {len(steps)}")
    curves = {s: np.stack([_mass_curve(m, kinds, k) for k in KINDS], 1) for s, m in mixtures.items()}  # (T, 3)
    table = {t: {s: tuple(float(v) for v in c[i]) for s, c in curves.items()} for i, t in enumerate(steps)}
    if step is None:
        step = steps[-1]
    elif step not in table:
        raise ValueError(f"step must be one of the logged steps {steps[0]}..{steps[-1]}, got {step!r}")
    row = {t: i for i, t in enumerate(steps)}
    order, n_runs = _order(kinds), len(mixtures)
    mats = list(mixtures.values())
    policy = go.FigureWidget(
        flad_policy({s: m[row[step]] for s, m in mixtures.items()}, kinds, step=step, ymax=_policy_top(mats, row[step]))
    )
    mass = go.FigureWidget(flad_mass_over_time(mixtures, kinds, steps=steps, current=step))
    slider = W.IntSlider(
        value=step,
        min=steps[0],
        max=steps[-1],
        step=1,
        description="step t",
        continuous_update=False,
        layout=W.Layout(width="520px"),
    )
    slider.add_class("effdl-main-control")  # the control the browser tests move
    kind = W.Dropdown(options=list(KINDS), value="aligned", description="kind")
    readout = W.HTML()
    exp3 = EXP3(n_arms)

    def show(t: int) -> None:
        parts = [f"step t = <b>{t}</b>"]
        if "exp3" in logs and n_arms > 1:
            parts.append(f"EXP3's forced-uniform share K·ε_t = <b>{n_arms * exp3.epsilon(t):.2f}</b>")
        for s, lg in logs.items():
            i = row[t]
            arm = int(lg.arm[i])
            played = f"played arm {arm} ({kinds[arm]}), r = {float(lg.reward[i]):+.2f}" if arm >= 0 else "no arm"
            parts.append(f"{s}: {kind.value} mass ÷ share <b>{table[t][s][KINDS.index(kind.value)]:.2f}</b>, {played}")
        readout.value = " · ".join(parts)

    def at() -> int:
        """The slider's step, or the nearest logged one before it (for logs that skip steps)."""
        t = int(slider.value)
        return t if t in row else max((s for s in steps if s <= t), default=steps[0])

    def update(change: Any = None) -> None:
        t = at()
        with policy.batch_update():
            for trace, m in zip(policy.data[:n_runs], mixtures.values(), strict=True):
                trace.y = m[row[t], order].tolist()
            for note, (s, m) in zip(policy.layout.annotations[:n_runs], mixtures.items(), strict=True):
                note.text = _panel_title(s, m[row[t]], kinds)
            policy.layout.title.text = f"mixture over the arms at step {t}"
            policy.layout.yaxis.range = [0, _policy_top(mats, row[t])]
        with mass.batch_update():
            mass.data[-1].x = [t, t]
        show(t)

    def switch(change: Any = None) -> None:
        k = KINDS.index(kind.value)
        top = 1.0
        with mass.batch_update():
            for trace, c in zip(mass.data[:n_runs], curves.values(), strict=True):
                trace.y = c[:, k].tolist()
                top = max(top, float(np.nanmax(c[:, k])) if np.isfinite(c[:, k]).any() else 1.0)
            mass.data[-1].y = [0, 1.05 * top]
            mass.layout.title.text = f"mass on the {kind.value} datasets ÷ their uniform share"
        show(at())

    show(step)
    slider.observe(update, names="value")
    kind.observe(switch, names="value")
    box = W.VBox([W.HBox([slider, kind]), readout, policy, mass])
    box.slider, box.kind, box.policy, box.mass, box.readout = slider, kind, policy, mass, readout
    box.logs, box.steps, box.mixtures, box.table = dict(logs), steps, mixtures, table
    return box
