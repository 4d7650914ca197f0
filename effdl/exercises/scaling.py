"""Checkers for train-large-then-compress (chapter 07): transformer parameters, unigram entropy."""

from __future__ import annotations

import math

from effdl.exercises._common import _missing, _verdict, checker

__all__ = ["check_transformer_params", "check_unigram_entropy"]


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
