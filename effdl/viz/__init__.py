"""Plotly figure builders: pure functions, data in, ``go.Figure`` out (:mod:`effdl.widgets` makes them live).

One module per topic; every builder is re-exported here, so ``from effdl import viz; viz.pareto_scatter(...)``.
"""

from effdl.viz.distill import distill_sweep_heatmap, seed_bars, soft_targets_bars
from effdl.viz.edram import (
    EDRAM_COLORS,
    activation_memory_curves,
    codesign_front,
    codesign_scatter,
    energy_bars,
    lifetime_chart,
    retention_curve,
)
from effdl.viz.general import (
    METRIC_LABELS,
    image_grid,
    label,
    latency_box,
    pareto_scatter,
    training_curves,
)
from effdl.viz.lowrank import rank_curves, singular_value_spectra
from effdl.viz.lzss import (
    LZSS_COLORS,
    codec_comparison,
    lzss_chunk_ratios,
    lzss_pipeline,
    lzss_reach,
    lzss_sweep_curves,
    lzss_tokens,
)
from effdl.viz.prune import (
    gradual_pruning_curves,
    layer_sparsity_bars,
    relative_bars,
    sensitivity_curves,
    sparsity_tradeoff,
)
from effdl.viz.quant import bits_accuracy_curves, quant_histograms
from effdl.viz.range_reg import grouped_seed_bars, range_ratio_bars, trajectory_curves, weight_histograms
from effdl.viz.scaling import (
    SCALING_METHODS,
    compression_robustness,
    lm_curves,
    size_loss_scatter,
)

__all__ = [
    "EDRAM_COLORS",
    "LZSS_COLORS",
    "METRIC_LABELS",
    "SCALING_METHODS",
    "activation_memory_curves",
    "bits_accuracy_curves",
    "codec_comparison",
    "codesign_front",
    "codesign_scatter",
    "compression_robustness",
    "distill_sweep_heatmap",
    "energy_bars",
    "gradual_pruning_curves",
    "grouped_seed_bars",
    "image_grid",
    "label",
    "latency_box",
    "layer_sparsity_bars",
    "lifetime_chart",
    "lm_curves",
    "lzss_chunk_ratios",
    "lzss_pipeline",
    "lzss_reach",
    "lzss_sweep_curves",
    "lzss_tokens",
    "pareto_scatter",
    "quant_histograms",
    "range_ratio_bars",
    "rank_curves",
    "relative_bars",
    "retention_curve",
    "seed_bars",
    "sensitivity_curves",
    "singular_value_spectra",
    "size_loss_scatter",
    "soft_targets_bars",
    "sparsity_tradeoff",
    "training_curves",
    "trajectory_curves",
    "weight_histograms",
]
