"""Few-shot learning with auxiliary data, mixed by a multi-armed bandit (Albalak, Raffel and Wang, "Improving
Few-Shot Generalization by Exploring and Exploiting Auxiliary Data", NeurIPS 2023: EXP3-FLAD and UCB1-FLAD).

Which of K auxiliary datasets to train on next is a bandit: each step plays one arm (dataset), accumulates G of
its batches' gradients, and is rewarded by the cosine between that gradient and the target's on the last layer,
so the per-step cost does not grow with K. Modules:

- :mod:`~effdl.learning.flad.bandits`: :class:`EXP3`, :class:`UCB1`, :class:`Exploit`, :class:`Uniform`,
  :class:`TargetOnly` (one interface: ``probs`` / ``select`` / ``update``), :func:`make_strategy`;
- :mod:`~effdl.learning.flad.reward`: :func:`gradient_alignment`, :func:`last_layer_names`,
  :func:`resolve_reward_params`, :class:`RewardSmoother` (R̂ ← βR̂ + (1 − β)r);
- :mod:`~effdl.learning.flad.trainer`: :class:`FLADTrainer` (``fit`` / ``step`` / ``evaluate``), :class:`FLADLog`;
- :mod:`~effdl.learning.flad.tasks`: :func:`few_shot_suite` (a few-shot digits target and K aligned / noisy /
  adversarial auxiliary datasets as index views), :class:`FewShotSuite`, :class:`AuxDataset`;
- :mod:`~effdl.learning.flad.study`: :func:`compare_strategies` → :class:`StudyResult` (:data:`SETTINGS`: a QUICK and a
  full study that work), :func:`step_time`.
"""

from effdl.learning.flad.bandits import EXP3, STRATEGIES, UCB1, Exploit, Strategy, TargetOnly, Uniform, make_strategy
from effdl.learning.flad.reward import (
    RewardSmoother,
    check_beta,
    gradient_alignment,
    last_layer_names,
    resolve_reward_params,
)
from effdl.learning.flad.study import SETTINGS, RunResult, StudyResult, compare_strategies, default_model, step_time
from effdl.learning.flad.tasks import KINDS, TASKS, AuxDataset, FewShotSuite, derangement, few_shot_suite
from effdl.learning.flad.trainer import FLADLog, FLADTrainer

__all__ = [
    "EXP3",
    "KINDS",
    "SETTINGS",
    "STRATEGIES",
    "TASKS",
    "UCB1",
    "AuxDataset",
    "Exploit",
    "FLADLog",
    "FLADTrainer",
    "FewShotSuite",
    "RewardSmoother",
    "RunResult",
    "Strategy",
    "StudyResult",
    "TargetOnly",
    "Uniform",
    "check_beta",
    "compare_strategies",
    "default_model",
    "derangement",
    "few_shot_suite",
    "gradient_alignment",
    "last_layer_names",
    "make_strategy",
    "resolve_reward_params",
    "step_time",
]
