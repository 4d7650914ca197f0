"""Hardware assumptions of the eDRAM simulator: the accelerator, the buffer, the energy table, retention."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass

from effdl.core.checks import positive_int

SCHEDULES = ("standard", "reversible")
MEMORY_KINDS = ("sram", "edram")
COMPONENTS = ("mac", "onchip_read", "onchip_write", "refresh", "dram")
REFRESH_MODELS = ("bank", "tensor")

# CAMEL's worst-case eDRAM retention time: 3.35 µs at 100 °C (Zhang et al., HPCA 2024).
CAMEL_RETENTION_S = 3.35e-6
CAMEL_TEMPERATURE_C = 100.0


# ----------------------------------------------------------------------------------------------------------
# Argument checks: the argument's name, its value and the allowed range, raised at the boundary.


def _real(name: str, value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number {what}, got {value!r}")
    return float(value)


def _positive_float(name: str, value: object) -> float:
    v = _real(name, value, "> 0")
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return v


def _nonnegative_float(name: str, value: object) -> float:
    v = _real(name, value, ">= 0")
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return v


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")
    return value  # type: ignore[return-value]


def _check_type(name: str, value: object, cls: type) -> None:
    if not isinstance(value, cls):
        raise TypeError(f"{name} must be a {cls.__name__}, got {type(value).__name__}")


# ----------------------------------------------------------------------------------------------------------
# Hardware assumptions


def retention_at(
    temperature_c: float,
    *,
    reference_s: float = CAMEL_RETENTION_S,
    reference_c: float = CAMEL_TEMPERATURE_C,
    halving_c: float = 10.0,
) -> float:
    """eDRAM retention time in seconds at ``temperature_c`` (°C): ``reference_s · 2**((reference_c − T) / halving_c)``.

    The curve passes through CAMEL's worst case, 3.35 µs at 100 °C. Retention is set by the leakage of the
    storage node, which grows exponentially with temperature (Arrhenius), so retention falls exponentially; the
    default rate, halving every 10 °C, is the DRAM rule of thumb behind JEDEC's doubled refresh rate above
    85 °C and close to the measurements of Liu et al. (ISCA 2013) on commodity DRAM. It is an assumption for
    gain-cell eDRAM, calibrated at the one point the paper gives: pass your own ``halving_c`` to explore.
    """
    t = _real("temperature_c", temperature_c, "(°C)")
    if not math.isfinite(t):
        raise ValueError(f"temperature_c must be a finite number (°C), got {temperature_c}")
    ref = _positive_float("reference_s", reference_s)
    ref_c = _real("reference_c", reference_c, "(°C)")
    if not math.isfinite(ref_c):
        raise ValueError(f"reference_c must be a finite number (°C), got {reference_c}")
    halving = _positive_float("halving_c", halving_c)
    try:
        return ref * 2.0 ** ((ref_c - t) / halving)
    except OverflowError:  # 2.0 ** x raises past ~1024 halvings rather than returning inf
        raise ValueError(
            f"temperature_c={t} is {(ref_c - t) / halving:.3g} halvings below reference_c={ref_c}: the retention "
            "time overflows a float; use a temperature closer to the reference"
        ) from None


@dataclass(frozen=True)
class Accelerator:
    """The compute engine: a ``rows × cols`` weight-stationary systolic array and a vector unit.

    - ``rows``, ``cols`` = 16, 16: the default mesh of Gemmini (Genc et al., DAC 2021; ucb-bar/gemmini
      ``Configs.scala``), an open edge accelerator of the kind CAMEL targets. ``rows·cols`` MACs per cycle peak.
    - ``clock_hz`` = 1 GHz: an assumption, a typical clock for such an accelerator in a recent node. Every
      time in the simulation scales as ``1 / clock_hz``.
    - ``value_bytes`` = 2: bf16/fp16 training data (activations, weights, gradients).
    - ``vector_lanes`` = ``cols`` when ``None``: elementwise ops (BatchNorm, ReLU, pooling) process one element
      per lane per cycle, one lane per array column (Gemmini applies activations at the array's output row).
    """

    rows: int = 16
    cols: int = 16
    clock_hz: float = 1e9
    value_bytes: int = 2
    vector_lanes: int | None = None

    def __post_init__(self) -> None:
        positive_int("rows", self.rows)
        positive_int("cols", self.cols)
        _positive_float("clock_hz", self.clock_hz)
        positive_int("value_bytes", self.value_bytes)
        if self.vector_lanes is not None:
            positive_int("vector_lanes", self.vector_lanes)

    @property
    def macs_per_cycle(self) -> int:
        """Peak multiply-accumulates per cycle, ``rows · cols``."""
        return self.rows * self.cols

    @property
    def lanes(self) -> int:
        """Vector-unit lanes (``vector_lanes``, or ``cols`` when that is ``None``)."""
        return self.vector_lanes if self.vector_lanes is not None else self.cols

    def gemm_cycles(self, m: int, k: int, n: int) -> int:
        """Cycles of a GEMM streaming ``m`` rows through a ``k × n`` weight tile: ``ceil(k/rows)·ceil(n/cols)·m``."""
        return -(-k // self.rows) * -(-n // self.cols) * m


@dataclass(frozen=True)
class Memory:
    """The on-chip activation buffer: SRAM, or eDRAM of the same area.

    - ``kind``: ``"sram"`` or ``"edram"``.
    - ``area_bytes`` = 128 KiB: the buffer's area, expressed as the SRAM capacity that fits in it — Gemmini's
      default scratchpad (``sp_capacity``). An SRAM buffer holds ``area_bytes``; an eDRAM buffer of the same
      area holds ``area_bytes · density``.
    - ``density`` = 2.0: eDRAM bits per SRAM bit in the same area. CAMEL: eDRAM brings "more than 2×" storage
      density over SRAM; 2.0 is the conservative end.
    - ``retention_s`` = 3.35 µs: CAMEL's worst-case eDRAM retention at 100 °C; :func:`retention_at` gives
      other temperatures. Ignored for SRAM.
    - ``bank_bytes`` = 32 KiB: the capacity of one eDRAM bank, the unit the periodic refresh works on (the
      last bank holds the remainder when the capacity is not a multiple). An assumption: the same 32 KB
      granularity at which :class:`Energy` prices an access; 256 KiB of eDRAM is then 8 banks. Ignored for SRAM.
    """

    kind: str = "edram"
    area_bytes: int = 128 * 1024
    density: float = 2.0
    retention_s: float = CAMEL_RETENTION_S
    bank_bytes: int = 32 * 1024

    def __post_init__(self) -> None:
        _choice("kind", self.kind, MEMORY_KINDS)
        positive_int("area_bytes", self.area_bytes)
        _positive_float("density", self.density)
        _positive_float("retention_s", self.retention_s)
        positive_int("bank_bytes", self.bank_bytes)
        if self.capacity_bytes < 1:
            raise ValueError(
                f"area_bytes · density must give a capacity of at least 1 byte, got {self.area_bytes} · {self.density}"
            )

    @property
    def capacity_bytes(self) -> int:
        """Bytes the buffer holds: ``area_bytes`` for SRAM, ``floor(area_bytes · density)`` for eDRAM."""
        return self.area_bytes if self.kind == "sram" else int(self.area_bytes * self.density)

    @property
    def banks(self) -> int:
        """Number of eDRAM banks, ``ceil(capacity_bytes / bank_bytes)``."""
        return -(-self.capacity_bytes // self.bank_bytes)


@dataclass(frozen=True)
class Energy:
    """Energy per operation, picojoules. Defaults: Horowitz, "Computing's energy problem (and what we can do
    about it)", ISSCC 2014, 45 nm at 0.9 V, as tabulated there and in Han et al. (NeurIPS 2015).

    - ``mac_pj`` = 1.5: one fp16 multiply (1.1 pJ) plus one fp16 add (0.4 pJ).
    - ``sram_read_pj_per_byte`` = ``sram_write_pj_per_byte`` = 2.5: a 64-bit access to a 32 KB SRAM costs
      20 pJ; the buffer is assumed banked in 32 KB banks, so an access costs one bank's. Horowitz gives one
      figure per access, used for reads and writes alike. Also the price of the weight buffer.
    - ``edram_read_pj_per_byte`` = ``edram_write_pj_per_byte`` = 2.5: the same as SRAM. CAMEL reports a lower
      access cost for eDRAM; without a published figure we credit it none (conservative for eDRAM).
    - ``edram_refresh_pj_per_byte`` = 5.0: a refresh reads a row and writes it back, so one eDRAM read plus one
      write per byte.
    - ``dram_read_pj_per_byte`` = ``dram_write_pj_per_byte`` = 160: a 32-bit DRAM access costs 640 pJ
      (1.3–2.6 nJ per 64 bits in Horowitz's table; Han et al. quote 640 pJ per 32 bits).

    Elementwise (vector) arithmetic is not priced: an fp16 add is 0.4 pJ against the 5 pJ of moving its two
    bytes in and out of the buffer, which is counted.
    """

    mac_pj: float = 1.5
    sram_read_pj_per_byte: float = 2.5
    sram_write_pj_per_byte: float = 2.5
    edram_read_pj_per_byte: float = 2.5
    edram_write_pj_per_byte: float = 2.5
    edram_refresh_pj_per_byte: float = 5.0
    dram_read_pj_per_byte: float = 160.0
    dram_write_pj_per_byte: float = 160.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            _nonnegative_float(name, value)
