"""effdl.hardware.lzss — LZSS for multi-byte data (GPULZ, Zhang et al., ICS 2023): a chunk-parallel codec.

Data is cut into independent chunks of ``chunk`` bytes and matched in symbols of 1, 2 or 4 bytes, so an int16 array
is matched value by value. Four backends emit byte-identical blobs:

- ``reference`` (:mod:`.reference`): NumPy/Python, the executable specification;
- ``cpu`` (:mod:`.cpu`): numba kernels, parallel over chunks — the default;
- ``cuda`` (:mod:`.cuda_backend`): numba-cuda kernels after GPULZ (one thread block per chunk, the window in shared
  memory, a device-wide prefix sum and a compaction kernel), and a CUDA decoder — ``"auto"`` for CUDA data;
- ``torch`` (:mod:`.torch_backend`): tensor ops (match finding for all positions at once, lock-step greedy parse,
  prefix-sum packing) on CPU or CUDA: the design as a model, not a fast codec.

An optional byte-shuffle filter (``compress(..., shuffle=True)``, blosc's transpose of each element's bytes into byte
planes) runs before the LZSS stage; it turns sorted int32 indices or smooth int16 fields into long byte runs the
255-symbol window sees. It is off by default (the GPULZ codec as published); ``read_header(blob).shuffle`` reports
it. The container is documented byte by byte in :mod:`.format`; :func:`decompress` treats a blob as untrusted. A chunk
that coding would not shrink is stored raw, and an input where no chunk shrinks becomes a stored stream (the bytes
verbatim, no tables), so incompressible data costs 24 bytes of header and CRC.
:mod:`.data` builds the benchmark's and notebook 09's inputs (quantization codes of a real field, model weights,
CSR indices, source text) and :mod:`.peers` times the codec against zlib, lz4, zstd and blosc2.

Example::

    import numpy as np
    from effdl.hardware import lzss

    codes = np.repeat(np.arange(100, dtype=np.uint16), 8)
    blob = lzss.compress(codes)      # W = 128, C = 2048, numba; S = 2 from the dtype, or 1 if bytes do better
    assert lzss.decompress(blob) == codes.tobytes()
    lzss.read_header(blob)           # Header(symbol_size=1, window=128, chunk=2048, length=1600, chunks=1, shuffle=0)
    lzss.parse(blob)[:2]             # [Token(0, 0, 'literal', 1, 0), Token(0, 1, 'match', 15, 1)]
    shuffled = lzss.compress(codes, shuffle=True)   # E = 2 from the dtype, S = 1
    assert lzss.read_header(shuffled).shuffle == 2 and lzss.decompress(shuffled) == codes.tobytes()
"""

from effdl.hardware.lzss.codec import (
    AUTO_SAMPLE_CHUNKS,
    BACKENDS,
    DECODE_BACKENDS,
    choose_symbol_size,
    compress,
    decompress,
    shuffle_sizes,
)
from effdl.hardware.lzss.format import (
    SHUFFLE_SIZES,
    Header,
    LZSSFormatError,
    min_match,
    read_header,
    shuffle,
    unshuffle,
)
from effdl.hardware.lzss.reference import Token, parse

__all__ = [
    "AUTO_SAMPLE_CHUNKS",
    "BACKENDS",
    "DECODE_BACKENDS",
    "SHUFFLE_SIZES",
    "Header",
    "LZSSFormatError",
    "Token",
    "choose_symbol_size",
    "compress",
    "decompress",
    "min_match",
    "parse",
    "read_header",
    "shuffle",
    "shuffle_sizes",
    "unshuffle",
]
