"""Single-path bit sharing (SBS; Liu et al. 2021, "Single-path Bit Sharing for Automatic Loss-aware Model
Compression", arXiv 2101.04935): joint channel pruning and mixed-precision quantization, searched by gradient
descent under a BOPs cost.

Pruning is 0-bit quantization. A weight normalized to ``z ∈ [0, 1]`` is its lowest-bit code plus nested residuals,
each switched on by a binary gate, over doubling candidate bit-widths (default 2/4/8):
``ẑ = z_{b1} + g₂(ε_{b2} + g₃(ε_{b3} + …))``; groups of output channels are switched off by pruning gates. Gate
thresholds learn through a sigmoid surrogate gradient under ``CE + λ·log(BOPs)``, BOPs = MACs × b_w × b_a.

- the quantizer (:mod:`effdl.compress.sbs.quantizer`): :func:`step_size`, :func:`discretize`, :func:`normalize`,
  :func:`decompose`, :func:`share_bits`, :func:`gate`, and the modules :class:`SBSWeight`, :class:`SBSAct`;
- the search (:mod:`effdl.compress.sbs.search`): :func:`search` → :class:`SBSConfig` (per layer: bits, kept
  channels, BOPs); :func:`uniform_config` for uniform baselines in the same form; :func:`finalize` (channels
  removed, weights and inputs quantized with :mod:`effdl.compress.quant`, fine-tuned); :func:`report`
  (:class:`SBSReport`: measured BOPs, size, accuracy);
- the comparison of chapter 06 (:mod:`effdl.compress.sbs.study`): :func:`lam_sweep` and :func:`uniform_sweep` at
  equal training, :func:`best_under_budget` / :func:`compare_at_budget` (choices on validation, gains on test).
"""

from effdl.compress.sbs.quantizer import (
    DEFAULT_CANDIDATES,
    SBSAct,
    SBSWeight,
    check_candidates,
    decompose,
    discretize,
    gate,
    normalize,
    share_bits,
    step_size,
)
from effdl.compress.sbs.search import (
    FIXED_BITS,
    LayerChoice,
    SBSConfig,
    SBSReport,
    finalize,
    report,
    search,
    size_bits,
    uniform_config,
)
from effdl.compress.sbs.study import (
    UNIFORM_SETTINGS,
    BudgetComparison,
    SBSPoint,
    best_under_budget,
    compare_at_budget,
    compress_sbs,
    compress_uniform,
    lam_sweep,
    most_compressed_within,
    uniform_label,
    uniform_sweep,
)

__all__ = [
    "DEFAULT_CANDIDATES",
    "FIXED_BITS",
    "UNIFORM_SETTINGS",
    "BudgetComparison",
    "LayerChoice",
    "SBSAct",
    "SBSConfig",
    "SBSPoint",
    "SBSReport",
    "SBSWeight",
    "best_under_budget",
    "check_candidates",
    "compare_at_budget",
    "compress_sbs",
    "compress_uniform",
    "decompose",
    "discretize",
    "finalize",
    "gate",
    "lam_sweep",
    "most_compressed_within",
    "normalize",
    "report",
    "search",
    "share_bits",
    "size_bits",
    "step_size",
    "uniform_config",
    "uniform_label",
    "uniform_sweep",
]
