"""effdl.learning.flad.tasks and study: label maps per kind, no target image in any auxiliary set, K = 200 as
index views, the study's result structure and the step timer (values never asserted)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import effdl
from effdl.learning.flad import KINDS, SETTINGS, FLADTrainer, compare_strategies, derangement, few_shot_suite, step_time


@pytest.fixture(scope="module")
def mnist():
    return effdl.load("mnist5k")


def test_label_maps_per_kind(mnist):
    train, _ = mnist
    digits = train.tensors[1].numpy()
    s = few_shot_suite(n_aux=12, aligned=0.25, noisy=0.25, noise=0.4, aux_size=100, seed=3)
    assert [sum(k == kind for k in s.kinds) for kind in KINDS] == [3, 3, 6]
    sigma = s.permutation
    assert sigma is not None and not (sigma == np.arange(10)).any() and sorted(sigma) == list(range(10))
    for aux in s.auxiliaries:
        true = digits[aux.indices.numpy()]
        y = aux.labels.numpy()
        if aux.kind == "aligned":
            np.testing.assert_array_equal(y, true)
            assert max(abs(v) for v in aux.shift) <= 1
        elif aux.kind == "noisy":
            assert (y != true).sum() == 40  # exactly the noise rate, each changed label another class
        else:
            np.testing.assert_array_equal(y, sigma[true])
            assert aux.shift == (0, 0)
    x, y = s.auxiliaries[0].get_batch(np.array([0, 5]))
    assert x.shape == (2, 1, 28, 28) and y.dtype == torch.long


def test_parity_task_and_independent_permutations(mnist):
    digits = mnist[0].tensors[1].numpy()
    s = few_shot_suite(n_aux=6, aligned=0.0, noisy=0.0, task="parity", shared_permutation=False, aux_size=20)
    assert s.num_classes == 2 and s.permutation is None and set(s.kinds) == {"adversarial"}
    assert s.target_train.tensors[1].max() == 1
    for aux in s.auxiliaries:  # the only derangement of two classes swaps them
        np.testing.assert_array_equal(aux.labels.numpy(), 1 - digits[aux.indices.numpy()] % 2)
    np.testing.assert_array_equal(derangement(2, np.random.default_rng(0)), [1, 0])
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        derangement(3, 0)


def test_no_target_image_in_any_auxiliary_set(mnist):
    _, test = mnist
    s = few_shot_suite(n_aux=200, aux_size=200, shift=0, n_test=500, seed=1)
    used = np.unique(np.concatenate([a.indices.numpy() for a in s.auxiliaries]))
    for split in ("train", "val"):
        assert not np.intersect1d(used, s.target_indices[split]).size
    # pixels, not just indices: no auxiliary image equals any test image
    pool = s.auxiliaries[0].images[torch.from_numpy(used)].flatten(1)
    aux_bytes = {row.numpy().tobytes() for row in pool}
    assert not any(row.numpy().tobytes() in aux_bytes for row in test.tensors[0].flatten(1))  # the whole test split
    assert len(s.target_test) == 500 and len(s.target_train) == 30 and len(s.target_val) == 30
    assert np.bincount(s.target_train.tensors[1].numpy(), minlength=10).tolist() == [3] * 10


def test_k200_is_index_views_over_one_image_tensor():
    s = few_shot_suite(n_aux=200, seed=0)
    ptr = s.auxiliaries[0].images.data_ptr()
    assert s.n_aux == 200 and all(a.images.data_ptr() == ptr for a in s.auxiliaries)
    assert all(len(a) == 200 and a.labels.numel() == 200 for a in s.auxiliaries)
    counts = s.kind_mask("aligned").sum()
    dist = np.where(s.kind_mask("aligned"), 1.0, 0.0)
    assert s.mass_ratio(dist) == pytest.approx(200 / counts)
    assert s.mass_ratio(np.full(200, 1 / 200)) == pytest.approx(1.0)


def test_suite_bad_input():
    for kwargs, msg in [
        (dict(n_aux=0), "n_aux"),
        (dict(aligned=0.8, noisy=0.3), "aligned \\+ noisy"),
        (dict(noise=1.5), "noise"),
        (dict(task="odd"), "task must be one of"),
        (dict(aux_size=0), "aux_size"),
        (dict(n_test=5000), "n_test"),
    ]:
        with pytest.raises(ValueError, match=msg):
            few_shot_suite(**kwargs)


def test_compare_strategies_and_step_time_structure():
    suite = dict(n_aux=4, aux_size=40, n_test=100)
    res = compare_strategies(["exp3", "target_only"], seeds=[0], steps=4, suite=suite, eval_every=2, batch_size=8)
    assert res.strategies == ["exp3", "target_only"]
    assert set(res.summary()) == {"exp3", "target_only"} and res.summary()["exp3"][1] == 0.0
    run = res.runs[0]
    assert 0 <= run.test_accuracy <= 1 and run.distribution.shape == (4,) and run.best_step in (2, 4)
    assert set(run.mass_ratio) == set(KINDS)
    assert "exp3" in res.table()
    with pytest.raises(ValueError, match="strategies must be among"):
        compare_strategies(["exp9"], seeds=[0])
    graded = compare_strategies(["ucb1"], seeds=[0], steps=2, suite=suite, grid={"lr": [1e-3, 1e-2]}, batch_size=8)
    assert len(graded.runs) == 1 and graded.runs[0].params["lr"] in (1e-3, 1e-2)  # one run per (strategy, seed)
    with pytest.raises(ValueError, match="both set"):
        compare_strategies(["ucb1"], seeds=[0], grid={"lr": [1e-3]}, lr=1e-2)
    times = step_time([2, 3], strategies=["exp3"], steps=2, warmup=1, repeats=2, suite=dict(aux_size=20),
                      batch_size=8)  # fmt: skip
    assert set(times) == {("exp3", 2), ("exp3", 3)} and all(t.shape == (2,) and (t > 0).all() for t in times.values())
    with pytest.raises(ValueError, match="K_values must be a non-empty list"):
        step_time([], strategies=["exp3"])  # used to return {} without a word


def test_settings_name_real_arguments():
    suite_args = set(inspect.signature(few_shot_suite).parameters)
    trainer_args = set(inspect.signature(FLADTrainer).parameters)
    for setting in SETTINGS.values():
        assert set(setting["suite"]) <= suite_args
        assert set(setting) - {"seeds", "steps", "suite"} <= trainer_args
