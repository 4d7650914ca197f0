"""Compression of trained models and size against loss: :func:`compress_curve` (prune, with optional retraining,
and/or quantize), :func:`compressed_model_bits`, :func:`size_loss_frontier`, :func:`best_under`,
:func:`large_vs_small`."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from effdl.compress.prune import magnitude_prune_, make_permanent_
from effdl.compress.quant import quantize_weights_, quantized_model_bits
from effdl.compress.scaling._checks import (
    _bar,
    _bit_list,
    _check_model,
    _context_of,
    _fractions,
    _int,
    _positive,
)
from effdl.compress.scaling.lm import TokenData, _windows_arg, evaluate_lm, lm_windows, train_lm
from effdl.core.checks import is_int
from effdl.core.data import CharDataset
from effdl.core.footprint import STORAGES, effective_weights, model_bits, pareto_front, tensor_bits, weight_aliases

METHODS = ("none", "prune", "quant", "prune+quant")  # compress_curve's row kinds
DEFAULT_SPARSITIES = (0.0, 0.5, 0.7, 0.9)
DEFAULT_BITS = (8, 6, 4)


# ----------------------------------------------------------------------------------------------------------
# Compression


def compressible_layers(model: nn.Module) -> list[str]:
    """Names of the ``nn.Linear`` layers that :func:`compress_curve` prunes and quantizes: all of them except
    those whose weight is an ``nn.Embedding``'s weight (a tied LM head), in module order."""
    _check_model(model)
    emb = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    out = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear):
            if hasattr(m, "parametrizations"):  # quantized: the stored parameter is the parametrization's original
                w = m.parametrizations.weight.original
            else:  # pruned: the parameter is weight_orig (weight is recomputed from it and the mask)
                w = getattr(m, "weight_orig", m.weight)
            if id(w) not in emb:
                out.append(name)
    return out


def _layers(model: nn.Module, layers: Sequence[str] | None) -> list[str]:
    allowed = compressible_layers(model)
    if layers is None:
        return allowed
    if isinstance(layers, str):
        raise TypeError(f"layers must be a list of layer names such as ['blocks.0.mlp.fc'], got the string {layers!r}")
    names = list(layers)
    linear = {n for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    unknown = [n for n in names if n not in linear]
    if unknown:
        raise ValueError(f"layers must name nn.Linear layers of the model, got {unknown}; compressible: {allowed}")
    return names


def compressed_model_bits(
    model: nn.Module,
    *,
    layers: Sequence[str] | None = None,
    bits: int | None = None,
    storage: str = "dense",
    per_channel: bool = True,
) -> int:
    """Storage cost in bits of ``model`` (as it is now: pruned and/or quantized) when the ``layers``' weights
    (default :func:`compressible_layers`) are stored compressed and everything else in fp32.

    Each chosen weight ``w`` (its effective value: ``orig * mask`` if pruned, the quantized value if quantized)
    costs ``tensor_bits(w, storage=storage)`` at 32-bit values (``bits=None``) or
    ``quantized_bits(w, bits=bits, per_channel=per_channel, storage=storage)`` (``bits``-bit codes plus one fp32
    scale per output channel or per tensor). ``storage``: ``"dense"`` (quantization alone; equals
    ``quant.quantized_model_bits``), ``"bitmask"`` or ``"csr"`` (pruned weights; zeros cost only the format's
    overhead). The rest is ``effdl.model_bits``: fp32 weights, buffers at 32 bits, pruning masks never counted.
    """
    _check_model(model)
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {', '.join(repr(s) for s in STORAGES)}, got {storage!r}")
    if bits is not None and (not is_int(bits) or not 1 <= bits <= 16):
        raise ValueError(f"bits must be None (fp32 values) or an int in 1..16, got {bits!r}")
    if not isinstance(per_channel, bool):
        raise TypeError(f"per_channel must be a bool, got {per_channel!r}")
    names = _layers(model, layers)
    if bits is not None:
        return quantized_model_bits(model, bits=bits, per_channel=per_channel, layers=names, storage=storage)
    weights, aliases = effective_weights(model), weight_aliases(model)
    total = model_bits(model)
    for key in dict.fromkeys(aliases[f"{n}.weight"] for n in names):  # a tied weight is stored once
        w = weights[key]
        total += tensor_bits(w, storage=storage) - tensor_bits(w)
    return total


def _label(sparsity: float, bits: int | None) -> str:
    parts = []
    if sparsity > 0:
        parts.append(f"{round(100 * sparsity)}% pruned")
    if bits is not None:
        parts.append(f"{bits}-bit")
    return " + ".join(parts) or "fp32"


def compress_curve(
    model: nn.Module,
    val: TokenData,
    *,
    sparsities: Sequence[float] = DEFAULT_SPARSITIES,
    bits: Sequence[int] = DEFAULT_BITS,
    combined: bool | Sequence[tuple[float, int]] = True,
    layers: Sequence[str] | None = None,
    scope: str = "layer",
    storage: str = "bitmask",
    per_channel: bool = True,
    eval_batches: int = 8,
    eval_batch_size: int = 64,
    seed: int | None = 0,
    finetune_steps: int = 0,
    train: CharDataset | Tensor | None = None,
    finetune_lr: float = 1e-3,
    finetune_batch_size: int = 32,
    name: str = "",
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Validation bits/char against compressed size for one trained model: a list of rows (dicts).

    Variants, each on a copy of ``model`` (which is never modified), one-shot when ``finetune_steps=0``:

    - ``"none"``: the fp32 model (always the first row: the reference);
    - ``"prune"``: magnitude pruning (``prune.magnitude_prune_``; ``scope="layer"``: every layer loses the same
      fraction, ``"global"``: one threshold) at each non-zero entry of ``sparsities``, stored in ``storage``;
    - ``"quant"``: post-training quantization of the weights (``quant.quantize_weights_``: symmetric, min-max, one
      scale per output channel if ``per_channel``) at each of ``bits``, dense codes;
    - ``"prune+quant"``: pruned (then made permanent) and quantized; ``combined=True`` tries every non-zero sparsity
      with every bit-width, a list of ``(sparsity, bits)`` pairs only those, ``False`` none.

    Only ``layers`` (default :func:`compressible_layers`: the blocks' Linear layers, not the tied embedding) are
    compressed. Rows: ``name``, ``method``, ``label``, ``sparsity``, ``bits`` (32 when not quantized),
    ``size_bits`` (:func:`compressed_model_bits`), ``ratio`` (fp32 size / size), ``val_bpc`` (:func:`evaluate_lm`
    on the same ``eval_batches × eval_batch_size`` windows for every variant, drawn with ``seed``, or on the
    ``(x, y)`` windows given), ``rel_increase`` (``val_bpc / fp32 val_bpc − 1``) and ``finetune_steps``.

    Prune, then fine-tune: with ``finetune_steps > 0`` every pruned model trains that many more steps on ``train``
    with its mask fixed (:func:`train_lm`: AdamW at ``finetune_lr``, no weight decay, ``finetune_batch_size``
    windows per step, batches drawn with ``seed``) before it is evaluated or quantized. So that the comparison stays
    fair, the dense reference gets the same extra steps on the same batches, and the ``"quant"`` rows quantize that
    fine-tuned dense model: every row has seen exactly ``finetune_steps`` more batches than ``model``.
    Quantization itself stays post-training (no quantization-aware steps).
    """
    _check_model(model)
    levels = [s for s in _fractions("sparsities", sparsities) if s > 0]
    widths = _bit_list("bits", bits)
    if scope not in ("global", "layer"):
        raise ValueError(f"scope must be 'global' or 'layer', got {scope!r}")
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {', '.join(repr(s) for s in STORAGES)}, got {storage!r}")
    if not isinstance(per_channel, bool):
        raise TypeError(f"per_channel must be a bool, got {per_channel!r}")
    if combined is True:
        pairs = [(s, b) for s in levels for b in widths]
    elif combined is False:
        pairs = []
    elif isinstance(combined, Sequence) and not isinstance(combined, str):
        pairs = []
        for i, pair in enumerate(combined):
            if not (isinstance(pair, Sequence) and len(pair) == 2):
                raise TypeError(f"combined[{i}] must be a (sparsity, bits) pair, got {pair!r}")
            s = _fractions(f"combined[{i}] sparsity", [pair[0]])[0]
            if s == 0:
                raise ValueError(f"combined[{i}] sparsity must be > 0 (0 is plain quantization), got {pair[0]!r}")
            pairs.append((s, _bit_list(f"combined[{i}] bits", [pair[1]])[0]))
    else:
        raise TypeError(f"combined must be True, False or a list of (sparsity, bits) pairs, got {combined!r}")
    names = _layers(model, layers)
    if not names:
        raise ValueError("model has no nn.Linear layer to compress (besides a tied embedding)")
    finetune_steps = _int("finetune_steps", finetune_steps, low=0)
    if finetune_steps and train is None:
        raise ValueError("finetune_steps > 0 needs the training data: pass train=<CharDataset or 1-D id tensor>")
    finetune_lr = _positive("finetune_lr", finetune_lr)  # type: ignore[assignment]
    finetune_batch_size = _int("finetune_batch_size", finetune_batch_size)
    windows = _windows_arg("val", val)
    if windows is None:
        ctx = None
        if isinstance(val, CharDataset):
            limit = _context_of(model)
            ctx = min(val.context, limit) if limit is not None else val.context
        windows = lm_windows(
            val, n=_int("eval_batches", eval_batches) * _int("eval_batch_size", eval_batch_size), context=ctx, seed=seed
        )  # type: ignore[arg-type]
    eval_batch_size = _int("eval_batch_size", eval_batch_size)

    variants: list[tuple[str, float, int | None]] = [("none", 0.0, None)]
    variants += [("prune", s, None) for s in levels]
    variants += [("quant", 0.0, b) for b in widths]
    variants += [("prune+quant", s, b) for s, b in pairs]
    fp32_bits = compressed_model_bits(model, layers=names)
    rows: list[dict[str, Any]] = []
    # every starting point a variant needs: dense, each pruning level, and any level only a combined pair uses
    tuned = list(dict.fromkeys([0.0, *levels, *(s for s, _ in pairs)])) if finetune_steps else []
    bar = _bar(len(variants) + len(tuned), f"compress {name or type(model).__name__}", progress)

    def finetuned(sparsity: float) -> nn.Module:
        # Each starting point is pruned (or not) and fine-tuned once, then shared by its quantized variants.
        work = copy.deepcopy(model)
        if sparsity > 0:
            magnitude_prune_(work, sparsity, scope=scope, layers=names)
        train_lm(
            work,
            train,  # type: ignore[arg-type]
            steps=finetune_steps,
            batch_size=finetune_batch_size,
            lr=finetune_lr,
            warmup=0,
            weight_decay=0.0,
            seed=seed,
            progress=False,
            name=f"{name} {_label(sparsity, None)}",
        )
        with torch.no_grad():  # pruned weights still hold the last step's graph, which deepcopy refuses: recompute
            for m in work.modules():
                if hasattr(m, "weight_orig") and hasattr(m, "weight_mask"):
                    m.weight = m.weight_orig * m.weight_mask
        work.eval()
        bar.update(1)
        return work

    try:
        start = {s: finetuned(s) for s in tuned}
        for method, s, b in variants:
            if finetune_steps:
                work = copy.deepcopy(start[s]) if b is not None else start[s]
                if s > 0 and b is not None:
                    make_permanent_(work)
            else:
                work = copy.deepcopy(model) if method != "none" else model
                if s > 0:
                    magnitude_prune_(work, s, scope=scope, layers=names)
                    if b is not None:
                        make_permanent_(work)  # bake the zeros in: quantization parametrizes the plain weight
            if b is not None:
                quantize_weights_(work, bits=b, per_channel=per_channel, layers=names)
            size = compressed_model_bits(
                work, layers=names, bits=b, storage=storage if s > 0 else "dense", per_channel=per_channel
            )
            bpc = evaluate_lm(work, windows, batch_size=eval_batch_size)
            rows.append(
                {
                    "name": name,
                    "method": method,
                    "label": _label(s, b),
                    "sparsity": s,
                    "bits": 32 if b is None else b,
                    "size_bits": size,
                    "ratio": fp32_bits / size,
                    "val_bpc": bpc,
                    "finetune_steps": finetune_steps,
                }
            )
            bar.update(1)
    finally:
        bar.close()
    base = rows[0]["val_bpc"]
    for r in rows:
        r["rel_increase"] = r["val_bpc"] / base - 1.0
    return rows


# ----------------------------------------------------------------------------------------------------------
# Size against loss: frontier, best point under a cap, large-and-compressed against small


def _rows(rows: object, keys: Sequence[str] = ("size_bits", "val_bpc")) -> list[Mapping[str, Any]]:
    if isinstance(rows, Mapping | str) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a list of dicts (compress_curve rows), got {type(rows).__name__}")
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping) or any(k not in r for k in keys):
            raise ValueError(f"rows[{i}] must be a dict with {list(keys)}, got {r!r}")
    return list(rows)


def size_loss_frontier(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The Pareto-optimal rows of (``size_bits``, ``val_bpc``), both minimized (``effdl.pareto_front``), sorted by
    size: for every size, the lowest loss any model/compression reached at that size or below."""
    table = _rows(rows)
    if not table:
        return []
    keep = pareto_front([(float(r["size_bits"]), float(r["val_bpc"])) for r in table], maximize=(False, False))
    return [dict(table[i]) for i in keep]


def best_under(
    rows: Sequence[Mapping[str, Any]],
    max_bits: float | None = None,
    *,
    where: Callable[[Mapping[str, Any]], bool] | None = None,
) -> dict[str, Any] | None:
    """The row with the lowest ``val_bpc`` among those with ``size_bits <= max_bits`` (None: any size) that pass
    ``where(row)``; ties go to the smaller size. None if no row qualifies."""
    table = _rows(rows)
    cap = _positive("max_bits", max_bits, allow_none=True)
    if where is not None and not callable(where):
        raise TypeError(f"where must be None or a function row -> bool, got {type(where).__name__}")
    ok = [r for r in table if (cap is None or r["size_bits"] <= cap) and (where is None or where(r))]
    if not ok:
        return None
    return dict(min(ok, key=lambda r: (float(r["val_bpc"]), float(r["size_bits"]))))


def _is_heavy(row: Mapping[str, Any], heavy_sparsity: float, heavy_bits: int) -> bool:
    return float(row["sparsity"]) >= heavy_sparsity or int(row["bits"]) <= heavy_bits


def large_vs_small(
    rows: Sequence[Mapping[str, Any]],
    *,
    small: str,
    params: Mapping[str, int],
    heavy_sparsity: float = 0.7,
    heavy_bits: int = 4,
    max_bits: float | None = None,
) -> dict[str, Any]:
    """Li et al.'s headline test on :func:`compress_curve` rows of several models.

    - *small, lightly compressed*: the rows of model ``small`` that are **not** heavy (sparsity below
      ``heavy_sparsity`` and more than ``heavy_bits`` bits, the fp32 model included); the best is the lowest loss;
    - *large, heavily compressed*: the heavy rows (sparsity >= ``heavy_sparsity`` or <= ``heavy_bits`` bits) of
      every model with more parameters than ``small`` (``params``: name -> parameter count), whose size is at most
      ``max_bits`` (default: the size of ``small``'s fp32 row, "no larger than the small model"); the best is the
      lowest loss.

    Returns ``{"small_light": row, "large_heavy": row or None, "max_bits": cap, "wins": bool, "margin_bpc": float}``
    where ``wins`` says the large heavy point has the lower loss and ``margin_bpc`` = small's − large's loss (NaN
    when no large heavy point fits under the cap).
    """
    table = _rows(rows, ("name", "size_bits", "val_bpc", "sparsity", "bits", "method"))
    if not isinstance(params, Mapping) or small not in params:
        raise ValueError(f"params must be a dict of model name -> parameter count that includes small={small!r}")
    heavy_sparsity = _fractions("heavy_sparsity", [heavy_sparsity])[0]
    heavy_bits = _int("heavy_bits", heavy_bits)
    mine = [r for r in table if r["name"] == small]
    if not mine:
        raise ValueError(f"no rows for small={small!r}; models in rows: {sorted({r['name'] for r in table})}")
    light = [r for r in mine if not _is_heavy(r, heavy_sparsity, heavy_bits)]
    if not light:
        raise ValueError(f"model {small!r} has no lightly compressed row (fp32, or sparsity < {heavy_sparsity})")
    small_light = best_under(light)
    assert small_light is not None
    if max_bits is None:
        fp32 = [r for r in mine if r["method"] == "none"]
        cap = float(fp32[0]["size_bits"]) if fp32 else max(float(r["size_bits"]) for r in light)
    else:
        cap = float(_positive("max_bits", max_bits))  # type: ignore[arg-type]
    bigger = {n for n, p in params.items() if p > params[small]}
    large_heavy = best_under(
        [r for r in table if r["name"] in bigger], cap, where=lambda r: _is_heavy(r, heavy_sparsity, heavy_bits)
    )
    margin = float("nan") if large_heavy is None else small_light["val_bpc"] - large_heavy["val_bpc"]
    return {
        "small_light": small_light,
        "large_heavy": large_heavy,
        "max_bits": cap,
        "wins": large_heavy is not None and large_heavy["val_bpc"] < small_light["val_bpc"],
        "margin_bpc": margin,
    }


def relative_increase(rows: Sequence[Mapping[str, Any]], name: str, *, sparsity: float = 0.0, bits: int = 32) -> float:
    """``rel_increase`` (``val_bpc / reference − 1``, a fraction) of the :func:`compress_curve` row of model
    ``name`` pruned to ``sparsity`` and quantized to ``bits`` (32: not quantized); ValueError if there is none."""
    table = _rows(rows, ("name", "sparsity", "bits", "rel_increase"))
    for r in table:
        if r["name"] == name and float(r["sparsity"]) == float(sparsity) and int(r["bits"]) == int(bits):
            return float(r["rel_increase"])
    have = sorted({(float(r["sparsity"]), int(r["bits"])) for r in table if r["name"] == name})
    raise ValueError(
        f"no row for name={name!r}, sparsity={sparsity}, bits={bits}; (sparsity, bits) of {name!r}: {have}"
    )


def compare_robustness(
    rows: Sequence[Mapping[str, Any]],
    *,
    small: str,
    large: str,
    sparsities: Sequence[float] = (0.5, 0.7, 0.9),
    bits: Sequence[int] = (4,),
) -> list[dict[str, Any]]:
    """Relative loss increase of two models at the same compression levels, one dict per level: ``level`` (a label
    such as ``"70% pruned"`` or ``"4-bit"``), ``sparsity``, ``bits``, ``small`` and ``large`` (the two
    :func:`relative_increase` values, fractions), ``gap`` (``small − large``: > 0 when the large model lost
    relatively less) and ``large_more_robust`` (``gap > 0``). Pruning levels first (not quantized), then
    quantization levels (not pruned)."""
    levels = [(s, 32) for s in _fractions("sparsities", sparsities)] + [(0.0, b) for b in _bit_list("bits", bits)]
    out = []
    for s, b in levels:
        sm = relative_increase(rows, small, sparsity=s, bits=b)
        lg = relative_increase(rows, large, sparsity=s, bits=b)
        out.append(
            {
                "level": _label(s, None if b == 32 else b),
                "sparsity": s,
                "bits": b,
                "small": sm,
                "large": lg,
                "gap": sm - lg,
                "large_more_robust": lg < sm,
            }
        )
    return out
