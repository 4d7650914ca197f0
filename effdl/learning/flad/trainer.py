"""FLAD training: few-shot training on a target dataset, mixed with auxiliary datasets chosen by a bandit.

One step of :class:`FLADTrainer` (Albalak et al. 2023, Algorithms 1–2, one arm per step):

1. the strategy picks one auxiliary dataset (arm) a;
2. G batches of a are forward/backward-ed, accumulating g_aux = (1/G) Σ_g ∇ℓ(aux batch g);
3. one target batch gives g_target = ∇ℓ(target batch);
4. the reward r = cos(g_aux, g_target) on the reward parameters (default: the last layer) is smoothed per arm
   (R̂_a ← β R̂_a + (1 − β) r) and passed to the strategy;
5. one optimizer step on g_target + λ g_aux (λ = ``aux_weight``, default 1).

G + 1 backward passes per step whatever K is: only the sampled arm is touched (the bandit's own bookkeeping is
O(K) arithmetic on K floats). ``"target_only"`` does step 3 and the optimizer step on g_target alone.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset, TensorDataset, default_collate

from effdl.core.checks import is_int, positive_int
from effdl.core.train import EvalResult, evaluate, progress_enabled, resolve_device, tensor_pair
from effdl.learning.flad.bandits import Strategy, make_strategy
from effdl.learning.flad.reward import RewardSmoother, check_beta, gradient_alignment, resolve_reward_params

__all__ = ["FLADLog", "FLADTrainer"]

OPTIMIZERS = ("adam", "sgd")


@dataclass
class FLADLog:
    """Per-step record of :meth:`FLADTrainer.fit` (lists, one entry per optimizer step).

    ``arm`` (−1 for target-only), ``reward`` (raw cosine r; NaN for target-only), ``smoothed`` (R̂_arm after the
    update), ``probs`` ((K,) the distribution the arm was drawn from: π for EXP3, 1/K for uniform, one-hot for the
    deterministic UCB1/exploit), ``estimates`` ((K,) after the update: Ĝ for EXP3, R̂ for UCB1/exploit, NaN for
    the baselines), ``target_loss`` and ``aux_loss`` (mean over the G batches; NaN for target-only), and the
    validation curve ``val_step`` / ``val_accuracy`` / ``val_loss`` with ``best_step`` (0 = none kept).
    """

    step: list[int] = field(default_factory=list)
    arm: list[int] = field(default_factory=list)
    reward: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    probs: list[np.ndarray] = field(default_factory=list)
    estimates: list[np.ndarray] = field(default_factory=list)
    target_loss: list[float] = field(default_factory=list)
    aux_loss: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_step: int = 0

    def counts(self, n_arms: int) -> np.ndarray:
        """int64 (K,): how often each arm was played."""
        arms = np.asarray([a for a in self.arm if a >= 0], dtype=np.int64)
        return np.bincount(arms, minlength=n_arms)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Batches:
    """Endless batches of one dataset: a fresh permutation per pass (drawn with ``rng``), ``size`` items at a time
    (the whole dataset when it is smaller). Uses ``get_batch(idx)`` or a TensorDataset's tensors when there are."""

    def __init__(self, data: Dataset, size: int, rng: np.random.Generator, device: torch.device) -> None:
        self.data, self.n = data, len(data)  # type: ignore[arg-type]
        self.size, self.rng, self.device = min(size, self.n), rng, device
        self.order: np.ndarray = np.empty(0, dtype=np.int64)
        self.pos = 0

    def next(self) -> tuple[Tensor, Tensor]:
        if self.pos + self.size > len(self.order):
            self.order, self.pos = self.rng.permutation(self.n), 0
        idx = self.order[self.pos : self.pos + self.size]
        self.pos += self.size
        if hasattr(self.data, "get_batch"):
            x, y = self.data.get_batch(idx)
        elif isinstance(self.data, TensorDataset):
            t = torch.from_numpy(idx)
            x, y = self.data.tensors[0][t], self.data.tensors[1][t]
        else:
            x, y = default_collate([self.data[int(i)] for i in idx])
        return x.to(self.device), y.to(self.device)


def _as_dataset(data: Any, name: str) -> Dataset:
    data = tensor_pair(data, name)
    if not isinstance(data, Dataset) or not hasattr(data, "__len__"):
        raise TypeError(f"{name} must be a sized Dataset or an (inputs, targets) tuple of tensors, "
                        f"got {type(data).__name__}")  # fmt: skip
    if len(data) == 0:
        raise ValueError(f"{name} is empty")
    return data


def _positive_number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not value > 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


class FLADTrainer:
    """Train ``model`` on a few-shot ``target`` dataset mixed with K ``auxiliaries`` by a bandit ``strategy``.

    Args:
        model: any module mapping an input batch to logits (N, C); trained in place.
        target: the target's training data: a sized Dataset of (x, y) or an (inputs, targets) tuple of tensors.
        auxiliaries: K ≥ 1 such datasets (may be empty only for ``"target_only"``).
        strategy: ``"exp3"``, ``"ucb1"``, ``"uniform"`` (explore only), ``"exploit"`` (greedy after one pass),
            ``"target_only"``, or a :class:`~effdl.learning.flad.bandits.Strategy` for K arms.
        G: auxiliary batches accumulated per step (int ≥ 1).
        batch_size: target batch size (the whole target when smaller); ``aux_batch_size`` (default the same) for
            auxiliary batches.
        lr: learning rate (> 0) of ``optimizer`` (``"adam"`` or ``"sgd"`` with momentum 0.9); ``weight_decay`` ≥ 0.
        beta: reward smoothing in [0, 1): R̂_a ← β R̂_a + (1 − β) r (0 = the last reward).
        aux_weight: λ > 0 in the update g_target + λ g_aux (g_aux the mean of the G auxiliary batch gradients).
        reward_params: names of the parameters the reward's cosine is taken on; None = the last layer's
            (:func:`~effdl.learning.flad.reward.last_layer_names`).
        loss: ``loss(logits, targets) -> scalar``; default cross-entropy.
        seed: seeds the arm draws, the batch order and torch's generator during :meth:`fit` (same seed and model
            initialization → identical logs on one machine).
        device: "cpu" (default) or "cuda"; the model is moved there.
    """

    def __init__(
        self,
        model: nn.Module,
        target: Any,
        auxiliaries: Sequence[Any],
        strategy: str | Strategy = "exp3",
        *,
        G: int = 1,
        batch_size: int = 32,
        aux_batch_size: int | None = None,
        lr: float = 1e-3,
        optimizer: str = "adam",
        weight_decay: float = 0.0,
        beta: float = 0.0,
        aux_weight: float = 1.0,
        reward_params: Sequence[str] | None = None,
        loss: Callable[[Tensor, Tensor], Tensor] | None = None,
        seed: int = 0,
        device: str | torch.device | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if isinstance(auxiliaries, Dataset | str) or not isinstance(auxiliaries, Sequence):
            raise TypeError(f"auxiliaries must be a list of datasets, got {type(auxiliaries).__name__}")
        if isinstance(auxiliaries, tuple) and len(auxiliaries) == 2 and all(isinstance(t, Tensor) for t in auxiliaries):
            raise TypeError("auxiliaries must be a list of datasets, got one (inputs, targets) pair: wrap it in a list")
        self.G = positive_int("G", G)
        self.batch_size = positive_int("batch_size", batch_size)
        self.aux_batch_size = self.batch_size if aux_batch_size is None else positive_int("aux_batch_size",
                                                                                            aux_batch_size)  # fmt: skip
        self.lr = _positive_number("lr", lr)
        self.aux_weight = _positive_number("aux_weight", aux_weight)
        self.beta = check_beta(beta)
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
        if isinstance(weight_decay, bool) or not isinstance(weight_decay, int | float) or not weight_decay >= 0:
            raise ValueError(f"weight_decay must be a number ≥ 0, got {weight_decay!r}")
        if not is_int(seed) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if loss is not None and not callable(loss):
            raise TypeError(f"loss must be callable(logits, targets) -> scalar, got {type(loss).__name__}")

        self.model = model
        self.device = resolve_device(device)
        self.model.to(self.device)
        self.target = _as_dataset(target, "target")
        self.auxiliaries = [_as_dataset(a, f"auxiliaries[{i}]") for i, a in enumerate(auxiliaries)]
        uses_aux = not (strategy == "target_only" or getattr(strategy, "uses_auxiliary", True) is False)
        if uses_aux and not self.auxiliaries:
            raise ValueError("auxiliaries must hold at least one dataset (K ≥ 1) for this strategy, got K = 0")
        self.n_arms = len(self.auxiliaries)
        self.strategy = make_strategy(strategy, max(self.n_arms, 1))
        self.smoother = RewardSmoother(max(self.n_arms, 1), self.beta)
        self.loss = loss
        self._loss_fn = loss or F.cross_entropy

        self.params = [p for p in model.parameters() if p.requires_grad]
        by_id = {id(p): i for i, p in enumerate(self.params)}
        self.reward_names = [n for n, _ in resolve_reward_params(model, reward_params)]
        self._reward_idx = [by_id[id(p)] for _, p in resolve_reward_params(model, self.reward_names)]
        if optimizer == "adam":
            self.optimizer: torch.optim.Optimizer = torch.optim.Adam(self.params, lr=self.lr,
                                                                     weight_decay=weight_decay)  # fmt: skip
        else:
            self.optimizer = torch.optim.SGD(self.params, lr=self.lr, momentum=0.9, weight_decay=weight_decay)

        self.seed = int(seed)
        # Separate streams: the arm draws never shift when a batch size changes, and vice versa.
        self._arm_rng = np.random.default_rng([self.seed, 0])
        data_rng = np.random.default_rng([self.seed, 1])
        self._target_batches = _Batches(self.target, self.batch_size, data_rng, self.device)
        self._aux_batches: dict[int, _Batches] = {}  # created when an arm is first played: O(1) setup per step
        self._data_rng = data_rng
        self._torch_state = torch.Generator().manual_seed(self.seed).get_state()
        self.steps_done = 0
        self.log = FLADLog()

    # ------------------------------------------------------------------------------------------------ one step
    def _aux(self, arm: int) -> _Batches:
        if arm not in self._aux_batches:
            self._aux_batches[arm] = _Batches(self.auxiliaries[arm], self.aux_batch_size, self._data_rng, self.device)
        return self._aux_batches[arm]

    def _logits(self, x: Tensor) -> Tensor:
        out = self.model(x)
        return out[0] if isinstance(out, tuple | list) else out  # models that also return features: logits first

    def step(self) -> None:
        """One FLAD step (see the module docstring); appends to :attr:`log`."""
        self.model.train()
        strat, opt = self.strategy, self.optimizer
        opt.zero_grad(set_to_none=True)
        arm, reward, smoothed, aux_loss = -1, float("nan"), float("nan"), float("nan")
        probs = strat.probs()
        stash: list[Tensor | None] = []
        if strat.uses_auxiliary:
            arm = strat.select(self._arm_rng)
            batches, total = self._aux(arm), 0.0
            for _ in range(self.G):
                x, y = batches.next()
                ell = self._loss_fn(self._logits(x), y)
                (ell * (self.aux_weight / self.G)).backward()
                total += float(ell.detach())
            aux_loss = total / self.G
            # Park the auxiliary gradients so the target backward writes g_target alone into .grad (no copy).
            stash = [p.grad for p in self.params]
            for p in self.params:
                p.grad = None
        x, y = self._target_batches.next()
        ell_t = self._loss_fn(self._logits(x), y)
        if not torch.isfinite(ell_t):
            raise FloatingPointError(f"target loss became {ell_t.item()} at step {self.steps_done + 1}; lower lr")
        ell_t.backward()
        if strat.uses_auxiliary:
            g_aux = [_grad(self.params[i], stash[i]) for i in self._reward_idx]
            g_tgt = [_grad(self.params[i], self.params[i].grad) for i in self._reward_idx]
            reward = gradient_alignment(g_aux, g_tgt)
            smoothed = self.smoother.update(arm, reward)
            strat.update(arm, smoothed)
            for p, s in zip(self.params, stash, strict=True):
                if s is not None:
                    p.grad = s if p.grad is None else p.grad.add_(s)
        opt.step()
        self.steps_done += 1
        lg = self.log
        lg.step.append(self.steps_done)
        lg.arm.append(arm)
        lg.reward.append(reward)
        lg.smoothed.append(smoothed)
        lg.probs.append(probs)
        lg.estimates.append(strat.estimates())
        lg.target_loss.append(float(ell_t.detach()))
        lg.aux_loss.append(aux_loss)

    # ------------------------------------------------------------------------------------------------ fit / eval
    def fit(
        self,
        steps: int,
        *,
        val: Any = None,
        eval_every: int | None = None,
        restore_best: bool = True,
        progress: bool | None = None,
    ) -> FLADLog:
        """Run ``steps`` FLAD steps and return :attr:`log` (which keeps growing over several calls).

        With ``val`` (target validation data), accuracy and loss on it are measured every ``eval_every`` steps
        (default steps // 20, at least 1) and after the last; with ``restore_best`` the model ends at the weights
        of the best validation accuracy (ties: lower loss; the earlier step) — the run's stopping time chosen on
        validation. ``progress``: a tqdm bar (default on unless ``EFFDL_PROGRESS=0``).
        """
        steps = positive_int("steps", steps)
        if val is not None:
            val = _as_dataset(val, "val")
            eval_every = max(1, steps // 20) if eval_every is None else positive_int("eval_every", eval_every)
        from tqdm.auto import tqdm  # imported here: tqdm.auto probes for Jupyter, which is slow at module import

        bar = tqdm(total=steps, desc=f"FLAD {self.strategy.name}", unit="step", disable=not progress_enabled(progress))
        best: tuple[float, float] | None = None
        best_state = None
        try:
            with torch.random.fork_rng(devices=[]):  # dropout etc. draw from our own stream; the caller's is untouched
                torch.set_rng_state(self._torch_state)
                for i in range(1, steps + 1):
                    self.step()
                    bar.update(1)
                    if self.log.arm[-1] >= 0:
                        bar.set_postfix(arm=self.log.arm[-1], reward=f"{self.log.reward[-1]:+.2f}")
                    if val is not None and (i % eval_every == 0 or i == steps):
                        res = self.evaluate(val)
                        self.log.val_step.append(self.steps_done)
                        self.log.val_accuracy.append(res.accuracy)
                        self.log.val_loss.append(res.loss)
                        if best is None or (res.accuracy, -res.loss) > best:
                            best = (res.accuracy, -res.loss)
                            best_state = copy.deepcopy(self.model.state_dict())
                            self.log.best_step = self.steps_done
                self._torch_state = torch.get_rng_state()
        finally:
            bar.close()
        if restore_best and best_state is not None:
            self.model.load_state_dict(best_state)
        self.model.eval()
        return self.log

    def evaluate(self, data: Any, *, batch_size: int = 1000) -> EvalResult:
        """Accuracy and mean loss of the model on ``data`` (:func:`effdl.evaluate`)."""
        return evaluate(self.model, data, loss=self.loss, batch_size=batch_size, device=self.device)

    def distribution(self) -> np.ndarray:
        """float64 (K,): the strategy's mixture over the arms now — π for a stochastic strategy (EXP3, uniform),
        the selection shares so far for a deterministic one (UCB1, exploit)."""
        return self.strategy.probs() if self.strategy.stochastic else self.strategy.shares()

    def __repr__(self) -> str:
        return (f"FLADTrainer({self.strategy.name}, K={self.n_arms}, G={self.G}, batch_size={self.batch_size}, "
                f"lr={self.lr}, beta={self.beta}, steps_done={self.steps_done})")  # fmt: skip


def _grad(p: Tensor, g: Tensor | None) -> Tensor:
    return torch.zeros_like(p) if g is None else g  # a parameter the batch did not reach has zero gradient
