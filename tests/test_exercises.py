import pytest
import torch

from effdl import exercises
from effdl.core.footprint import pareto_front


def test_linear_and_conv_macs(capsys):
    assert exercises.check_linear_macs(784 * 256)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_linear_macs(784 * 256 + 256)
    assert "bias" in capsys.readouterr().out
    assert not exercises.check_linear_macs(None)
    assert "fill in" in capsys.readouterr().out
    assert exercises.check_conv_macs(32 * 14 * 14 * 16 * 9)
    assert not exercises.check_conv_macs(32 * 16 * 9)


def test_pareto_checker_accepts_right_and_catches_wrong_answers(capsys):
    assert exercises.check_pareto_front(lambda pts: pareto_front(pts))

    def forgets_ties(points):  # keeps every point that no other point strictly beats in both coordinates
        return [
            i
            for i, (s, a) in enumerate(points)
            if not any(s2 < s and a2 > a for j, (s2, a2) in enumerate(points) if j != i)
        ]

    assert not exercises.check_pareto_front(forgets_ties)
    assert "trial" in capsys.readouterr().out

    def unfinished(points):
        raise NotImplementedError

    assert not exercises.check_pareto_front(unfinished)
    assert "NotImplementedError" in capsys.readouterr().out


def test_lowrank_params_checker(capsys):
    assert exercises.check_lowrank_params(32 * (784 + 256), 192)
    assert "192" in capsys.readouterr().out
    assert not exercises.check_lowrank_params(32 * (784 + 256) + 256, 192)  # biases are not asked for
    assert not exercises.check_lowrank_params(32 * (784 + 256), 193)  # 193 · 1040 > 784 · 256
    assert exercises.check_lowrank_params(2 * 8, 1, in_features=4, out_features=4, rank=2)  # r < 16/8: r = 1
    assert not exercises.check_lowrank_params(None, 192)
    assert "fill in" in capsys.readouterr().out


def test_truncated_svd_checker_compares_with_eckart_young(capsys):
    import torch

    def best(a, r):
        u, s, vh = torch.linalg.svd(a, full_matrices=False)
        return u[:, :r] @ torch.diag(s[:r]) @ vh[:r]

    def smallest(a, r):  # keeps the r smallest singular values
        u, s, vh = torch.linalg.svd(a, full_matrices=False)
        return u[:, -r:] @ torch.diag(s[-r:]) @ vh[-r:]

    def full(a, r):  # no truncation at all
        return a

    def unfinished(a, r):
        raise NotImplementedError

    assert exercises.check_truncated_svd(best)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_truncated_svd(smallest)
    assert "optimum" in capsys.readouterr().out
    assert not exercises.check_truncated_svd(full)
    assert "has rank" in capsys.readouterr().out
    assert not exercises.check_truncated_svd(unfinished)
    assert "NotImplementedError" in capsys.readouterr().out
    assert not exercises.check_truncated_svd(None)


def test_softened_checker(capsys):
    import math

    z = [3.0, 1.0, 0.2]
    e = [math.exp(v / 2) for v in z]
    assert exercises.check_softened([v / sum(e) for v in e])
    assert "✅" in capsys.readouterr().out
    plain = [math.exp(v) / sum(math.exp(u) for u in z) for v in z]
    assert not exercises.check_softened(plain)
    assert "divide every logit by T" in capsys.readouterr().out
    assert not exercises.check_softened([0.5, 0.5])
    assert not exercises.check_softened(None)
    assert "fill in" in capsys.readouterr().out


def test_kd_loss_checker_accepts_right_and_names_common_slips(capsys):
    import torch
    import torch.nn.functional as F

    from effdl.compress.distill import kd_loss

    def right(s, t, y, T, alpha):
        return kd_loss(s, t, y, T=T, alpha=alpha)

    def no_t2(s, t, y, T, alpha):
        kl = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), reduction="batchmean", log_target=True)
        return alpha * kl + (1 - alpha) * F.cross_entropy(s, y)

    def soft_ce(s, t, y, T, alpha):
        ce_soft = -(torch.softmax(t / T, -1) * F.log_softmax(s / T, -1)).sum(-1).mean()
        return alpha * T * T * ce_soft + (1 - alpha) * F.cross_entropy(s, y)

    def unfinished(s, t, y, T, alpha):
        raise NotImplementedError

    assert exercises.check_kd_loss(right)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_kd_loss(no_t2)
    assert "T² factor" in capsys.readouterr().out
    assert not exercises.check_kd_loss(soft_ce)
    assert "teacher's entropy" in capsys.readouterr().out
    assert not exercises.check_kd_loss(unfinished)
    assert "NotImplementedError" in capsys.readouterr().out
    assert not exercises.check_kd_loss(None)


def test_affine_qparams_checker(capsys):
    assert exercises.check_affine_qparams((4 / 255, 64))
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_affine_qparams((4 / 256, 64))
    assert "255 steps" in capsys.readouterr().out
    assert not exercises.check_affine_qparams((4 / 255, 63))
    assert "round 63.75" in capsys.readouterr().out
    assert not exercises.check_affine_qparams("0.1")
    assert not exercises.check_affine_qparams(None)


def test_symmetric_quantize_checker_names_the_slips(capsys):
    def right(x, bits):
        scale = x.abs().max() / (2 ** (bits - 1) - 1)
        return torch.round(x / scale)

    assert exercises.check_symmetric_quantize(right)
    assert "✅" in capsys.readouterr().out

    def floor(x, bits):
        return torch.floor(x / (x.abs().max() / (2 ** (bits - 1) - 1)))

    assert not exercises.check_symmetric_quantize(floor)
    assert "use round, not floor" in capsys.readouterr().out

    def full_range(x, bits):
        return torch.round(x / (x.abs().max() / 2 ** (bits - 1))).clamp(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)

    assert not exercises.check_symmetric_quantize(full_range)
    assert "not by 2**(bits-1)" in capsys.readouterr().out

    def todo(x, bits):
        raise NotImplementedError

    assert not exercises.check_symmetric_quantize(todo)
    assert "still raises NotImplementedError" in capsys.readouterr().out
    assert not exercises.check_symmetric_quantize(lambda x, bits: x[:3])
    assert "one code per element" in capsys.readouterr().out


def test_transformer_params_checker(capsys):
    from effdl.core.models import TinyTransformer

    truth = TinyTransformer(98, width=64, depth=2, heads=2, context=64).num_params()
    assert exercises.check_transformer_params(truth)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_transformer_params(truth + 98 * 64)
    assert "tied" in capsys.readouterr().out
    assert not exercises.check_transformer_params(truth - 64 * 64)
    assert "position embedding" in capsys.readouterr().out
    assert not exercises.check_transformer_params(12345)
    assert "Per block" in capsys.readouterr().out
    assert not exercises.check_transformer_params(None)
    assert exercises.check_transformer_params(
        TinyTransformer.param_count_formula(98, 32, 1, 16), width=32, depth=1, context=16
    )


def test_unigram_entropy_checker(capsys):
    import math

    # abracadabra: a 5/11, b 2/11, r 2/11, c 1/11, d 1/11
    p = [5 / 11, 2 / 11, 2 / 11, 1 / 11, 1 / 11]
    h = -sum(q * math.log2(q) for q in p)
    assert exercises.check_unigram_entropy(h)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_unigram_entropy(h * math.log(2))
    assert "nats" in capsys.readouterr().out
    assert not exercises.check_unigram_entropy(math.log2(5))
    assert "equally likely" in capsys.readouterr().out
    assert exercises.check_unigram_entropy(1.0, text="abab")


def test_range_penalty_checker(capsys):
    # W = [[0.4, -1.5], [0.9, -0.2]], M = 0.5: L∞ = 1.5; margin = 1.0² + 0.4² + 0.5 = 1.66
    assert exercises.check_range_penalties(1.5, 1.66)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_range_penalties(0.9, 1.66)
    assert "largest absolute value" in capsys.readouterr().out
    assert not exercises.check_range_penalties(3.0, 1.66)
    assert "L1 norm" in capsys.readouterr().out
    assert not exercises.check_range_penalties(1.5, 1.16)
    assert "+ |M| term" in capsys.readouterr().out
    assert not exercises.check_range_penalties(1.5, 1.9)
    assert "square each excess" in capsys.readouterr().out
    assert not exercises.check_range_penalties(1.5, 0.66)
    assert "negative weights" in capsys.readouterr().out
    assert not exercises.check_range_penalties(None, 1.66)
    assert "fill in" in capsys.readouterr().out
    assert exercises.check_range_penalties(2.0, 1.0**2 + 0.0 + 1.0, weight=[[2.0, -1.0]], M=1.0)


def test_soft_max_min_checker(capsys):
    def right(w, alpha):
        f = w.flatten()
        return (f * torch.softmax(alpha * f, 0)).sum(), (f * torch.softmax(-alpha * f, 0)).sum()

    def naive(w, alpha):
        f = w.flatten()
        e, e_neg = torch.exp(alpha * f), torch.exp(-alpha * f)
        return (f * e).sum() / e.sum(), (f * e_neg).sum() / e_neg.sum()

    def log_sum_exp(w, alpha):
        f = w.flatten()
        if alpha == 0:
            return f.mean(), f.mean()
        return torch.logsumexp(alpha * f, 0) / alpha, -torch.logsumexp(-alpha * f, 0) / alpha

    assert exercises.check_soft_max_min(right)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_soft_max_min(naive)
    assert "overflows" in capsys.readouterr().out
    assert not exercises.check_soft_max_min(log_sum_exp)
    assert "log-sum-exp" in capsys.readouterr().out
    assert not exercises.check_soft_max_min(lambda w, a: right(w, a)[::-1])
    assert "swapped" in capsys.readouterr().out
    assert not exercises.check_soft_max_min(lambda w, a: (w.max(), w.min()))
    assert "expected" in capsys.readouterr().out
    assert not exercises.check_soft_max_min(None)


def test_lzss_decode_checker(capsys):
    assert exercises.check_lzss_decode("abababacabac")
    assert "5 tokens" in capsys.readouterr().out
    assert not exercises.check_lzss_decode("ababcbabc")  # each match copied once, without overlap
    assert "one symbol at a time" in capsys.readouterr().out
    assert not exercises.check_lzss_decode("abababac")
    assert "12 symbols" in capsys.readouterr().out
    assert not exercises.check_lzss_decode("abababacabaX")
    assert "source" in capsys.readouterr().out
    assert not exercises.check_lzss_decode(None)
    assert "fill in" in capsys.readouterr().out
    assert exercises.check_lzss_decode(
        b"xyxyxyxyz", tokens=(("literal", "x"), ("literal", "y"), ("match", 6, 2), ("literal", "z"))
    )


def test_lzss_blob_size_checker(capsys):
    from effdl.hardware import lzss

    truth = len(lzss.compress(exercises.lzss_exercise_input(), symbol_size=2, window=64, chunk=512))
    assert exercises.check_lzss_blob_size(truth)
    assert "20 (header) + 24 (tables)" in capsys.readouterr().out
    assert not exercises.check_lzss_blob_size(truth - 24)
    assert "two tables" in capsys.readouterr().out
    assert not exercises.check_lzss_blob_size(truth - 4)
    assert "CRC32" in capsys.readouterr().out
    assert not exercises.check_lzss_blob_size(truth + 1)
    assert "add: header 20" in capsys.readouterr().out
    assert exercises.check_lzss_blob_size(
        len(lzss.compress(b"aaaaa", symbol_size=1, window=4, chunk=8)), data=b"aaaaa", symbol_size=1, window=4, chunk=8
    )


def _one_tensor_trace(lifetime_cycles: int):
    """Two vector ops; op 0 writes a tensor that op 1's backward reads last: under the standard schedule it lives
    op 1's forward + backward, ``2 · ceil(vector_elems / 16)`` cycles on the default 16-lane array."""
    from effdl.hardware import edram

    assert lifetime_cycles % 2 == 0
    ops = (edram.Op("a", vector_elems=16), edram.Op("b", vector_elems=16 * (lifetime_cycles // 2)))
    return edram.Trace(ops, stored=(edram.Stored("t", 8, "t", 0, (1,)),))


@pytest.mark.parametrize(("lifetime_us", "retention_us"), [(11.0, 3.35), (3.0, 3.35), (6.7, 3.35), (20.0, 1.0)])
def test_refresh_count_checker_agrees_with_the_simulator(capsys, lifetime_us, retention_us):
    from effdl.hardware import edram

    res = edram.simulate(
        _one_tensor_trace(round(lifetime_us * 1000)), memory=edram.Memory(retention_s=retention_us * 1e-6)
    )
    (tensor,) = res.tensors
    assert tensor.lifetime_s == pytest.approx(lifetime_us * 1e-6) and tensor.where == "onchip"
    # The exercise counts one tensor's own refreshes: the simulator's per-tensor model (refresh="tensor").
    n = res.tensor_refreshes
    assert exercises.check_refresh_count(n, lifetime_us=lifetime_us, retention_us=retention_us)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_refresh_count(n + 1, lifetime_us=lifetime_us, retention_us=retention_us)


def test_refresh_count_checker_hints(capsys):
    assert exercises.check_refresh_count(3)  # 11 µs / 3.35 µs = 3.28 periods -> 3 refreshes
    capsys.readouterr()
    assert not exercises.check_refresh_count(4)
    assert "last period" in capsys.readouterr().out
    assert not exercises.check_refresh_count(4, lifetime_us=11.0, retention_us=2.0)  # 5.5 periods -> 5, not 4
    assert "round the periods up" in capsys.readouterr().out
    assert not exercises.check_refresh_count(None)
    assert "fill in" in capsys.readouterr().out
    with pytest.raises(ValueError, match="retention_us"):
        exercises.check_refresh_count(1, retention_us=0)


def test_coupling_inverse_checker(capsys):
    def right(block, y):
        y1, y2 = y.chunk(2, dim=1)
        x2 = y2 - block.g(y1)
        return torch.cat((y1 - block.f(x2), x2), dim=1)

    def swapped(block, y):  # F and G exchanged
        y1, y2 = y.chunk(2, dim=1)
        x2 = y2 - block.f(y1)
        return torch.cat((y1 - block.g(x2), x2), dim=1)

    def halves_reversed(block, y):
        x1, x2 = right(block, y).chunk(2, dim=1)
        return torch.cat((x2, x1), dim=1)

    assert exercises.check_coupling_inverse(right)
    assert "✅" in capsys.readouterr().out
    assert not exercises.check_coupling_inverse(swapped)
    assert "G, not F" in capsys.readouterr().out
    assert not exercises.check_coupling_inverse(halves_reversed)
    assert "wrong order" in capsys.readouterr().out
    assert not exercises.check_coupling_inverse(lambda block, y: y)
    assert "undo the last step first" in capsys.readouterr().out
    assert not exercises.check_coupling_inverse(lambda block, y: y[:, :1])
    assert "x's shape" in capsys.readouterr().out
    with pytest.raises(TypeError, match="callable"):
        exercises.check_coupling_inverse(3)


FUNCTION_CHECKERS = [
    "check_pareto_front",
    "check_magnitude_prune",
    "check_truncated_svd",
    "check_kd_loss",
    "check_symmetric_quantize",
    "check_soft_max_min",
    "check_coupling_inverse",
]


@pytest.mark.parametrize("name", FUNCTION_CHECKERS)
@pytest.mark.parametrize("template", ["raise", "none"])
def test_an_unfinished_template_answers_not_yet(name, template, capsys, monkeypatch):
    """The notebook's template (raise NotImplementedError, or a body that returns None) is "not yet", never a
    traceback from inside the checker."""
    monkeypatch.delenv(exercises.STRICT_ENV, raising=False)

    def todo(*args):
        if template == "raise":
            raise NotImplementedError

    assert getattr(exercises, name)(todo) is False
    out = capsys.readouterr().out
    assert "not yet" in out and ("NotImplementedError" in out if template == "raise" else "None" in out)


def test_solutions_mode_raises_on_not_yet_and_passes_right_answers(monkeypatch, capsys):
    monkeypatch.setenv(exercises.STRICT_ENV, "1")
    assert exercises.strict()
    with pytest.raises(exercises.ExerciseNotSolved):
        exercises.check_linear_macs(None)
    with pytest.raises(exercises.ExerciseNotSolved):
        exercises.check_linear_macs(1)
    with pytest.raises(exercises.ExerciseNotSolved, match="NotImplementedError"):
        exercises.check_magnitude_prune(lambda w, s: (_ for _ in ()).throw(NotImplementedError))
    assert exercises.check_linear_macs(784 * 256) is True
    monkeypatch.setenv(exercises.STRICT_ENV, "0")
    assert not exercises.strict() and exercises.check_linear_macs(1) is False
