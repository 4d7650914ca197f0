"""Checkers for train-large-then-compress (chapter 07): transformer parameters, Kaplan's training compute, unigram
entropy, and the size-budget task on the explorer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from effdl.exercises._common import _missing, _verdict, checker

__all__ = ["check_kaplan_flops", "check_near_best_budget", "check_transformer_params", "check_unigram_entropy"]


@checker
def check_transformer_params(
    answer: int | float | None,
    *,
    vocab_size: int = 98,
    width: int = 64,
    depth: int = 2,
    context: int = 64,
    mlp_ratio: int = 4,
) -> bool:
    """Exercise: the number of parameters of a ``TinyTransformer`` (tied token embedding / LM head, learned
    position embedding, ``depth`` pre-norm blocks with biases, final LayerNorm) counted by hand; the truth is
    :meth:`effdl.core.models.TinyTransformer.param_count_formula`."""
    from effdl.core.models import TinyTransformer

    if _missing(answer):
        return False
    truth = TinyTransformer.param_count_formula(vocab_size, width, depth, context, mlp_ratio)
    d, r = width, mlp_ratio
    good = f"{truth:,} parameters, of which {depth * ((4 + 2 * r) * d * d + (9 + r) * d):,} in the blocks."
    if answer == truth:
        return _verdict(True, good, "")
    slips = {
        truth + vocab_size * d: "the LM head shares its weight with the token embedding (tied): count it once.",
        truth - context * d: "the learned position embedding has context × width parameters too.",
        truth - depth * (9 + r) * d - 2 * d: "biases and LayerNorms count too (each LayerNorm has 2·width).",
        truth - 2 * d: "the final LayerNorm (2·width) is missing.",
        truth - depth * 4 * d: "each block has two LayerNorms of 2·width parameters each.",
    }
    hint = slips.get(int(answer), "")
    if not hint:
        hint = (
            f"you said {answer:,}. Per block: qkv (d → 3d) and the attention output (d → d) with biases, the MLP "
            f"(d → {r}d → d) with biases, two LayerNorms; plus the embeddings (vocab·d + context·d) and a final "
            "LayerNorm."
        )
    return _verdict(False, "", hint)


@checker
def check_unigram_entropy(answer: float | None, *, text: str = "abracadabra", tol: float = 1e-3) -> bool:
    """Exercise: the unigram entropy of ``text`` in bits per character, ``−Σ p(c) log2 p(c)`` over its characters'
    frequencies: the loss of the best model that ignores context. The truth is
    :func:`effdl.core.data.unigram_entropy_bits` of the encoded text."""

    from effdl.core.data import encode, unigram_entropy_bits

    if _missing(answer):
        return False
    truth = unigram_entropy_bits(encode(text))
    got = float(answer)  # type: ignore[arg-type]
    if abs(got - truth) <= tol:
        return _verdict(True, f"{truth:.4f} bits/char for {text!r}.", "")
    if abs(got - truth * math.log(2)) <= tol:
        return _verdict(False, "", "that is in nats (natural log): use log2 for bits.")
    if abs(got - math.log2(len(set(text)))) <= tol:
        return _verdict(False, "", "that assumes every character is equally likely; weight log2 p(c) by p(c).")
    return _verdict(False, "", f"you said {got:.4f}; count each character, p(c) = count / {len(text)}.")


@checker
def check_kaplan_flops(answer: int | float | None, *, n_params: int, tokens: int, tol: float = 1e-3) -> bool:
    """Exercise: Kaplan et al.'s training compute ``C ≈ 6 · N · D`` for ``n_params`` non-embedding parameters N and
    ``tokens`` training tokens D (2·N·D forward, 4·N·D backward). Accepted within a relative ``tol``."""
    if _missing(answer):
        return False
    for name, v in (("n_params", n_params), ("tokens", tokens)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be an int > 0, got {v!r}")
    truth = 6 * n_params * tokens
    got = float(answer)  # type: ignore[arg-type]
    if abs(got - truth) <= tol * truth:
        return _verdict(True, f"C ≈ 6 · {n_params:,} · {tokens:,} = {truth / 1e9:,.2f} GFLOP.", "")
    slips = {
        2 * n_params * tokens: "that is the forward pass only (2·N per token); backward costs about twice as much.",
        3 * n_params * tokens: "a multiply-add is 2 FLOPs: the forward pass is 2·N per token, the step 6·N.",
        6 * n_params * tokens // 1_000_000_000: "give FLOPs, not GFLOP.",
    }
    hint = next((h for v, h in slips.items() if v and abs(got - v) <= tol * v), "")
    if not hint:
        hint = f"you said {got:,.0f}; multiply 6 by N = {n_params:,} and by the tokens D = {tokens:,} (all steps)."
    return _verdict(False, "", hint)


def _rows_of(explorer: Any) -> list[Mapping[str, Any]]:
    rows = getattr(explorer, "rows", explorer)
    if isinstance(rows, Mapping | str) or not isinstance(rows, Sequence) or not rows:
        raise TypeError("explorer must be widgets.scaling_explorer(...) (or its list of rows)")
    return list(rows)


@checker
def check_near_best_budget(answer: float | None, explorer: Any, *, within: float = 0.01) -> bool:
    """Try it (``widgets.scaling_explorer``, method "any method"): the smallest size budget, in **kbit** as the
    slider shows it, at which the best point within the budget is within ``within`` (a fraction) of the lowest
    loss of all points. The truth comes from the explorer's own ``rows``; a slider reading (rounded to the kbit) is
    accepted."""
    if _missing(answer):
        return False
    rows = _rows_of(explorer)
    lowest = min(float(r["val_bpc"]) for r in rows)
    ok = [r for r in rows if float(r["val_bpc"]) <= (1 + within) * lowest]
    first = min(ok, key=lambda r: float(r["size_bits"]))
    truth = float(first["size_bits"]) / 1e3
    got = float(answer)  # type: ignore[arg-type]
    good = (
        f"{truth:,.0f} kbit: {first['name']}, {first['label']} at {float(first['val_bpc']):.3f} bits/char, within "
        f"{100 * within:g}% of the lowest loss ({lowest:.3f})."
    )
    if abs(got - truth) <= 0.5 + 1e-3 * truth:
        return _verdict(True, good, "")
    best = min(rows, key=lambda r: (float(r["val_bpc"]), float(r["size_bits"])))
    if abs(got - truth * 1e3) <= 500:
        hint = "answer in kbit, as the slider shows it (bits / 1000)."
    elif abs(got - float(best["size_bits"]) / 1e3) <= 0.5 and truth < got:
        hint = "that is where the very lowest loss appears; a smaller budget already comes within the margin."
    elif got < truth:
        hint = f"at {got:,.0f} kbit the best point is still more than {100 * within:g}% above the lowest loss."
    else:
        hint = "a smaller budget already gets within the margin: move the slider down until the readout's loss rises."
    return _verdict(False, "", f"you said {got:,.0f} kbit; " + hint)
