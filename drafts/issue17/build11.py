"""Builds notebooks/11_stratified_models.ipynb (run from the repo root)."""

import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = sys.argv[1] if len(sys.argv) > 1 else "notebooks/11_stratified_models.ipynb"
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
# 11 · Laplacian regularized stratified models with a learned graph

**Learning objectives**
- write a **stratified model** — one parameter vector $\theta_k$ per stratum (sex × age bin, say) — with the Laplacian
  regularizer $\tfrac12 \operatorname{tr}(\Theta^\top L \Theta)$, and compute the graph Laplacian $L(W)$ from edge
  weights by hand;
- derive the **joint objective** that learns the graph $W$ with the models, its proximal step on $W$ (shift, then
  clip at 0) and the gradient of $-\lambda_1 \log\det(\mu I + L(W))$, and explain why that term stops $W$ from
  collapsing to the empty graph;
- compare separate models, one common model, a fixed-graph and a learned-graph Laplacian model **fairly** — every
  hyper-parameter chosen on a validation split, the mean and spread over seeds — on imbalanced synthetic strata;
- judge on real data (scikit-learn's diabetes patients) whether stratifying helps at all, and by how much compared
  with the noise of the split.

**Prerequisites** Chapter 00 (training and evaluation on held-out data, validation splits, means over seeds).
Chapter 05 helps (a regularizer added to a training loss, and its strength chosen on validation). Mathematics:
least squares and ridge regression, graph Laplacians (degrees, $L = D - W$, quadratic forms), convex functions and
the proximal gradient method, the log-determinant and its gradient $\nabla \log\det M = M^{-1}$.

A model per stratum adapts to every group but has little data where a group is small; one common model has all the
data but ignores the groups. Laplacian regularization sits between the two: neighbouring strata (adjacent age bins,
the two sexes at one age) are pulled towards each other along a graph. When that graph is wrong — two neighbours
that really differ — a fixed graph hurts the small strata most; learning the graph with the models lets the data
cut such an edge. The models here are linear, so every fit is a small convex problem in $\Theta$, and the
comparison runs over several seeds.

**Papers followed:** J. Tuck, S. Barratt, S. Boyd, *A Distributed Method for Fitting Laplacian Regularized
Stratified Models*, JMLR 2021 (stratified models and the Laplacian regularizer); Z. Cheng, J. Zhang, A. Agrawal,
S. Boyd, *Joint Graph Learning and Model Fitting in Laplacian Regularized Stratified Models*, 2023 (the learned
graph: the log-det term, the prior $W_0$ and an accelerated proximal gradient method); H. Li, Z. Lin, *Accelerated
Proximal Gradient Methods for Nonconvex Programming*, NeurIPS 2015 (the monotone APG the package implements). Links
under *Further reading*.
""")

code(r"""
QUICK = False  # True: a shorter λ₂ slider, for tests and a first look (the study itself is cheap either way)
SEED = 0
DATASET = "diabetes"  # section 5: scikit-learn's diabetes data (442 patients, ships with scikit-learn)
SEEDS = 3  # synthetic studies and diabetes splits with seeds SEED, SEED + 1, ...
AGE_BINS = 5  # diabetes: age-quantile bins per sex (2 * AGE_BINS strata)
LAM2_GRID = (1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)  # the slider's relative λ₂
NOISE = 1.0  # the synthetic targets' noise standard deviation: test MSE ≥ NOISE² for any model
""", tags=["parameters"])

code(r"""
if QUICK:
    LAM2_GRID = (1e-3, 0.01, 0.1, 1.0, 10.0, 100.0)

import statistics
import time

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import effdl
from effdl import exercises, viz, widgets
from effdl.learning import lrsm

START = time.perf_counter()
seeds = [SEED + i for i in range(SEEDS)]
print(f"effdl {effdl.__version__}, QUICK={QUICK}, seeds {seeds}")
""")

md(r"""
## 1 · One model per stratum, tied by a graph

Each sample $i$ has features $x_i \in \mathbb{R}^p$, a target $y_i$ and a **stratum** $s_i \in \{1, \dots, K\}$ (a
categorical feature such as sex × age bin). A stratified model predicts with the parameters of its stratum,
$\hat y_i = \tilde x_i^\top \theta_{s_i}$, where $\tilde x_i = (x_i, 1)$ appends an intercept and the rows of
$\Theta \in \mathbb{R}^{K \times (p+1)}$ are the $\theta_k$. It is fitted by minimizing

$$
F(\Theta) = \frac{1}{N} \sum_{i=1}^{N} \ell\big(\tilde x_i^\top \theta_{s_i}, y_i\big)
 + \frac{\gamma}{2} \sum_{k=1}^{K} \|\theta_k\|_2^2
 + \frac{1}{4} \sum_{i=1}^{K} \sum_{j=1}^{K} W_{ij} \, \|\theta_i - \theta_j\|_2^2 ,
$$

with $\ell(z, y) = (z - y)^2$ (squared loss) here, the data term a mean over all $N$ training samples (so stratum
$k$ weighs $n_k / N$), $\gamma$ a ridge weight (not applied to the intercept) and $W \in \mathbb{R}^{K \times K}$ a
symmetric, non-negative weight matrix with a zero diagonal: the **graph** over the strata. $W = 0$ gives $K$
separate ridge regressions; $W \to \infty$ on a connected graph forces one common model. With the degree matrix
$D = \operatorname{diag}(W \mathbf{1})$ and the **Laplacian** $L = D - W$, the last term is a quadratic form:

$$
\frac{1}{4} \sum_{i,j} W_{ij} \|\theta_i - \theta_j\|_2^2
 = \frac{1}{2} \sum_{e = (i, j)} w_e \|\theta_i - \theta_j\|_2^2
 = \frac{1}{2} \operatorname{tr}\big(\Theta^\top L \Theta\big),
$$

where the middle sum runs over the edges $e$ once, with weight $w_e = W_{ij} = W_{ji}$. The factor ¼ counts each
edge once (the double sum sees it twice) and gives the Laplacian term the gradient $L\Theta$.

The synthetic study makes the graph's job explicit: strata on a 2 × 10 grid (2 rows, 10 "age" bins), a candidate
graph linking each stratum to its grid neighbours with prior weight $W_0 = 1$, parameters that drift smoothly
along the bins **except at a break** between bins 4 and 5, where every parameter jumps (norm 3). Training sizes are
very unequal: about half the strata have 2–5 samples, the others 100–400. Validation and test sets hold 30 and 200
samples of every stratum, so small strata count as much as large ones. Below, the first seed's study: node labels are
training sizes, red crosses mark the two break edges, on which the uniform prior $W_0$ is wrong.
""")

code(r"""
study = lrsm.imbalanced_strata(seed=SEED, noise=NOISE)
sizes = dict(zip(study.keys, study.sizes.tolist(), strict=True))
prior = {(u, v): float(d.get("weight", 1.0)) for u, v, d in study.graph.edges(data=True)}
n_small = int(np.sum(study.sizes <= 5))
print(f"K = {len(study.keys)} strata, {len(prior)} candidate edges, p = {study.train.X.shape[1]} features")
print(f"training samples: {len(study.train):,} (strata with ≤ 5 samples: {n_small}); validation {len(study.val):,}; "
      f"test {len(study.test):,}")
viz.lrsm_graph(prior, keys=study.keys, sizes=sizes, highlight=study.break_edges,
               title=f"seed {SEED}: the candidate graph (W₀ = 1 everywhere), node label = training samples")
""")

record(r"""
effdl.record_many("lrsm", n_strata=len(study.keys), n_edges=len(prior), n_small=n_small, seeds=len(seeds))
""")

md(r"""
**Exercise 1 — the Laplacian.** Complete `my_laplacian(n_nodes, edges, w)`: for $K$ = `n_nodes` strata, edges as an
$(E, 2)$ integer array of pairs $(i, j)$ and their weights $w$ $(E,)$, return the $(K, K)$ matrix $L = D - W$.
The checker compares with `lrsm.laplacian` on three graphs (one with an isolated node and a zero-weight edge) and
confirms the identity above numerically.
""")

solution(r"""
def my_laplacian(n_nodes: int, edges: np.ndarray, w: np.ndarray) -> np.ndarray:
    # Return L = diag(W·1) − W, shape (n_nodes, n_nodes).
    ### BEGIN SOLUTION
    W = np.zeros((n_nodes, n_nodes))
    W[edges[:, 0], edges[:, 1]] = w
    W[edges[:, 1], edges[:, 0]] = w
    return np.diag(W.sum(axis=1)) - W
    ### END SOLUTION


exercises.check_laplacian(my_laplacian)
""", "11-ex1")

md(r"""
## 2 · Learning the graph

A fixed $W$ encodes a belief ("adjacent age bins are alike") that may be wrong on some edges. The learned-graph
model (Cheng, Zhang, Agrawal and Boyd) makes $W$ a variable, restricted to the candidate edges (symmetric, $\ge 0$,
zero diagonal), and minimizes jointly over $(\Theta, W)$:

$$
F(\Theta, W) = \frac{1}{N} \sum_{i} \ell\big(\tilde x_i^\top \theta_{s_i}, y_i\big)
 + \frac{\gamma}{2} \sum_{k} \|\theta_k\|_2^2 + \frac{1}{2} \operatorname{tr}\big(\Theta^\top L(W) \Theta\big)
 - \lambda_1 \log\det\big(\mu I + L(W)\big)
 + \lambda_2 \Big[ \frac{1 - \eta}{2} \|W - W_0\|_F^2 + \eta \|W\|_1 \Big].
$$

$W_0$ is the prior graph, $\lambda_2 > 0$ how strongly $W$ is held near it (with an $\ell_1$ share $\eta \in [0,
1]$), $\lambda_1 \ge 0$ the weight of the log-det term and $\mu > 0$ keeps $\mu I + L$ invertible. In the edge form
the package works in, both matrix norms count each edge twice: the prior is
$\lambda_2 \sum_e [(1-\eta)(w_e - w_{0,e})^2 + 2\eta\, w_e]$. The problem is convex in $\Theta$ for fixed $W$ and
convex in $W$ for fixed $\Theta$, but not jointly: the coupling $w_e \|\theta_i - \theta_j\|^2$ is not.

**Why the log-det term.** On its own, the Laplacian term only ever pushes weights **down** — its derivative in
$w_e$ is $\tfrac12\|\theta_i - \theta_j\|^2 \ge 0$ — so the data would cut every edge whose two strata differ at all,
and with $\eta > 0$ the $\ell_1$ term pulls towards the empty graph (separate models) as well. The log-det term
pushes **up**:

$$
\frac{\partial}{\partial w_e} \log\det\big(\mu I + L(W)\big)
 = \operatorname{tr}\Big( (\mu I + L)^{-1} \frac{\partial L}{\partial w_e} \Big)
 = (e_i - e_j)^\top (\mu I + L)^{-1} (e_i - e_j) = R_e > 0 ,
$$

since $\partial L / \partial w_e = (e_i - e_j)(e_i - e_j)^\top$ ($e_i$ the $i$-th unit vector). $R_e$ is the
**effective resistance** of edge $e$ in the graph grounded by $\mu$: large for an edge that the rest of the graph
cannot replace (cutting it would split the strata in two and send an eigenvalue of $\mu I + L$ down to $\mu$), small
for a redundant one. So $-\lambda_1 \log\det$ rewards **connectivity**: the learned graph stays connected unless the
data pay more than $\lambda_1 R_e$ per unit of weight, and it is the break edges, where
$\tfrac12\|\theta_i - \theta_j\|^2$ is large, that are given up first. $\lambda_2 > 0$ is required: without the
prior, an edge between two equal strata would gain $\lambda_1 \log w_e$ for free and grow without bound (the
objective is unbounded below).

**The proximal step on $W$.** The package minimizes $F$ by monotone accelerated proximal gradient (Li and Lin):
a gradient step on the smooth part $f$ (everything but the $\ell_1$ term and the constraint $w \ge 0$), then the
proximal operator of the rest, which for the edge weights is separable — shift, then clip at 0:

$$
w_e^{+} = \max\Big( v_e - 2\, t_e \lambda_2 \eta,\ 0 \Big), \qquad v_e = w_e - t_e \frac{\partial f}{\partial w_e},
$$

with $t_e$ the step of edge $e$. The package takes the step in a variable metric (a curvature estimate: the exact
$\Theta$-Hessian for the squared loss, the diagonal of the graph terms' $w$-Hessian), so $t_e = \alpha / D_e$, with
$\alpha$ found by backtracking; every iterate keeps the objective non-increasing (a plain proximal step replaces the
accelerated one whenever the latter would increase $F$). With $\eta = 0$, as in this chapter's study, the shift is
zero and a weight reaches exactly 0 through the clip alone.
""")

md(r"""
**Exercise 2 — the proximal step.** Complete `my_prox_w(v, step, lam2, eta)` for edge weights `v` $(E,)$ after the
gradient step: the prox of `step` × ($\lambda_2 \eta \|W\|_1 + \iota(W \ge 0)$), in the package's edge form.
""")

solution(r"""
def my_prox_w(v: np.ndarray, step: float, lam2: float, eta: float) -> np.ndarray:
    # Return the new edge weights (E,).
    ### BEGIN SOLUTION
    return np.maximum(v - 2.0 * step * lam2 * eta, 0.0)  # ‖W‖₁ counts each edge twice
    ### END SOLUTION


exercises.check_prox_w(my_prox_w)
""", "11-ex2")

md(r"""
**Exercise 3 — the log-det gradient.** Complete `my_logdet_grad(n_nodes, edges, w, mu)`: return
$\partial \log\det(\mu I + L(W)) / \partial w_e$ for every edge, $(E,)$. Use `lrsm.laplacian` (or your
`my_laplacian`) and one matrix inverse.
""")

solution(r"""
def my_logdet_grad(n_nodes: int, edges: np.ndarray, w: np.ndarray, mu: float) -> np.ndarray:
    # Return the effective resistances R_e, shape (E,).
    ### BEGIN SOLUTION
    inv = np.linalg.inv(mu * np.eye(n_nodes) + lrsm.laplacian(n_nodes, edges, w))
    i, j = edges[:, 0], edges[:, 1]
    return inv[i, i] + inv[j, j] - 2.0 * inv[i, j]
    ### END SOLUTION


exercises.check_logdet_gradient(my_logdet_grad)
""", "11-ex3")

md(r"""
## 3 · Imbalanced strata: separate, common, fixed graph, learned graph

Four variants of `lrsm.StratifiedModel`, fitted on the training split of each seed's study:
**separate** ($W = 0$), **common** (one pooled model), **fixed** ($W = s\,W_0$, the uniform graph scaled by a
Laplacian weight $s$) and **learned** ($W$ learned from the prior $s\,W_0$). `lrsm.select_variants` chooses every
hyper-parameter on the **validation** split: $\gamma$ for all four, $(\gamma, s)$ on a grid for the fixed graph,
then, keeping those, $(\lambda_1, \lambda_2)$ for the learned one (relative to $s$ and to the variance of $y$, with
$\mu = 0.1\,s$ and $\eta = 0$). The grid reaches $\lambda_2$ large enough to pin $W$ to $W_0$, so the fixed graph is
(nearly) one of the learned variant's candidates. The test split is only scored. The bars are means over the seeds
with their standard deviation; the dots are the seeds; the dashed line is the noise floor $\sigma^2$ that no model
can beat.
""")

code(r"""
studies, selections = {}, {}
losses = {v: [] for v in lrsm.VARIANTS}
for s in seeds:
    studies[s] = lrsm.imbalanced_strata(seed=s, noise=NOISE)
    selections[s] = lrsm.select_variants(studies[s].train, studies[s].val, studies[s].graph)
    for v, sel in selections[s].items():
        losses[v].append(sel.model.score(*studies[s].test))


def break_weight(s: int, variant: str = "learned") -> float:
    # mean W/s on the break edges (1 = the prior) of one seed's chosen model
    w, brk = lrsm.edge_weights(selections[s][variant].model), {frozenset(e) for e in studies[s].break_edges}
    return statistics.fmean(v for e, v in w.items() if frozenset(e) in brk) / selections[s][variant].params["scale"]


summary = {v: (statistics.fmean(x), statistics.stdev(x) if len(x) > 1 else 0.0) for v, x in losses.items()}
breaks = [break_weight(s) for s in seeds]
margins = [f - lr for f, lr in zip(losses["fixed"], losses["learned"], strict=True)]
viz.lrsm_variants(losses, floor=NOISE**2, ylabel="test MSE",
                  title=f"imbalanced strata: test MSE over {len(seeds)} seed(s), every choice on validation")
""")

code(r"""
def ms(v: str) -> str:
    return f"{summary[v][0]:.3f} ± {summary[v][1]:.3f}"


display(Markdown(
    f"Test MSE, mean ± standard deviation over {len(seeds)} seeds (noise floor {NOISE**2:g}): learned graph "
    f"**{ms('learned')}**, fixed uniform graph **{ms('fixed')}**, common model {ms('common')}, separate models "
    f"{ms('separate')}. The learned graph beats the fixed one on {sum(m > 0 for m in margins)} of {len(seeds)} "
    f"seeds (fixed − learned: "
    f"{', '.join(f'{m:.3f}' for m in margins)}) and is within {summary['learned'][0] - NOISE**2:.3f} of the floor. "
    f"Mean learned weight of the break edges (1 = the prior): {', '.join(f'{b:.2f}' for b in breaks)} seed by seed."
))
pd.DataFrame({s: {v: round(losses[v][i], 3) for v in lrsm.VARIANTS} for i, s in enumerate(seeds)}).rename_axis(
    "test MSE by seed")
""")

record(r"""
effdl.record_many("lrsm.study", **{f"{v}_mean": m for v, (m, _) in summary.items()})
effdl.record_many("lrsm.study", **{f"{v}_std": sd for v, (_, sd) in summary.items()})
effdl.record_many("lrsm.study", margin_min=min(margins), learned_max=max(losses["learned"]))
effdl.record_many("lrsm.study", break_weight=statistics.fmean(breaks), break_cut=sum(b == 0 for b in breaks))
""")

md(r"""
**The learned graph.** The first seed's learned $W$, divided by the scale $s$ so that 1 is the prior: edge width
and colour give the weight, a dotted grey edge was cut to exactly 0, red crosses mark the true breaks. Compare with
the uniform graph above: which edges does the learned graph keep or strengthen — the ones inside each smooth
segment, which the small strata lean on? — and which does it give up?
""")

code(r"""
learned = selections[SEED]["learned"]
w_learned = {e: w / learned.params["scale"] for e, w in lrsm.edge_weights(learned.model).items()}
cut = [e for e, w in w_learned.items() if w == 0]
print(f"seed {SEED}: chosen {{γ, s, λ₁, λ₂}} = {{{learned.params['reg']:g}, {learned.params['scale']:g}, "
      f"{learned.params['lam1']:g}, {learned.params['lam2']:g}}} (relative); edges cut to 0: {cut}")
viz.lrsm_graph(w_learned, keys=study.keys, sizes=sizes, highlight=study.break_edges,
               title=f"seed {SEED}: learned W / s (1 = prior), node label = training samples")
""")

md(r"""
**The solver's objective.** MAPG is monotone by construction: an accelerated step is accepted only if it does not
increase $F$, otherwise a plain proximal step (which satisfies a sufficient-decrease condition) is taken. Below, the
objective per iteration of the first seed's learned and fixed fits, and the largest increase between consecutive
iterates over **every** learned and fixed fit of the study.
""")

code(r"""
hist = {"learned graph": learned.model.history_, "fixed graph": selections[SEED]["fixed"].model.history_}
fits = [selections[s][v].model for s in seeds for v in ("fixed", "learned")]
max_increase = max(float(np.max(np.diff(m.history_))) if len(m.history_) > 1 else 0.0 for m in fits)
rel_increase = max(
    float(np.max(np.diff(m.history_)) / max(abs(m.history_[0]), 1.0)) if len(m.history_) > 1 else 0.0 for m in fits
)
print(f"largest F(x_k+1) − F(x_k) over {len(fits)} fits: {max_increase:+.2e} (relative {rel_increase:+.1e}); "
      f"iterations of the learned fit: {learned.model.n_iter_}, converged: {learned.model.converged_}")
viz.lrsm_history(hist, title=f"seed {SEED}: objective per MAPG iteration")
""")

record(r"""
effdl.record_many("lrsm.history", max_increase=max_increase, rel_increase=rel_increase)
effdl.record_many("lrsm.history", n_iter=learned.model.n_iter_, converged=bool(learned.model.converged_))
""")

md(r"""
## 4 · How strongly to trust the prior: a λ₂ slider

$\lambda_2$ sets how far $W$ may move from $W_0$. Small $\lambda_2$: the data and the log-det term shape the graph
freely; large $\lambda_2$: $W$ is pinned to $W_0$ and the model becomes the fixed-graph one. Below, the first seed's
learned variant refitted at every $\lambda_2$ of the grid (relative, like the selection's; $\gamma$, $s$, $\lambda_1$
as chosen above). Every position was fitted and scored once when the explorer was built; a move only redraws the
graph and moves the marker on the loss curves.
""")

code(r"""
sweep = {b: lrsm.make_variant("learned", study.graph, **{**learned.params, "lam2": b}).fit(*study.train)
         for b in LAM2_GRID}
explorer = widgets.graph_explorer(sweep, study.val, study.test, scale=learned.params["scale"],
                                  highlight=study.break_edges, sizes=sizes)
explorer
""")

record(r"""
effdl.record_many("lrsm.sweep", points=len(LAM2_GRID), break_at_max=explorer.table[max(LAM2_GRID)][2])
effdl.record_many("lrsm.sweep", break_at_min=explorer.table[min(LAM2_GRID)][2])
""")

md(r"""
**Try it — choose λ₂.** Move the slider and read the readout: at which $\lambda_2$ is the **validation** loss
lowest? Give the value as the slider shows it. Then look at the break edges there, and at the largest $\lambda_2$.
""")

solution(r"""
answer = None  # a λ₂ from the slider, e.g. 0.1
### BEGIN SOLUTION
answer = min(explorer.table, key=lambda b: explorer.table[b][0])
### END SOLUTION
exercises.check_lrsm_lam2(answer, explorer)
""", "11-try-lam2")

md(r"""
## 5 · A real example: diabetes by sex × age bin

scikit-learn's diabetes data: 442 patients, eight standardized measurements (BMI, blood pressure, six blood serum
values) and a quantitative measure of disease progression one year later. We stratify by sex × age bin (age
quantiles, `AGE_BINS` bins: $K$ = 2 × `AGE_BINS` strata) on the graph sex edge × age path with $W_0 = 1$, and
split every stratum 60 / 20 / 20 into train / validation / test, for `SEEDS` split seeds. Every variant is chosen
on validation exactly as in section 3. Unlike the synthetic study, nothing here promises that the strata differ.
""")

code(r"""
Xd, yd, sd, gd = lrsm.diabetes_strata(AGE_BINS)
diab, diab_sel = {}, {}
for s in seeds:
    tr, va, te = lrsm.split_strata(Xd, yd, sd, seed=s)
    diab_sel[s] = lrsm.select_variants(tr, va, gd)
    diab[s] = {v: sel.model.score(*te) for v, sel in diab_sel[s].items()}
d_mean = {v: statistics.fmean(diab[s][v] for s in seeds) for v in lrsm.VARIANTS}
d_std = {v: statistics.stdev([diab[s][v] for s in seeds]) if len(seeds) > 1 else 0.0 for v in lrsm.VARIANTS}
rel = [(diab[s]["learned"] - diab[s]["common"]) / diab[s]["common"] for s in seeds]
pinned = [diab_sel[s]["learned"].params["lam2"] for s in seeds]
same = max(abs(diab[s]["learned"] - diab[s]["fixed"]) / diab[s]["fixed"] for s in seeds)
n_train = pd.Series([str(k) for k in tr.strata]).value_counts()  # the last split's training patients per stratum
table = pd.DataFrame(diab).T.round(1)
table.index.name = "split seed"
table.loc["mean"] = [round(d_mean[v], 1) for v in table.columns]
table.loc["std"] = [round(d_std[v], 1) for v in table.columns]
table
""")

code(r"""
sizes_d = {k: int(sum(1 for x in sd if x == k)) for k in sorted(set(sd))}
display(Markdown(
    f"Test MSE, mean ± std over {len(seeds)} splits: learned graph **{d_mean['learned']:.0f} ± "
    f"{d_std['learned']:.0f}**, fixed graph {d_mean['fixed']:.0f} ± {d_std['fixed']:.0f}, common model "
    f"**{d_mean['common']:.0f} ± {d_std['common']:.0f}**, separate models {d_mean['separate']:.0f} ± "
    f"{d_std['separate']:.0f}. The stratified model's margin over the common one is "
    f"{', '.join(f'{100 * r:+.1f}%' for r in rel)} split by split (mean {100 * statistics.fmean(rel):+.1f}%), "
    f"while the split itself moves the common model's test MSE by ± {d_std['common']:.0f} "
    f"({100 * d_std['common'] / d_mean['common']:.0f}%): the gain is small against the split noise. Separate "
    f"models lose {100 * (d_mean['separate'] / d_mean['common'] - 1):+.0f}% against the common one: "
    f"{n_train.min()}–{n_train.max()} training patients per stratum are few for nine parameters each. Validation "
    f"chose relative λ₂ = {', '.join(f'{b:g}' for b in pinned)} (the grid's largest is "
    f"{max(lrsm.DEFAULT_GRIDS['lam2']):g}, which pins W to W₀); the learned and fixed models' test MSE differ by at "
    f"most {100 * same:.2f}%."
))
""")

record(r"""
effdl.record_many("lrsm.diabetes", **{f"{v}_mean": m for v, m in d_mean.items()})
effdl.record_many("lrsm.diabetes", rel_mean=statistics.fmean(rel), rel_max=max(rel), splits=len(seeds))
effdl.record_many("lrsm.diabetes", common_std=d_std["common"], lam2_min=min(pinned))
""")

code(r"""
dl = diab_sel[SEED]["learned"]
viz.lrsm_graph({e: w / dl.params["scale"] for e, w in lrsm.edge_weights(dl.model).items()}, keys=sorted(sizes_d),
               sizes=sizes_d, title=f"diabetes, split {SEED}: learned W / s (rows: sex 1, 2; columns: age bins); "
               "node label = patients")
""")

md(r"""
## Exercises

**Exercise 4 — who gains from the graph?** For the first seed's study, compute the test MSE **per stratum** of the
separate, fixed and learned models, and average it over the small strata (≤ 5 training samples) and over the
large ones. Where does the Laplacian regularizer help, and where does learning the graph add to it?
""")

solution(r"""
### BEGIN SOLUTION
keys_test = np.array([study.keys.index(k) for k in study.test.strata])
per = {}
for v in ("separate", "fixed", "learned"):
    err = (selections[SEED][v].model.predict(study.test.X, study.test.strata) - study.test.y) ** 2
    per[v] = np.array([err[keys_test == k].mean() for k in range(len(study.keys))])
small = study.sizes <= 5
rows = {v: (per[v][small].mean(), per[v][~small].mean()) for v in per}
gain = [rows["fixed"][i] - rows["learned"][i] for i in (0, 1)]
display(Markdown(
    f"**Model answer.** Mean per-stratum test MSE, small strata ({small.sum()}) / large strata ({(~small).sum()}): "
    + "; ".join(f"{v} {a:.2f} / {b:.2f}" for v, (a, b) in rows.items())
    + ". The large strata are near the noise floor whatever the graph: they have the data. The small strata are "
    "where separate models fail (a few samples for five parameters) and where the graph lends them their "
    "neighbours' data; a fixed uniform graph also lends them the wrong neighbours across the break. Learned "
    f"against fixed: {gain[0]:+.3f} on the small strata, {gain[1]:+.3f} on the large ones (positive = learned "
    "better) — learning the graph matters where a stratum has to borrow."
))
### END SOLUTION
""", "11-ex4")

md(r"""
**Exercise 5 — a looser prior on diabetes.** Validation pinned $W$ to $W_0$ on the diabetes data. Refit the
learned variant of split `SEED` with a loose prior (relative $\lambda_2$ = 0.01, the rest as chosen) and report its
validation and test MSE and how far $W / s$ moves from 1. What does that say about the strata of this data set?
""")

solution(r"""
### BEGIN SOLUTION
tr, va, te = lrsm.split_strata(Xd, yd, sd, seed=SEED)
loose = lrsm.make_variant("learned", gd, **{**dl.params, "lam2": 0.01}).fit(*tr)
moved = np.array(list(lrsm.edge_weights(loose).values())) / dl.params["scale"]
display(Markdown(
    f"**Model answer.** With λ₂ = 0.01: validation MSE {loose.score(*va):.0f} (chosen: {dl.val_loss:.0f}), test "
    f"{loose.score(*te):.0f} (chosen: {diab[SEED]['learned']:.0f}); W / s now ranges {moved.min():.2f}–"
    f"{moved.max():.2f}. "
    + ("The looser graph is worse on validation: a free W follows the training split's noise, so the prior wins. "
       if loose.score(*va) > dl.val_loss else "The looser graph is not worse on validation here. ")
    + "The strata of this data set barely differ in how the measurements predict progression — the common model "
    "is almost as good — so the graph has little to discover."
))
### END SOLUTION
""", "11-ex5")

md(r"""
## Takeaways
""")

code(r"""
takeaways = f'''
- A stratified model with the Laplacian term ½ tr(ΘᵀLΘ) sits between separate models (W = 0) and one common model
  (W → ∞): on the imbalanced synthetic strata the fixed uniform graph reaches test MSE {summary['fixed'][0]:.3f}
  against {summary['separate'][0]:.2f} (separate) and {summary['common'][0]:.2f} (common), noise floor {NOISE**2:g}.
- Learning the graph with −λ₁ log det(μI + L) and the W₀ prior lowers it to **{summary['learned'][0]:.3f} ±
  {summary['learned'][1]:.3f}** (mean of {len(seeds)} seeds; fixed {summary['fixed'][0]:.3f} ±
  {summary['fixed'][1]:.3f}), better on {sum(m > 0 for m in margins)} of {len(seeds)} seeds; the break edges' learned weight averages
  {statistics.fmean(breaks):.2f} of the prior ({sum(b == 0 for b in breaks)} of {len(seeds)} seeds cut them to exactly 0).
- The log-det term pushes every weight up by λ₁ times its effective resistance, so the graph stays connected where
  the data agree; the proximal step on W is a shift and a clip at 0. The largest change of the solver's objective
  between consecutive iterates, over all {len(fits)} graph fits, was {max_increase:+.1e}
  ({"never an increase" if max_increase <= 0 else "an increase at rounding level"}).
- λ₂ moves the model from a free graph to the fixed one: at the slider's largest λ₂ the break edges are back at
  {explorer.table[max(LAM2_GRID)][2]:.2f} of the prior and the validation loss is
  {explorer.table[max(LAM2_GRID)][0]:.3f} against {min(t[0] for t in explorer.table.values()):.3f} at the best λ₂.
- Diabetes by sex × age bin: the stratified model's test MSE is {d_mean['learned']:.0f} against the common model's
  {d_mean['common']:.0f} ({100 * statistics.fmean(rel):+.1f}%, split by split
  {', '.join(f'{100 * r:+.1f}%' for r in rel)}): {"never worse" if max(rel) <= 0 else "not better on every split"},
  but far inside the split-to-split spread of ± {d_std['common']:.0f}; validation chose relative λ₂ =
  {', '.join(f'{b:g}' for b in pinned)} (largest on the grid: {max(lrsm.DEFAULT_GRIDS['lam2']):g}, which pins W to W₀),
  and the learned model's test MSE is within {100 * same:.2f}% of the fixed graph's.
'''
display(Markdown(takeaways))
""")

record(r"""
runtime_s = effdl.record("lrsm.runtime_s", time.perf_counter() - START)
""")

md(r"""
## Discussion questions

1. The synthetic study weighs every stratum equally at test time, while training weighs stratum $k$ by $n_k / N$.
   Which of the two matches a question you would ask of a medical model, and how would the comparison change if
   the test set followed the training sizes?
2. On diabetes the stratified model beat the common one on every split, yet by less than the split-to-split spread.
   How would you decide whether to deploy it? What would you measure with more patients?
3. Learning $W$ adds $\lambda_1$, $\lambda_2$, $\mu$, $\eta$ to tune. When is a learned graph worth that extra
   validation search, and when is a fixed graph with one scale $s$ the better engineering choice?
4. The joint objective is not convex. What could go wrong with a different starting graph than $W_0$, and how would
   you check that the solver's answer does not depend on it?
""")

md(r"""
## Further reading

- [Tuck, Barratt and Boyd, *A Distributed Method for Fitting Laplacian Regularized Stratified Models*, JMLR
  2021](https://arxiv.org/abs/1904.12017) — stratified models, the Laplacian regularizer and an ADMM that scales
  to many strata; its examples show how to build graphs over strata.
- [Cheng, Zhang, Agrawal and Boyd, *Joint Graph Learning and Model Fitting in Laplacian Regularized Stratified
  Models*, 2023](https://arxiv.org/abs/2305.02573) — the learned graph: why fixed weights are fragile under
  imbalance, the log-det and prior terms, and the convergence of the proximal method.
- [Li and Lin, *Accelerated Proximal Gradient Methods for Nonconvex Programming*, NeurIPS
  2015](http://papers.nips.cc/paper/5728-accelerated-proximal-gradient-methods-for-nonconvex-programming) — the
  monotone APG behind `lrsm.StratifiedModel`: how a momentum method keeps the objective non-increasing.
- [scikit-learn, `load_diabetes`](https://scikit-learn.org/stable/modules/generated/sklearn.datasets.load_diabetes.html)
  — the diabetes data of section 5 and its ten baseline variables.
""")

nb = new_notebook(cells=cells)
nb.metadata = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
nbformat.write(nb, OUT)
subprocess.run(["ruff", "format", "-q", OUT], check=True)
print(len(cells), "cells")
