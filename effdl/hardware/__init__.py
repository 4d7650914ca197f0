"""effdl.hardware — hardware-aware efficiency.

- ``effdl.hardware.lzss``: a chunk-parallel LZSS codec for multi-byte data (GPULZ), with a readable reference, a numba
  CPU backend and a device-agnostic torch backend that produce byte-identical blobs.
- ``effdl.hardware.reversible``: additive-coupling reversible blocks whose memory-saving backward rebuilds activations
  instead of keeping them (RevNet, Gomez et al. 2017), with block-floating-point and read-noise store models.
- ``effdl.hardware.edram``: a training-step simulator for on-chip eDRAM (CAMEL, Zhang et al. 2024) — per-tensor
  lifetimes under the standard and reversible schedules, spills, refreshes and an energy breakdown.
"""
