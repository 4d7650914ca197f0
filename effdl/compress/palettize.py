"""Quantization, part 2: k-means weight sharing ("palettization"), as in Deep Compression (Han et al., ICLR 2016).

Each chosen layer's weight is clustered into ``k = 2**bits`` centroids (1..8 bits = 2..256 centroids, per layer);
every entry is then stored as a ``bits``-bit index into that layer's codebook of full-precision centroids, so the
storage cost is ``effdl.core.footprint.codebook_bits`` = ``numel * bits + 2**bits * 32``.

- :func:`kmeans_1d`: 1-D Lloyd's algorithm in torch. Written by hand (not ``sklearn.cluster.KMeans``) because in one
  dimension the assignment step is a ``searchsorted`` against the midpoints between sorted centroids, O(n log k)
  instead of O(n k), runs on any device and needs no numpy round trip. Linear initialisation (evenly spaced between
  min and max) is the default: the paper found it best, because it keeps centroids on the rare large weights.
- :func:`palettize_`: replace Conv2d/Linear weights by their k-means reconstruction, in place.
- :func:`palettized_bits`: the model's storage cost with those layers palettized.
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor, nn

from effdl.core.footprint import codebook_bits, effective_weights, model_bits, tensor_bits, weight_aliases

__all__ = ["INITS", "kmeans_1d", "palettize_", "palettized_bits"]

INITS = ("linear", "kmeans++")
MIN_BITS, MAX_BITS = 1, 8
_LAYER_TYPES = (nn.Conv2d, nn.Linear)


# ----------------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------------


def _check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    ok = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    if not ok or value < lo or (hi is not None and value > hi):
        allowed = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be an int {allowed}, got {value!r}")
    return int(value)


def _check_bits(value: object, name: str = "bits") -> int:
    return _check_int(name, value, MIN_BITS, MAX_BITS)


def _check_values(x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    if x.numel() == 0:
        raise ValueError(f"x must be a non-empty tensor, got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x must contain only finite values (no NaN/inf)")
    return x


# ----------------------------------------------------------------------------------------------------
# 1-D k-means
# ----------------------------------------------------------------------------------------------------


def _assign(flat: Tensor, centroids: Tensor) -> Tensor:
    """Index of the nearest centroid for every value; ``centroids`` sorted ascending (ties go to the lower one)."""
    bounds = (centroids[1:] + centroids[:-1]) / 2
    return torch.searchsorted(bounds, flat, right=False)


def _kmeanspp_init(flat: Tensor, k: int, gen: torch.Generator) -> Tensor:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): each next centroid drawn with probability ~ D(x)^2."""
    n = flat.numel()
    first = torch.randint(n, (1,), generator=gen, device="cpu").item()
    chosen = [flat[first]]
    dist2 = (flat - chosen[0]) ** 2
    for _ in range(1, k):
        # distinct values > k here, so some distance is > 0 until k centroids are chosen
        idx = torch.multinomial(dist2.cpu(), 1, generator=gen).item()
        chosen.append(flat[idx])
        dist2 = torch.minimum(dist2, (flat - flat[idx]) ** 2)
    return torch.stack(chosen).sort().values


def kmeans_1d(
    x: Tensor,
    k: int,
    *,
    iters: int = 50,
    seed: int | None = 0,
    init: str = "linear",
) -> tuple[Tensor, Tensor]:
    """Cluster the entries of ``x`` (any shape, floating point, non-empty, finite) into at most ``k`` centroids.

    Returns ``(centroids, labels)``: ``centroids`` of shape ``(k',)``, sorted ascending, dtype of ``x``, with
    ``k' = min(k, number of distinct values)``; ``labels`` (int64, shape of ``x``) index into ``centroids`` so that
    ``centroids[labels]`` is the reconstruction. If ``k >= distinct values`` the centroids are those values and the
    reconstruction is exact (lossless).

    Lloyd's algorithm for at most ``iters`` iterations (stops early when the assignment no longer changes), means
    accumulated in float64. ``init="linear"`` (default) spaces the initial centroids evenly between min and max and is
    deterministic; ``"kmeans++"`` draws them with a CPU ``torch.Generator`` seeded by ``seed`` (``None`` = a fresh
    random seed), so the same seed gives the same result. A centroid whose cluster empties keeps its previous value.
    """
    x = _check_values(x)
    k = _check_int("k", k, 1)
    iters = _check_int("iters", iters, 1)
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(repr(i) for i in INITS)}, got {init!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")

    flat = x.detach().reshape(-1).double()
    distinct = torch.unique(flat)  # sorted
    if distinct.numel() <= k:
        labels = torch.searchsorted(distinct, flat)
        return distinct.to(x.dtype), labels.reshape(x.shape)

    if init == "linear":
        centroids = torch.linspace(float(distinct[0]), float(distinct[-1]), k, dtype=torch.float64, device=flat.device)
    else:
        gen = torch.Generator(device="cpu")
        gen.manual_seed(int(seed) if seed is not None else int(torch.seed()))
        centroids = _kmeanspp_init(flat, k, gen)

    labels = _assign(flat, centroids)
    for _ in range(iters):
        sums = torch.zeros(k, dtype=torch.float64, device=flat.device).index_add_(0, labels, flat)
        counts = torch.bincount(labels, minlength=k)
        centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids).sort().values
        new_labels = _assign(flat, centroids)
        if torch.equal(new_labels, labels):
            break
        labels = new_labels
    return centroids.to(x.dtype), labels.reshape(x.shape)


# ----------------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------------


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _plan(model: nn.Module, bits: int | dict[str, int], layers: list[str] | tuple[str, ...] | None) -> dict[str, int]:
    """Layer name -> bit-width for every layer to palettize, validated."""
    available = [name for name, m in model.named_modules() if isinstance(m, _LAYER_TYPES)]
    if not available:
        # otherwise the call silently does nothing (palettize_ returns {}), which hides a wrong model
        raise ValueError("model has no nn.Conv2d or nn.Linear layer to palettize")
    if layers is None:
        chosen = list(bits) if isinstance(bits, dict) else available
    elif isinstance(layers, str) or not all(isinstance(n, str) for n in layers):
        raise TypeError(f"layers must be None or a list of layer names, got {layers!r}")
    else:
        chosen = list(layers)
    unknown = [n for n in chosen if n not in available]
    if unknown:
        raise ValueError(f"unknown layer names {unknown}; available Conv2d/Linear layers: {available}")
    if isinstance(bits, dict):
        missing = [n for n in chosen if n not in bits]
        if missing:
            raise ValueError(f"bits has no entry for layers {missing}; give bits for every chosen layer")
        plan = {n: _check_bits(bits[n], f"bits[{n!r}]") for n in chosen}
    else:
        b = _check_bits(bits)
        plan = dict.fromkeys(chosen, b)
    modules = dict(model.named_modules())
    for name in plan:
        w = modules[name]._parameters.get("weight")
        if not isinstance(w, nn.Parameter):
            raise ValueError(
                f"layer {name!r} has no plain weight parameter (pruned or parametrized?); "
                "make the reparametrization permanent first"
            )
        if w.numel() == 0:
            raise ValueError(f"layer {name!r} has an empty weight, shape {tuple(w.shape)}")
    return plan


def palettize_(
    model: nn.Module,
    *,
    bits: int | dict[str, int],
    layers: list[str] | tuple[str, ...] | None = None,
    seed: int | None = 0,
    iters: int = 50,
    init: str = "linear",
) -> dict[str, dict]:
    """Palettize ``model`` IN PLACE: each chosen Conv2d/Linear ``weight`` becomes ``centroids[labels]`` from
    :func:`kmeans_1d` with ``k = 2**bits`` (under ``torch.no_grad``, ``weight.copy_``; biases stay fp32).

    ``bits``: one int in 1..8 for every chosen layer, or a dict ``{layer name: bits}``. ``layers``: module names
    (``"features.0"``) to palettize; default: the keys of ``bits`` if it is a dict, else every Conv2d/Linear.
    Layers must hold a plain ``weight`` parameter (not pruned/parametrized).

    Returns ``{layer name: {"bits", "k", "centroids", "mse", "storage_bits"}}``: ``k`` = number of centroids found
    (``min(2**bits, distinct values)``), ``centroids`` (shape ``(k,)``), ``mse`` of the reconstruction against the
    original weight (float), ``storage_bits`` = ``codebook_bits(weight, bits=bits)`` (the full ``2**bits`` codebook).
    """
    _check_model(model)
    plan = _plan(model, bits, layers)
    modules = dict(model.named_modules())
    report: dict[str, dict] = {}
    with torch.no_grad():
        for name, b in plan.items():
            w = modules[name].weight
            centroids, labels = kmeans_1d(w, 2**b, iters=iters, seed=seed, init=init)
            recon = centroids[labels]
            mse = float(((recon.double() - w.double()) ** 2).mean())
            w.copy_(recon)
            report[name] = {
                "bits": b,
                "k": int(centroids.numel()),
                "centroids": centroids,
                "mse": mse,
                "storage_bits": codebook_bits(w, bits=b),
            }
    return report


def palettized_bits(
    model: nn.Module,
    *,
    bits: int | dict[str, int],
    layers: list[str] | tuple[str, ...] | None = None,
) -> int:
    """Storage cost in bits of ``model`` with the chosen layers palettized (same ``bits``/``layers`` rules as
    :func:`palettize_`; the model is not changed and need not be palettized yet).

    ``model_bits(model)`` (every effective weight dense fp32, plus buffers) minus the fp32 cost of each palettized
    weight (``tensor_bits``) plus its ``codebook_bits(weight, bits=b)`` (indices + a ``2**b``-entry fp32 codebook).
    ``model_bits(bits={...})`` alone would count the indices but not the codebooks, hence the swap per weight.
    """
    _check_model(model)
    plan = _plan(model, bits, layers)
    weights, aliases = effective_weights(model), weight_aliases(model)
    total = model_bits(model)
    counted: set[str] = set()
    for name, b in plan.items():
        key = aliases[f"{name}.weight"]  # a tied weight is stored (and palettized) once
        if key in counted:
            continue
        counted.add(key)
        w = weights[key]
        total += codebook_bits(w, bits=b) - tensor_bits(w)
    return total
