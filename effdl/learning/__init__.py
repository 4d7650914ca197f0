"""Learning under constraints: regularization that exploits structure, and learning under data and compute budgets.

- :mod:`effdl.learning.smoothing`: random smoothing — noise on the inputs as a convolution-smoothed kernel, kernel
  gradient descent with early stopping or weight decay, and simulators of targets of known smoothness (chapter 10);
- :mod:`effdl.learning.lrsm`: Laplacian regularized stratified models, with the graph over the strata learned jointly
  with the models (chapter 11);
- :mod:`effdl.learning.flad`: few-shot learning with auxiliary data, the datasets mixed by a bandit (EXP3-FLAD,
  UCB1-FLAD) rewarded by gradient alignment with the target, at a per-step cost independent of their number.

This layer imports only :mod:`effdl.core` below it (and numpy, scipy, networkx, torch).
"""
