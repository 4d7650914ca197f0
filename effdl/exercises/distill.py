"""Checkers for distillation (chapter 03): softened probabilities, the KD loss, and the explorers' tasks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from effdl.exercises._common import _attempt, _missing, _verdict, checker

__all__ = ["check_best_sweep_cell", "check_kd_loss", "check_softened", "check_temperature_share"]


@checker
def check_softened(
    answer: Sequence[float] | torch.Tensor | None,
    *,
    logits: Sequence[float] = (3.0, 1.0, 0.2),
    T: float = 2.0,
    tol: float = 1e-3,
) -> bool:
    """Exercise: the softened probabilities ``softmax(logits / T)`` of ``logits`` at temperature ``T``, by hand.

    ``answer``: one probability per logit, as fractions (summing to 1); within ``tol`` of the truth counts as right.
    """
    from effdl.compress.distill import soften

    if _missing(answer):
        return False
    truth = soften(torch.tensor(logits, dtype=torch.float64), T).tolist()
    try:
        got = [float(v) for v in (answer.tolist() if isinstance(answer, torch.Tensor) else answer)]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give one number per logit (a list of {len(truth)}), got {answer!r}")
    if len(got) != len(truth):
        return _verdict(False, "", f"give one probability per logit: {len(truth)} numbers, got {len(got)}")
    shown = ", ".join(f"{p:.4f}" for p in truth)
    if all(abs(g - t) <= tol for g, t in zip(got, truth, strict=True)):
        return _verdict(True, f"softmax({list(logits)} / {T:g}) = ({shown}).", "")
    plain = soften(torch.tensor(logits, dtype=torch.float64), 1.0).tolist()
    if all(abs(g - t) <= tol for g, t in zip(got, plain, strict=True)):
        return _verdict(False, "", f"that is the ordinary softmax (T = 1); divide every logit by T = {T:g} first.")
    if abs(sum(got) - 1.0) > 10 * tol:
        return _verdict(False, "", f"your numbers sum to {sum(got):.4f}; probabilities sum to 1 (normalize by Σ exp).")
    if abs(sum(got) - 100.0) < 1:
        return _verdict(False, "", "give fractions (summing to 1), not percentages.")
    return _verdict(False, "", f"you said {[round(g, 4) for g in got]}; compute exp(z_i / T) / Σ_j exp(z_j / T).")


@checker
def check_kd_loss(
    fn: Callable[..., torch.Tensor] | None, *, trials: int = 20, seed: int = 0, rtol: float = 1e-4
) -> bool:
    """Exercise: ``fn(student_logits, teacher_logits, targets, T, alpha)`` returns Hinton's distillation loss.

    Compared with :func:`effdl.compress.distill.kd_loss` (``alpha · T² · KL(p_t ‖ p_s) + (1 − alpha) · CE``, KL
    summed over classes and averaged over the batch) on ``trials`` random (N, C) batches, temperatures and weights.
    Common slips (no T², the KL reversed, alpha on the wrong term, soft cross-entropy instead of KL) get a hint.
    """
    import torch.nn.functional as F

    from effdl.compress.distill import kd_loss

    if _missing(fn):
        return False
    if not callable(fn):
        raise TypeError(f"fn must be a function (student_logits, teacher_logits, targets, T, alpha), got {fn!r}")
    gen = torch.Generator().manual_seed(seed)
    for trial in range(trials):
        n, c = int(torch.randint(2, 9, (1,), generator=gen)), int(torch.randint(2, 11, (1,), generator=gen))
        s, t = 3 * torch.randn(n, c, generator=gen), 3 * torch.randn(n, c, generator=gen)
        y = torch.randint(0, c, (n,), generator=gen)
        T = [1.0, 2.0, 4.0, 7.5][trial % 4]
        alpha = [0.5, 0.9, 0.3, 0.0, 1.0][trial % 5]
        want = kd_loss(s, t, y, T=T, alpha=alpha).item()
        try:
            got = _attempt(fn, s.clone(), t.clone(), y.clone(), T, alpha)
            got = float(got.item() if isinstance(got, torch.Tensor) else got)
        except Exception as err:
            return _verdict(False, "", f"your function raised {type(err).__name__}: {err}")
        if abs(got - want) <= rtol * max(1.0, abs(want)):
            continue
        ls, lt = F.log_softmax(s / T, -1), F.log_softmax(t / T, -1)
        kl = (lt.exp() * (lt - ls)).sum(-1).mean().item()
        kl_rev = (ls.exp() * (ls - lt)).sum(-1).mean().item()
        soft_ce = -(lt.exp() * ls).sum(-1).mean().item()
        ce = F.cross_entropy(s, y).item()
        hard, T2 = (1 - alpha) * ce, T * T
        summed = alpha * T2 * kl * n + hard
        slips = {
            "the soft term lacks the T² factor": alpha * kl + hard,
            "the KL is reversed: use KL(teacher ‖ student) = Σ p_t (log p_t − log p_s)": alpha * T2 * kl_rev + hard,
            "alpha weighs the wrong term: alpha goes with the soft (teacher) term": (1 - alpha) * T2 * kl + alpha * ce,
            "you used the soft cross-entropy −Σ p_t log p_s; subtract the teacher's entropy to get the KL (same "
            "gradients, but the KL is 0 when the student matches the teacher)": alpha * T2 * soft_ce + hard,
            "the KL is summed over the batch; average it over the N examples (reduction='batchmean')": summed,
        }
        for hint, value in slips.items():
            if abs(got - value) <= rtol * max(1.0, abs(value)):
                return _verdict(False, "", hint + f" (trial {trial + 1}: T={T:g}, alpha={alpha:g})")
        return _verdict(
            False,
            "",
            f"on a ({n}, {c}) batch with T={T:g}, alpha={alpha:g} you returned {got:.6f}, expected {want:.6f}. "
            "Loss = alpha · T² · KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha) · cross_entropy(s, y).",
        )
    return _verdict(True, f"your loss matches kd_loss on {trials} random batches, temperatures and weights.", "")


@checker
def check_temperature_share(answer: float | None, explorer: Any, *, share: float = 0.5) -> bool:
    """Try it (chapter 03, ``widgets.temperature_explorer``): the smallest temperature on the slider at which the top
    class gets less than ``share`` of the probability (the other classes together get more than it).

    The truth is read off the explorer's own data (``explorer.probabilities``, ``{T: probabilities}`` for every slider
    position); the top class's probability falls monotonically as T grows.
    """
    if _missing(answer):
        return False
    table = explorer.probabilities
    temps = sorted(table)
    below = [t for t in temps if max(table[t]) < share]
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        return _verdict(False, "", f"give a temperature (a number on the slider, {temps[0]:g} to {temps[-1]:g})")
    t = float(answer)
    if not below:
        return _verdict(
            False,
            "",
            f"even at T = {temps[-1]:g} the top class keeps {100 * max(table[temps[-1]]):.1f}%: no slider "
            f"position gets it below {100 * share:.0f}% for this digit.",
        )
    truth = below[0]
    top = max(explorer.probs(t)) if t > 0 else 1.0
    if abs(t - truth) < 1e-9:
        prev = [u for u in temps if u < truth]
        before = f", against {100 * max(table[prev[-1]]):.1f}% at T = {prev[-1]:g}" if prev else ""
        return _verdict(True, f"at T = {truth:g} the top class gets {100 * top:.1f}%{before}.", "")
    if top >= share:
        return _verdict(
            False, "", f"at T = {t:g} the top class still gets {100 * top:.1f}% (≥ {100 * share:.0f}%): raise T."
        )
    if t < truth:  # between two slider positions: right, if the previous position is still above the share
        return _verdict(True, f"at T = {t:g} the top class gets {100 * top:.1f}% (slider position: {truth:g}).", "")
    return _verdict(
        False,
        "",
        f"at T = {t:g} the top class gets {100 * top:.1f}%, below {100 * share:.0f}%, but a smaller T already does: "
        "move the slider down until the readout crosses the threshold.",
    )


@checker
def check_best_sweep_cell(answer: Sequence[float] | None, explorer: Any) -> bool:
    """Try it (chapter 03, ``widgets.distill_sweep_explorer``): the ``(T, alpha)`` cell of the sweep with the highest
    *test* accuracy, as the explorer's readout shows it. The truth is read off ``explorer.table`` (ties: any of the
    best cells is right); when the rows carry ``val_accuracy``, the verdict says whether the validation choice agrees.
    """
    if _missing(answer):
        return False
    table = explorer.table
    try:
        t, a = (float(v) for v in answer)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return _verdict(False, "", f"give a pair (T, alpha), e.g. {next(iter(table))}; got {answer!r}")
    best_acc = max(float(r["accuracy"]) for r in table.values())
    best = [k for k, r in table.items() if float(r["accuracy"]) == best_acc]
    base = explorer.baseline
    gain = f" ({best_acc - base:+.2f} points over the student alone)" if base is not None else ""
    val = {k: r["val_accuracy"] for k, r in table.items() if "val_accuracy" in r}
    if (t, a) in best:
        note = ""
        if len(val) == len(table):
            chosen = max(val, key=lambda k: val[k])
            note = (
                " The validation digits chose the same cell."
                if chosen == (t, a)
                else f" The validation digits chose T = {chosen[0]:g}, α = {chosen[1]:g} instead "
                f"({float(table[chosen]['accuracy']):.2f}% on test): picking on the test set would flatter the result."
            )
        return _verdict(True, f"T = {t:g}, α = {a:g}: {best_acc:.2f}% on the test digits{gain}.{note}", "")
    if (a, t) in best and (t, a) not in table:
        return _verdict(False, "", "the order is (T, alpha): temperature first, then the weight α.")
    if (t, a) not in table:
        return _verdict(False, "", f"({t:g}, {a:g}) is not in the sweep; its cells are {sorted(table)}.")
    if len(val) == len(table) and (t, a) == max(val, key=lambda k: val[k]):
        return _verdict(
            False,
            "",
            "that is the cell chosen on the validation digits (the marker); the task asks for the best test accuracy "
            "the readout shows — browse every cell.",
        )
    got = float(table[(t, a)]["accuracy"])
    return _verdict(False, "", f"T = {t:g}, α = {a:g} gives {got:.2f}%; another cell does better — browse every cell.")
