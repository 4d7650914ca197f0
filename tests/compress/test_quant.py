import itertools

import pytest
import torch

from effdl.compress import quant as Q


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------------------------------
# Ranges, dtypes, known parameters


@pytest.mark.parametrize(
    ("bits", "symmetric", "qmin", "qmax", "dtype"),
    [
        (1, True, -1, 1, torch.int8),
        (2, True, -2, 1, torch.int8),
        (4, True, -8, 7, torch.int8),
        (8, True, -128, 127, torch.int8),
        (16, True, -32768, 32767, torch.int16),
        (1, False, 0, 1, torch.int8),
        (7, False, 0, 127, torch.int8),
        (8, False, 0, 255, torch.int16),
        (16, False, 0, 65535, torch.int32),
    ],
)
def test_ranges_and_code_dtype(bits, symmetric, qmin, qmax, dtype):
    qp = Q.calibrate(randn(5, 7), bits=bits, symmetric=symmetric)
    assert (qp.qmin, qp.qmax) == (qmin, qmax)
    assert qp.levels == 2**bits
    assert Q.code_dtype(qp) == dtype
    codes = Q.quantize(randn(5, 7, seed=1) * 3, qp)
    assert codes.dtype == dtype
    assert int(codes.min()) >= qmin and int(codes.max()) <= qmax


@pytest.mark.parametrize(
    ("grid", "bits", "qmin", "qmax", "levels"),
    [
        ("restricted", 2, -1, 1, 3),
        ("restricted", 8, -127, 127, 255),
        ("restricted", 16, -32767, 32767, 65535),
        ("midrise", 2, -2, 1, 4),
        ("midrise", 8, -128, 127, 256),
        ("full", 3, -4, 3, 8),
    ],
)
def test_grid_ranges(grid, bits, qmin, qmax, levels):
    qp = Q.calibrate(randn(5, 7), bits=bits, grid=grid)
    assert (qp.qmin, qp.qmax, qp.levels, qp.grid) == (qmin, qmax, levels, grid)


@pytest.mark.parametrize("bits", [2, 3, 4])
def test_full_and_midrise_grids_use_all_codes_on_a_gaussian(bits):
    # Acceptance (issue 14): b-bit symmetric quantization uses all 2**b levels by default, so it compares with a
    # 2**b-centroid k-means palette at equal levels. The lowest code needs a value below -(1 - 2**-b) * max|x|:
    # 10,000 Gaussian samples (seed 0) have one on both tails.
    x = randn(10_000)
    for grid in ("full", "midrise"):
        assert Q.fake_quantize(x, Q.calibrate(x, bits=bits, symmetric=True, grid=grid)).unique().numel() == 2**bits
    # the restricted range throws one code away: 2**b - 1 values (ternary at 2 bits)
    qp = Q.calibrate(x, bits=bits, symmetric=True, grid="restricted")
    assert Q.fake_quantize(x, qp).unique().numel() == 2**bits - 1


def test_full_grid_by_hand():
    # max|x| = 2 at 2 bits: step 2 / 2 = 1, levels -2, -1, 0, 1; 1.6 saturates to 1, -2 is exact.
    x = torch.tensor([-2.0, -1.4, -0.4, 0.6, 1.6])
    qp = Q.calibrate(x, bits=2)
    assert float(qp.scale) == 1.0 and qp.grid == "full"
    assert Q.quantize(x, qp).tolist() == [-2, -1, 0, 1, 1]


def test_midrise_grid_by_hand():
    # max|x| = 2 at 2 bits: four cells of width 1 on [-2, 2], coded by their centres -1.5, -0.5, 0.5, 1.5.
    x = torch.tensor([-2.0, -1.2, -0.1, 0.0, 0.9, 2.0])
    qp = Q.calibrate(x, bits=2, grid="midrise")
    assert float(qp.scale) == 1.0
    codes = Q.quantize(x, qp)
    assert codes.tolist() == [-2, -2, -1, 0, 0, 1]
    assert Q.dequantize(codes, qp).tolist() == [-1.5, -1.5, -0.5, 0.5, 0.5, 1.5]
    torch.testing.assert_close(Q.fake_quantize(x, qp), Q.dequantize(codes, qp))
    lo, hi = qp.clip_range
    assert (float(lo), float(hi)) == (-2.0, 2.0)


def test_restricted_grid_by_hand():
    qp = Q.calibrate(torch.tensor([-1.0, 1.0]), bits=4, grid="restricted")
    codes = Q.quantize(torch.tensor([-5.0, 5.0, 0.3, -1.0]), qp)
    assert codes.tolist() == [-7, 7, 2, -7]  # scale 1/7: 0.3 * 7 = 2.1 -> 2


def test_bad_grid_is_rejected():
    with pytest.raises(ValueError, match="grid must be one of"):
        Q.calibrate(randn(4), bits=4, grid="ternary")
    with pytest.raises(ValueError, match="symmetric quantization only"):
        Q.calibrate(randn(4), bits=4, symmetric=False, grid="midrise")


X = torch.tensor([[1.0, -2.0, 0.5], [0.25, 0.1, -0.5]])


def test_per_channel_symmetric_scales_by_hand():
    qp = Q.calibrate(X, bits=8, axis=0)  # full grid: max|x| / 2**7
    torch.testing.assert_close(qp.scale, torch.tensor([2.0, 0.5]) / 128)
    assert qp.axis == 0 and qp.zero_point.tolist() == [0.0, 0.0]
    qp = Q.calibrate(X, bits=8, axis=-1)  # columns
    assert qp.axis == 1
    torch.testing.assert_close(qp.scale, torch.tensor([1.0, 2.0, 0.5]) / 128)
    qp = Q.calibrate(X, bits=8)  # per tensor
    assert qp.scale.shape == () and float(qp.scale) == pytest.approx(2.0 / 128)
    qp = Q.calibrate(X, bits=8, axis=0, grid="restricted")  # max|x| / (2**7 - 1)
    torch.testing.assert_close(qp.scale, torch.tensor([2.0, 0.5]) / 127)


def test_per_channel_affine_by_hand():
    # row 0: [-2, 1] over 3 steps -> scale 1, zero point 2; row 1: [-0.5, 0.25] -> scale 0.25, zero point 2
    qp = Q.calibrate(X, bits=2, symmetric=False, axis=0)
    assert qp.scale.tolist() == [1.0, 0.25]
    assert qp.zero_point.tolist() == [2.0, 2.0]
    codes = Q.quantize(X, qp)
    assert codes.tolist() == [[3, 0, 2], [3, 2, 0]]  # 0.5 -> round(0.5)=0 (half to even) +2; 0.1/0.25=0.4 -> 0 +2
    torch.testing.assert_close(Q.dequantize(codes, qp), torch.tensor([[1.0, -2.0, 0.0], [0.25, 0.0, -0.5]]))


def test_one_bit_symmetric_is_sign_binarization():
    x = torch.tensor([-0.3, 0.0, 0.2, 1.0])
    qp = Q.calibrate(x, bits=1)
    assert float(qp.scale) == pytest.approx(0.375)  # mean|x| = 1.5 / 4 (BWN / XNOR-Net), not max|x|
    codes = Q.quantize(x, qp)
    assert codes.tolist() == [-1, 1, 1, 1] and codes.dtype == torch.int8
    assert Q.dequantize(codes, qp).tolist() == [-0.375, 0.375, 0.375, 0.375]
    assert Q.fake_quantize(x, qp).tolist() == [-0.375, 0.375, 0.375, 0.375]


@pytest.mark.parametrize("observer", Q.OBSERVERS)
@pytest.mark.parametrize("axis", [None, 0])
def test_one_bit_scale_is_mean_abs_and_least_squares(observer, axis):
    x = randn(4, 300) * torch.tensor([0.1, 1.0, 3.0, 0.0])[:, None]
    qp = Q.calibrate(x, bits=1, axis=axis, observer=observer)
    expected = x.abs().mean() if axis is None else torch.where(x.abs().mean(1) > 0, x.abs().mean(1), 1.0)
    torch.testing.assert_close(qp.scale, expected)
    # mean|x| minimizes ‖x − s·sign(x)‖²: every other scale does worse (row 0, per tensor or its own slice).
    sign = torch.where(x >= 0, 1.0, -1.0)
    s0 = float(qp.scale) if axis is None else float(qp.scale[0])
    row = x if axis is None else x[0]
    sgn = sign if axis is None else sign[0]
    best = float((row - s0 * sgn).pow(2).sum())
    for factor in (0.8, 0.95, 1.05, 1.25, 2.0):
        assert float((row - factor * s0 * sgn).pow(2).sum()) > best


# ------------------------------------------------------------------------------------------------------
# Round trip error


@pytest.mark.parametrize(
    ("bits", "symmetric", "axis"),
    list(itertools.product([2, 3, 4, 8, 12, 16], [True, False], [None, 0, 1])),
)
def test_round_trip_error_at_most_half_step(bits, symmetric, axis):
    # The grids with no saturation under min/max: restricted symmetric, mid-rise symmetric, affine.
    for grid in ("restricted", "midrise") if symmetric else ("full",):
        _round_trip(bits, symmetric, axis, grid)


@pytest.mark.parametrize(("bits", "axis"), list(itertools.product([2, 4, 8], [None, 0])))
def test_full_grid_error_at_most_one_step_and_half_inside(bits, axis):
    # The full signed grid ends one step short of +max|x|: the top values saturate by at most one step.
    x = randn(6, 50, seed=bits) * torch.linspace(0.1, 5.0, 6)[:, None] + 0.3
    qp = Q.calibrate(x, bits=bits, axis=axis)
    err = (Q.fake_quantize(x, qp) - x).abs()
    scale = qp.scale if axis is None else qp.scale[:, None]
    slack = 4 * torch.finfo(torch.float32).eps * x.abs()
    assert bool((err <= scale + slack).all())
    lo, hi = qp.clip_range
    lo, hi = (lo, hi) if axis is None else (lo[:, None], hi[:, None])
    inside = (x >= lo) & (x <= hi)
    assert bool((err[inside] <= (scale / 2 + slack).expand_as(x)[inside]).all())


def _round_trip(bits, symmetric, axis, grid):
    x = randn(6, 50, seed=bits) * torch.linspace(0.1, 5.0, 6)[:, None] + 0.3
    qp = Q.calibrate(x, bits=bits, symmetric=symmetric, axis=axis, grid=grid)
    codes = Q.quantize(x, qp)
    assert codes.dtype == Q.code_dtype(qp)
    assert int(codes.min()) >= qp.qmin and int(codes.max()) <= qp.qmax
    x_hat = Q.dequantize(codes, qp)
    scale = qp.scale if axis is None else qp.scale.reshape([-1 if d == axis else 1 for d in range(2)])
    slack = 4 * torch.finfo(torch.float32).eps * x.abs()  # float32 rounding of x / scale and code * scale
    assert bool(((x_hat - x).abs() <= scale / 2 + slack).all())
    torch.testing.assert_close(Q.fake_quantize(x, qp), x_hat)


def test_zero_is_exact_and_all_zero_channel_is_fine():
    x = torch.tensor([[0.0, 0.0], [0.0, 3.0], [1.0, 2.0]])
    for symmetric in (True, False):
        qp = Q.calibrate(x, bits=4, symmetric=symmetric, axis=0)
        x_hat = Q.dequantize(Q.quantize(x, qp), qp)
        assert x_hat[0].tolist() == [0.0, 0.0] and float(x_hat[1, 0]) == 0.0


def test_values_outside_range_saturate():
    qp = Q.calibrate(torch.tensor([-1.0, 1.0]), bits=4)
    codes = Q.quantize(torch.tensor([-5.0, 5.0, 0.3, -1.0]), qp)
    assert codes.tolist() == [qp.qmin, qp.qmax, 2, -8]  # scale 1/8: 0.3 * 8 = 2.4 -> 2
    qp = Q.calibrate(torch.tensor([0.0, 3.0]), bits=2, symmetric=False)
    assert Q.quantize(torch.tensor([-1.0, 9.0]), qp).tolist() == [0, 3]


# ------------------------------------------------------------------------------------------------------
# Observers


def outlier_tensor() -> torch.Tensor:
    x = randn(2000, seed=3)
    x[0] = 50.0
    return x


@pytest.mark.parametrize("symmetric", [True, False])
def test_mse_beats_minmax_and_percentile_shrinks_range_on_outlier(symmetric):
    x = outlier_tensor()

    def err(qp):
        return float((Q.fake_quantize(x, qp) - x).pow(2).mean())

    mm = Q.calibrate(x, bits=4, symmetric=symmetric)
    mse = Q.calibrate(x, bits=4, symmetric=symmetric, observer="mse")
    pct = Q.calibrate(x, bits=4, symmetric=symmetric, observer="percentile", percentile=99.0)
    assert err(mse) < err(mm)
    assert float(pct.scale) < float(mm.scale)
    lo, hi = pct.clip_range
    assert float(hi - lo) < float(x.max() - min(float(x.min()), 0.0))


def test_mse_never_worse_than_minmax_per_channel():
    x = randn(4, 300, seed=5)
    x[1, 0] = 10.0
    mm = Q.calibrate(x, bits=3, axis=0)
    mse = Q.calibrate(x, bits=3, axis=0, observer="mse")
    e_mm = (Q.fake_quantize(x, mm) - x).pow(2).mean(dim=1)
    e_mse = (Q.fake_quantize(x, mse) - x).pow(2).mean(dim=1)
    assert bool((e_mse <= e_mm).all()) and float(e_mse[1]) < float(e_mm[1])


def test_percentile_100_equals_minmax():
    x = randn(3, 40)
    for symmetric in (True, False):
        a = Q.calibrate(x, bits=8, symmetric=symmetric, axis=0)
        b = Q.calibrate(x, bits=8, symmetric=symmetric, axis=0, observer="percentile", percentile=100)
        torch.testing.assert_close(a.scale, b.scale)
        torch.testing.assert_close(a.zero_point, b.zero_point)


# ------------------------------------------------------------------------------------------------------
# Straight-through estimator


@pytest.mark.parametrize("symmetric", [True, False])
def test_ste_gradient_is_one_inside_zero_outside(symmetric):
    qp = Q.calibrate(torch.tensor([-1.0, 1.0]), bits=4, symmetric=symmetric)
    x = torch.tensor([-3.0, -0.4, 0.0, 0.3, 0.85, 2.0], requires_grad=True)  # full grid: top level 7/8
    y = Q.fake_quantize(x, qp)
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    torch.testing.assert_close(y.detach(), Q.dequantize(Q.quantize(x.detach(), qp), qp))


def test_ste_per_channel_and_dtype():
    x = torch.tensor([[0.5, 5.0], [0.5, 5.0]], dtype=torch.float64, requires_grad=True)
    qp = Q.QParams(torch.tensor([0.1, 1.0]), torch.zeros(2), 8, True, 0)  # rows clip at 12.7 and 127
    y = Q.fake_quantize(x[:, :1].expand(2, 2) * 60, qp)  # 30: outside row 0's range, inside row 1's
    assert y.dtype == torch.float64
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [120.0, 0.0]]


# ------------------------------------------------------------------------------------------------------
# Validation


def test_bad_bits():
    x = randn(4)
    for bits in (0, 17, -1):
        with pytest.raises(ValueError, match=rf"^bits must be an int in 1\.\.16, got {bits}$"):
            Q.calibrate(x, bits=bits)
    for bits in (2.0, True, "8"):
        with pytest.raises(TypeError, match=r"bits must be an int in 1\.\.16"):
            Q.calibrate(x, bits=bits)
    with pytest.raises(ValueError, match=r"^bits must be an int in 1\.\.16, got 0$"):
        Q.QParams(torch.tensor(1.0), torch.tensor(0.0), 0, True, None)


def test_bad_percentile_observer_axis_tensor():
    x = randn(3, 4)
    for p in (0, -1, 100.5, float("nan")):
        with pytest.raises(ValueError, match=r"percentile must be in \(0, 100\], got"):
            Q.calibrate(x, bits=8, observer="percentile", percentile=p)
    with pytest.raises(ValueError, match="observer must be one of 'minmax', 'percentile', 'mse', got 'max'"):
        Q.calibrate(x, bits=8, observer="max")
    for axis in (2, -3):
        with pytest.raises(ValueError, match=rf"axis must be None or an int in -2\.\.1 for a 2-d tensor, got {axis}"):
            Q.calibrate(x, bits=8, axis=axis)
    with pytest.raises(TypeError, match=r"x must be a floating-point tensor, got dtype torch\.int64"):
        Q.calibrate(torch.arange(4), bits=8)
    with pytest.raises(TypeError, match=r"x must be a torch\.Tensor, got list"):
        Q.calibrate([1.0, 2.0], bits=8)
    with pytest.raises(ValueError, match="x must be finite"):
        Q.calibrate(torch.tensor([1.0, float("inf")]), bits=8)
    with pytest.raises(ValueError, match="empty"):
        Q.calibrate(torch.zeros(0), bits=8)
    qp = Q.calibrate(x, bits=8, axis=0)
    with pytest.raises(ValueError, match="does not match per-channel QParams with 3 channels on axis 0"):
        Q.quantize(randn(4, 3), qp)
    with pytest.raises(TypeError, match="codes must be an integer tensor"):
        Q.dequantize(x, qp)
    with pytest.raises(TypeError, match="x must be a floating-point tensor"):
        Q.fake_quantize(torch.ones(3, 4, dtype=torch.int32), qp)
