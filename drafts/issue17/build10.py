"""Builds notebooks/10_random_smoothing.ipynb (run from the repo root)."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

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
# 10 · Random smoothing in kernel gradient descent

**Learning objectives**
- derive the **smoothed kernel** $K_S(x, x') = \mathbb{E}\,K(x + \varepsilon, x' + \varepsilon')$ that input noise
  induces, in closed form for Gaussian noise and through the spectrum for Laplace and polynomial noise, and verify it
  against a Monte-Carlo estimate;
- write kernel gradient descent as an update of the coefficients $\alpha$, solve it exactly in the eigenbasis, and
  choose its stopping step or its weight decay on a **validation split**;
- measure the excess risk against the number of training points on log-log axes, fit the slope, and compare it with
  the minimax rate $n^{-2m/(2m+d)}$;
- explain, and measure, why that rate depends on the data's **intrinsic** dimension $d$ and not on the ambient
  dimension $D$;
- relate training on noisy copies of the data (data augmentation) to the smoothed kernel, and measure how fast the
  two agree as the number of copies grows.

**Prerequisites** Chapter 00 (training against evaluating a model, and every choice made on a validation split,
never on test). Chapter 05 helps (a regularizer added to the training loss, its strength chosen on validation).
Mathematics: kernels and the basics of reproducing-kernel Hilbert spaces, the Fourier transform and characteristic
functions, eigen-decompositions of symmetric matrices, power laws and slopes on log-log axes.

Adding random noise to the inputs while training is one of the oldest regularizers. For kernel methods it has an exact
description: training on noisy inputs is training with a new kernel, the old one convolved with the noise. This
chapter builds that kernel, trains with it by gradient descent on synthetic targets of known smoothness, and measures
the learning rates the theory predicts. Everything runs on simulated data, so the excess risk is known exactly.

**Papers followed:** L. Ding, T. Hu, J. Jiang, D. Li, W. Wang, Y. Yao, *Random Smoothing Regularization in Kernel
Gradient Descent Learning*, arXiv:2305.03531 (the smoothed kernels, Gaussian, Laplace and polynomial noise, early
stopping and weight decay, rates set by the intrinsic dimension); G. Raskutti, M. J. Wainwright, B. Yu, *Early
stopping and non-parametric regression: an optimal data-dependent stopping rule*, JMLR 2014 (early-stopped kernel
gradient descent and its link to kernel ridge regression). Links under *Further reading*.
""")

code(r"""
QUICK = False  # True: two smaller rate studies and fewer noisy copies, for tests and a first look
SEED = 0
DATASET = "sobolev"  # simulated targets of known smoothness (random cosine series); nothing is loaded
KERNEL_H = 0.05  # bandwidth of the base Gaussian kernel: narrow, so the noise sets the smoothness
NOISE_SDS = (0.1, 0.2, 0.4)  # Gaussian input-noise levels, chosen on validation for every n and repetition
SETTINGS = ((1, 1), (2, 1), (2, 2))  # (smoothness m, intrinsic dimension d) of the rate studies
NS = (100, 200, 400, 800, 1600)  # training sizes of every rate study
REPS = 8  # repetitions per n, fresh data each
N_TEST = 2000  # clean test points (the excess risk is measured against the noiseless target)
AMBIENT_D = 10  # ambient dimension of the curved surface of section 5
PIC_SD = 0.07  # noise standard deviation of the pictures in section 1 (every noise at this variance)
MC_SAMPLES = 200_000  # Monte-Carlo draws per smoothed Gram matrix
N_PATH = 400  # training (and validation) points of the regularization paths in section 2
SWEEP_SDS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)  # the explorer's noise scales (section 3)
COPIES = (1, 4, 16, 64)  # noisy copies per point in section 6
""", tags=["parameters"])

code(r"""
if QUICK:
    SETTINGS, NS, REPS, N_TEST = ((1, 1), (2, 2)), (100, 200, 400, 800), 4, 1000
    COPIES = (1, 4, 16)  # the Monte-Carlo check keeps its 200,000 draws: it costs a few seconds

import time

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import effdl
from effdl import exercises, viz, widgets
from effdl.learning import smoothing

assert DATASET == "sobolev", "this chapter simulates its data: Sobolev targets of known smoothness"
START = time.perf_counter()
effdl.seed_everything(SEED)
noise_grid = [smoothing.GaussianNoise(s) for s in NOISE_SDS]
base = smoothing.GaussianKernel(KERNEL_H)
print(f"effdl {effdl.__version__}, QUICK={QUICK}, SEED={SEED}")
""")

md(r"""
## 1 · Noise as a kernel

A kernel $K$ measures how alike two inputs are; a kernel model predicts $f(x) = \sum_i \alpha_i K(x, x_i)$. Perturb
every input by independent noise — $x + \varepsilon$ and $x' + \varepsilon'$ with $\varepsilon, \varepsilon'$ iid
— and average: the model now sees the **smoothed kernel**

$$
K_S(x, x') = \mathbb{E}_{\varepsilon, \varepsilon'}\, K(x + \varepsilon,\ x' + \varepsilon') .
$$

For a translation-invariant kernel $K(x, x') = k(x - x')$ this is $k$ convolved with the law of $\varepsilon -
\varepsilon'$. Convolution is a product in the Fourier domain: with $\hat k(\omega)$ the kernel's spectral density
(its Fourier transform) and $\varphi_\varepsilon(\omega) = \mathbb{E}\, e^{i \omega \varepsilon}$ the noise's
characteristic function, per coordinate

$$
K_S(t) = \frac{1}{2\pi} \int \hat k(\omega)\, \big|\varphi_\varepsilon(\omega)\big|^2\, e^{i \omega t}\, d\omega ,
\qquad t = x - x' ,
$$

so smoothing **multiplies the kernel's spectrum by** $|\varphi_\varepsilon(\omega)|^2$: high frequencies are damped,
more so the wider the noise. The base kernel here is Gaussian, $K(x, x') = \exp(-\lVert x - x'\rVert^2 / 2h^2)$ with
bandwidth $h$, $\hat k(\omega) = h\sqrt{2\pi}\, e^{-h^2 \omega^2 / 2}$ per coordinate. Three noises, iid over the
$D$ coordinates:

- **Gaussian** $N(0, \sigma^2)$: $\varphi(\omega) = e^{-\sigma^2 \omega^2 / 2}$; the integral is again a Gaussian,
  $$
  K_S(x, x') = \Big(\frac{h^2}{h^2 + 2\sigma^2}\Big)^{D/2} \exp\Big(-\frac{\lVert x - x' \rVert^2}{2\,(h^2 + 2\sigma^2)}\Big) ,
  $$
  a wider bandwidth $h^2 + 2\sigma^2$ (both arguments carry noise) and a smaller height;
- **Laplace** with scale $b$: $\varphi(\omega) = 1/(1 + b^2\omega^2)$;
- **polynomial** of order $p$ and scale $s$ (a symmetric variance-gamma law, $p = 1$ is Laplace):
  $\varphi(\omega) = (1 + s^2 \omega^2)^{-p}$, so $|\varphi|^2$ decays like $|\omega|^{-4p}$ — the spectrum of a
  Matérn kernel, whose RKHS is a Sobolev space: polynomial noise turns a narrow Gaussian kernel into a kernel of
  finite smoothness.

`smoothing.smoothed_kernel` uses the closed form for Gaussian noise and the spectral integral (Gauss–Legendre
quadrature, a product over coordinates) for the other two. Below, the three noises at the **same variance**
(standard deviation `PIC_SD` per coordinate) smooth a Gaussian kernel of bandwidth 0.1.
""")

code(r"""
pic_kernel = smoothing.GaussianKernel(0.1)
noises = {f: smoothing.matched_noise(f, PIC_SD) for f in smoothing.FAMILIES}  # polynomial: order p = 2
t = np.linspace(-0.5, 0.5, 401)
omega = np.geomspace(1.0, 300.0, 300)
profiles = {f: smoothing.smoothed_profile(pic_kernel, z, t) for f, z in noises.items()}
damping = {f: z.cf(omega) ** 2 for f, z in noises.items()}  # |φ(ω)|², what smoothing multiplies the spectrum by
s2 = 0.1**2 + 2 * PIC_SD**2  # the Gaussian closed form against the quadrature, in 1-D
closed_err = float(np.abs(np.sqrt(0.1**2 / s2) * np.exp(-(t**2) / (2 * s2)) - profiles["gaussian"]).max())
print("noises:", ", ".join(f"{z}" for z in noises.values()))
print("K_S(0) per coordinate: " + ", ".join(f"{f} {p[200]:.3f}" for f, p in profiles.items()))
print(f"Gaussian closed form against the spectral quadrature: max difference {closed_err:.1e}")
k_hat = pic_kernel.spectral_density(omega) / pic_kernel.spectral_density(np.zeros(1))  # k̂(ω)/k̂(0), dashed
viz.smoothed_kernels(t, pic_kernel.profile(t), profiles, omega, k_hat, damping, spectrum_title="|φ(ω)|² and k̂(ω)/k̂(0)",
                     title=f"a Gaussian kernel (h = 0.1) smoothed by three noises of standard deviation {PIC_SD}")  # fmt: skip
""")

md(r"""
At equal variance the three smoothed kernels look alike near the peak (left); they differ in the **tails of the
damping** $|\varphi_\varepsilon(\omega)|^2$ (right, log-log): Gaussian noise cuts high frequencies off like
$e^{-\sigma^2\omega^2}$, Laplace and polynomial noise only by a power, $|\omega|^{-4}$ and $|\omega|^{-8}$ beyond
$\omega \approx 1/\text{scale}$. The smoothed spectrum is the product of that damping with the base kernel's own
(dashed, normalized; its Gaussian cut-off sits near $\omega \approx 1/h$). With a base kernel narrower than the noise
— this chapter's $h$ = `KERNEL_H` = 0.05 — the noise's tail decides the smoothness of the kernel over a wide band
of frequencies, and with it which functions the kernel learns easily.

**Is the formula right?** The definition is an expectation, so a Monte-Carlo average over many draws of
$(\varepsilon, \varepsilon')$ must agree with it. On a 7×7 grid of points in 2-D against two anchor points:
""")

code(r"""
g = np.linspace(-0.12, 0.12, 7)
grid_pts = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)  # 49 points in D = 2
anchors = np.array([[0.0, 0.0], [0.03, -0.02]])
exact = {f: smoothing.smoothed_kernel(grid_pts, anchors, pic_kernel, z) for f, z in noises.items()}
mc = {f: smoothing.smoothed_kernel_mc(grid_pts, anchors, pic_kernel, z, samples=MC_SAMPLES, seed=SEED)
      for f, z in noises.items()}  # fmt: skip
mc_err = {f: float(np.max(np.abs(mc[f] - exact[f]) / exact[f])) for f in noises}
print(f"{MC_SAMPLES:,} draws; K_S on the grid spans {min(e.min() for e in exact.values()):.3f} .. "
      f"{max(e.max() for e in exact.values()):.3f}")  # fmt: skip
print("largest relative error of Monte Carlo: " + ", ".join(f"{f} {100 * e:.2f}%" for f, e in mc_err.items()))
viz.mc_agreement(exact, mc, title="Monte-Carlo average of K(x + ε, x′ + ε′) against the exact K_S")
""")

record(r"""
effdl.record_many("smoothing.mc", **{f"max_rel_error_{f}": e for f, e in mc_err.items()})
effdl.record_many("smoothing.mc", samples=MC_SAMPLES, closed_form_vs_quadrature=closed_err)
effdl.record_many("smoothing.kernel", **{f"peak_{f}": float(p[200]) for f, p in profiles.items()})
""")

md(r"""
Every estimate lies within a Monte-Carlo standard error of the exact value (that error shrinks like
$1/\sqrt{\text{draws}}$), so the closed form and the spectral quadrature compute the expectation that defines
$K_S$.

**Exercise 1 — the Gaussian closed form.** Complete `my_gaussian_smoothed(X, Y, h, sigma)`: the Gram matrix
$K_S(X, Y)$ (shape $(n, m)$) of a Gaussian kernel of bandwidth $h$ under iid $N(0, \sigma^2)$ noise on every
coordinate of both arguments, for `X` of shape $(n, D)$ and `Y` of shape $(m, D)$. Use the formula above with numpy;
the checker compares with `smoothing.smoothed_kernel` for $D$ = 1, 2 and 5.
""")

solution(r"""
def my_gaussian_smoothed(X: np.ndarray, Y: np.ndarray, h: float, sigma: float) -> np.ndarray:
    # Return K_S(X, Y), shape (n, m).
    ### BEGIN SOLUTION
    s2 = h**2 + 2 * sigma**2  # ε − ε′ has variance 2σ² per coordinate
    d2 = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    return (h**2 / s2) ** (X.shape[1] / 2) * np.exp(-d2 / (2 * s2))
    ### END SOLUTION


exercises.check_gaussian_smoothed(my_gaussian_smoothed)
""", "10-ex1")

md(r"""
## 2 · Kernel gradient descent: early stopping and weight decay

With $n$ training pairs $(x_i, y_i)$ and the Gram matrix $K_{ij} = K_S(x_i, x_j)$, gradient descent with step
$\eta$ on the least-squares loss plus a weight decay $\lambda$ (an RKHS-norm penalty,
$\tfrac{1}{2n}\lVert K\alpha - y\rVert^2 + \tfrac{\lambda}{2}\alpha^\top K \alpha$, whose gradient in the RKHS acts on
$\alpha$ as below) updates the coefficients from $\alpha_0 = 0$ by

$$
\alpha \leftarrow \alpha - \eta \Big[ \frac{K\alpha - y}{n} + \lambda\, \alpha \Big] .
$$

Two ways to stop it from fitting the label noise: **early stopping** ($\lambda = 0$, stop after $t$ steps) or
**weight decay** (run to convergence, $\alpha_\lambda = (K + n\lambda I)^{-1} y$, kernel ridge regression). Both
are solved exactly in the eigenbasis $K = V \operatorname{diag}(\Lambda) V^\top$: with $b = V^\top y$ and
$\mu_i = \Lambda_i / n + \lambda$, every direction evolves on its own,

$$
(V^\top \alpha_t)_i = \frac{b_i}{n} \cdot \frac{1 - (1 - \eta \mu_i)^t}{\mu_i} ,
$$

so after one eigen-decomposition any step count is a closed-form evaluation. A direction is fitted once
$\eta\, t\, \Lambda_i / n \gtrsim 1$ — after $t$ steps, early stopping keeps the directions weight decay keeps at
$\lambda \approx 1/(\eta t)$: the two are two parametrizations of nearly the same path (Raskutti, Wainwright and Yu).
Here: a 1-D target of smoothness $m = 1$, `N_PATH` noisy training points and as many validation points, the
Gaussian kernel ($h$ = `KERNEL_H`) smoothed by Gaussian noise of the middle level of `NOISE_SDS`; the step
$\eta = n / \Lambda_{\max}$ and both choices are made on validation.
""")

code(r"""
path_target = smoothing.sobolev_target(1, 1, seed=SEED)  # unit L2 norm, label noise sd 0.5
rng = np.random.default_rng(SEED)
tr, va = path_target.sample(N_PATH, seed=rng), path_target.sample(N_PATH, seed=rng)
te = path_target.sample(N_TEST, seed=rng, noisy=False)  # clean: test error = excess risk
path_noise = noise_grid[len(noise_grid) // 2]
K, Kv, Kt = (smoothing.smoothed_kernel(A, tr.X, base, path_noise) for A in (tr.X, va.X, te.X))
spec = smoothing.KernelSpectrum.from_gram(K)
gd = smoothing.kernel_gd(K, tr.y, steps=10**12, K_val=Kv, y_val=va.y, spectrum=spec, keep_path=True)
wd = smoothing.kernel_weight_decay(K, tr.y, weight_decays=np.geomspace(1e-12, 1.0, 61), K_val=Kv, y_val=va.y,
                                   spectrum=spec, keep_path=True)  # fmt: skip
gd_test = ((Kt @ gd.alphas - te.f[:, None]) ** 2).mean(0)
wd_test = ((Kt @ wd.alphas - te.f[:, None]) ** 2).mean(0)
early_risk = float(gd_test[gd.grid == gd.chosen][0])
decay_risk = float(wd_test[wd.grid == wd.chosen][0])
oracle_risk = float(min(gd_test.min(), wd_test.min()))  # the best on either path, known only to us
loop = smoothing.kernel_gd(K, tr.y, steps=300, method="iterate", checkpoints=[300])  # the literal update
exact300 = smoothing.kernel_gd(K, tr.y, steps=300, spectrum=spec, checkpoints=[300])
loop_err = float(np.abs(loop.alpha - exact300.alpha).max() / np.abs(exact300.alpha).max())
print(f"{path_noise}; η = {gd.lr:.4g}; the literal loop and the eigen path after 300 steps differ by {loop_err:.1e}")
print(f"early stopping: step {gd.chosen:g} (λ ≈ 1/(ηt) = {1 / (gd.lr * gd.chosen):.2e}), test excess risk "
      f"{early_risk:.4f}")  # fmt: skip
print(f"weight decay:   λ = {wd.chosen:.2e}, test excess risk {decay_risk:.4f}; the best on either path {oracle_risk:.4f}")
viz.regularization_paths(gd, wd, early_test=gd_test, decay_test=wd_test,
                         title="validation and test error along both paths (markers: the validation choices)")  # fmt: skip
""")

record(r"""
effdl.record_many("smoothing.path", early_risk=early_risk, decay_risk=decay_risk, oracle_risk=oracle_risk)
effdl.record_many("smoothing.path", early_step=gd.chosen, early_lambda=1 / (gd.lr * gd.chosen), decay_lambda=wd.chosen)
effdl.record_many("smoothing.path", loop_vs_eigen=loop_err)
""")

md(r"""
The validation MSE (blue) includes the label noise's variance ($0.5^2 = 0.25$), the test error (red) is the excess
risk against the clean target; both paths trace the same U shape, first underfitting (large λ, few steps), then
fitting the noise. Validation picks a point near the bottom of the test curve without looking at it; how near is
the printed test risk of each choice against the best on either path (a number only this simulation can know).

**Exercise 2 — the update in code.** Complete `my_kernel_gd(K, y, lr, steps, weight_decay)`: run the update above
`steps` times from $\alpha = 0$ and return $\alpha$. The checker compares with the exact eigen path of
`smoothing.kernel_gd`, with and without weight decay.
""")

solution(r"""
def my_kernel_gd(K: np.ndarray, y: np.ndarray, lr: float, steps: int, weight_decay: float) -> np.ndarray:
    # Return alpha after `steps` gradient steps from alpha = 0.
    ### BEGIN SOLUTION
    n = len(y)
    alpha = np.zeros(n)
    for _ in range(steps):
        alpha = alpha - lr * ((K @ alpha - y) / n + weight_decay * alpha)
    return alpha
    ### END SOLUTION


exercises.check_kernel_gd(my_kernel_gd)
""", "10-ex2")

md(r"""
## 3 · Noise type, scale and dimension: an explorer

Which noise, and how much of it? The explorer fits the same 1-D data set (200 noisy training points, 1,000
validation points, a target of smoothness $m = 1$) with the kernel smoothed by each noise family at each standard
deviation of `SWEEP_SDS` (0 = the unsmoothed narrow kernel), the stopping step chosen on validation. Every setting was
fitted once when the widget was built; moving a control only redraws. The **dimension** dropdown shows the smoothed
kernel along one axis in $D$ dimensions: per-coordinate noise multiplies it by $K_{S,1}(0)^{D-1}$, so the height
$K_S(x, x) = K_{S,1}(0)^D$ shrinks exponentially with $D$ while the shape along the axis stays the same. (A constant
factor on the kernel only rescales gradient descent's clock — the step $\eta = n/\Lambda_{\max}$ absorbs it — so
the fit does not change with $D$; the curves are those of the 1-D data.)
""")

code(r"""
sweep = smoothing.noise_sweep(smoothing.sobolev_target(1, 1, seed=SEED), n=200, n_val=1000, n_test=N_TEST,
                              kernel=base, sds=SWEEP_SDS, dims=(1, 2, AMBIENT_D), seed=SEED)  # fmt: skip
explorer = widgets.noise_explorer(sweep)
explorer
""")

md(r"""
**Try it — the noise scale for Laplace noise.** Set the noise dropdown to *laplace* and move the scale slider: which
noise standard deviation gives the **lowest validation MSE** (the readout shows it)? Give the sd as the slider shows
it. Then compare its test excess risk with the unsmoothed kernel's (sd 0).
""")

solution(r"""
answer = None  # a noise sd, e.g. 0.05
### BEGIN SOLUTION
laplace = {sd: v[0] for (fam, sd), v in explorer.table.items() if fam == "laplace"}
answer = min(laplace, key=laplace.get)
### END SOLUTION
exercises.check_best_noise_scale(answer, explorer, "laplace")
""", "10-try-laplace")

code(r"""
rows = {f"{fam}, sd {sd:g}": {"validation MSE": v[0], "test excess risk": v[1], "stopping step": v[2]}
        for (fam, sd), v in sweep.table.items() if sd in (0.0, sweep.best(fam))}  # fmt: skip
best_gain = {fam: sweep.table[(fam, 0.0)][1] / sweep.table[(fam, sweep.best(fam))][1] for fam in sweep.families}
print("test risk of the unsmoothed kernel ÷ that of the validation-chosen noise: "
      + ", ".join(f"{fam} {g:.2f}×" for fam, g in best_gain.items()))  # fmt: skip
lap = [sweep.table[("laplace", sd)] for sd in sweep.sds]
wide = [sweep.table[("laplace", sd)][0] for sd in sweep.sds if sd >= 0.1]
display(Markdown(
    f"The stopping step grows with the noise (Laplace: step {lap[0][2]:g} at sd {sweep.sds[0]:g}, "
    f"{lap[-1][2]:g} at sd {sweep.sds[-1]:g}): a wider kernel damps high frequencies more, so gradient descent "
    "needs more steps to fit them, and early stopping partly compensates a noise that is too wide. Over sd ≥ 0.1 "
    f"the Laplace validation MSE only spans {min(wide):.4f} to {max(wide):.4f} (it includes the label noise's 0.25): "
    "read the stopping step beside it, and expect a different seed to pick a neighbouring scale."
))
pd.DataFrame(rows).T.round(4)
""")

record(r"""
effdl.record_many("smoothing.sweep", **{f"best_sd_{fam}": sweep.best(fam) for fam in sweep.families})
effdl.record_many("smoothing.sweep", **{f"gain_{fam}": g for fam, g in best_gain.items()})
effdl.record("smoothing.sweep.settings", len(sweep.table))
""")

md(r"""
## 4 · How fast the error falls: rates against n

A target of **Sobolev smoothness** $m$ on a $d$-dimensional domain (here a random cosine series whose coefficients
decay just fast enough to have $m$ square-integrable derivatives, scaled to unit norm) cannot be learned from $n$
noisy samples faster than the **minimax rate**

$$
\mathbb{E}\,\lVert \hat f - f \rVert_{L^2}^2 \;\asymp\; n^{-\frac{2m}{2m + d}} ,
$$

the balance of a squared bias $\kappa^{-2m}$ from ignoring frequencies above $\kappa$ against a variance
$\kappa^d / n$ from estimating the $\kappa^d$ coefficients below it. Ding et al. prove that gradient descent on the
smoothed kernel, stopped early or with weight decay, attains this rate (up to logarithms) when the noise level and
the stopping time are chosen well. On log-log axes the rate is a straight line of slope $-2m/(2m+d)$. Each study
below draws `REPS` fresh training sets per $n$ (plus as many validation points as half of $n$), chooses the noise
level in `NOISE_SDS` and the stopping step on validation, and measures the excess risk on `N_TEST` clean points; the
slope is the least-squares fit of $\log$ risk on $\log n$ through the geometric means.
""")

code(r"""
studies = {}
for m, d in SETTINGS:
    target = smoothing.sobolev_target(m, d, seed=SEED)
    studies[(m, d)] = smoothing.rate_study(target, NS, noise=noise_grid, kernel=base, reps=REPS, n_test=N_TEST,
                                           seed=SEED)  # fmt: skip
rate_rows = {
    f"m = {m}, d = {d}": {"theory": st.theory, "fitted slope": st.slope, "gap": st.gap,
                          "spread over repetitions (sd)": float(st.rep_slopes.std(ddof=1)), "seconds": st.seconds}
    for (m, d), st in studies.items()
}  # fmt: skip
viz.rate_curves({f"m = {m}, d = {d}": st for (m, d), st in studies.items()},
                title="test excess risk against n (dots: repetitions; dotted: the theory's slope)")  # fmt: skip
""")

code(r"""
pd.DataFrame(rate_rows).T.round(3)
""")

record(r"""
effdl.record_many("smoothing.rate", settings=len(studies), reps=REPS, n_max=max(NS), n_points=len(NS))
effdl.record_many("smoothing.rate", **{f"m{m}d{d}_slope": st.slope for (m, d), st in studies.items()})
effdl.record_many("smoothing.rate", **{f"m{m}d{d}_gap": st.gap for (m, d), st in studies.items()})
effdl.record_many("smoothing.rate", **{f"m{m}d{d}_theory": st.theory for (m, d), st in studies.items()})
effdl.record_many("smoothing.rate", **{f"m{m}d{d}_decreasing": bool(np.all(np.diff(st.mean_risk) < 0))
                                       for (m, d), st in studies.items()})  # fmt: skip
""")

code(r"""
worst = max(abs(st.gap) for st in studies.values())
se = max(st.rep_slopes.std(ddof=1) / np.sqrt(REPS) for st in studies.values())
sig = {k: [float(np.mean(np.take(NOISE_SDS, st.chosen_noise[i]))) for i in (0, -1)] for k, st in studies.items()}
display(Markdown(
    "Fitted slopes against the theory: "
    + "; ".join(f"$m = {m}, d = {d}$: **{st.slope:.2f}** against {st.theory:.2f}" for (m, d), st in studies.items())
    + f". The largest gap is {worst:.2f}, with {REPS} repetitions of {len(NS)} training sizes up to {max(NS):,}; one "
    f"repetition's slope alone scatters by up to ±{max(st.rep_slopes.std(ddof=1) for st in studies.values()):.2f} "
    f"(the spread column), so the fitted slope's standard error is about ±{se:.2f}. The noise level chosen on "
    "validation, mean σ at the smallest and the largest n: "
    + "; ".join(f"$m = {m}, d = {d}$: {a:.2f} → {b:.2f}" for (m, d), (a, b) in sig.items())
    + (" — less smoothing as the data grow, the adaptivity the theory asks of it." if all(b <= a for a, b in sig.values())
       else " — not smaller everywhere at the largest n in this run: the validation choice is noisy.")
))
""")

md(r"""
## 5 · Intrinsic dimension $d$, not ambient dimension $D$

Real inputs live in many coordinates but vary along few directions. Take the $d = 2$ target of section 4 and bend its
square onto a **curved 2-dimensional surface in** $\mathbb{R}^{10}$ (each latent coordinate rolled onto a circular
arc, then rotated into 10 dimensions by a random orthonormal map: an isometric embedding, so distances along the
surface are the square's). The target is the same function of the latent point. If the rate were set by the ambient
dimension, the slope would drop to $-2m/(2m + D) = -4/14 \approx -0.29$; the theory says it stays at
$-2m/(2m + d) = -4/6 \approx -0.67$, because the smoothed kernel only ever compares points that lie on the surface.
Two measurements: the first study draws **its own** training, validation and test points (another seed), an
independent measurement of the rate on the surface; the second bends **the square's own** latent points into
$\mathbb{R}^{10}$ (the same draws as section 4), so that its difference from the square isolates the change of
geometry from sampling noise (common random numbers). Two independent slope estimates differ by more than two paired
ones: each carries its own sampling noise.
""")

code(r"""
assert (2, 2) in studies, "SETTINGS must include (m, d) = (2, 2) for this section"
target10 = smoothing.sobolev_target(2, 2, D=AMBIENT_D, embedding="arc", seed=SEED)  # the same f, bent into R^10
kw = dict(noise=noise_grid, kernel=base, reps=REPS, n_test=N_TEST)
study10 = smoothing.rate_study(target10, NS, seed=SEED + 1000, **kw)  # its own points
paired10 = smoothing.rate_study(target10, NS, seed=SEED, **kw)  # the square's latent points, bent into R^10
flat = studies[(2, 2)]
ambient_rate = -2 * 2 / (2 * 2 + AMBIENT_D)
print(f"d = 2 in R^2: slope {flat.slope:.3f}; on a curved surface in R^{AMBIENT_D}: {study10.slope:.3f} (its own "
      f"points), {paired10.slope:.3f} (the square's points)")  # fmt: skip
print(f"theory with d = 2: {study10.theory:.3f}; what D = {AMBIENT_D} would give: {ambient_rate:.3f}")
viz.rate_curves({"d = 2 in R^2": flat, f"in R^{AMBIENT_D}, own points": study10,
                 f"in R^{AMBIENT_D}, the square's points": paired10},
                title=f"the same smoothness on a square and on a curved surface in R^{AMBIENT_D}")  # fmt: skip
""")

record(r"""
effdl.record_many("smoothing.ambient", dim=AMBIENT_D, slope=study10.slope, gap=study10.gap, theory_dim=ambient_rate)
effdl.record_many("smoothing.ambient", slope_vs_flat=study10.slope - flat.slope)
effdl.record_many("smoothing.ambient", paired_slope=paired10.slope, paired_vs_flat=paired10.slope - flat.slope)
effdl.record("smoothing.ambient.closer_to_d", abs(study10.gap) < abs(study10.slope - ambient_rate))
""")

md(r"""
**Exercise 3 — what the intrinsic dimension buys.** With $m = 2$ and the rate $n^{-2m/(2m+d)}$ at $d = 2$: by what
factor must the number of training points grow to **halve** the excess risk? (What would it be if the rate were
set by $D = 10$?) Give the factor for $d = 2$ as a number.
""")

solution(r"""
answer = None  # the factor on n
### BEGIN SOLUTION
r = 2 * 2 / (2 * 2 + 2)  # risk ∝ n^(−r); (c·n)^(−r) = n^(−r) / 2  ⇒  c = 2^(1/r)
answer = 2 ** (1 / r)
### END SOLUTION
exercises.check_halving_factor(answer, m=2, d=2, D=AMBIENT_D)
""", "10-ex3")

md(r"""
## 6 · The data-augmentation view

In practice one does not integrate over the noise: one trains on **noisy copies** of the data. With $M$ copies
$x_i + \varepsilon_{i1}, \dots, x_i + \varepsilon_{iM}$ of every point and the features averaged over the copies,
the Gram matrix is

$$
\hat G_{ij} = \frac{1}{M^2} \sum_{m, m' = 1}^{M} K\big(x_i + \varepsilon_{im},\ x_j + \varepsilon_{jm'}\big) ,
\qquad \mathbb{E}\, \hat G_{ij} = K_S(x_i, x_j) \quad (i \ne j) ,
$$

(on the diagonal the $M$ pairs $m = m'$ share their noise and add a bias of order $1/M$) and its spread shrinks like
$1/\sqrt{M}$. So kernel gradient descent on the augmented data converges to kernel gradient descent on $K_S$ as the
copies grow. `smoothing.augmentation_gap` measures it on 100 training points of section 2's data, with section 1's
kernel ($h$ = 0.1) and Gaussian noise (sd `PIC_SD`): the largest entrywise error of $\hat G$ on the training points
and on new points, and the gap between the two models' predictions (the same step size and 200 steps), averaged over
3 draws of the copies.
""")

code(r"""
gap = smoothing.augmentation_gap(tr.X[:100], tr.y[:100], te.X[:200], pic_kernel, noises["gaussian"], copies=COPIES,
                                 steps=200, repeats=3, seed=SEED)  # fmt: skip
aug_slope = smoothing.loglog_slope(gap.copies, gap.gram_error)[0]
rel_gap = gap.relative_gap()
print(pd.DataFrame({"Gram error": gap.gram_error, "new-point Gram error": gap.cross_error,
                    "relative prediction gap": rel_gap}, index=pd.Index(gap.copies, name="copies M")).round(4))  # fmt: skip
print(f"Gram error against M: log-log slope {aug_slope:.2f} (1/√M would be −0.5)")
viz.augmentation_curves(gap, title="noisy copies against the smoothed kernel")
""")

record(r"""
effdl.record_many("smoothing.aug", copies_max=max(gap.copies), gram_slope=aug_slope)
effdl.record_many("smoothing.aug", gram_first=gap.gram_error[0], gram_last=gap.gram_error[-1])
effdl.record_many("smoothing.aug", rel_gap_first=rel_gap[0], rel_gap_last=rel_gap[-1])
effdl.record("smoothing.aug.decreasing", bool(np.all(np.diff(gap.gram_error) < 0) and np.all(np.diff(rel_gap) < 0)))
""")

md(r"""
## Exercises

**Exercise 4 — fit the slope yourself.** From `studies[(2, 2)]` (`.ns`, the training sizes; `.risks`, an array of
shape (sizes, repetitions)), compute the least-squares slope of $\log$ risk on $\log n$ through the **geometric mean**
of the repetitions at each $n$ (the mean of the logarithms). Use `np.polyfit`.
""")

solution(r"""
st = studies[(2, 2)]
answer = None  # the fitted slope
### BEGIN SOLUTION
answer = np.polyfit(np.log(st.ns), np.log(st.risks).mean(1), 1)[0]
### END SOLUTION
exercises.check_loglog_slope(answer, st)
""", "10-ex4")

md(r"""
**Exercise 5 — one path or two?** Section 2 chose a stopping step $t$ for early stopping and a weight decay
$\lambda$, each on validation. Compare $\lambda$ with the early-stopping equivalent $1/(\eta t)$, and the two test
excess risks with each other and with the best risk on either path. Is early stopping a cheaper route to the same
model? Count the cost of each in matrix-vector products if you ran the literal loop instead of the eigen path.
""")

solution(r"""
### BEGIN SOLUTION
ratio = wd.chosen * gd.lr * gd.chosen
display(Markdown(
    f"**Model answer.** Early stopping chose step $t$ = {gd.chosen:g}, i.e. $1/(\\eta t)$ = "
    f"{1 / (gd.lr * gd.chosen):.2e}; weight decay chose $\\lambda$ = {wd.chosen:.2e}, a factor {ratio:.2g} of it "
    f"(the λ grid is spaced by factors of {10 ** 0.2:.2f}, and the two filters $1 - (1 - \\eta\\mu)^t$ and "
    f"$\\mu/(\\mu + \\lambda)$ differ in shape, so agreement within a small factor is what to expect). Test excess "
    f"risks: early stopping {early_risk:.4f}, weight decay {decay_risk:.4f}, the best on either path "
    f"{oracle_risk:.4f} ({early_risk / oracle_risk:.2f}× and {decay_risk / oracle_risk:.2f}× of it). The same model "
    f"class, reached two ways. Cost: the literal loop needs {gd.chosen:g} products $K\\alpha$ (O(n²) each) to stop "
    "at step $t$, and a path of validation checks comes for free along the way; weight decay needs one linear solve "
    "(O(n³)) per λ tried. With an eigen-decomposition (O(n³) once) both paths are free, which is how this chapter "
    "computes them."
))
### END SOLUTION
""", "10-ex5")

md(r"""
**Exercise 6 — how many copies?** From section 6, estimate how many noisy copies per point the augmented model needs
for its predictions to come within **5%** (relative RMS) of the smoothed kernel's. Fit a power law to the relative
prediction gap against $M$ and extrapolate; say whether the $1/\sqrt{M}$ law holds.
""")

solution(r"""
### BEGIN SOLUTION
p_slope, p_int = smoothing.loglog_slope(gap.copies, rel_gap)
need = (0.05 / np.exp(p_int)) ** (1 / p_slope)
display(Markdown(
    f"**Model answer.** The relative prediction gap falls from {rel_gap[0]:.3f} at $M$ = {gap.copies[0]} to "
    f"{rel_gap[-1]:.3f} at $M$ = {gap.copies[-1]}; a power law through the points has slope {p_slope:.2f} "
    f"(the Gram error's slope is {aug_slope:.2f}; 1/√M would be −0.5). Extrapolated, 5% needs about "
    f"**{need:,.0f}** copies per point"
    + (" — already reached within the copies measured." if rel_gap[-1] <= 0.05 else ".")
    + " Each copy multiplies the cost of a Gram matrix by $M^2$ in this averaged-feature form, which is why the exact "
    "$K_S$ (one closed form, or one quadrature table) is the better way to train with input noise when it exists."
))
### END SOLUTION
""", "10-ex6")

md(r"""
## Takeaways
""")

code(r"""
slopes_txt = "; ".join(f"m = {m}, d = {d}: {st.slope:.2f} against {st.theory:.2f}" for (m, d), st in studies.items())
takeaways = rf'''
- Input noise is a kernel: $K_S = \mathbb{{E}}\,K(x + \varepsilon, x' + \varepsilon')$ multiplies the spectrum by
  $|\varphi_\varepsilon|^2$. The exact $K_S$ (Gaussian closed form, spectral quadrature for Laplace and polynomial
  noise) and a {MC_SAMPLES:,}-draw Monte-Carlo average agree to within
  {100 * max(mc_err.values()):.2f}% everywhere on the grid (Gaussian {100 * mc_err["gaussian"]:.2f}%, Laplace
  {100 * mc_err["laplace"]:.2f}%, polynomial {100 * mc_err["polynomial"]:.2f}%).
- Kernel gradient descent is solved exactly in the eigenbasis (the literal loop agrees to {loop_err:.0e}); early
  stopping (step {gd.chosen:g}) and weight decay (λ = {wd.chosen:.1e}), each chosen on validation, reach test
  excess risks {early_risk:.4f} and {decay_risk:.4f} against {oracle_risk:.4f} for the best point on either path.
- The explorer: with the noise scale chosen on validation, smoothing cuts the unsmoothed narrow kernel's test risk
  by {min(best_gain.values()):.2f}× to {max(best_gain.values()):.2f}× depending on the noise family.
- Log-log slopes of the excess risk against n ({len(NS)} sizes up to {max(NS):,}, {REPS} repetitions): {slopes_txt}.
- The rate follows the intrinsic dimension: the d = 2 target on a curved surface in R^{AMBIENT_D} gives slope
  {study10.slope:.2f} with its own points and {paired10.slope:.2f} with the square's points bent into R^{AMBIENT_D}
  (the square: {flat.slope:.2f}; theory for d = 2: {study10.theory:.2f}; for D = {AMBIENT_D}: {ambient_rate:.2f}).
- Noisy copies converge to the smoothed kernel: the Gram error falls from {gap.gram_error[0]:.3f} to
  {gap.gram_error[-1]:.3f} from {gap.copies[0]} to {gap.copies[-1]} copies (slope {aug_slope:.2f}), the prediction
  gap from {100 * rel_gap[0]:.1f}% to {100 * rel_gap[-1]:.1f}%.
'''
display(Markdown(takeaways))
""")

record(r"""
runtime_s = effdl.record("smoothing.runtime_s", time.perf_counter() - START)
""")

md(r"""
## Discussion questions

1. The three noises of section 1 have the same variance but different spectral tails. Which property of the noise
   does the learning rate depend on, and why might Laplace or polynomial noise be preferable when the target's
   smoothness is unknown?
2. The noise level was chosen on validation for every $n$. What happens to the rate if it is fixed once and for all
   — too wide for large $n$, or too narrow for small $n$? How would you test that with `rate_study`?
3. Section 5's surface was isometric to the square. What would change for a surface that folds back close to itself
   in $\mathbb{R}^{10}$ (two distant latent points at a small Euclidean distance), and which bandwidth would then
   matter?
4. Data augmentation in deep learning rarely averages features over copies; it draws a fresh copy at every step.
   Is that still a smoothed kernel? What does the neural tangent kernel view suggest?
5. The fitted slopes come from five training sizes and a handful of repetitions. How much of the gap to the theory
   would you attribute to logarithmic factors, to the finite range of $n$, and to noise — and what experiment would
   separate them?
""")

md(r"""
## Further reading

- [Ding, Hu, Jiang, Li, Wang and Yao, *Random Smoothing Regularization in Kernel Gradient Descent Learning*,
  2023](https://arxiv.org/abs/2305.03531) — the smoothed kernels, the rates for Sobolev targets of low intrinsic
  dimension and of mixed smoothness, with Gaussian, Laplace and polynomial noise; compare its simulations with
  sections 4 and 5.
- [Raskutti, Wainwright and Yu, *Early stopping and non-parametric regression: an optimal data-dependent stopping
  rule*, JMLR 2014](https://arxiv.org/abs/1306.3574) — early-stopped kernel gradient descent attains minimax rates,
  and its path tracks kernel ridge regression's (section 2); it also gives a stopping rule that needs no validation
  split.
""")

nb = new_notebook(cells=cells)
nb.metadata = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
nbformat.write(nb, "notebooks/10_random_smoothing.ipynb")
import subprocess

subprocess.run(["ruff", "format", "-q", "notebooks/10_random_smoothing.ipynb"], check=True)
print(len(cells), "cells")
