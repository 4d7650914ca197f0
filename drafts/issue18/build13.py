"""Builds drafts/issue18/13_stream_learning.ipynb (run from the repo root)."""

import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = sys.argv[1] if len(sys.argv) > 1 else "drafts/issue18/13_stream_learning.ipynb"
cells = []


def md(text: str) -> None:
    cells.append(new_markdown_cell(text.strip("\n")))


def code(text: str, *, tags: list[str] | None = None) -> None:
    c = new_code_cell(text.strip("\n"))
    if tags:
        c.metadata["tags"] = tags
    cells.append(c)


def record(text: str) -> None:
    c = new_code_cell(text.strip("\n"))
    c.metadata["tags"] = ["remove-cell"]
    c.metadata["jupyter"] = {"source_hidden": True}
    cells.append(c)


def solution(text: str, grade_id: str) -> None:
    c = new_code_cell(text.strip("\n"))
    c.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": grade_id,
        "locked": False,
        "schema_version": 3,
        "solution": True,
    }
    cells.append(c)


md(r"""
# 13 · Stream-efficient learning: throughput under a compute budget

**Learning objectives**
- treat **throughput** — the share of an unbounded stream that a learner actually trains on — as a first-class
  metric next to accuracy, and compute it by hand from the arrival rate $r$ and the compute budget $c$ for the
  drop and sample policies;
- implement **reservoir sampling** (Algorithm R), prove that every item is kept with probability $\min(1, B/n)$,
  and explain why a replay buffer that holds a uniform sample of the past can hurt on a **drifting** stream;
- measure how a learner's accuracy over the stream rises with its budget when samples arrive faster than it can
  train on them, over several seeds, and browse the trade-off with a budget slider;
- model a training task by a power-law learning curve $L(s) = a s^{-b} + c$, compute the compute it needs to reach
  a target, and compare schedulers that share a fixed compute capacity among tasks with deadlines (FCFS,
  proportional share, an adaptive scheduler that fits the curves online, and an oracle).

**Prerequisites** Chapter 00 (training and evaluation on held-out data, SGD, means over seeds). Chapter 01 helps
(accuracy against a compute or size budget, read as a trade-off curve). Mathematics: rates and ratios,
elementary probability (uniform sampling, a product of conditional probabilities, induction), power laws on
log–log axes, least squares.

In the usual benchmark the data set is fixed and training may take as long as it likes. In a deployed system
data arrive continuously — sensor readings, user interactions, new images — at some rate $r$ per time unit, and
the learner has a fixed amount of compute $c$ per unit. When $r > c$, it cannot train on everything: what it
skips is lost, and what it trains on late may already be stale because the distribution drifts. Here the stream
is scikit-learn's digits, arriving at $r$ samples per unit while slowly **rotating**
(`DRIFT_SPEED`, 1° per unit by default), and the learner is a small MLP that spends at most $c$
sample-gradients per unit. The second half shares a compute capacity among
many training tasks, each with a deadline and a loss target.

**Papers followed:** Y. Ghunaim et al., *Real-Time Evaluation in Online Continual Learning: A New Hope*, CVPR
2023 (learners evaluated on a stream that does not wait for them; cheap methods beat costly ones there);
A. Prabhu et al., *Computationally Budgeted Continual Learning: What Does Matter?*, CVPR 2023 (continual learning
under a compute budget per time step); H. Hammoud et al., *Rapid Adaptation in Online Continual Learning: Are We
Evaluating It Right?*, ICCV 2023 (what online accuracy measures); J. S. Vitter, *Random Sampling with a
Reservoir*, ACM TOMS 1985 (Algorithm R). Links under *Further reading*. Runtime: about a minute in QUICK mode,
a few minutes in full on 2 CPU cores.
""")

code(
    r"""
QUICK = False  # True: one seed and a coarser budget grid, for tests and a first look
SEED = 0
DATASET = "digits"  # the stream: scikit-learn's 8×8 digits (ships with scikit-learn)
SEEDS = 3  # stream runs with seeds SEED, SEED + 1, ...
RATE = 64  # arrivals per time unit in sections 1–3: larger than every budget but the top one
RATES = (16, 64)  # the sweep's arrival rates
BUDGETS = (4, 8, 16, 32, 64)  # the sweep's compute budgets c (sample-gradients per unit)
STEPS = 200  # time units per stream
DRIFT_SPEED = 1.0  # rotation drift, degrees per unit
SCHED_SEEDS = 5  # scheduler comparison: task sets SEED, SEED + 1, ...
""",
    tags=["parameters"],
)

code(r"""
if QUICK:
    SEEDS, RATES, BUDGETS = 1, (RATE,), (4, 16, 64)

import statistics
import time

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import effdl
from effdl import exercises, viz, widgets
from effdl.learning import stream

START = time.perf_counter()
seeds = [SEED + i for i in range(SEEDS)]
sched_seeds = [SEED + i for i in range(SCHED_SEEDS)]
common = dict(steps=STEPS, drift_speed=DRIFT_SPEED)
print(f"effdl {effdl.__version__}, QUICK={QUICK}, stream seeds {seeds}, scheduler seeds {sched_seeds}")
""")

md(r"""
## 1 · Throughput: how much of the stream is used

In every time unit $t$, $A_t$ samples arrive (on average $r$) and the learner may spend $c$ sample-gradients. The
**throughput** over a stream of $T$ units is the share of the arrivals that received at least one gradient:

$$
\text{throughput} = \frac{\#\{\text{arrivals that were trained on}\}}{\sum_{t=1}^{T} A_t}
 \;\approx\; \min\Big(1, \frac{c}{r}\Big) \quad \text{(online SGD, one gradient per sample).}
$$

What happens to the $A_t - c$ samples that do not fit is a **policy**: `drop` trains on the first $c$ arrivals of
the unit and loses the rest, `sample` trains on $c$ drawn uniformly among them, and `drop` with a FIFO **queue**
keeps a backlog that is served first in later units. A backlog does not raise the throughput of a stream that is
always over-subscribed — the queue fills and then drops as much as before — but it makes the learner train on
samples that are older, which matters when the distribution drifts. Below, one run at $r$ = `RATE`, $c = r/4$:
per unit, what was processed, what was not, and the throughput it adds up to.
""")

code(r"""
budget1 = RATE / 4
runs1 = {
    "drop": stream.run_stream(DATASET, rate=RATE, budget=budget1, policy="drop", seed=SEED, **common),
    "sample": stream.run_stream(DATASET, rate=RATE, budget=budget1, policy="sample", seed=SEED, **common),
    "drop + FIFO queue": stream.run_stream(DATASET, rate=RATE, budget=budget1, queue=4 * RATE, seed=SEED, **common),
}
policy_table = pd.DataFrame(
    {k: {"mean accuracy": r.mean_accuracy, "final accuracy": r.final_accuracy, "throughput": r.final_throughput}
     for k, r in runs1.items()}).T.round(3)
display(policy_table)
viz.stream_flow(runs1["drop"], title=f"seed {SEED}: r = {RATE}, c = {budget1:g}, policy drop")
""")

code(r"""
backlog_gap = runs1["drop"].mean_accuracy - runs1["drop + FIFO queue"].mean_accuracy
lag = 4 * RATE / budget1  # units a sample waits once the queue is full
display(Markdown(
    f"At r = {RATE} and c = {budget1:g}, the rule of thumb gives min(1, c/r) = {min(1, budget1 / RATE):.3f}; the "
    f"runs measure {', '.join(f'{k} {r.final_throughput:.3f}' for k, r in runs1.items())}. The backlog "
    f"{'lowers' if backlog_gap > 0 else 'does not lower'} the mean accuracy over the stream by "
    f"{abs(backlog_gap):.3f} "
    f"(drop {runs1['drop'].mean_accuracy:.3f}, with the queue {runs1['drop + FIFO queue'].mean_accuracy:.3f}): "
    f"once its {4 * RATE} slots are full, every sample waits {lag:g} units, so under a rotation of "
    f"{DRIFT_SPEED:g}° per unit the learner trains {lag * DRIFT_SPEED:g}° behind the angle it is tested at."
))
""")

record(r"""
effdl.record_many("stream.policy", **{k.split()[0] + ("_queue" if "queue" in k else ""): r.final_throughput
                                      for k, r in runs1.items()})
effdl.record_many("stream.policy", backlog_gap=backlog_gap, budget=budget1, rate=RATE)
""")

md(r"""
**Exercise 1 — throughput by hand.** A camera delivers $r = 48$ images per unit; the learner can afford $c = 20$
sample-gradients per unit and drops what does not fit. What throughput does online SGD reach over 100 units?
(A number in $[0, 1]$; the checker runs the stream's own bookkeeping.)
""")

solution(
    r"""
answer = None  # a share in [0, 1]
### BEGIN SOLUTION
answer = min(1.0, 20 / 48)
### END SOLUTION
exercises.check_throughput(answer, rate=48, budget=20)
""",
    "13-ex1",
)

md(r"""
## 2 · Two learners on a drifting stream: online SGD and reservoir replay

**Online SGD** trains on the newest samples only: every unit, its $c$ sample-gradients go to fresh arrivals, in
mini-batches, and each sample is seen once. **Replay** spends a share of the budget (half, here) on samples drawn
from a buffer of the past, to fight forgetting. A buffer of $B$ slots that should hold a *uniform* sample of
everything seen so far, without knowing how long the stream will be, is a **reservoir** (Vitter's Algorithm R):
keep the first $B$ items; the $n$-th item ($n > B$) replaces a uniformly chosen slot with probability $B/n$. By
induction, after $n$ items every one of them is in the buffer with the same probability

$$
P(\text{item } i \text{ in the buffer after } n) = \frac{B}{i} \prod_{k=i+1}^{n} \Big(1 - \frac{B}{k}\cdot
\frac{1}{B}\Big) = \frac{B}{i} \prod_{k=i+1}^{n} \frac{k-1}{k} = \frac{B}{n} \qquad (i > B;\ \text{for } i \le B
\text{ start from } 1 \cdot \textstyle\prod_{k=B+1}^{n}).
$$

Uniform over the past is what one wants on a stationary stream. On a rotating stream it is the wrong thing: the
buffer's samples are spread over every angle seen so far, while the test set follows the current one.
""")

md(r"""
**Exercise 2 — Algorithm R.** Complete `my_reservoir(items, capacity, rng)`: return the items (a list) kept by
Algorithm R after the whole list `items` went by, using `rng` (a `numpy.random.Generator`) for every random
choice. Then give the probability that the 10th item of a stream of 1,000 is in a 64-slot reservoir at the end.
""")

solution(
    r"""
def my_reservoir(items, capacity: int, rng: np.random.Generator) -> list:
    # Return the kept items, at most `capacity` of them.
    ### BEGIN SOLUTION
    buf = []
    for n, x in enumerate(items, start=1):
        if n <= capacity:
            buf.append(x)
        elif rng.random() < capacity / n:
            buf[rng.integers(capacity)] = x
    return buf
    ### END SOLUTION


p_in = None  # the inclusion probability
### BEGIN SOLUTION
p_in = min(1.0, 64 / 1000)
### END SOLUTION
exercises.check_reservoir(my_reservoir)
exercises.check_inclusion_probability(p_in, buffer=64, n=1000)
""",
    "13-ex2",
)

md(r"""
Below, both learners on the same stream at $r$ = `RATE` and $c = r/4$: test accuracy (on the test set rotated to
the stream's current angle) over time, seed by seed averaged. Replay's throughput counts distinct arrivals that
received a gradient, so it spends half its budget on samples already seen and its throughput is lower.
""")

code(r"""
pair = {lr: [stream.run_stream(DATASET, rate=RATE, budget=budget1, learner=lr, seed=s, **common) for s in seeds]
        for lr in stream.LEARNERS}
pair_acc = {lr: [r.mean_accuracy for r in rs] for lr, rs in pair.items()}
sgd_minus_replay = [a - b for a, b in zip(pair_acc["sgd"], pair_acc["replay"], strict=True)]
display(Markdown(
    f"Mean accuracy over the stream (r = {RATE}, c = {budget1:g}, {len(seeds)} seed(s)): online SGD "
    f"**{statistics.fmean(pair_acc['sgd']):.3f}**, replay **{statistics.fmean(pair_acc['replay']):.3f}**; SGD − "
    f"replay per seed {', '.join(f'{m:+.3f}' for m in sgd_minus_replay)} "
    f"({'SGD ahead on every seed' if min(sgd_minus_replay) > 0 else 'not on every seed'}). Throughput: SGD "
    f"{pair['sgd'][0].final_throughput:.3f}, replay {pair['replay'][0].final_throughput:.3f} (seed {SEED})."
))
viz.stream_accuracy({lr: rs[0] for lr, rs in pair.items()}, title=f"seed {SEED}: r = {RATE}, c = {budget1:g}")
""")

record(r"""
effdl.record_many("stream.learners", sgd=statistics.fmean(pair_acc["sgd"]),
                  replay=statistics.fmean(pair_acc["replay"]), sgd_minus_replay_min=min(sgd_minus_replay))
""")

md(r"""
## 3 · Accuracy against the budget, and against the throughput

Now the grid: every learner, arrival rate and budget, over `SEEDS` seeds (`stream.budget_sweep`; the same
stream order and the same initial model for every budget at a seed, so the budgets are compared on equal
footing). The summary is the **mean accuracy over the stream** — the area under the accuracy curve, which rewards
learning *early* as well as learning well — on a stream that does not wait for the learner, in the spirit of
Ghunaim et al.'s real-time evaluation.
Left: accuracy against $c$ (log axis); right: the same points against the throughput they reach.
""")

code(r"""
sweep = stream.budget_sweep(RATES, BUDGETS, learners=stream.LEARNERS, seeds=seeds, progress=False, **common)
acc, acc_sd = sweep.summary()
li, ri = sweep.learners.index("sgd"), sweep.rates.index(RATE)
acc_seeds = sweep.mean_accuracy[li, ri]  # (budgets, seeds)
thr = sweep.throughput[li, ri].mean(axis=1)
rises = np.diff(acc_seeds, axis=0)  # budget k+1 − budget k, per seed
print(f"online SGD, r = {RATE}, mean accuracy over the stream by budget (mean ± std over {len(seeds)} seeds):")
for k, c in enumerate(sweep.budgets):
    print(f"  c = {c:>5g}: {acc[li, ri, k]:.3f} ± {acc_sd[li, ri, k]:.3f} (min {acc_seeds[k].min():.3f}), "
          f"throughput {thr[k]:.3f} (c/r = {min(1, c / RATE):.3f})")
print(f"smallest rise from one budget to the next, over all seeds: {rises.min():+.3f}")
viz.stream_tradeoff(sweep, learner="sgd", current=(RATE, sweep.budgets[len(sweep.budgets) // 2]))
""")

record(r"""
effdl.record_many("stream.sweep", **{f"acc_c{c:g}_mean": acc[li, ri, k] for k, c in enumerate(sweep.budgets)})
effdl.record_many("stream.sweep", **{f"acc_c{c:g}_std": acc_sd[li, ri, k] for k, c in enumerate(sweep.budgets)})
effdl.record_many("stream.sweep", **{f"acc_c{c:g}_min": acc_seeds[k].min() for k, c in enumerate(sweep.budgets)})
effdl.record_many("stream.sweep", **{f"thr_c{c:g}": thr[k] for k, c in enumerate(sweep.budgets)})
effdl.record_many("stream.sweep", rise_min=rises.min(), rise_mean_min=np.diff(acc[li, ri]).min(),
                  rate=RATE, budgets=len(sweep.budgets), seeds=len(seeds))
effdl.record_many("stream.sweep", replay_minus_sgd_max=(acc[1 - li, ri] - acc[li, ri]).max())
""")

md(r"""
The explorer browses the grid computed above: the **budget slider** is the main control, the dropdowns choose the
arrival rate and the learner. The left figure shows the accuracy curves over time of every budget, the current
one bold; the right one marks the current point on the trade-off. Nothing is retrained on a move.
""")

code(r"""
explorer = widgets.stream_explorer(sweep, learner="sgd", rate=RATE)
explorer
""")

md(r"""
**Try it — the budget for a target.** At arrival rate $r$ = `RATE` with online SGD, move the slider: what is the
**smallest** budget $c$ whose mean accuracy over the stream reaches 0.7? Read it off the readout (`math.inf` if
no budget on the slider reaches it). What throughput does that budget reach?
""")

solution(
    r"""
import math

answer = None  # a budget from the slider, e.g. 16
### BEGIN SOLUTION
ok = [c for c in sweep.budgets if explorer.table[("sgd", RATE, c)][0] >= 0.7]
answer = min(ok) if ok else math.inf
### END SOLUTION
exercises.check_stream_budget(answer, explorer, target=0.7, rate=RATE, learner="sgd")
""",
    "13-try-budget",
)

md(r"""
## 4 · Sharing compute among tasks: learning curves and schedulers

Now many training jobs share one compute capacity $C$ units per step. Task $j$ arrives at step $a_j$, must reach a
loss target $T_j$ before its deadline $d_j$, and its loss after $s$ units of compute follows a **power-law learning
curve** — hidden from the scheduler, which only sees noisy losses as the task trains:

$$
L_j(s) = a_j\, s^{-b_j} + c_j , \qquad
s_j^\star = \Big(\frac{a_j}{T_j - c_j}\Big)^{1/b_j} \ \text{ if } T_j > c_j \text{ (otherwise never)} .
$$

$s_j^\star$ is the compute to target. A scheduler that knew every $s_j^\star$ could decide which tasks to finish
and which to give up; one that does not must estimate it from the first few losses by fitting the curve, in log
space (a power law is a line on log–log axes once the floor $c$ is removed). Below, a curve, a few noisy
observations of it, the fit (`stream.fit_power_law`) and the compute it predicts for a target.
""")

code(r"""
truth = stream.PowerLaw(a=1.5, b=0.5, c=0.1)
rng = np.random.default_rng(SEED)
s_obs = np.array([2.0, 4, 8, 12, 16, 24, 32])
loss_obs = (truth.a * s_obs ** -truth.b + truth.c) * np.exp(0.02 * rng.standard_normal(len(s_obs)))
fit = stream.fit_power_law(s_obs, loss_obs)
target = 0.2
print(f"truth a = {truth.a}, b = {truth.b}, c = {truth.c}; fit a = {fit.a:.3f}, b = {fit.b:.3f}, c = {fit.c:.3f}")
s_err = fit.compute_to(target) / truth.compute_to(target) - 1
print(f"compute to loss {target}: truth {truth.compute_to(target):.0f} units, fit {fit.compute_to(target):.0f} "
      f"({100 * s_err:+.0f}%): an extrapolation to {truth.compute_to(target) / s_obs.max():.0f}× the last observation")
viz.stream_power_law(s_obs, loss_obs, fit=fit, truth=truth, target=target, extend=8.0)
""")

md(r"""
Seven observations, 2% noise, and the fit is close where there are data; the compute to target sits far beyond
them, where a small error in $b$ or $c$ becomes a large error in $s^\star$ (printed above). A scheduler that
acts on such estimates must expect them to be wrong early and refit as losses come in.
""")

record(r"""
effdl.record_many("stream.curve", s_true=truth.compute_to(target), s_fit=fit.compute_to(target), fit_b=fit.b)
""")

md(r"""
**Exercise 3 — compute to target.** A task's curve is $L(s) = 2\, s^{-0.4} + 0.25$. How many compute units does
it need to reach the target loss 0.45? And the target 0.25?
""")

solution(
    r"""
import math

s_045 = s_025 = None
### BEGIN SOLUTION
s_045 = (2 / (0.45 - 0.25)) ** (1 / 0.4)
s_025 = math.inf  # the target equals the floor c: never reached
### END SOLUTION
exercises.check_compute_to_target(s_045, a=2, b=0.4, c=0.25, target=0.45)
exercises.check_compute_to_target(s_025, a=2, b=0.4, c=0.25, target=0.25)
""",
    "13-ex3",
)

md(r"""
**Four schedulers.** The default scenario (`stream.Scenario()`) draws 40 tasks whose total required compute is
1.5 × what the capacity delivers while they are live (**load** 1.5: not every task can finish). **FCFS** gives
all capacity to the earliest-arrived unfinished task; **proportional** splits it equally among the active tasks;
**adaptive** fits each task's curve to its observed losses, ranks tasks by the gain per estimated
compute-to-target (with some optimism for tasks it knows little about), and abandons a task whose estimate cannot
be met before its deadline; the **oracle** knows every true $s_j^\star$ — an upper reference, not a method. Each
seed draws a new task set; every scheduler sees the same one (a paired comparison).

The figure: the share of tasks completed by their deadline, mean over the seeds with its standard deviation, and
each seed as a dot.
""")

code(r"""
scenario = stream.Scenario()
comparison = stream.compare_schedulers(scenario, sched_seeds)
frac = {name: [r["fraction"] for r in comparison.rows if r["scheduler"] == name] for name in comparison.summary}
ad_fcfs = [a - f for a, f in zip(frac["adaptive"], frac["fcfs"], strict=True)]
ad_prop = [a - p for a, p in zip(frac["adaptive"], frac["proportional"], strict=True)]
pd.DataFrame(frac, index=pd.Index(sched_seeds, name="task-set seed")).round(3).T
""")

code(r"""
def ms(name: str) -> str:
    m, sd = comparison.summary[name]
    return f"{m:.3f} ± {sd:.3f}"


display(Markdown(
    f"Share of the {scenario.n_tasks} tasks completed (load {scenario.load:g}, mean ± std over {len(sched_seeds)} "
    f"task sets): FCFS **{ms('fcfs')}**, proportional **{ms('proportional')}**, adaptive **{ms('adaptive')}**, "
    f"oracle {ms('oracle')}. Adaptive − FCFS per seed: {', '.join(f'{d:+.3f}' for d in ad_fcfs)} (ahead or equal "
    f"on {sum(d >= 0 for d in ad_fcfs)} of {len(ad_fcfs)}); adaptive − proportional: "
    f"{', '.join(f'{d:+.3f}' for d in ad_prop)}. The oracle leaves "
    f"{comparison.summary['oracle'][0] - comparison.summary['adaptive'][0]:.3f} on the table."
))
viz.stream_schedulers(comparison, title=f"load {scenario.load:g}: tasks completed by their deadline")
""")

record(r"""
effdl.record_many("stream.sched", **{f"{k}_mean": m for k, (m, _) in comparison.summary.items()})
effdl.record_many("stream.sched", **{f"{k}_std": sd for k, (_, sd) in comparison.summary.items()})
effdl.record_many("stream.sched", adaptive_minus_fcfs=statistics.fmean(ad_fcfs),
                  adaptive_minus_prop=statistics.fmean(ad_prop), adaptive_ge_fcfs=sum(d >= 0 for d in ad_fcfs),
                  seeds=len(sched_seeds))
""")

md(r"""
One task set in detail: the adaptive scheduler's allocation, one row per task (opacity = its share of the
capacity in that step), completed, missed or abandoned, with each task's window and deadline.
""")

code(r"""
tasks = scenario.sample(seed=SEED)
gantt = stream.simulate(tasks, "adaptive", capacity=scenario.capacity, noise=scenario.noise, seed=SEED)
print(f"seed {SEED}: completed {len(gantt.completed)}, missed {len(gantt.missed)}, abandoned "
      f"{len(gantt.abandoned)} of {len(tasks)}; idle capacity {gantt.idle:.1f} units")
viz.stream_schedule(gantt, tasks, capacity=scenario.capacity, title=f"adaptive, task set {SEED}")
""")

md(r"""
**Exercise 4 — schedule by hand.** Capacity 1 unit per step, four tasks (arrival step, deadline, work needed):
`exercises.HAND_TASKS` = (0, 5, 6), (1, 4, 2), (2, 8, 3), (3, 7, 2), ids 0–3; a task is active in steps
$a \le t < d$. Which tasks does **FCFS** complete by their deadline? Which set would you complete if you knew
every task's work in advance (the oracle's)?
""")

solution(
    r"""
fcfs_done = oracle_done = None  # sets of task ids
### BEGIN SOLUTION
# FCFS: task 0 takes steps 0-4 (5 of 6 units: missed), tasks 1 and 3 expire meanwhile, task 2 runs in 5-7.
fcfs_done = {2}
# Task 0 alone would take 6 of the 8 steps; dropping it fits 1 (steps 1-2), 3 (3-4) and 2 (5-7).
oracle_done = {1, 2, 3}
### END SOLUTION
exercises.check_scheduled_tasks(fcfs_done, "fcfs")
exercises.check_scheduled_tasks(oracle_done, "oracle")
""",
    "13-ex4",
)

md(r"""
## Exercises

**Exercise 5 — is the backlog's cost the drift?** Section 1 found a FIFO queue changes the mean accuracy under
rotation drift. Rerun the `drop` and `drop + FIFO queue` runs of section 1 with `drift="none"` and compare the
gap. What does that tell you about when a backlog is worth keeping?
""")

solution(
    r"""
### BEGIN SOLUTION
still = {q: stream.run_stream(DATASET, rate=RATE, budget=budget1, queue=q, drift="none", seed=SEED, steps=STEPS)
         for q in (None, 4 * RATE)}
gap_still = still[None].mean_accuracy - still[4 * RATE].mean_accuracy
display(Markdown(
    f"**Model answer.** Without drift, drop − queue = {gap_still:+.3f} (with rotation: {backlog_gap:+.3f}). "
    "A backlog only delays samples; on a stationary stream an old sample is as good as a new one, so the gap "
    "should shrink towards 0 (up to the seed's noise); under drift a delayed sample is a stale one. Keep a backlog "
    "when the stream is bursty (it fills idle units) and the distribution slow, not when it is always "
    "over-subscribed and moving."
))
### END SOLUTION
""",
    "13-ex5",
)

md(r"""
**Exercise 6 — how optimistic should the adaptive scheduler be?** `stream.compare_schedulers` takes
`options={"adaptive": {"optimism": …}}`. Compare two values of the optimism on the same task sets and explain the
result with what optimism does to a task the scheduler has seen only a few losses of.
""")

solution(
    r"""
### BEGIN SOLUTION
opt = {o: stream.compare_schedulers(scenario, sched_seeds, schedulers=("adaptive",),
                                    options={"adaptive": {"optimism": o}}).summary["adaptive"]
       for o in (1.0, 2.0, 4.0)}
display(Markdown(
    "**Model answer.** Completed share, mean ± std: "
    + "; ".join(f"optimism {o:g}: {m:.3f} ± {sd:.3f}" for o, (m, sd) in opt.items())
    + " (2 is the default used in section 4). Optimism shrinks the compute a young task is estimated to need, so "
    "new tasks get tried before they are "
    "judged; too little and a task that started with a noisy bad loss is abandoned early, too much and compute "
    "goes to tasks that will never make their deadline. The difference is to be read against the seed "
    "spread — and choosing the optimism on these same task sets would be choosing on the test split: tune it on "
    "other seeds, then report these."
))
### END SOLUTION
""",
    "13-ex6",
)

md(r"""
## Takeaways
""")

code(r"""
k_lo, k_hi = 0, len(sweep.budgets) - 1
takeaways = f'''
- Throughput — the share of the stream a learner trains on — is min(1, c/r) for online SGD: at r = {RATE},
  c = {budget1:g} the runs measure {runs1['drop'].final_throughput:.3f} (drop) and
  {runs1['sample'].final_throughput:.3f} (sample); a FIFO backlog does not raise it
  ({runs1['drop + FIFO queue'].final_throughput:.3f}) and, under rotation drift, its {lag:g}-unit lag moves the
  mean accuracy over the stream from {runs1['drop'].mean_accuracy:.3f} to
  {runs1['drop + FIFO queue'].mean_accuracy:.3f}.
- With samples arriving faster than the learner trains (r = {RATE}), online SGD's mean accuracy over the stream
  rises with the budget, from **{acc[li, ri, k_lo]:.3f}** at c = {sweep.budgets[k_lo]:g} (throughput
  {thr[k_lo]:.3f}) to **{acc[li, ri, k_hi]:.3f}** at c = {sweep.budgets[k_hi]:g} (throughput {thr[k_hi]:.3f}),
  mean of {len(seeds)} seed(s); the smallest step-to-step rise on any seed is {rises.min():+.3f}.
- Reservoir replay keeps a uniform sample of the past (P = B/n per item), which on a rotating stream is a sample of
  old angles: at c = {budget1:g} it reaches {statistics.fmean(pair_acc['replay']):.3f} against SGD's
  {statistics.fmean(pair_acc['sgd']):.3f} ({'worse on every seed' if min(sgd_minus_replay) > 0 else
  'not worse on every seed'}).
- Sharing capacity among {scenario.n_tasks} tasks at load {scenario.load:g}: the adaptive scheduler, which fits
  L(s) = a·s^(−b) + c online, completes **{comparison.summary['adaptive'][0]:.3f}** of the tasks against FCFS
  {comparison.summary['fcfs'][0]:.3f} and proportional {comparison.summary['proportional'][0]:.3f} (mean of
  {len(sched_seeds)} task sets; ahead of or equal to FCFS on {sum(d >= 0 for d in ad_fcfs)} of {len(ad_fcfs)}); the
  oracle's {comparison.summary['oracle'][0]:.3f} bounds what knowing the curves is worth.
'''
display(Markdown(takeaways))
""")

record(r"""
runtime_s = effdl.record("stream.runtime_s", time.perf_counter() - START)
""")

md(r"""
## Discussion questions

1. Mean accuracy over the stream rewards learning early; final accuracy does not. For a deployed model that
   serves predictions all along the stream, which one matters, and how would the budget comparison change?
2. Replay lost to SGD here because the drift was a steady rotation. Give a stream (recurring seasons, say) where
   a uniform reservoir would win, and a buffer policy that would do well on both.
3. Throughput counts samples trained on, not their usefulness. When could a lower throughput (training twice on
   selected samples) give higher accuracy at the same compute?
4. The adaptive scheduler abandons tasks it predicts cannot finish. What does a wrong early fit cost, and how
   would you make the abandonment rule safer for tasks that matter more than others?
""")

md(r"""
## Further reading

- [Ghunaim et al., *Real-Time Evaluation in Online Continual Learning: A New Hope*, CVPR
  2023](https://arxiv.org/abs/2302.01047) — a stream that does not wait for the learner; under this evaluation
  simple, cheap learners beat costly continual-learning methods.
- [Prabhu et al., *Computationally Budgeted Continual Learning: What Does Matter?*, CVPR
  2023](https://arxiv.org/abs/2303.11165) — continual learning with a fixed compute budget per time step:
  sampling and distillation strategies compared at equal compute.
- [Hammoud et al., *Rapid Adaptation in Online Continual Learning: Are We Evaluating It Right?*, ICCV
  2023](https://arxiv.org/abs/2305.09275) — online accuracy can be gamed by label correlation; a near-future
  accuracy that measures adaptation.
- [Vitter, *Random Sampling with a Reservoir*, ACM Transactions on Mathematical Software 11(1),
  1985](https://doi.org/10.1145/3147.3165) — Algorithm R and faster reservoir algorithms.
""")

nb = new_notebook(cells=cells)
nb.metadata = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
nbformat.write(nb, OUT)
subprocess.run(["ruff", "format", "-q", OUT], check=True)
print(len(cells), "cells")
