"""effdl.hardware — hardware-aware efficiency.

- ``effdl.hardware.lzss``: a chunk-parallel LZSS codec for multi-byte data (GPULZ), with a readable reference, a numba
  CPU backend and a device-agnostic torch backend that produce byte-identical blobs.
"""
