"""A stream on real offline data, a learner under a compute budget, and the accuracy it keeps over time.

Data arrive at ``rate`` samples per time unit (a seeded walk through the training split, reshuffled at every pass);
the learner may spend at most ``budget`` sample-gradients per unit (one sample's forward + backward = one unit of
compute). In the style of real-time evaluation (Ghunaim et al. 2023, arXiv:2302.01047) the stream does not wait:
what the learner cannot process in the unit it arrived is dropped or subsampled (:data:`POLICIES`), or waits in a
bounded FIFO queue. Learners (:data:`LEARNERS`):

- ``"sgd"``: online SGD, each processed sample used once;
- ``"replay"``: every arrival is offered to a reservoir of ``buffer`` samples (storage is cheap, compute is not,
  as in Prabhu et al. 2023, arXiv:2303.11165); each unit's compute goes ``replay_fraction`` to uniform draws from
  the reservoir and the rest to new samples, and compute that new samples cannot use (rate < budget) goes to
  replay too.

With ``drift="rotation"`` the whole distribution rotates by ``drift_speed`` degrees per unit: a sample keeps the
angle of its arrival time and the held-out test set is scored at the current angle, so accuracy measures how well
the learner keeps up with the present rather than with the immediate next stream samples (whose label correlations
a blind classifier can exploit; Hammoud et al. 2023, arXiv:2305.09275). Without drift a slow learner only lags; with
drift it never catches up.

Reported at every ``eval_every`` units: test accuracy, samples arrived, fresh samples processed, samples exploited
(distinct arrivals that received at least one gradient), cumulative compute, and throughput = exploited / arrived.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from effdl.core.checks import positive_int
from effdl.core.data import load, subset
from effdl.core.models import MLP
from effdl.core.train import progress_enabled, resolve_device
from effdl.learning.stream.arrivals import POLICIES, Feeder, Reservoir, _positive_number, _seed, per_step_counts

__all__ = ["DRIFTS", "LEARNERS", "BudgetSweep", "StreamResult", "budget_sweep", "rotate", "run_stream"]

LEARNERS = ("sgd", "replay")
DRIFTS = ("none", "rotation")


@dataclass
class StreamResult:
    """One stream run. Arrays indexed by evaluation point ``e`` (shape ``(E,)``) are cumulative up to ``times[e]``
    (time units elapsed; the first point is t = 0, before any training); ``step_*`` arrays have one entry per unit.

    Attributes:
        times: evaluation times in units, int64. accuracy: test accuracy in [0, 1] at each time.
        arrived: samples arrived. fresh: new samples processed in their arrival unit (or from the queue).
        exploited: distinct arrivals that received at least one gradient (fresh or replayed).
        compute: sample-gradients spent (fresh + replayed); never more than the budget allowed.
        throughput: exploited / arrived (NaN where nothing has arrived yet).
        step_arrived, step_budget, step_fresh, step_replayed: per-unit counts, int64 ``(steps,)``.
        config: the run's arguments. model: the trained model.
    """

    times: np.ndarray
    accuracy: np.ndarray
    arrived: np.ndarray
    fresh: np.ndarray
    exploited: np.ndarray
    compute: np.ndarray
    throughput: np.ndarray
    step_arrived: np.ndarray
    step_budget: np.ndarray
    step_fresh: np.ndarray
    step_replayed: np.ndarray
    config: dict[str, Any]
    model: nn.Module = field(repr=False)

    @property
    def final_accuracy(self) -> float:
        """Test accuracy at the end of the stream."""
        return float(self.accuracy[-1])

    @property
    def mean_accuracy(self) -> float:
        """Test accuracy averaged over the evaluation points after t = 0 (the stream's area under the curve)."""
        return float(self.accuracy[1:].mean())

    @property
    def final_throughput(self) -> float:
        """Exploited / arrived over the whole stream."""
        return float(self.throughput[-1])


def rotate(x: Tensor, degrees: Tensor | float) -> Tensor:
    """Rotate images ``x`` ``(N, C, H, W)`` by ``degrees`` (scalar or ``(N,)``) counter-clockwise about the centre.

    Bilinear, with border padding: the corners of a standardized digit are background, so the padding is too.
    """
    if not isinstance(x, Tensor) or x.ndim != 4:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor of images (N, C, H, W), got {got}")
    n = x.shape[0]
    if isinstance(degrees, Tensor) and degrees.numel() not in (1, n):
        raise ValueError(
            f"degrees must be a scalar or hold one angle per image ({n}), got shape {tuple(degrees.shape)}"
        )
    if not isinstance(degrees, Tensor) and (isinstance(degrees, bool) or not isinstance(degrees, numbers.Real)):
        raise TypeError(f"degrees must be a number or a tensor of angles, got {degrees!r}")
    theta = torch.as_tensor(degrees, dtype=x.dtype, device=x.device).reshape(-1).expand(n) * (math.pi / 180)
    cos, sin = torch.cos(theta), torch.sin(theta)
    zero = torch.zeros_like(cos)
    # affine_grid maps output to input coordinates, so the inverse rotation gives a counter-clockwise image
    mat = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(mat, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _tensors(data: Any, n_test: int | None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    if isinstance(data, str):
        train, test = load(data)
    elif isinstance(data, tuple) and len(data) == 2 and all(isinstance(d, TensorDataset) for d in data):
        train, test = data
    else:
        raise TypeError(f"data must be a dataset name or a (train, test) pair of TensorDatasets, got {data!r:.80}")
    if n_test is not None:
        n_test = positive_int("n_test", n_test)
        if n_test < len(test):
            test = subset(test, n_test, seed=0)
    x, y = train.tensors[0], train.tensors[-1]
    xt, yt = test.tensors[0], test.tensors[-1]
    if x.ndim != 4:
        raise ValueError(f"data must hold images (N, C, H, W), got x of shape {tuple(x.shape)}")
    if len(x) == 0 or len(xt) == 0:  # an empty split failed deep inside (division by zero, max of nothing)
        raise ValueError(f"data must have non-empty train and test splits, got {len(x)} and {len(xt)} samples")
    for name, images, labels in (("train", x, y), ("test", xt, yt)):
        if not bool(torch.isfinite(images.float()).all()):  # NaN pixels train silently into a NaN model
            raise ValueError(f"data's {name} images must be finite, got NaN or inf")
        if labels.is_floating_point() and not bool((labels == labels.round()).all()):  # .long() would truncate
            raise ValueError(f"data's {name} labels must be integer class ids, got non-integral values")
    return x.float(), y.long(), xt.float(), yt.long()


def _check(rate: float, budget: float, steps: int, learner: str, policy: str, buffer: int, replay_fraction: float,
           drift: str, drift_speed: float, eval_every: int, batch_size: int, lr: float,
           seed: object) -> None:  # fmt: skip
    _positive_number("rate", rate)
    _positive_number("budget", budget)
    positive_int("steps", steps)
    if learner not in LEARNERS:
        raise ValueError(f"learner must be one of {LEARNERS}, got {learner!r}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    positive_int("buffer", buffer)
    frac = replay_fraction
    if isinstance(frac, bool) or not isinstance(frac, int | float) or not 0 <= frac <= 1:
        raise ValueError(f"replay_fraction must be a number in [0, 1], got {replay_fraction!r}")
    if drift not in DRIFTS:
        raise ValueError(f"drift must be one of {DRIFTS}, got {drift!r}")
    if isinstance(drift_speed, bool) or not isinstance(drift_speed, int | float) or not math.isfinite(drift_speed):
        raise ValueError(f"drift_speed must be a finite number (degrees per unit), got {drift_speed!r}")
    positive_int("eval_every", eval_every)
    positive_int("batch_size", batch_size)
    _positive_number("lr", lr)
    _seed(seed)


@torch.no_grad()
def _accuracy(model: nn.Module, x: Tensor, y: Tensor, degrees: float) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(x), 1000):
        xb = x[i : i + 1000]
        xb = rotate(xb, degrees) if degrees else xb
        correct += int((model(xb).argmax(1) == y[i : i + 1000]).sum())
    model.train()
    return correct / len(x)


def run_stream(
    data: str | tuple[TensorDataset, TensorDataset] = "digits",
    *,
    rate: float = 64.0,
    budget: float = 16.0,
    steps: int = 200,
    learner: str = "sgd",
    policy: str = "drop",
    queue: int | None = None,
    buffer: int = 256,
    replay_fraction: float = 0.5,
    drift: str = "rotation",
    drift_speed: float = 1.0,
    eval_every: int = 10,
    batch_size: int = 16,
    lr: float = 0.05,
    hidden: Sequence[int] = (64,),
    model: nn.Module | None = None,
    n_test: int | None = None,
    seed: int | None = 0,
    device: str | torch.device | None = None,
    num_threads: int | None = 1,
) -> StreamResult:
    """Simulate ``steps`` time units of a stream and a budgeted learner on it (see the module docstring).

    Args:
        data: a dataset name for :func:`effdl.core.data.load` (``"digits"``: 8×8, fast; ``"mnist5k"``) or a
            ``(train, test)`` pair of image TensorDatasets (``x`` ``(N, C, H, W)``, ``y`` int labels).
        rate: arrivals per unit (> 0). budget: sample-gradients per unit (> 0); both may be fractional.
        steps: time units simulated. learner: one of :data:`LEARNERS`. policy: one of :data:`POLICIES`.
        queue: FIFO capacity in samples for ``policy="drop"`` (``None``: no backlog).
        buffer: reservoir size for ``"replay"`` (≥ 1). replay_fraction: share of each unit's compute replayed.
        drift: one of :data:`DRIFTS`. drift_speed: degrees per unit for ``"rotation"``.
        eval_every: units between evaluations. batch_size: samples per SGD step (a unit's samples are cut into
            mini-batches of at most this size). lr: SGD learning rate (mean loss over the batch).
        hidden: hidden widths of the default :class:`~effdl.core.models.MLP`. model: any module mapping
            ``(N, C, H, W)`` to logits instead (copied, never changed in place). n_test: score on a stratified
            subset of the test split of this size (``None``: all of it).
        seed: seeds the stream order, the policy, the reservoir, the mini-batch mixing and the model's init.
        device: where to train (default CPU).
        num_threads: torch intra-op threads during the run, restored after (``None``: leave as is). One by default:
            the mini-batches are tiny, and extra threads only add synchronisation (over 10× slower on a busy
            2-core machine).
    """
    if num_threads is None:
        return _run(data, rate, budget, steps, learner, policy, queue, buffer, replay_fraction, drift, drift_speed,
                    eval_every, batch_size, lr, hidden, model, n_test, seed, device)  # fmt: skip
    before = torch.get_num_threads()
    torch.set_num_threads(positive_int("num_threads", num_threads))
    try:
        return _run(data, rate, budget, steps, learner, policy, queue, buffer, replay_fraction, drift, drift_speed,
                    eval_every, batch_size, lr, hidden, model, n_test, seed, device)  # fmt: skip
    finally:
        torch.set_num_threads(before)


def _run(data: Any, rate: float, budget: float, steps: int, learner: str, policy: str, queue: int | None, buffer: int,
         replay_fraction: float, drift: str, drift_speed: float, eval_every: int, batch_size: int, lr: float,
         hidden: Sequence[int], model: nn.Module | None, n_test: int | None, seed: int | None,
         device: str | torch.device | None) -> StreamResult:  # fmt: skip
    _check(rate, budget, steps, learner, policy, buffer, replay_fraction, drift, drift_speed, eval_every, batch_size,
           lr, seed)  # fmt: skip
    dev = resolve_device(device)
    x, y, xt, yt = _tensors(data, n_test)
    x, y, xt, yt = x.to(dev), y.to(dev), xt.to(dev), yt.to(dev)
    s_stream, s_feed, s_res, s_mix, s_init = np.random.SeedSequence(seed).spawn(5)
    arrivals, budgets = per_step_counts(rate, steps), per_step_counts(budget, steps)
    n_total = int(arrivals.sum())
    # stream id i -> training example: consecutive seeded permutations of the training split
    rng = np.random.default_rng(s_stream)
    passes = -(-n_total // len(x)) if n_total else 0
    order = np.concatenate([rng.permutation(len(x)) for _ in range(passes)] or [np.zeros(0, np.int64)])[:n_total]
    order_t = torch.from_numpy(order).to(dev)
    speed = float(drift_speed) if drift == "rotation" else 0.0
    angle = torch.from_numpy(np.repeat(np.arange(steps), arrivals) * speed).float().to(dev)  # angle at arrival

    if model is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(s_init.generate_state(1)[0]))
            net: nn.Module = MLP(tuple(x.shape[1:]), int(max(y.max(), yt.max())) + 1, hidden=hidden)
    elif isinstance(model, nn.Module):
        net = copy.deepcopy(model)
    else:
        raise TypeError(f"model must be a torch.nn.Module or None, got {type(model).__name__}")
    net = net.to(dev).train()
    opt = torch.optim.SGD(net.parameters(), lr=float(lr))
    feeder = Feeder(policy, queue=queue, seed=int(s_feed.generate_state(1)[0]))
    res = Reservoir(buffer, seed=int(s_res.generate_state(1)[0])) if learner == "replay" else None
    mix = np.random.default_rng(s_mix)
    used = np.zeros(n_total, dtype=bool)
    step_fresh, step_rep = np.zeros(steps, np.int64), np.zeros(steps, np.int64)
    rows = [(0, _accuracy(net, xt, yt, 0.0), 0, 0, 0, 0)]
    next_id = 0
    for t in range(steps):
        ids = np.arange(next_id, next_id + arrivals[t])
        next_id += arrivals[t]
        avail, c_t = feeder.arrive(ids), int(budgets[t])
        n_rep = 0 if res is None else min(math.floor(replay_fraction * c_t + 0.5), len(res))  # half rounds up
        new = feeder.take(min(avail, c_t - n_rep))
        if res is not None:  # compute new samples cannot use goes to replay (work-conserving)
            n_rep = min(c_t - len(new), len(res))
        rep = res.sample(n_rep) if res is not None else new[:0]
        batch = mix.permutation(np.concatenate([new, rep]))
        for i in range(0, len(batch), batch_size):
            b = torch.from_numpy(batch[i : i + batch_size]).to(dev)
            xb = x[order_t[b]]
            xb = rotate(xb, angle[b]) if speed else xb
            loss = F.cross_entropy(net(xb), y[order_t[b]])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        used[new] = True
        used[rep] = True
        step_fresh[t], step_rep[t] = len(new), len(rep)
        if res is not None:
            res.offer(ids)  # after training: a sample is never replayed in the unit it arrived
        if (t + 1) % eval_every == 0 or t + 1 == steps:
            done = slice(0, t + 1)
            rows.append((t + 1, _accuracy(net, xt, yt, speed * (t + 1)), int(arrivals[done].sum()),
                         int(step_fresh[done].sum()), int(used[:next_id].sum()),
                         int(step_fresh[done].sum() + step_rep[done].sum())))  # fmt: skip
    cols = list(zip(*rows, strict=True))
    arrived = np.array(cols[2], np.int64)
    exploited = np.array(cols[4], np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        throughput = np.where(arrived > 0, exploited / np.maximum(arrived, 1), np.nan)
    config = {"data": data if isinstance(data, str) else "custom", "rate": rate, "budget": budget, "steps": steps,
              "learner": learner, "policy": policy, "queue": queue, "buffer": buffer,
              "replay_fraction": replay_fraction, "drift": drift, "drift_speed": drift_speed,
              "eval_every": eval_every, "batch_size": batch_size, "lr": lr, "seed": seed}  # fmt: skip
    return StreamResult(
        times=np.array(cols[0], np.int64), accuracy=np.array(cols[1]), arrived=arrived,
        fresh=np.array(cols[3], np.int64), exploited=exploited, compute=np.array(cols[5], np.int64),
        throughput=throughput, step_arrived=arrivals, step_budget=budgets, step_fresh=step_fresh,
        step_replayed=step_rep, config=config, model=net.cpu(),
    )  # fmt: skip


@dataclass
class BudgetSweep:
    """A grid of :func:`run_stream` runs for a notebook's sliders, indexed ``[learner, rate, budget, seed]``.

    Attributes:
        learners, rates, budgets, seeds: the grid's axes. times: evaluation times ``(E,)``.
        accuracy: test accuracy curves ``(L, R, B, S, E)``. final_accuracy, mean_accuracy, throughput (final
        exploited/arrived), compute (total sample-gradients): ``(L, R, B, S)``.
    """

    learners: tuple[str, ...]
    rates: tuple[float, ...]
    budgets: tuple[float, ...]
    seeds: tuple[int, ...]
    times: np.ndarray
    accuracy: np.ndarray
    final_accuracy: np.ndarray
    mean_accuracy: np.ndarray
    throughput: np.ndarray
    compute: np.ndarray

    def summary(self, metric: str = "mean_accuracy") -> tuple[np.ndarray, np.ndarray]:
        """Mean and std (ddof=1; 0 for one seed) over seeds of a ``(L, R, B, S)`` metric: two ``(L, R, B)`` arrays."""
        if metric not in ("final_accuracy", "mean_accuracy", "throughput", "compute"):
            raise ValueError(f"metric must be final_accuracy, mean_accuracy, throughput or compute, got {metric!r}")
        v = getattr(self, metric).astype(np.float64)
        std = v.std(axis=-1, ddof=1) if v.shape[-1] > 1 else np.zeros(v.shape[:-1])
        return v.mean(axis=-1), std

    def curve(self, learner: str, rate: float, budget: float) -> np.ndarray:
        """The accuracy curve ``(E,)`` at one grid point, averaged over seeds."""
        for name, value, axis in (("learner", learner, self.learners), ("rate", rate, self.rates),
                                  ("budget", budget, self.budgets)):  # fmt: skip
            if value not in axis:  # tuple.index's "x not in tuple" would not say which one
                raise ValueError(f"{name} must be one of the sweep's {axis}, got {value!r}")
        i, j, k = self.learners.index(learner), self.rates.index(rate), self.budgets.index(budget)
        return self.accuracy[i, j, k].mean(axis=0)


def budget_sweep(
    rates: Sequence[float],
    budgets: Sequence[float],
    *,
    learners: Sequence[str] = LEARNERS,
    seeds: Sequence[int] = (0,),
    progress: bool | None = None,
    **kwargs: Any,
) -> BudgetSweep:
    """Run :func:`run_stream` on every (learner, rate, budget, seed); ``kwargs`` go to every run.

    The data set is loaded once and shared. Returns a :class:`BudgetSweep` (precomputed grid for sliders).
    """
    for name, axis in (("rates", rates), ("budgets", budgets), ("seeds", seeds), ("learners", learners)):
        if isinstance(axis, str) or not isinstance(axis, Iterable):  # "sgd" would be read as learners s, g, d
            raise TypeError(f"{name} must be a sequence, got {axis!r}")
    rates_t, budgets_t, seeds_t = tuple(rates), tuple(budgets), tuple(seeds)
    learners_t = tuple(learners)
    for name, axis in (("rates", rates_t), ("budgets", budgets_t), ("seeds", seeds_t), ("learners", learners_t)):
        if not axis:
            raise ValueError(f"{name} must not be empty")
    for r in rates_t:
        _positive_number("rate", r)
    for c in budgets_t:
        _positive_number("budget", c)
    for s in seeds_t:
        _seed(s, "seeds[i]")  # before any run, not after the grid's first runs
    for name in learners_t:
        if name not in LEARNERS:
            raise ValueError(f"learners must be among {LEARNERS}, got {name!r}")
    data = kwargs.pop("data", "digits")
    if isinstance(data, str):
        data = load(data)
    shape = (len(learners_t), len(rates_t), len(budgets_t), len(seeds_t))
    out: dict[str, Any] = {k: np.zeros(shape) for k in ("final_accuracy", "mean_accuracy", "throughput", "compute")}
    curves: list[np.ndarray] = []
    times = np.zeros(0, np.int64)
    grid = [(i, j, k, s) for i in range(shape[0]) for j in range(shape[1]) for k in range(shape[2])
            for s in range(shape[3])]  # fmt: skip
    for i, j, k, s in tqdm(grid, desc="budget sweep", disable=not progress_enabled(progress)):
        r = run_stream(data, rate=rates_t[j], budget=budgets_t[k], learner=learners_t[i], seed=seeds_t[s], **kwargs)
        times = r.times
        curves.append(r.accuracy)
        out["final_accuracy"][i, j, k, s] = r.final_accuracy
        out["mean_accuracy"][i, j, k, s] = r.mean_accuracy
        out["throughput"][i, j, k, s] = r.final_throughput
        out["compute"][i, j, k, s] = r.compute[-1]
    return BudgetSweep(learners_t, rates_t, budgets_t, seeds_t, times, np.stack(curves).reshape(*shape, -1), **out)
