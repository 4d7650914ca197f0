"""Chapter 07's study steps behind one call each: the headline test at two size caps (:func:`headline_tests`) and
one-shot compression at two stages of training (:func:`oneshot_by_stage`)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from effdl.compress.scaling.lm import TokenData
from effdl.compress.scaling.robustness import _rows, compress_curve, large_vs_small


def headline_tests(
    rows: Sequence[Mapping[str, Any]], *, small: str, params: Mapping[str, int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Li et al.'s large-vs-small verdict (:func:`large_vs_small`) twice: within the size of ``small``'s fp32 row
    (the headline) and, stricter, within the size of its 8-bit row (``method == "quant"``, ``bits == 8``).

    ``rows``: :func:`compress_curve` rows of several models, including ``small`` quantized to 8 bits; ``params``:
    model name -> parameter count. Returns ``(head, strict)``, each :func:`large_vs_small`'s dict."""
    table = _rows(rows, ("name", "method", "bits", "size_bits"))
    eight = [r for r in table if r["name"] == small and r["method"] == "quant" and int(r["bits"]) == 8]
    if not eight:
        raise ValueError(f"rows have no 8-bit quantized row of small={small!r}: compress it with bits including 8")
    head = large_vs_small(rows, small=small, params=params)
    strict = large_vs_small(rows, small=small, params=params, max_bits=eight[0]["size_bits"])
    return head, strict


def oneshot_by_stage(
    models: Mapping[str, nn.Module],
    snapshots: Mapping[str, Mapping[str, Any]],
    windows: TokenData,
    *,
    sparsity: float = 0.7,
    bits: int = 4,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """One-shot robustness (no retraining) of each model at two stages of its training.

    For every ``name`` in ``models`` (trained models, never modified): a copy loaded with ``snapshots[name]`` (a
    ``state_dict`` saved earlier in training; the final weights stand in when there is none) and the model itself
    are compressed by :func:`compress_curve` at ``sparsity`` (pruning alone) and ``bits`` (quantization alone) and
    evaluated on ``windows``. Returns ``(early, end)``: name -> {row label, e.g. ``"70% pruned"``, ``"4-bit"`` ->
    relative loss increase (a fraction)}."""
    if not isinstance(models, Mapping) or not models:
        raise TypeError("models must be a non-empty dict of name -> trained model")
    if not isinstance(snapshots, Mapping):
        raise TypeError(f"snapshots must be a dict of name -> state_dict, got {type(snapshots).__name__}")
    early: dict[str, dict[str, float]] = {}
    end: dict[str, dict[str, float]] = {}
    for name, model in models.items():
        first = copy.deepcopy(model)
        first.load_state_dict(snapshots.get(name, model.state_dict()))
        for store, m in ((early, first), (end, model)):
            rows = compress_curve(m, windows, sparsities=[0.0, sparsity], bits=[bits], combined=False, name=name)
            store[name] = {r["label"]: r["rel_increase"] for r in rows}
    return early, end
