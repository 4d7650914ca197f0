"""Figures of FLAD bandits (chapter 12): how EXP3-FLAD and UCB1-FLAD spread their mixture over K auxiliary datasets
grouped by kind (aligned / noisy / adversarial), EXP3's exploration floor ε_t against K ln K, the rewards per kind, the
strategies' target test accuracy and aligned mass over seeds, and the per-step time against K."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from effdl.learning.flad.bandits import EXP3
from effdl.learning.flad.tasks import KINDS
from effdl.viz.general import mean_std_bars

__all__ = [
    "flad_arm_probs",
    "flad_epsilon",
    "flad_mass",
    "flad_mass_over_time",
    "flad_mass_ratio",
    "flad_mixture",
    "flad_policy",
    "flad_policy_animation",
    "flad_rewards",
    "flad_step_time",
    "flad_strategies",
]

KIND_COLOURS = {"aligned": "#2ca02c", "noisy": "#ff7f0e", "adversarial": "#d62728"}
STRATEGY_COLOURS = {
    "exp3": "#636efa",
    "ucb1": "#00cc96",
    "uniform": "#8c8c8c",
    "exploit": "#ab63fa",
    "target_only": "#444444",
}
_TEMPLATE = "plotly_white"
_LEGEND = {"orientation": "h", "y": -0.25}


# ------------------------------------------------------------------------------------------------ data helpers
def _kinds(kinds: Sequence[str], n_arms: int | None = None) -> list[str]:
    if isinstance(kinds, str) or not isinstance(kinds, Sequence) or not kinds:
        raise ValueError(f"kinds must be a non-empty list of {KINDS} (e.g. suite.kinds), got {kinds!r}")
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"kinds must be among {KINDS}, got {bad[:3]!r}")
    if n_arms is not None and len(kinds) != n_arms:
        raise ValueError(f"kinds has {len(kinds)} entries but there are {n_arms} arms")
    return list(kinds)


def _order(kinds: Sequence[str]) -> list[int]:
    """Arm indices grouped by kind (aligned, noisy, adversarial), by index within a kind."""
    return sorted(range(len(kinds)), key=lambda a: (KINDS.index(kinds[a]), a))


def _matrix(probs: Any, name: str = "probs") -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"{name} must be (T, K) with T, K ≥ 1 (one row per step), got shape {p.shape}")
    return p


def flad_mass_ratio(dist: Any, kinds: Sequence[str], kind: str = "aligned") -> float:
    """Mass of ``dist`` (K,) on the arms of ``kind`` divided by their uniform share (1 = no preference; as
    :meth:`effdl.learning.flad.FewShotSuite.mass_ratio`). NaN when no arm is of that kind."""
    d = np.asarray(dist, dtype=np.float64)
    if d.ndim != 1:
        raise ValueError(f"dist must be 1-D (K,), got shape {d.shape}")
    mask = np.array([k == kind for k in _kinds(kinds, len(d))])
    if not mask.any():
        return math.nan
    return float(d[mask].sum() / d.sum() / mask.mean())


def _mass_curve(mix: np.ndarray, kinds: Sequence[str], kind: str) -> np.ndarray:
    """float64 (T,): :func:`flad_mass_ratio` of every row of ``mix`` (T, K)."""
    mask = np.array([k == kind for k in kinds])
    if not mask.any():
        return np.full(len(mix), np.nan)
    return mix[:, mask].sum(1) / mix.sum(1) / mask.mean()


def flad_mixture(log: Any, *, stochastic: bool | None = None) -> np.ndarray:
    """The mixture over the arms after every step, float64 (T, K), from a :class:`~effdl.learning.flad.FLADLog`
    (anything with ``probs`` and ``arm`` lists): π_t for a stochastic strategy (EXP3, uniform), the selection shares
    of steps 1..t for a deterministic one (UCB1, exploit: its π is one-hot). ``stochastic=None`` detects it (every
    row of ``probs`` one-hot = deterministic)."""
    p = _matrix(log.probs, "log.probs")
    if stochastic is None:
        stochastic = not bool(np.all(np.isclose(p.max(1), 1.0)))
    if stochastic:
        return p
    arms = np.asarray(log.arm, dtype=np.int64)
    onehot = np.zeros_like(p)
    played = arms >= 0
    onehot[np.flatnonzero(played), arms[played]] = 1.0
    return np.cumsum(onehot, 0) / np.maximum(np.cumsum(played), 1)[:, None]


def _steps(steps: Sequence[int] | None, n: int) -> list[int]:
    out = list(range(1, n + 1)) if steps is None else [int(s) for s in steps]
    if len(out) != n:
        raise ValueError(f"steps has {len(out)} entries but there are {n} rows")
    return out


def _per_seed(data: Any, key: str) -> dict[str, list[float]]:
    """``{strategy: [value per seed]}`` from a StudyResult (``values(key)``) or as given."""
    values = data.values(key) if hasattr(data, "values") and not isinstance(data, Mapping) else data
    if not isinstance(values, Mapping) or not values or any(len(v) == 0 for v in values.values()):
        raise ValueError(f"need {{strategy: [value per seed]}} with at least one value each, got {values!r}")
    return {s: [float(x) for x in v] for s, v in values.items()}


def _mean_std(v: Sequence[float]) -> tuple[float, float]:
    return float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0


def _finish(fig: go.Figure, title: str, height: int, **layout: Any) -> go.Figure:
    """The house layout: ``title``, white template, ``height`` px, legend below the plot (unless given)."""
    fig.update_layout(**{"title": title, "template": _TEMPLATE, "height": height, "legend": _LEGEND, **layout})
    return fig


def _arm_colours(kinds: Sequence[str], order: Sequence[int]) -> list[str]:
    """Per arm (in ``order``): its kind's colour, lighter for later arms of the same kind (so areas stay apart)."""
    out, seen = [], dict.fromkeys(KINDS, 0)
    totals = {k: max(sum(kk == k for kk in kinds), 1) for k in KINDS}
    for a in order:
        k = kinds[a]
        mix = 0.45 * seen[k] / totals[k]
        rgb = plotly.colors.hex_to_rgb(KIND_COLOURS[k])
        out.append("rgb({:.0f}, {:.0f}, {:.0f})".format(*(c + mix * (255 - c) for c in rgb)))
        seen[k] += 1
    return out


# ------------------------------------------------------------------------------------------------ mixture over time
def flad_arm_probs(
    probs: Any,
    kinds: Sequence[str],
    *,
    steps: Sequence[int] | None = None,
    title: str | None = None,
) -> go.Figure:
    """The mixture over the K arms along training: ``probs`` (T, K) (:func:`flad_mixture` of a log, or
    ``log.probs``), ``kinds`` (K,) the arms' kinds (``suite.kinds``), ``steps`` (T,) default 1..T.

    One stacked area per arm (grouped and coloured by kind, aligned at the bottom, later arms of a kind lighter),
    y = probability; traces in that arm order (``name`` = the kind, one legend entry per kind)."""
    p = _matrix(probs)
    kinds = _kinds(kinds, p.shape[1])
    xs, order = _steps(steps, p.shape[0]), _order(kinds)
    fig = go.Figure()
    shown: set[str] = set()
    for a, colour in zip(order, _arm_colours(kinds, order), strict=True):
        k = kinds[a]
        line = {"width": 0.5, "color": colour}
        hover = f"arm {a} ({k})<br>t = %{{x}}: %{{y:.3f}}<extra></extra>"
        area = go.Scatter(x=xs, y=p[:, a].tolist(), mode="lines", stackgroup="mix", name=k, legendgroup=k, line=line)
        fig.add_trace(area.update(showlegend=k not in shown, fillcolor=colour, hovertemplate=hover))
        shown.add(k)
    return _finish(
        fig,
        title or "mixture over the auxiliary datasets along training",
        360,
        xaxis={"title": "step t"},
        yaxis={"title": "probability (stacked)", "range": [0, 1]},
    )


def flad_policy(
    dists: Mapping[str, Any],
    kinds: Sequence[str],
    *,
    step: int | None = None,
    ymax: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """The mixture of each strategy at one step, side by side: ``dists`` ``{strategy: (K,)}``, arms grouped and
    coloured by kind, a dashed line at the uniform share 1/K, each panel titled with its aligned mass ÷ share.

    Traces: one bar per strategy (in ``dists`` order, x = arm labels in kind order, y = probability), then one
    legend-only entry per kind. A widget replaces the bars' y and the annotations' text in place."""
    from plotly.subplots import make_subplots

    if not dists:
        raise ValueError("dists is empty: give {strategy: distribution (K,)}")
    arrays = {s: np.asarray(d, dtype=np.float64) for s, d in dists.items()}
    n = len(next(iter(arrays.values())))
    kinds = _kinds(kinds, n)
    if any(d.shape != (n,) for d in arrays.values()):
        raise ValueError(f"every distribution must have shape ({n},), got {[d.shape for d in arrays.values()]}")
    order = _order(kinds)
    labels = [f"{a}" for a in order]
    fig = make_subplots(
        rows=1,
        cols=len(arrays),
        shared_yaxes=True,
        subplot_titles=[_panel_title(s, d, kinds) for s, d in arrays.items()],
    )
    colours = [KIND_COLOURS[kinds[a]] for a in order]
    for i, (s, d) in enumerate(arrays.items(), start=1):
        fig.add_trace(
            go.Bar(
                x=labels,
                y=d[order].tolist(),
                name=s,
                showlegend=False,
                marker_color=colours,
                customdata=[kinds[a] for a in order],
                hovertemplate=f"{s}: arm %{{x}} (%{{customdata}}) %{{y:.3f}}<extra></extra>",
            ),
            row=1,
            col=i,
        )
        fig.update_xaxes(title_text="arm", type="category", row=1, col=i)
    for k in KINDS:
        if k in kinds:
            fig.add_trace(go.Bar(x=[None], y=[None], name=k, marker_color=KIND_COLOURS[k], showlegend=True))
    fig.add_hline(y=1.0 / n, line_dash="dash", line_color="gray", annotation_text="1/K")
    top = ymax if ymax is not None else max(1.1 * max(float(d.max()) for d in arrays.values()), 1.5 / n)
    fig.update_yaxes(range=[0, top])
    fig.update_yaxes(title_text="probability / share", row=1, col=1)
    at = "" if step is None else f" at step {step}"
    return _finish(fig, title or f"mixture over the arms{at}", 340, bargap=0.1)


def _policy_top(mats: Sequence[np.ndarray], row: int | None = None) -> float:
    """Top of :func:`flad_policy`'s y axis for mixtures (T, K): 1.1 × the largest share after the first K steps
    (UCB1's shares start one-hot and would flatten the rest), raised to fit row ``row`` when given."""
    k = mats[0].shape[1]
    top = max(1.1 * max(float(m[min(k, len(m) - 1) :].max()) for m in mats), 1.5 / k)
    return top if row is None else max(top, 1.1 * max(float(m[row].max()) for m in mats))


def _panel_title(strategy: str, dist: np.ndarray, kinds: Sequence[str]) -> str:
    # Two lines: four panels side by side leave ~200 px per title.
    return f"{strategy}<br>aligned mass ÷ share {flad_mass_ratio(dist, kinds):.2f}"


def flad_policy_animation(
    mixtures: Mapping[str, Any],
    kinds: Sequence[str],
    *,
    steps: Sequence[int] | None = None,
    n_frames: int = 30,
    title: str | None = None,
) -> go.Figure:
    """:func:`flad_policy` with plotly animation frames (a slider and a play button that work in a static HTML page,
    no kernel): ``mixtures`` ``{strategy: (T, K)}`` (:func:`flad_mixture`), ``n_frames`` steps evenly spaced
    over 1..T (the last one always included). Frame names are the steps."""
    mats = {s: _matrix(m, f"mixtures[{s!r}]") for s, m in mixtures.items()}
    if not mats:
        raise ValueError("mixtures is empty")
    t_len = next(iter(mats.values())).shape[0]
    if any(m.shape != next(iter(mats.values())).shape for m in mats.values()):
        raise ValueError("every mixture must have the same shape (T, K)")
    xs = _steps(steps, t_len)
    rows = sorted(set(np.linspace(0, t_len - 1, max(1, min(int(n_frames), t_len))).round().astype(int).tolist()))
    title = title or "mixture over the arms along training (move the slider or press play)"
    tops = [_policy_top(list(mats.values()), r) for r in rows]
    fig = flad_policy({s: m[rows[0]] for s, m in mats.items()}, kinds, ymax=tops[0], title=title)
    order, heads = _order(kinds), fig.layout.annotations[: len(mats)]
    frames = []
    for r, top in zip(rows, tops, strict=True):
        data = [go.Bar(y=m[r, order].tolist()) for m in mats.values()]
        texts = [_panel_title(s, m[r], kinds) for s, m in mats.items()]
        notes = [{**a.to_plotly_json(), "text": t} for a, t in zip(heads, texts, strict=True)]
        frames.append(
            go.Frame(
                name=str(xs[r]),
                data=data,
                traces=list(range(len(mats))),
                layout={"annotations": notes + list(fig.layout.annotations[len(mats) :]), "yaxis": {"range": [0, top]}},
            )
        )
    fig.frames = frames
    anim = {"frame": {"duration": 150, "redraw": True}, "mode": "immediate", "transition": {"duration": 0}}
    fig.update_layout(
        sliders=[
            {
                "currentvalue": {"prefix": "step t = "},
                "x": 0.12,
                "len": 0.88,
                "y": -0.22,
                "pad": {"t": 30},
                "steps": [{"label": f.name, "method": "animate", "args": [[f.name], anim]} for f in frames],
            }
        ],
        updatemenus=[
            {
                "type": "buttons",
                "showactive": False,
                "x": 0,
                "y": -0.32,
                "xanchor": "left",
                "buttons": [{"label": "▶ play", "method": "animate", "args": [None, anim]}],
            }
        ],
        height=460,
        legend={"orientation": "v", "x": 1.02, "y": 1},
    )
    return fig


def flad_mass_over_time(
    mixtures: Mapping[str, Any],
    kinds: Sequence[str],
    *,
    steps: Sequence[int] | None = None,
    kind: str = "aligned",
    current: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Mass on the ``kind`` arms ÷ their uniform share along training, one line per strategy (``mixtures``
    ``{strategy: (T, K)}``), a dashed line at 1 (no preference), then a vertical cursor at step ``current`` (the last
    trace; a widget moves its x)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    mats = {s: _matrix(m, f"mixtures[{s!r}]") for s, m in mixtures.items()}
    if not mats:
        raise ValueError("mixtures is empty")
    fig = go.Figure()
    top = 1.0
    for s, m in mats.items():
        y = _mass_curve(m, _kinds(kinds, m.shape[1]), kind)
        top = max(top, float(np.nanmax(y)) if np.isfinite(y).any() else 1.0)
        fig.add_trace(
            go.Scatter(
                x=_steps(steps, len(m)), y=y.tolist(), mode="lines", name=s, line={"color": STRATEGY_COLOURS.get(s)}
            )
        )
    fig.add_hline(y=1.0, line_dash="dash", line_color="gray", annotation_text="uniform")
    cur = 1 if current is None else int(current)
    fig.add_trace(
        go.Scatter(
            x=[cur, cur],
            y=[0, 1.05 * top],
            mode="lines",
            name="step t",
            showlegend=False,
            line={"color": "black", "width": 1},
            hoverinfo="skip",
        )
    )
    return _finish(
        fig,
        title or f"mass on the {kind} datasets ÷ their uniform share",
        300,
        xaxis={"title": "step t"},
        yaxis={"title": "mass ÷ share", "rangemode": "tozero"},
    )


# ------------------------------------------------------------------------------------------------ EXP3's exploration
def flad_epsilon(
    K_values: Sequence[int] = (10, 20, 50, 200), *, steps: int = 1500, title: str | None = None
) -> go.Figure:
    """Why EXP3 explores at large K. Left: the share of EXP3's mixture forced uniform, K·ε_t = min(1, √(K ln K / t)),
    over t = 1..``steps`` (log x), one line per K, a marker where it leaves 1 (t = K ln K). Right: K ln K per K as bars
    against the step budget ``steps`` (dashed). ε_t from :meth:`effdl.learning.flad.EXP3.epsilon`.

    Traces: the K lines (x = t, y = K·ε_t), the K ln K markers, the bars."""
    from plotly.subplots import make_subplots

    ks = [int(k) for k in K_values]
    if not ks or any(k < 2 for k in ks):
        raise ValueError(f"K_values must be ints ≥ 2 (ln 1 = 0: one arm never explores), got {K_values!r}")
    if steps < 2:
        raise ValueError(f"steps must be ≥ 2, got {steps!r}")
    ts = np.unique(np.concatenate([np.geomspace(1, steps, 200).round(), [steps]]).astype(int))
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.65, 0.35],
        subplot_titles=("forced-uniform share K·ε_t", f"K ln K vs the {steps} steps"),
    )
    palette = plotly.colors.qualitative.Plotly
    for i, k in enumerate(ks):
        bandit = EXP3(k)
        share = [k * bandit.epsilon(int(t)) for t in ts]
        fig.add_trace(
            go.Scatter(
                x=ts.tolist(),
                y=share,
                mode="lines",
                name=f"K = {k}",
                line={"color": palette[i % 10]},
                hovertemplate=f"K = {k}, t = %{{x}}: K·ε = %{{y:.3f}}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    klnk = [k * math.log(k) for k in ks]
    fig.add_trace(
        go.Scatter(
            x=klnk,
            y=[1.0] * len(ks),
            mode="markers",
            name="t = K ln K",
            showlegend=True,
            marker={"symbol": "diamond", "size": 9, "color": [palette[i % 10] for i in range(len(ks))]},
            hovertemplate="K ln K = %{x:.0f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=[str(k) for k in ks],
            y=klnk,
            name="K ln K",
            showlegend=False,
            marker_color=[palette[i % 10] for i in range(len(ks))],
            text=[f"{v:.0f}" for v in klnk],
            textposition="outside",
        ),
        row=1,
        col=2,
    )
    fig.add_hline(y=steps, line_dash="dash", line_color="gray", row=1, col=2, annotation_text=f"{steps} steps")
    fig.update_xaxes(title_text="step t (log)", type="log", row=1, col=1)
    fig.update_yaxes(title_text="K·ε_t", range=[0, 1.08], row=1, col=1)
    fig.update_xaxes(title_text="K", type="category", row=1, col=2)
    fig.update_yaxes(title_text="steps", row=1, col=2)
    return _finish(fig, title or "EXP3: π is uniform until t = K ln K, then the floor fades as √(K ln K / t)", 360)


# ------------------------------------------------------------------------------------------------ rewards
def _trailing_mean(v: np.ndarray, window: int) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(v)])
    i = np.arange(1, len(v) + 1)
    lo = np.maximum(i - window, 0)
    return (c[i] - c[lo]) / (i - lo)


def flad_rewards(
    log: Any, kinds: Sequence[str], *, window: int = 25, raw: bool = True, title: str | None = None
) -> go.Figure:
    """The gradient-alignment reward r (cosine) per kind of arm along training, from a
    :class:`~effdl.learning.flad.FLADLog` (``step``, ``arm``, ``reward``): for each kind, the rewards of the steps
    that played an arm of that kind, smoothed by a trailing mean over that kind's last ``window`` rewards.

    Traces: one smoothed line per kind present (in aligned, noisy, adversarial order), then (``raw``) the raw rewards
    as faint dots per kind."""
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be an int ≥ 1, got {window!r}")
    arms, rewards = np.asarray(log.arm, dtype=np.int64), np.asarray(log.reward, dtype=np.float64)
    logged = getattr(log, "step", None)
    steps = np.arange(1, len(arms) + 1) if logged is None or len(logged) == 0 else np.asarray(logged)
    if not (len(arms) == len(rewards) == len(steps)):
        raise ValueError(f"log.arm, log.reward and log.step must have equal lengths, got {len(arms)}, {len(rewards)}")
    kinds = _kinds(kinds)
    if arms.size and arms.max() >= len(kinds):
        raise ValueError(f"log plays arm {int(arms.max())} but kinds has only {len(kinds)} entries")
    played = np.array([kinds[a] if a >= 0 else "" for a in arms], dtype=object)
    present = [k for k in KINDS if (played == k).any()]
    fig = go.Figure()
    for k in present:
        sel = np.flatnonzero((played == k) & np.isfinite(rewards))
        fig.add_trace(
            go.Scatter(
                x=steps[sel].tolist(),
                y=_trailing_mean(rewards[sel], window).tolist(),
                mode="lines",
                name=k,
                legendgroup=k,
                line={"color": KIND_COLOURS[k], "width": 2.5},
            )
        )
    if raw:
        for k in present:
            sel = np.flatnonzero((played == k) & np.isfinite(rewards))
            fig.add_trace(
                go.Scatter(
                    x=steps[sel].tolist(),
                    y=rewards[sel].tolist(),
                    mode="markers",
                    name=k,
                    legendgroup=k,
                    showlegend=False,
                    opacity=0.3,
                    marker={"size": 4, "color": KIND_COLOURS[k]},
                )
            )
    fig.add_hline(y=0.0, line_dash="dot", line_color="gray")
    return _finish(
        fig,
        title or f"reward cos(g_aux, g_target) per kind (mean of the last {window})",
        340,
        xaxis={"title": "step t"},
        yaxis={"title": "reward r", "range": [-1.05, 1.05]},
    )


# ------------------------------------------------------------------------------------------------ the study
def flad_strategies(
    data: Any, *, key: str = "test_accuracy", baseline: str | None = "target_only", title: str | None = None
) -> go.Figure:
    """Target test accuracy (%) per strategy: mean over seeds with the spread (error bar = std, ddof 1) and every
    seed's value as a dot. ``data``: a :class:`~effdl.learning.flad.StudyResult` or ``{strategy: [fraction per
    seed]}``; ``baseline``: a dashed line at that strategy's mean (e.g. training on the target alone).

    Traces: the bars (y = mean %), the per-seed dots."""
    per = {s: [100 * v for v in vals] for s, vals in _per_seed(data, key).items()}
    fig = mean_std_bars(per, colours=STRATEGY_COLOURS, text_format=".1f", hover_format=".2f", unit=" %")
    if baseline in per:
        fig.add_hline(y=_mean_std(per[baseline])[0], line_dash="dash", line_color="gray", annotation_text=baseline)
    n_seeds = max(len(v) for v in per.values())
    return _finish(
        fig,
        title or f"target test accuracy by strategy ({n_seeds} seed{'s' * (n_seeds > 1)})",
        380,
        yaxis={"title": "test accuracy (%)"},
    )


def flad_mass(
    data: Any,
    *,
    kinds: Sequence[str] = KINDS,
    skip: Sequence[str] = ("target_only",),
    ceiling: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """The final mixture's mass on each kind ÷ its uniform share, per strategy (1 = no preference): grouped bars (mean
    over seeds ± std) and per-seed dots. ``data``: a :class:`~effdl.learning.flad.StudyResult` or ``{kind:
    {strategy: [ratio per seed]}}``; ``skip``: strategies left out (target-only plays no arm); ``ceiling``: a dotted
    line (e.g. K / #aligned, all mass on the aligned datasets).

    Traces: one bar per kind (in ``kinds`` order), then one dot trace per kind."""
    ks = [k for k in kinds if k in KINDS]
    if not ks:
        raise ValueError(f"kinds must name some of {KINDS}, got {kinds!r}")
    per = {
        k: {s: v for s, v in _per_seed(data if hasattr(data, "runs") else data[k], k).items() if s not in skip}
        for k in ks
    }
    fig = go.Figure()
    for k in ks:
        names = list(per[k])
        stats = [_mean_std(per[k][s]) for s in names]
        fig.add_trace(
            go.Bar(
                x=names,
                y=[m for m, _ in stats],
                error_y={"type": "data", "array": [e for _, e in stats]},
                name=k,
                marker_color=KIND_COLOURS[k],
                offsetgroup=k,
                hovertemplate=f"%{{x}}: {k} mass ÷ share %{{y:.2f}}<extra></extra>",
            )
        )
    for k in ks:
        fig.add_trace(
            go.Scatter(
                x=[s for s in per[k] for _ in per[k][s]],
                y=[v for s in per[k] for v in per[k][s]],
                mode="markers",
                name="one seed",
                showlegend=k == ks[0],
                offsetgroup=k,
                marker={"color": "black", "size": 5},
            )
        )
    fig.add_hline(y=1.0, line_dash="dash", line_color="gray", annotation_text="no preference")
    if ceiling is not None:
        fig.add_hline(y=float(ceiling), line_dash="dot", line_color=KIND_COLOURS["aligned"], annotation_text="all mass")
    return _finish(
        fig,
        title or "final mixture: mass on each kind ÷ its uniform share",
        380,
        barmode="group",
        scattermode="group",
        yaxis={"title": "mass ÷ uniform share"},
    )


def flad_step_time(
    times: Mapping[tuple[str, int], Any], *, reference: bool = True, title: str | None = None
) -> go.Figure:
    """Milliseconds per training step against K (log x), from :func:`effdl.learning.flad.step_time`
    (``{(strategy, K): seconds per step (repeats,)}``): the median per point, error bars from the fastest to the
    slowest repeat. ``reference``: a dashed line growing ∝ K from the first strategy's first point (what a cost
    linear in K would look like).

    Traces: one line per strategy, then the reference."""
    if not times:
        raise ValueError("times is empty: give {(strategy, K): seconds per step}")
    strategies = list(dict.fromkeys(s for s, _ in times))
    fig = go.Figure()
    for s in strategies:
        ks = sorted(k for ss, k in times if ss == s)
        rep = [1e3 * np.asarray(times[(s, k)], dtype=np.float64).ravel() for k in ks]
        med = [float(np.median(r)) for r in rep]
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=med,
                mode="lines+markers",
                name=s,
                line={"color": STRATEGY_COLOURS.get(s)},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [float(r.max()) - m for r, m in zip(rep, med, strict=True)],
                    "arrayminus": [m - float(r.min()) for r, m in zip(rep, med, strict=True)],
                },
                hovertemplate=f"{s}, K = %{{x}}: %{{y:.2f}} ms<extra></extra>",
            )
        )
    if reference:
        first = fig.data[0]
        k0, m0 = first.x[0], first.y[0]
        ks = sorted({k for _, k in times})
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=[m0 * k / k0 for k in ks],
                mode="lines",
                name="∝ K (for comparison)",
                line={"dash": "dash", "color": "gray"},
            )
        )
    return _finish(
        fig,
        title or "time per step against the number of auxiliary datasets K",
        340,
        xaxis={"title": "K (log)", "type": "log"},
        yaxis={"title": "ms per step", "rangemode": "tozero"},
    )
