"""Learning under constraints: regularization that exploits structure, and learning under data and compute budgets.

- :mod:`effdl.learning.smoothing`: random smoothing — noise on the inputs as a convolution-smoothed kernel, kernel
  gradient descent with early stopping or weight decay, and simulators of targets of known smoothness (chapter 10);
- :mod:`effdl.learning.lrsm`: Laplacian regularized stratified models, with the graph over the strata learned jointly
  with the models (chapter 11);
- :mod:`effdl.learning.stream`: stream-efficient learning under a compute budget — a stream on real data that a
  budgeted learner (online SGD, reservoir replay) exploits in part (throughput, accuracy over time), and schedulers
  that share compute among tasks with deadlines by fitting their learning curves online;
- :mod:`effdl.learning.flad`: few-shot learning with auxiliary data, the datasets mixed by a bandit (EXP3-FLAD,
  UCB1-FLAD) rewarded by gradient alignment with the target, at a per-step cost independent of their number.

This layer imports only :mod:`effdl.core` below it (and numpy, scipy, networkx, torch).
"""
