"""Stream-efficient learning under a compute budget: how much of an unbounded stream a learner exploits in time
("machine-learning throughput"), and how to share compute among training tasks with deadlines.

- :mod:`~effdl.learning.stream.arrivals`: arrivals per time unit (:func:`per_step_counts`), the drop/sample
  policies (:class:`Feeder`, :data:`POLICIES`), the reservoir buffer (:class:`Reservoir`, Algorithm R);
- :mod:`~effdl.learning.stream.simulator`: a stream on real data (digits, MNIST 5k) arriving at r samples per unit,
  a learner spending at most c sample-gradients per unit (online SGD or reservoir replay), optional rotation drift;
  :func:`run_stream` → :class:`StreamResult` (test accuracy over time, throughput = exploited/arrived, cumulative
  compute), :func:`budget_sweep` → :class:`BudgetSweep` (a precomputed grid for sliders), :func:`rotate`;
- :mod:`~effdl.learning.stream.curves`: power-law learning curves L(s) = a·s^(−b) + c (:class:`PowerLaw`) and
  their fit from noisy losses (:func:`fit_power_law`, :func:`profile`);
- :mod:`~effdl.learning.stream.schedulers`: FCFS, proportional share and an adaptive scheduler that fits each
  task's curve online, allocates by gain per estimated compute-to-target with optimism and abandons hopeless tasks
  (:func:`make_scheduler`, :data:`SCHEDULERS`, :class:`TaskView`);
- :mod:`~effdl.learning.stream.scheduling`: tasks with arrivals, deadlines, targets (:class:`Task`), the default
  over-subscribed :class:`Scenario`, :func:`simulate` → :class:`ScheduleResult`, :func:`compare_schedulers` →
  :class:`Comparison` (completed fraction, mean ± std over seeds).

References: Ghunaim et al. 2023, real-time evaluation in online continual learning (arXiv:2302.01047); Prabhu et
al. 2023, computationally budgeted continual learning (arXiv:2303.11165); Hammoud et al. 2023, rapid adaptation in
online continual learning (arXiv:2305.09275); Vitter 1985, reservoir sampling (ACM TOMS); Hestness et al. 2017,
power-law learning curves (arXiv:1712.00409); Peng et al. 2018, Optimus (EuroSys), online loss-curve fitting for
scheduling.
"""

from effdl.learning.stream.arrivals import POLICIES, Feeder, Reservoir, per_step_counts
from effdl.learning.stream.curves import PowerLaw, fit_power_law, profile
from effdl.learning.stream.schedulers import (
    FCFS,
    SCHEDULERS,
    Adaptive,
    Proportional,
    Scheduler,
    TaskView,
    make_scheduler,
)
from effdl.learning.stream.scheduling import (
    Comparison,
    Scenario,
    ScheduleResult,
    Task,
    compare_schedulers,
    simulate,
)
from effdl.learning.stream.simulator import (
    DRIFTS,
    LEARNERS,
    BudgetSweep,
    StreamResult,
    budget_sweep,
    rotate,
    run_stream,
)

__all__ = [
    "DRIFTS",
    "FCFS",
    "LEARNERS",
    "POLICIES",
    "SCHEDULERS",
    "Adaptive",
    "BudgetSweep",
    "Comparison",
    "Feeder",
    "PowerLaw",
    "Proportional",
    "Reservoir",
    "Scenario",
    "ScheduleResult",
    "Scheduler",
    "StreamResult",
    "Task",
    "TaskView",
    "budget_sweep",
    "compare_schedulers",
    "fit_power_law",
    "make_scheduler",
    "per_step_counts",
    "profile",
    "rotate",
    "run_stream",
    "simulate",
]
