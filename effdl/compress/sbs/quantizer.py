"""The SBS quantizer (Liu et al. 2021, arXiv 2101.04935): normalization with learnable ranges, the nested
single-path decomposition over doubling bit-widths, binary gates with a sigmoid surrogate gradient, and the two
``torch.nn.utils.parametrize``/hook modules the search wraps every Conv2d/Linear layer with.

    z_w = ½(clip(w/v_w, −1, 1) + 1),  z_x = clip(x/v_x, 0, 1),  D(z, s) = s·round(z/s),  s_b = 1/(2^b − 1)
    ẑ = z_{b1} + g₂(ε_{b2} + g₃(ε_{b3} + …)),  ε_{bj} = D(z − z_{b(j−1)}, s_{bj}),  s_{bj} = s_{b(j−1)}/(2^{b(j−1)} + 1)
    Q(w) = v_w(2ẑ − 1),  Q(x) = v_x·ẑ      (round passes gradients straight through)

With doubling candidates the first j parts sum exactly to ``D(z, s_{bj})``, the ``b_j``-bit code of ``z``.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from effdl.core.checks import positive_number

__all__ = [
    "DEFAULT_CANDIDATES",
    "SBSAct",
    "SBSWeight",
    "check_candidates",
    "decompose",
    "discretize",
    "gate",
    "normalize",
    "share_bits",
    "step_size",
]

DEFAULT_CANDIDATES = (2, 4, 8)
_MAX_BITS = 16  # s_b = 1/(2^b − 1) is still well resolved in float32 at 16 bits
_EPS = 1e-8
_MARGIN = 1.0  # thresholds start this far (log units) below their scores: every gate on, full precision first


# ----------------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------------


def _int(name: str, value: object, low: int, high: int | None = None) -> int:
    allowed = f"an int in {low}..{high}" if high is not None else f"an int >= {low}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def check_candidates(candidates: object, name: str = "candidates") -> tuple[int, ...]:
    """Validate a doubling list of bit-widths ``(b1, 2·b1, 4·b1, …)`` with b1 in 1..8 and every entry ≤ 16."""
    if isinstance(candidates, str) or not isinstance(candidates, Sequence):
        raise TypeError(f"{name} must be a list/tuple of ints such as (2, 4, 8), got {candidates!r}")
    out = tuple(_int(f"{name}[{i}]", b, 1, _MAX_BITS) for i, b in enumerate(candidates))
    if not out:
        raise ValueError(f"{name} must hold at least one bit-width, e.g. (2, 4, 8), got {candidates!r}")
    if out[0] > 8 or any(b != 2 * a for a, b in itertools.pairwise(out)):
        raise ValueError(
            f"{name} must double at every step (b_j = 2·b_(j-1), b1 in 1..8, at most {_MAX_BITS} bits), "
            f"e.g. (2, 4, 8) or (1, 2, 4, 8), got {tuple(candidates)}"
        )
    return out


# ----------------------------------------------------------------------------------------------------
# The quantizer and the nested decomposition
# ----------------------------------------------------------------------------------------------------


def _round(x: Tensor) -> Tensor:
    """Round half up, ``⌊x + ½⌋``: unlike round-half-to-even it commutes with integer shifts at ties too
    (``⌊x − k + ½⌋ = ⌊x + ½⌋ − k``), which keeps the nested decomposition exact for every input."""
    return torch.floor(x + 0.5)


def _round_ste(x: Tensor) -> Tensor:
    """round(x) forward, identity backward (straight-through estimator)."""
    return x + (_round(x) - x).detach()


def step_size(bits: int) -> float:
    """``s_b = 1 / (2^b − 1)``: the grid step of ``b`` bits on [0, 1] (2^b levels, both ends included)."""
    return 1.0 / (2 ** _int("bits", bits, 1, _MAX_BITS) - 1)


def discretize(z: Tensor, s: float) -> Tensor:
    """``D(z, s) = s·round(z/s)`` (ties round up) with a straight-through gradient; any shape, same shape out."""
    s = positive_number("s", s)
    return s * _round_ste(z / s)


def normalize(x: Tensor, v: Tensor, *, signed: bool) -> Tensor:
    """Map ``x`` into [0, 1]: ``½(clip(x/v, −1, 1) + 1)`` (signed: weights) or ``clip(x/v, 0, 1)`` (unsigned:
    post-ReLU activations). ``v`` (> 0) is the learnable range; the clip passes no gradient outside it."""
    t = x / v
    return 0.5 * (torch.clamp(t, -1.0, 1.0) + 1.0) if signed else torch.clamp(t, 0.0, 1.0)


def _dequantize(zhat: Tensor, v: Tensor, *, signed: bool) -> Tensor:
    """``Q = v(2ẑ − 1)`` (signed) or ``v·ẑ`` (unsigned): back to the input's units."""
    return v * (2.0 * zhat - 1.0) if signed else v * zhat


def decompose(z: Tensor, candidates: Sequence[int] = DEFAULT_CANDIDATES) -> list[Tensor]:
    """The single path of ``z`` (values in [0, 1]): ``[z_{b1}, ε_{b2}, ε_{b3}, …]``, each the shape of ``z``.

    ``z_{b1} = D(z, s_{b1})``; ``ε_{bj} = D(z − z_{b(j−1)}, s_{bj})`` with ``s_{bj} = s_{b(j−1)}/(2^{b(j−1)} + 1)``
    and ``z_{bj} = z_{b(j−1)} + ε_{bj}``, so the first j parts sum to ``D(z, s_{bj})``: the ``b_j``-bit code
    (``z_{b(j−1)}`` is a whole number k of steps ``s_{bj}``, and ``round(t − k) = round(t) − k``). Each residual's
    value is computed on those integer codes, so the sum is exact in floating point too (a literal
    ``(z − z_{b(j−1)})/s`` can land on the other side of a tie); its gradient is the formula's straight-through one.
    """
    if not isinstance(z, Tensor):
        raise TypeError(f"z must be a torch.Tensor of values in [0, 1], got {type(z).__name__}")
    cands = check_candidates(candidates)
    s = step_size(cands[0])
    t = z.detach()
    code = _round(t / s)  # integer code of the current bit-width (a float holding an integer)
    parts = [discretize(z, s)]
    zq = parts[0]
    for prev in cands[:-1]:
        s = s / (2**prev + 1)  # = 1/(2^(2·prev) − 1): the doubled bit-width's step
        k = code * (2**prev + 1)  # z_{b(j−1)} in units of the new step: an exact integer
        e = _round(t / s - k)
        code = k + e
        literal = discretize(z - zq, s)
        eps = literal + (s * e - literal).detach()
        parts.append(eps)
        zq = zq + eps
    return parts


def share_bits(parts: Sequence[Tensor], gates: Sequence[Tensor]) -> Tensor:
    """``ẑ = z_{b1} + g₂(ε_{b2} + g₃(ε_{b3} + …))`` from :func:`decompose`'s parts and one gate (0/1, any
    broadcastable shape) per residual (``len(gates) == len(parts) − 1``)."""
    if len(gates) != len(parts) - 1:
        raise ValueError(f"gates must hold one gate per residual ({len(parts) - 1}), got {len(gates)}")
    inner = torch.zeros_like(parts[0])
    for eps, g in zip(reversed(parts[1:]), reversed(gates), strict=True):
        inner = g * (eps + inner)
    return parts[0] + inner


def gate(score: Tensor, threshold: Tensor, *, tau: float = 0.5) -> Tensor:
    """``1(score > threshold)`` forward; backward the gradient of ``sigmoid((score − threshold)/tau)``, so the
    threshold (and the score) learn although the step function has zero gradient almost everywhere."""
    tau = positive_number("tau", tau)
    soft = torch.sigmoid((score - threshold) / tau)
    return (score > threshold).to(soft.dtype) + soft - soft.detach()


def _log_rms(t: Tensor, dims: tuple[int, ...] | None = None) -> Tensor:
    """log of the root-mean-square (a size-free score: thresholds compare across layers). Detached: gates learn
    through their thresholds, the weights only through the task loss."""
    t = t.detach()
    ms = t.pow(2).mean() if dims is None else t.pow(2).mean(dims)
    return torch.log(ms.sqrt() + _EPS)


def _expected_bits(cands: tuple[int, ...], gates: Sequence[Tensor]) -> Tensor:
    """``b1 + g₂(b2 − b1) + g₂g₃(b3 − b2) + …``: the bit-width the gates select (exact forward, surrogate grad)."""
    bits = torch.tensor(float(cands[0]))
    on = torch.tensor(1.0)
    for (lo, hi), g in zip(itertools.pairwise(cands), gates, strict=True):
        on = on * g
        bits = bits + on * (hi - lo)
    return bits


class SBSWeight(nn.Module):
    """A ``torch.nn.utils.parametrize`` parametrization of a Conv2d/Linear weight ``(C_out, ...)``: bit sharing
    over ``candidates`` with quantization gates, and pruning gates on groups of ``group_size`` output channels
    (``group_size=None``: no pruning). After each forward, ``bits`` (scalar) and ``keep`` (fraction of output
    channels kept) hold the gates' choice as tensors with surrogate gradients, for the BOPs cost."""

    def __init__(self, w: Tensor, candidates: Sequence[int], *, group_size: int | None, tau: float) -> None:
        super().__init__()
        self.candidates = check_candidates(candidates)
        if not isinstance(w, Tensor) or not w.is_floating_point() or w.dim() < 1 or w.numel() == 0:
            got = f"{w.dtype} {tuple(w.shape)}" if isinstance(w, Tensor) else type(w).__name__
            raise TypeError(f"w must be a non-empty floating-point weight tensor (C_out, ...), got {got}")
        if group_size is not None:
            group_size = _int("group_size", group_size, 1)
            if w.shape[0] % group_size:  # the pruning gates reshape C_out into groups
                raise ValueError(
                    f"group_size must divide the weight's {w.shape[0]} output channels, got group_size={group_size}"
                )
        self.group_size = group_size
        self.tau = positive_number("tau", tau)
        w = w.detach()
        # 3σ covers nearly every weight of a bell-shaped layer; the full max range would waste low-bit levels
        v = torch.minimum(3 * w.std(), w.abs().max()).clamp(min=_EPS)
        self.v = nn.Parameter(v.clone())
        scores = self._scores(w)
        self.alpha = nn.Parameter(scores - _MARGIN)
        if group_size is not None:
            self.alpha_prune = nn.Parameter(self._group_scores(w).min() - _MARGIN)
        self.bits: Tensor = torch.tensor(float(self.candidates[-1]))
        self.keep: Tensor = torch.tensor(1.0)

    def _scores(self, w: Tensor) -> Tensor:
        """log RMS of ``z − z_{b(j−1)}``: the error left by the lower bit-width, one per residual gate."""
        z = normalize(w, self.v.detach().abs() + _EPS, signed=True)
        parts = decompose(z, self.candidates)
        zq, out = parts[0], []
        for eps in parts[1:]:
            out.append(_log_rms(z - zq))
            zq = zq + eps
        return torch.stack(out) if out else torch.zeros(0)

    def _group_scores(self, w: Tensor) -> Tensor:
        """log of mean |clip(w/v)| per group of output channels, shape ``(C_out / group_size,)``. Not detached (the
        range is): through the gates' surrogate the cost shrinks weak groups and the task loss grows useful ones,
        which spreads the scores apart so a threshold can separate them."""
        z = torch.clamp(w / (self.v.detach().abs() + _EPS), -1.0, 1.0).abs()
        per_group = z.reshape(w.shape[0] // self.group_size, -1).mean(1)  # type: ignore[operator]
        return torch.log(per_group + _EPS)

    def group_gates(self, w: Tensor) -> Tensor:
        """0/1 per group (surrogate gradient to ``alpha_prune``); the strongest group is always kept."""
        s = self._group_scores(w)
        g = gate(s, self.alpha_prune, tau=self.tau)
        keep_best = (s == s.max()).to(g.dtype)
        return g + keep_best * (1.0 - g).detach()

    def quant_gates(self, w: Tensor) -> list[Tensor]:
        return [gate(s, a, tau=self.tau) for s, a in zip(self._scores(w), self.alpha, strict=True)]

    def forward(self, w: Tensor) -> Tensor:
        v = self.v.abs() + _EPS
        z = normalize(w, v, signed=True)
        gates = self.quant_gates(w)
        q = _dequantize(share_bits(decompose(z, self.candidates), gates), v, signed=True)
        self.bits = _expected_bits(self.candidates, gates)
        if self.group_size is not None:
            g = self.group_gates(w)
            self.keep = g.mean()
            q = q * g.repeat_interleave(self.group_size).reshape(-1, *([1] * (w.dim() - 1)))
        return q


class SBSAct(nn.Module):
    """Bit sharing of a layer's input, ``(N, ...)``: signed or unsigned (set by the first batch: unsigned when
    it is non-negative, e.g. after ReLU), range ``v`` from its 99.9th percentile. Gate scores are per batch;
    their running mean (``score_ema``) decides the bit-width the search reports."""

    def __init__(self, candidates: Sequence[int], *, tau: float) -> None:
        super().__init__()
        self.candidates = check_candidates(candidates)
        self.tau = positive_number("tau", tau)
        self.v = nn.Parameter(torch.ones(()))
        self.alpha = nn.Parameter(torch.zeros(len(self.candidates) - 1))
        self.register_buffer("score_ema", torch.zeros(len(self.candidates) - 1))
        self.register_buffer("initialized", torch.tensor(False))
        self.signed = False
        self.bits: Tensor = torch.tensor(float(self.candidates[-1]))

    def _scores(self, z: Tensor) -> Tensor:
        parts = decompose(z.detach(), self.candidates)
        zq, out = parts[0], []
        for eps in parts[1:]:
            out.append(_log_rms(z - zq))
            zq = zq + eps
        return torch.stack(out) if out else torch.zeros(0, device=z.device)

    @torch.no_grad()
    def init_from(self, x: Tensor) -> None:
        """Range, sign and thresholds from one batch (before the optimizer is built)."""
        self.signed = bool((x < 0).any())
        flat = x.detach().abs().flatten().float()
        flat = flat[:: max(1, flat.numel() // (1 << 16))]  # torch.quantile refuses very large inputs
        self.v.fill_(float(torch.quantile(flat, 0.999).clamp(min=_EPS)))
        scores = self._scores(normalize(x, self.v, signed=self.signed))
        self.score_ema.copy_(scores)
        self.alpha.copy_(scores - _MARGIN)
        self.initialized.fill_(True)

    def forward(self, x: Tensor) -> Tensor:
        if not bool(self.initialized):
            self.init_from(x)
        v = self.v.abs() + _EPS
        z = normalize(x, v, signed=self.signed)
        scores = self._scores(z)
        if self.training:
            with torch.no_grad():
                self.score_ema.mul_(0.9).add_(0.1 * scores)
        gates = [gate(s, a, tau=self.tau) for s, a in zip(scores, self.alpha, strict=True)]
        self.bits = _expected_bits(self.candidates, gates)
        return _dequantize(share_bits(decompose(z, self.candidates), gates), v, signed=self.signed)

    def chosen_bits(self) -> int:
        """The bit-width selected by the thresholds against the running scores."""
        on = (self.score_ema > self.alpha.detach()).tolist()
        bits = self.candidates[0]
        for hi, g in zip(self.candidates[1:], on, strict=True):
            if not g:
                break
            bits = hi
        return bits


def _act_hook(module: nn.Module, args: tuple) -> tuple:
    return (module.sbs_act(args[0]), *args[1:])
