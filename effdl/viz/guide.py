"""Figures of the practitioner's guide: per-layer sensitivity of a :class:`effdl.guide.ModelReport`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

if TYPE_CHECKING:
    from effdl.guide.report import ModelReport

__all__ = ["sensitivity_bars"]

_COLUMNS = ("name", "params_share", "prune_output_change", "quant_output_change")


def sensitivity_bars(report: ModelReport | Sequence[Mapping[str, Any]], *, title: str | None = None) -> go.Figure:
    """Horizontal bars, one pair per Conv2d/Linear layer (module order, top to bottom): the relative output change
    (%) when that layer alone is magnitude-pruned and when it alone is quantized, from ``effdl.guide.report``.

    ``report``: a ``ModelReport`` or its ``layers`` rows (dicts with ``name``, ``params_share``,
    ``prune_output_change``, ``quant_output_change``). Each bar's hover shows the layer's share of the weights.
    Short bars on big layers are the ones to compress first.
    """
    rows = getattr(report, "layers", report)
    settings: Mapping[str, Any] = getattr(report, "settings", {})
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise TypeError(f"report must be a ModelReport or a list of layer rows, got {type(report).__name__}")
    if not rows:
        raise ValueError("report has no layers: nothing to plot")
    for key in _COLUMNS:
        missing = [i for i, r in enumerate(rows) if key not in r]
        if missing:
            raise ValueError(f"report rows {missing} have no {key!r}; each row needs {list(_COLUMNS)}")
    names = [str(r["name"]) for r in rows]
    shares = [100 * float(r["params_share"]) for r in rows]
    prune_name = f"prune {settings['sparsity']:.0%} of the layer" if "sparsity" in settings else "pruned"
    quant_name = f"{settings['bits']}-bit weights" if "bits" in settings else "quantized"
    fig = go.Figure()
    for key, name in (("prune_output_change", prune_name), ("quant_output_change", quant_name)):
        fig.add_trace(
            go.Bar(
                y=names,
                x=[100 * float(r[key]) for r in rows],
                customdata=shares,
                orientation="h",
                name=name,
                hovertemplate="%{y}: %{x:.2f}% output change, %{customdata:.1f}% of the weights<extra>"
                + name
                + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        title=title or "sensitivity proxy: output change when one layer alone is compressed",
        xaxis_title="relative output change (%)",
        yaxis_title="layer",
        yaxis_autorange="reversed",
        template="plotly_white",
        height=max(300, 120 + 28 * len(rows)),
        legend={"orientation": "h", "y": -0.15 - 2.0 / max(len(rows), 1)},
    )
    return fig
