import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from effdl.core.train import EvalResult, evaluate, fit, seed_everything


def blobs(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    centers = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    x = centers[y] + 0.5 * torch.randn(n, 2, generator=g)
    return x, y


def test_fit_learns_a_separable_problem_and_evaluate_reports_it():
    x, y = blobs()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    hist = fit(model, (x, y), epochs=5, lr=1e-2, batch_size=32, val=(x, y), progress=False)
    assert hist.epoch == [1, 2, 3, 4, 5]
    assert hist.steps == 5 * 8 == len(hist.step_loss)
    assert hist.train_loss[-1] < hist.train_loss[0]
    res = evaluate(model, (x, y))
    assert isinstance(res, EvalResult) and res.n == 256
    assert res.accuracy > 0.95
    assert hist.val_accuracy[-1] == pytest.approx(res.accuracy)


def test_same_seed_same_run_different_seed_different_run():
    x, y = blobs()

    def run(seed):
        seed_everything(seed)
        model = nn.Linear(2, 3)
        fit(model, (x, y), epochs=2, batch_size=16, seed=seed, progress=False)
        return model.weight.detach().clone()

    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_extra_loss_module_parameters_are_trained_and_max_steps_stops():
    x, y = blobs()

    class Pull(nn.Module):  # a regularizer with a learnable parameter, like R²'s margin
        def __init__(self):
            super().__init__()
            self.m = nn.Parameter(torch.tensor(5.0))

        def forward(self, model):
            return self.m**2

    reg = Pull()
    model = nn.Linear(2, 3)
    hist = fit(model, (x, y), epochs=3, lr=0.1, extra_loss=reg, max_steps=7, batch_size=32, progress=False)
    assert hist.steps == 7
    assert reg.m.item() < 5.0


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_extra_loss_parameters_get_no_weight_decay(optimizer):
    x, y = blobs()

    class Idle(nn.Module):  # a regularizer parameter with a zero gradient: only weight decay could move it
        def __init__(self):
            super().__init__()
            self.alpha = nn.Parameter(torch.tensor(5.0))

        def forward(self, model):
            return 0.0 * self.alpha

    reg = Idle()
    model = nn.Linear(2, 3)
    w0 = model.weight.detach().clone()
    fit(model, (x, y), lr=0.1, optimizer=optimizer, weight_decay=0.5, extra_loss=reg, max_steps=5, progress=False)
    assert reg.alpha.grad is not None and reg.alpha.grad.item() == 0.0  # it was in the graph, with zero gradient
    assert reg.alpha.item() == 5.0  # under decay 0.5 it would have shrunk (SGD: 5 steps of x(1 - 0.05) and momentum)
    assert not torch.equal(model.weight.detach(), w0)  # the model's own weights did train
    # The same parameter as a model weight under the same decay does move: the group is what protects it.
    opt = torch.optim.SGD([{"params": [nn.Parameter(torch.tensor(5.0))]}], lr=0.1, weight_decay=0.5)
    (p,) = opt.param_groups[0]["params"]
    p.grad = torch.zeros(())
    opt.step()
    assert p.item() == pytest.approx(5.0 * (1 - 0.1 * 0.5))


def test_callable_optimizer_gets_the_parameter_groups():
    x, y = blobs()

    class Pull(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = nn.Parameter(torch.tensor(1.0))

        def forward(self, model):
            return self.m**2

    seen = []

    def make(groups):
        seen.append([dict(g) for g in groups])  # copies: the optimizer fills in its defaults
        return torch.optim.SGD(groups, lr=0.1, weight_decay=0.1)

    fit(nn.Linear(2, 3), (x, y), optimizer=make, extra_loss=Pull(), max_steps=2, progress=False)
    (groups,) = seen
    assert [len(g["params"]) for g in groups] == [2, 1]  # model weight + bias; the regularizer's parameter
    assert "weight_decay" not in groups[0] and groups[1]["weight_decay"] == 0.0


def test_callback_sees_every_step_and_sequence_outputs_work():
    # (B, T, V) logits with (B, T) targets, as a language model produces.
    x = torch.randint(0, 5, (32, 6))
    model = nn.Embedding(5, 5)
    steps = []
    fit(model, (x, x), epochs=1, batch_size=8, callback=lambda s, m: steps.append(s), progress=False)
    assert steps == [1, 2, 3, 4]
    assert evaluate(model, (x, x)).n == 32 * 6


def test_evaluate_restores_training_flag():
    model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5))
    model.train()
    evaluate(model, blobs(32))
    assert model.training


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": -1}, "epochs must be an int ≥ 1"),
        ({"epochs": 0}, "epochs must be an int ≥ 1"),
        ({"lr": 0}, "lr must be a positive"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of"),
        ({"batch_size": 0}, "batch_size must be a positive int"),
        ({"schedule": "step"}, "schedule must be one of"),
        ({"max_steps": 0}, "max_steps"),
        ({"seed": -3}, "seed must be"),
    ],
)
def test_bad_arguments_get_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(nn.Linear(2, 3), blobs(16), progress=False, **kwargs)


def test_wrong_input_shape_and_labels_are_explained():
    x, y = blobs(16)
    with pytest.raises(ValueError, match=r"could not run on a batch of inputs of shape \(16, 2\)"):
        fit(nn.Linear(5, 3), (x, y), progress=False, batch_size=16)
    with pytest.raises(ValueError, match="outputs 2 classes"):
        fit(nn.Linear(2, 2), (x, y), progress=False)
    with pytest.raises(TypeError, match="train must be a DataLoader"):
        fit(nn.Linear(2, 3), [1, 2, 3], progress=False)
    with pytest.raises(
        ValueError, match=r"train's inputs and targets must have the same length.*\(16, 2\) and \(15,\)"
    ):
        fit(nn.Linear(2, 3), (x, y[:15]), progress=False)
    with pytest.raises(ValueError, match="data's inputs and targets must have the same length"):
        evaluate(nn.Linear(2, 3), (x, torch.tensor(1)))
    with pytest.raises(TypeError, match="model must be"):
        fit("model", (x, y))
    with pytest.raises(ValueError, match=r"no CUDA device|device"):
        if torch.cuda.is_available():
            raise ValueError("device")  # the check only applies on machines without CUDA
        fit(nn.Linear(2, 3), (x, y), device="cuda", progress=False)


def test_dataloader_is_used_as_given_and_cosine_schedule_runs():
    x, y = blobs(64)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    hist = fit(nn.Linear(2, 3), loader, epochs=2, schedule="cosine", optimizer="sgd", lr=0.1, progress=False)
    assert hist.steps == 8 and len(hist.seconds) == 2


def test_a_loss_can_use_the_input_batch_and_train_its_own_parameters():
    x, y = blobs(64)
    seen_shapes = []

    class WithProjection(nn.Module):  # like a distillation hint loss: a learned projection inside the loss
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(2, 3)

        def forward(self, outputs, targets, inputs):
            seen_shapes.append(tuple(inputs.shape))
            return nn.functional.cross_entropy(outputs, targets) + (self.proj(inputs) - outputs.detach()).pow(2).mean()

    crit = WithProjection()
    before = crit.proj.weight.detach().clone()
    fit(nn.Linear(2, 3), (x, y), epochs=1, batch_size=16, loss=crit, progress=False)
    assert seen_shapes == [(16, 2)] * 4
    assert not torch.equal(before, crit.proj.weight)
    # A plain two-argument function still works, and evaluate uses the same convention.
    assert evaluate(nn.Linear(2, 3), (x, y), loss=lambda o, t: (o - o).sum()).loss == 0.0
    assert evaluate(nn.Linear(2, 3), (x, y), loss=lambda o, t, i: i.sum() * 0).loss == 0.0
