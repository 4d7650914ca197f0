"""`effdl bench lzss`: the LZSS codec (GPULZ) against zlib, lz4, zstd and blosc2 — ratio and MB/s, same data, one run.

Data (`effdl.hardware.lzss.data.benchmark_datasets`): the weights of an MLP trained for one epoch on mnist5k (seed 0;
one epoch, ~10 s, because a benchmark should not wait for a converged model and the weights' statistics settle
early) in fp32 and bf16, their int8 per-channel quantization codes, the int32 CSR column indices of the same model
pruned to 90%, uint16 Lorenzo quantization codes (cuSZ style, relative error 1e-2) of matplotlib's topobathy field
and of the jacksboro DEM, the raw int16 DEM, and 1 MB of the CPython standard library's source.

On data of 2-, 4- or 8-byte items the codec also runs with its byte-shuffle filter (`effdl lzss+shuffle`: each
element's bytes transposed into byte planes first, E = the item size, S = 1), and lz4 on the same shuffled bytes
(`lz4+shuffle`), so the filter is compared with the filter.
Every codec runs single-threaded; the LZSS `cpu` backend once on one thread and once on all numba threads. Timings
are medians of `--repeats` interleaved rounds after a warm-up (IQR shown); MB/s count input bytes for compression
and decompression alike. The summary gives what carries over between machines — ratios measured in the same run:
the codec's ratio over lz4's per dataset (without and with the shuffle filter, against plain lz4 and against lz4 on
shuffled bytes), and its one-thread compress throughput over zlib level 6's. Then sweeps of
the window W, the chunk size C and the symbol size S on the DEM codes (GPULZ's trends). `--device cuda` adds the
torch backend on the GPU (compression only) and the cuda backend (numba-cuda kernels, both directions, end to end)
to the table — their blobs must equal the CPU's, byte for byte — and then the cuda section.

The cuda section (`--device cuda`; alone with `--cuda-only`): `--size-mib` MiB (default 256) of uint16 Lorenzo codes
of the jacksboro DEM (tiled: chunks are independent, so tiling changes no chunk), for S = 1, 2, 4. The cuda backend's
compress and decompress GB/s twice: device time (CUDA events around the kernels; input on the GPU, scratch kept) and end
to end (host bytes in, blob or bytes out: copies, the host's CRC32 and the blob's assembly included); beside it the
numba cpu backend on all threads, lz4 and zstd (single-threaded). Every cuda blob is checked to equal the cpu
backend's and to decode back to the input. GB/s count input bytes, 1 GB = 10^9 bytes; medians of `--repeats`
(default 3 here) after a warm-up. Under numba's CUDA simulator (`NUMBA_ENABLE_CUDASIM=1`, no GPU) the section runs
on a tiny `--size-mib` to check the code path; its timings mean nothing there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

import effdl
from effdl.hardware import lzss
from effdl.hardware.lzss import cpu, data, peers

SWEEP_DATASET = "uint16 codes (DEM)"


def train_model(*, quick: bool, seed: int = 0) -> tuple[torch.nn.Module, str]:
    """The MLP whose weights the benchmark compresses, and a one-line description of it."""
    hidden = (32,) if quick else (256, 128)
    model = effdl.build("mlp", "mnist5k", seed=seed, hidden=hidden)
    train, test = effdl.load("mnist5k")
    steps = 20 if quick else None
    effdl.fit(model, train, epochs=1, lr=1e-3, seed=seed, max_steps=steps, progress=False)
    acc = 100 * effdl.evaluate(model.eval(), test).accuracy
    widths = "-".join(map(str, (784, *hidden, 10)))
    how = f"{steps} steps" if steps else "1 epoch"
    return model, f"MLP {widths} trained {how} on mnist5k (seed {seed}, test accuracy {acc:.1f}%)"


def datasets(model: torch.nn.Module, *, quick: bool) -> dict:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": known, and not news in a table
        warnings.simplefilter("ignore", UserWarning)
        if quick:
            return data.benchmark_datasets(model, max_bytes=16 << 10, text_bytes=16 << 10)
        return data.benchmark_datasets(model)


def _mbs(v: float | None, iqr: float | None) -> str:
    return f"{'—':>9s} {'':>7s}" if v is None else f"{v:9.1f} {iqr:7.1f}"


def table(results: Sequence[peers.Result]) -> list[str]:
    """The full table: one line per dataset × codec."""
    lines = [
        f"{'dataset':26s} {'codec':31s} {'S':>2s} {'compressed':>10s} {'ratio':>7s} "
        f"{'comp MB/s':>9s} {'IQR':>7s} {'dec MB/s':>9s} {'IQR':>7s}"
    ]
    row = 0
    for i, r in enumerate(results):
        row = 0 if i == 0 or results[i - 1].dataset != r.dataset else row + 1
        name = r.dataset if row == 0 else f"  ({r.raw_bytes:,} bytes)" if row == 1 else ""
        s = str(r.extra.get("S", ""))
        same = r.extra.get("identical")
        note = "" if same is None else ("  identical to cpu" if same else "  DIFFERS from cpu!")
        lines.append(
            f"{name:26s} {r.codec:31s} {s:>2s} {r.blob_bytes:>10,d} {r.ratio:7.3f} "
            f"{_mbs(r.compress_mbs, r.compress_iqr_mbs)} {_mbs(r.decompress_mbs, r.decompress_iqr_mbs)}{note}"
        )
    return lines


def summary(results: Sequence[peers.Result]) -> tuple[list[str], dict[str, dict[str, float]]]:
    """Per dataset: the codec's ratio over lz4's, the same with the shuffle filter (``+shuf``) over lz4's and over
    lz4's on shuffled bytes (datasets of 2-, 4- or 8-byte items), and the codec's one-thread compress MB/s over
    zlib-6's; geometric means. The returned dict holds per dataset ``ratio``, ``lz4_ratio``, ``vs_lz4``,
    ``shuffle_ratio``, ``shuffle_vs_lz4``, ``lz4_shuffle_ratio``, ``shuffle_vs_lz4_shuffle``, ``compress_mbs``,
    ``zlib6_mbs`` and ``vs_zlib6`` (those that were measured)."""
    by = {(r.dataset, r.codec): r for r in results}
    names = list(dict.fromkeys(r.dataset for r in results))
    lines = [
        f"{'dataset':26s} {'lzss ratio':>10s} {'lz4 ratio':>10s} {'× lz4':>8s} {'+shuf':>7s} {'+shuf/lz4':>9s} "
        f"{'lz4+shuf':>8s} {'+shuf/lz4+shuf':>14s} {'lzss MB/s':>9s} {'× zlib-6':>8s}"
    ]
    out: dict[str, dict[str, float]] = {}

    def cell(row: dict[str, float], key: str, width: int, suffix: str = "", digits: int = 3) -> str:
        return f"{row[key]:{width - len(suffix)}.{digits}f}{suffix}" if key in row else f"{'—':>{width}s}"

    for d in names:
        ours, lz4, z6 = by.get((d, "effdl lzss (1 thread)")), by.get((d, "lz4")), by.get((d, "zlib 6"))
        shuf, lz4_shuf = by.get((d, peers.SHUFFLE_CODEC)), by.get((d, "lz4+shuffle"))
        if ours is None:
            continue
        row = {"ratio": ours.ratio, "compress_mbs": ours.compress_mbs}
        if lz4 is not None:
            row["lz4_ratio"], row["vs_lz4"] = lz4.ratio, ours.ratio / lz4.ratio
        if shuf is not None:
            row["shuffle_ratio"] = shuf.ratio
            if lz4 is not None:
                row["shuffle_vs_lz4"] = shuf.ratio / lz4.ratio
            if lz4_shuf is not None:
                row["lz4_shuffle_ratio"] = lz4_shuf.ratio
                row["shuffle_vs_lz4_shuffle"] = shuf.ratio / lz4_shuf.ratio
        if z6 is not None:
            row["zlib6_mbs"], row["vs_zlib6"] = z6.compress_mbs, ours.compress_mbs / z6.compress_mbs
        out[d] = row
        lines.append(
            f"{d:26s} {row['ratio']:10.3f} {cell(row, 'lz4_ratio', 10)} {cell(row, 'vs_lz4', 8, '×', 4)} "
            f"{cell(row, 'shuffle_ratio', 7)} {cell(row, 'shuffle_vs_lz4', 9, '×')} "
            f"{cell(row, 'lz4_shuffle_ratio', 8)} {cell(row, 'shuffle_vs_lz4_shuffle', 14, '×')} "
            f"{row['compress_mbs']:9.1f} {cell(row, 'vs_zlib6', 8, '×')}"
        )
    for key, label in (
        ("vs_lz4", "ratio × lz4"),
        ("shuffle_vs_lz4", "ratio with shuffle × lz4's (multi-byte items)"),
        ("shuffle_vs_lz4_shuffle", "ratio with shuffle × lz4+shuffle's"),
        ("vs_zlib6", "compress MB/s × zlib-6"),
    ):
        vals = [r[key] for r in out.values() if key in r]
        if vals:
            geo = math.exp(sum(math.log(v) for v in vals) / len(vals))
            lines.append(f"geometric mean of {label}: {geo:.2f} (min {min(vals):.2f}, max {max(vals):.2f})")
    return lines, out


def sweep_lines(rows: Sequence[dict]) -> list[str]:
    lines = [f"{'param':>5s} {'value':>6s} {'ratio':>7s} {'comp MB/s':>10s} {'dec MB/s':>9s}"]
    for r in rows:
        lines.append(
            f"{r['param']:>5s} {r['value']:>6d} {r['ratio']:7.3f} {r['compress MB/s']:10.1f} "
            f"{r['decompress MB/s']:9.1f}"
        )
    return lines


def write_plot(path: str, results: Sequence[peers.Result], sweep: Sequence[dict], title: str) -> None:
    """One self-contained HTML file (plotly.js embedded: it opens offline) with the comparison and the sweeps."""
    from effdl import viz  # plotly: imported only here (the GPU machine has none)

    figs = [
        viz.codec_comparison([r.as_dict() for r in results], title=f"LZSS against its peers — {title}"),
        viz.lzss_sweep_curves(sweep, title=f"sweeps on {SWEEP_DATASET}, cpu backend, 1 thread"),
    ]
    parts = [f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figs)]
    html = "<html><head><meta charset='utf-8'><title>effdl bench lzss</title></head><body>" + "".join(parts)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(html + "</body></html>")


def _cuda_ready() -> bool:
    from effdl.hardware.lzss import cuda_backend  # imports numba.cuda: only on the --device cuda paths

    return cuda_backend.available()


def codes(size_mib: float) -> np.ndarray:
    """uint16 Lorenzo codes (relative error 1e-2) of the jacksboro DEM, tiled to ``size_mib`` MiB (≥ 1 code)."""
    field = data.lorenzo_codes(data.sample_field("jacksboro")).reshape(-1)
    return np.resize(field, max(1, int(size_mib * (1 << 20)) // 2))


def _gbs(nbytes: int, seconds: Sequence[float]) -> str:
    t = float(np.median(seconds))
    return f"{nbytes / t / 1e9:9.2f}" if t > 0 else f"{'—':>9s}"


def _gbs_value(nbytes: int, seconds: Sequence[float]) -> float | None:
    t = float(np.median(seconds))
    return nbytes / t / 1e9 if t > 0 else None


def _wall(fn: Callable[[], object], repeats: int) -> tuple[object, list[float]]:
    """(fn's result, seconds of each of ``repeats`` calls) after one untimed warm-up call."""
    out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return out, times


def cuda_section(size_mib: float, *, repeats: int, window: int, chunk: int) -> tuple[list[str], dict]:
    """The cuda backend on ``size_mib`` MiB of uint16 codes, S = 1, 2, 4, beside cpu (all threads), lz4 and zstd:
    the printed lines and the same as a JSON-friendly dict (what ``--json`` writes and notebook 09 reads through
    :func:`effdl.hardware.lzss.study.gpu_benchmark`)."""
    from numba import cuda

    from effdl.hardware.lzss import cuda_backend, format

    cuda_backend.require()
    x = codes(size_mib)
    raw = x.view(np.uint8)
    n = raw.size

    def device_seconds(launch: Callable[[], object]) -> list[float]:
        """CUDA-event time of ``launch`` (kernels only), per repeat, after a warm-up launch."""
        launch()
        cuda.synchronize()
        times = []
        for _ in range(repeats):
            start, end = cuda.event(), cuda.event()
            start.record()
            launch()
            end.record()
            end.synchronize()
            with warnings.catch_warnings():  # the simulator warns that its timings are bogus: the header says so
                warnings.simplefilter("ignore", UserWarning)
                times.append(start.elapsed_time(end) / 1e3)  # ms → s
        return times

    where = "numba's CUDA simulator (timings meaningless)" if cuda_backend.SIMULATED else torch.cuda.get_device_name()
    lines = [
        f"cuda section: {n:,} bytes of uint16 DEM codes, W={window}, C={chunk}, on {where}; GB/s of input bytes, "
        f"median of {repeats}",
        f"{'codec':34s} {'S':>2s} {'ratio':>7s} {'comp GB/s':>9s} {'dec GB/s':>9s}  note",
    ]
    rows: list[dict] = []

    def row(codec: str, s: int | None, ratio: float, comp: Sequence[float] | None, dec: Sequence[float] | None,
            note: str = "") -> None:  # fmt: skip
        rows.append({"codec": codec, "S": s, "ratio": ratio, "comp_gbs": None if comp is None else _gbs_value(n, comp),
                     "dec_gbs": None if dec is None else _gbs_value(n, dec), "note": note})  # fmt: skip

    found, _ = peers.peer_codecs(2, shuffled=False)
    for codec in [c for c in found if c.name in ("lz4", "zstd 1", "zstd 3")]:
        blob, comp = _wall(lambda c=codec: c.compress(x), repeats)
        _, dec = _wall(lambda c=codec, b=blob: c.decompress(b), repeats)
        lines.append(f"{codec.name + ' (1 thread)':34s} {'':>2s} {n / len(blob):7.3f} {_gbs(n, comp)} {_gbs(n, dec)}")
        row(f"{codec.name} (1 thread)", None, n / len(blob), comp, dec)
    all_identical = True
    for s in (1, 2, 4):
        kw = {"symbol_size": s, "window": window, "chunk": chunk}
        ref, comp = _wall(lambda kw=kw: lzss.compress(x, backend="cpu", **kw), repeats)
        _, dec = _wall(lambda b=ref: lzss.decompress(b, backend="cpu"), repeats)
        label = f"effdl lzss cpu ({cpu._threads()} threads)"
        lines.append(f"{label:34s} {s:>2d} {n / len(ref):7.3f} {_gbs(n, comp)} {_gbs(n, dec)}")
        row(label, s, n / len(ref), comp, dec)
        blob, comp = _wall(lambda kw=kw: lzss.compress(x, backend="cuda", **kw), repeats)
        back, dec = _wall(lambda b=blob: lzss.decompress(b, backend="cuda"), repeats)
        same = blob == ref and back == raw.tobytes()
        all_identical &= same
        note = "identical to cpu, decodes exactly" if same else "DIFFERS from cpu or does not decode!"
        lines.append(
            f"{'effdl lzss cuda, end to end':34s} {s:>2d} {n / len(blob):7.3f} {_gbs(n, comp)} {_gbs(n, dec)}  {note}"
        )
        row("effdl lzss cuda, end to end", s, n / len(blob), comp, dec, note)
        m = n - n % s
        d_raw = cuda.to_device(raw[:m])
        ws: dict = {}  # scratch kept between repeats: the events time kernels, not cudaMalloc
        comp = device_seconds(lambda d=d_raw, s=s, ws=ws: cuda_backend.encode(d, s, window, chunk, workspace=ws))
        box = format.unpack(blob)
        if box.header.chunks:
            sections = cuda_backend.upload(box)
            dec = device_seconds(lambda h=box.header, a=sections, ws=ws: cuda_backend.decode(*a, h, workspace=ws))
            dec_gbs = _gbs(n, dec)
        else:
            dec, dec_gbs = None, f"{'—':>9s}"  # a stored stream: nothing to decode on the device
        lines.append(f"{'effdl lzss cuda, device time':34s} {s:>2d} {n / len(blob):7.3f} {_gbs(n, comp)} {dec_gbs}")
        row("effdl lzss cuda, device time", s, n / len(blob), comp, dec)
    lines.append(f"cuda blobs identical to the cpu backend's: {'yes' if all_identical else 'NO'} (S = 1, 2, 4)")
    result = {
        "device": where,
        "simulated": bool(cuda_backend.SIMULATED),
        "bytes": n,
        "window": window,
        "chunk": chunk,
        "repeats": repeats,
        "identical": bool(all_identical),
        "effdl": effdl.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "rows": rows,
    }
    return lines, result


def _write_json(path: str | None, result: dict) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"json: {path}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="effdl bench lzss", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=None, help="timed rounds per codec (default 7, 2 with --quick)")
    p.add_argument("--quick", action="store_true", help="a tiny model and 16 KB per dataset (for tests)")
    p.add_argument(
        "--device",
        default="cpu",
        choices=["cpu", "cuda"],
        help="cuda: GPU backends in the table, then the cuda section",
    )
    p.add_argument("--cuda-only", action="store_true", help="with --device cuda: only the cuda section")
    p.add_argument(
        "--size-mib", type=float, default=256.0, help="MiB of uint16 codes in the cuda section (default 256)"
    )
    p.add_argument("--window", type=int, default=128, help="W in symbols (default 128)")
    p.add_argument("--chunk", type=int, default=2048, help="C in bytes (default 2048)")
    p.add_argument("--no-sweep", action="store_true", help="skip the W, C, S sweeps")
    p.add_argument("--plot", metavar="PATH", default=None, help="write a plotly HTML figure to PATH")
    p.add_argument(
        "--json", metavar="PATH", default=None, help="with --device cuda: write the cuda section's rows to PATH"
    )
    args = p.parse_args(None if argv is None else list(argv))  # None: the command line
    repeats = args.repeats if args.repeats is not None else (2 if args.quick else 7)
    if repeats < 1:
        raise ValueError(f"--repeats must be ≥ 1, got {repeats}")
    if args.cuda_only and args.device != "cuda":
        raise ValueError("--cuda-only needs --device cuda")
    if args.size_mib <= 0:
        raise ValueError(f"--size-mib must be > 0, got {args.size_mib}")
    if args.device == "cuda" and not args.cuda_only and not torch.cuda.is_available():
        raise ValueError("--device cuda needs a CUDA GPU, and torch finds none on this machine; use --device cpu")
    if args.cuda_only and not _cuda_ready():
        raise ValueError(
            "--cuda-only needs a CUDA GPU that numba can launch kernels on (numba-cuda), or numba's simulator "
            "(NUMBA_ENABLE_CUDASIM=1), and numba finds neither; use --device cpu"
        )

    start = time.perf_counter()
    if args.cuda_only:
        section_repeats = args.repeats if args.repeats is not None else 3
        lines, result = cuda_section(args.size_mib, repeats=section_repeats, window=args.window, chunk=args.chunk)
        print("\n".join(lines))
        _write_json(args.json, result)
        print(f"total {time.perf_counter() - start:.0f} s")
        return 0
    model, about = train_model(quick=args.quick)
    sets = datasets(model, quick=args.quick)
    results, notes = peers.compare(
        sets,
        repeats=repeats,
        window=args.window,
        chunk=args.chunk,
        device="cuda" if args.device == "cuda" else None,
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    header = (
        f"effdl bench lzss: W={args.window}, C={args.chunk}; {about}; cpu backend {cpu._threads()} numba thread(s), "
        f"peers single-threaded; median of {repeats} interleaved rounds (IQR); load average {load:.2f}"
    )
    print(header)
    for line in table(results):
        print(line)
    print()
    print("summary: ratios measured in this run (lzss = effdl lzss, cpu backend, 1 thread)")
    print(
        "  +shuf: the same with the byte-shuffle filter (E = item size, S = 1); lz4+shuf: the shuffled bytes "
        "through lz4"
    )
    lines, _ = summary(results)
    for line in lines:
        print(line)
    if args.device == "cuda":
        for backend in ("torch", "cuda"):
            gpu = [r for r in results if r.codec.startswith(f"effdl lzss {backend}")]
            same = all(r.extra.get("identical") for r in gpu)
            print(
                f"{backend} backend on {torch.cuda.get_device_name()}: blobs "
                f"{'identical to' if same else 'DIFFERENT from'} the cpu backend's on {len(gpu)} datasets"
            )
    for note in notes:
        print(f"note: {note}")
    sweep: list[dict] = []
    if not args.no_sweep:
        x = sets[SWEEP_DATASET]
        if args.quick:
            sweep = peers.sweep(x, windows=(32, 255), chunks=(512, 4096), repeats=repeats)
        else:
            sweep = peers.sweep(x, repeats=repeats, window=args.window, chunk=args.chunk)
        print()
        print(
            f"sweeps on {SWEEP_DATASET} ({x.nbytes:,} bytes), one parameter at a time (W={args.window}, "
            f"C={args.chunk}, S from the dtype otherwise), cpu backend, 1 thread"
        )
        for line in sweep_lines(sweep):
            print(line)
    if args.device == "cuda" and not _cuda_ready():
        print("note: cuda section skipped: numba cannot launch CUDA kernels here (pip install numba-cuda)")
    elif args.device == "cuda":
        print()
        section_repeats = args.repeats if args.repeats is not None else 3
        lines, result = cuda_section(args.size_mib, repeats=section_repeats, window=args.window, chunk=args.chunk)
        print("\n".join(lines))
        _write_json(args.json, result)
    if args.plot:
        write_plot(args.plot, results, sweep, about)
        print(f"plot: {args.plot}")
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
