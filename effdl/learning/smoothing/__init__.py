"""Random smoothing in kernel gradient descent (Ding, Hu, Jiang, Li, Wang and Yao, "Random smoothing regularization
in kernel gradient descent learning", 2023-24; chapter 10).

Noise ε injected into the inputs turns a kernel K into the convolution-smoothed kernel
``K_S(x, x') = E K(x + ε, x' + ε')``; kernel gradient descent on K_S with early stopping or weight decay, the noise
level and the stopping time chosen on validation, learns Sobolev targets at the rate n^{−2m/(2m+d)} set by the
data's intrinsic dimension d, not the ambient D.

- kernels and noise (:mod:`~effdl.learning.smoothing.kernels`): :class:`GaussianKernel`, :class:`MaternKernel`;
  :class:`GaussianNoise`, :class:`LaplaceNoise`, :class:`PolynomialNoise` (Matérn-type spectral decay);
- smoothed kernels (:mod:`~effdl.learning.smoothing.smoothed`): :func:`smoothed_kernel` (closed form / spectral
  quadrature), :func:`smoothed_profile`, :func:`smoothed_kernel_mc` (Monte Carlo, any kernel and noise);
- kernel gradient descent (:mod:`~effdl.learning.smoothing.kgd`): :func:`kernel_gd` (exact eigen path, early
  stopping on validation), :func:`kernel_weight_decay`, :func:`kernel_ridge`, :class:`KernelSpectrum`;
- the data-augmentation view (:mod:`~effdl.learning.smoothing.augment`): :func:`augmented_gram`,
  :func:`augmentation_gap`, :func:`noisy_copies`;
- simulators (:mod:`~effdl.learning.smoothing.simulate`): :func:`sobolev_target`, :func:`mixed_target`,
  :class:`Embedding` (flat or curved d-manifolds in R^D), :func:`theory_rate`;
- rate studies (:mod:`~effdl.learning.smoothing.study`): :func:`rate_study` → :class:`RateStudy`,
  :func:`loglog_slope`;
- the explorer's grid (:mod:`~effdl.learning.smoothing.explore`): :func:`matched_noise` (families at equal
  variance), :func:`noise_sweep` → :class:`NoiseSweep`.
"""

from effdl.learning.smoothing.augment import AugmentationGap, augmentation_gap, augmented_gram, noisy_copies
from effdl.learning.smoothing.explore import FAMILIES, NoiseSweep, matched_noise, noise_sweep
from effdl.learning.smoothing.kernels import (
    GaussianKernel,
    GaussianNoise,
    Kernel,
    LaplaceNoise,
    MaternKernel,
    Noise,
    PolynomialNoise,
)
from effdl.learning.smoothing.kgd import KernelSpectrum, KGDResult, kernel_gd, kernel_ridge, kernel_weight_decay
from effdl.learning.smoothing.simulate import Embedding, Sample, Target, mixed_target, sobolev_target, theory_rate
from effdl.learning.smoothing.smoothed import smoothed_kernel, smoothed_kernel_mc, smoothed_profile
from effdl.learning.smoothing.study import DEFAULT_KERNEL, DEFAULT_NOISE_GRID, RateStudy, loglog_slope, rate_study

__all__ = [
    "DEFAULT_KERNEL",
    "DEFAULT_NOISE_GRID",
    "FAMILIES",
    "AugmentationGap",
    "Embedding",
    "GaussianKernel",
    "GaussianNoise",
    "KGDResult",
    "Kernel",
    "KernelSpectrum",
    "LaplaceNoise",
    "MaternKernel",
    "Noise",
    "NoiseSweep",
    "PolynomialNoise",
    "RateStudy",
    "Sample",
    "Target",
    "augmentation_gap",
    "augmented_gram",
    "kernel_gd",
    "kernel_ridge",
    "kernel_weight_decay",
    "loglog_slope",
    "matched_noise",
    "mixed_target",
    "noise_sweep",
    "noisy_copies",
    "rate_study",
    "smoothed_kernel",
    "smoothed_kernel_mc",
    "smoothed_profile",
    "sobolev_target",
    "theory_rate",
]
