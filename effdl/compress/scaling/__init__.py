"""Train large, then compress (Li et al., ICML 2020): model size against training budget and compressibility.

Li et al. found that, for Transformers trained under a fixed compute budget, *larger* models reach a given loss in fewer
optimizer steps (often in less wall-clock time too), and that larger models lose less to pruning and quantization, so
a heavily compressed large model beats a lightly compressed small one at the same size. This module reproduces the
study at laptop scale with the workbench's character language model (:class:`effdl.core.models.TinyTransformer` on the
``pycode`` corpus) and the workbench's own compression (:mod:`effdl.compress.prune`, :mod:`effdl.compress.quant`).

- Metric: validation loss in **bits per character** (cross-entropy / ln 2) on a fixed, seeded set of windows of the
  validation split (files never seen in training), the same windows for every model, so comparisons are paired:
  :func:`lm_windows`, :func:`evaluate_lm`. The baseline to beat is the corpus' unigram entropy
  (:func:`unigram_entropy_bits`, re-exported from :mod:`effdl.core.data`).
- Training: :func:`train_lm` (AdamW, linear warm-up then a *constant* learning rate, so a run stopped early is the
  same as a run given a smaller budget) under a budget of steps, wall-clock seconds and/or training FLOPs, logging
  an :class:`LMCurve` (step, training seconds, cumulative training FLOPs, train and validation bits/char).
  :func:`scale_grid` trains a list of sizes on the same batches; ``flops=`` gives every size the same training
  compute (Li et al. compare sizes at equal training time), so a larger model does fewer steps.
- Modules: :mod:`.lm` (windows, evaluation, training), :mod:`.budget` (the grid and reading it at a budget),
  :mod:`.robustness` (compression, size against loss, :func:`compare_robustness`), :mod:`.study` (chapter 07's
  headline test at two caps, one-shot compression at two stages of training); everything is re-exported here.
- FLOPs: measured, not assumed: ``count_flops`` (``torch.utils.flop_counter``) on one forward pass of a training
  batch, times 3 for forward + backward (the backward pass costs about twice the forward). Kaplan et al. 2020's
  formula ``6 · N · tokens`` (N = non-embedding parameters) is logged next to it: the measured count is larger
  because it includes the LM head (``2 · vocab · width`` per token) and attention's ``q·kᵀ`` and ``att·v``.
- Compression: :func:`compress_curve` prunes (magnitude; one-shot, or followed by ``finetune_steps`` of retraining
  with the mask fixed, the dense reference retrained alike) and/or quantizes (symmetric, per-output-channel
  post-training quantization of the weights) copies of a trained model and measures bits/char against the
  compressed size (:func:`compressed_model_bits`).
- Acceptance helpers: :func:`steps_to_reach` (and :func:`to_reach` on any axis), :func:`loss_at` (the loss of a run
  at a budget), :func:`best_at_budget` (the compute-optimal size), :func:`size_loss_frontier`,
  :func:`best_under`, :func:`large_vs_small`, :func:`relative_increase`, :func:`compare_robustness`.

**Which weights are compressed.** :func:`compressible_layers`: every ``nn.Linear`` whose weight is not shared with an
``nn.Embedding``, i.e. for the TinyTransformer the blocks' attention and MLP matrices (the non-embedding parameters of
Kaplan et al.). The token embedding, which the LM head shares (tied weights), the position embedding, the biases and
the LayerNorms stay in fp32 and are counted at 32 bits. Quantizing a tied weight through one of its two users would
make the embedding lookup and the output layer disagree, and pruning rows of an embedding deletes characters; keeping
them exact is the simple, defensible choice, and it is counted honestly (it favours small models, whose embeddings
are a larger share of their size).

**Sizes** (:func:`compressed_model_bits`): ``effdl.model_bits`` of the model with each compressed weight's fp32 cost
replaced by its stored cost: a pruned weight in a sparse format (``"bitmask"`` by default: one presence bit per entry
plus the non-zero values; see ``effdl.core.footprint.tensor_bits``), a quantized weight as ``bits``-bit codes plus one
fp32 scale per output channel (``effdl.core.footprint.quantized_bits``, as ``quant.quantized_model_bits``), both
together as a sparse tensor of ``bits``-bit values plus the scales.
"""

from __future__ import annotations

from effdl.compress.scaling.budget import ScaleGrid, best_at_budget, loss_at, scale_grid, steps_to_reach, to_reach
from effdl.compress.scaling.lm import AXES, LN2, LMCurve, evaluate_lm, lm_windows, train_lm
from effdl.compress.scaling.robustness import (
    DEFAULT_BITS,
    DEFAULT_SPARSITIES,
    METHODS,
    best_under,
    compare_robustness,
    compress_curve,
    compressed_model_bits,
    compressible_layers,
    large_vs_small,
    relative_increase,
    size_loss_frontier,
)
from effdl.compress.scaling.study import headline_tests, oneshot_by_stage
from effdl.core.data import unigram_entropy_bits

__all__ = [
    "AXES",
    "DEFAULT_BITS",
    "DEFAULT_SPARSITIES",
    "LN2",
    "METHODS",
    "LMCurve",
    "ScaleGrid",
    "best_at_budget",
    "best_under",
    "compare_robustness",
    "compress_curve",
    "compressed_model_bits",
    "compressible_layers",
    "evaluate_lm",
    "headline_tests",
    "large_vs_small",
    "lm_windows",
    "loss_at",
    "oneshot_by_stage",
    "relative_increase",
    "scale_grid",
    "size_loss_frontier",
    "steps_to_reach",
    "to_reach",
    "train_lm",
    "unigram_entropy_bits",
]
