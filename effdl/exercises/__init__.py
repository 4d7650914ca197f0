"""Checkers for the notebooks' exercises, one module per topic: call one with your answer (or your function) and it
tells you whether it is right, with a hint when it is not. Each returns ``True``/``False`` so a notebook cell can also
assert on it; an unfinished template answers "not yet". With ``EFFDL_SOLUTIONS=1`` (``effdl run --solutions``) a
"not yet" raises :class:`ExerciseNotSolved`, so the solutions version of a notebook fails where a solution is wrong.
"""

from effdl.exercises._common import STRICT_ENV, ExerciseNotSolved, checker, strict
from effdl.exercises.core import check_conv_macs, check_linear_macs, check_pareto_front
from effdl.exercises.distill import check_kd_loss, check_softened
from effdl.exercises.edram import check_coupling_inverse, check_refresh_count
from effdl.exercises.lowrank import check_lowrank_params, check_truncated_svd
from effdl.exercises.lzss import LZSS_DECODE_TOKENS, check_lzss_blob_size, check_lzss_decode, lzss_exercise_input
from effdl.exercises.prune import check_csr_bits, check_magnitude_prune
from effdl.exercises.quant import check_affine_qparams, check_symmetric_quantize
from effdl.exercises.range_reg import R2_WEIGHT, check_range_penalties, check_soft_max_min
from effdl.exercises.scaling import check_transformer_params, check_unigram_entropy

__all__ = [
    "LZSS_DECODE_TOKENS",
    "R2_WEIGHT",
    "STRICT_ENV",
    "ExerciseNotSolved",
    "check_affine_qparams",
    "check_conv_macs",
    "check_coupling_inverse",
    "check_csr_bits",
    "check_kd_loss",
    "check_linear_macs",
    "check_lowrank_params",
    "check_lzss_blob_size",
    "check_lzss_decode",
    "check_magnitude_prune",
    "check_pareto_front",
    "check_range_penalties",
    "check_refresh_count",
    "check_soft_max_min",
    "check_softened",
    "check_symmetric_quantize",
    "check_transformer_params",
    "check_truncated_svd",
    "check_unigram_entropy",
    "checker",
    "lzss_exercise_input",
    "strict",
]
