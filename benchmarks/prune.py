"""`effdl bench prune`: CPU latency of dense vs channel-pruned vs masked (unstructured-sparse) models, as ratios.

Structured pruning (`prune_channels`) gives a smaller dense model: fewer MACs, real speed-up. Unstructured pruning
(`magnitude_prune_`, masks folded in with `make_permanent_`) only writes zeros into the same dense tensors: the same
kernels do the same work, so the latency stays that of the dense model. The last rows swap the Linear layers of the
masked model for `torch.sparse` CSR matrix products, which skip the zeros but are slower per non-zero; it helps
only when the Linear layers dominate and the sparsity is high (try `--model mlp`). Each variant is timed with
`effdl.measure_latency` (warm-up, median and IQR of the timed runs); ratios are against the dense model measured in
the same run, which is what carries over between machines.
"""

from __future__ import annotations

import argparse
import copy
import warnings
from collections.abc import Sequence

import torch
from torch import nn

import effdl
from effdl.compress import prune

CHANNEL_AMOUNTS = (0.25, 0.5, 0.75)
SPARSITIES = (0.5, 0.8, 0.9)


class CSRLinear(nn.Module):
    """``y = x @ W.T + b`` with W stored as a ``torch.sparse_csr`` matrix (benchmark only: inference, 2-D x)."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        with warnings.catch_warnings():  # "sparse CSR support is in beta": known, and not news in a table
            warnings.simplefilter("ignore", UserWarning)
            self.weight = linear.weight.detach().to_sparse_csr()
        self.bias = None if linear.bias is None else linear.bias.detach()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.sparse.mm(self.weight, x.t()).t()  # (out, in) @ (in, N): the sparse operand must come first
        return y if self.bias is None else y + self.bias


def csr_linears(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose Linear layers compute with CSR weights."""
    out = copy.deepcopy(model)
    for name, m in list(out.named_modules()):
        if isinstance(m, nn.Linear):
            parent, _, child = name.rpartition(".")
            setattr(out.get_submodule(parent) if parent else out, child, CSRLinear(m))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="effdl bench prune", description=__doc__.splitlines()[0])
    p.add_argument("--model", default="smallcnn", choices=["smallcnn", "mlp", "mobilenetv1"])
    p.add_argument("--dataset", default="mnist5k", help="input shape to build for (default mnist5k)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's current setting)")
    p.add_argument("--no-csr", action="store_true", help="skip the torch.sparse CSR rows")
    args = p.parse_args(None if argv is None else list(argv))  # None: the command line
    if args.batch < 1:
        raise ValueError(f"--batch must be ≥ 1, got {args.batch}")

    shape = effdl.info(args.dataset).input_shape
    x = torch.randn(args.batch, *shape)
    cfg = {"width": 0.5, "depth": 7} if args.model == "mobilenetv1" else {}
    dense = effdl.build(args.model, args.dataset, seed=0, **cfg).eval()

    # (label, model to time, MACs per sample or None where FlopCounterMode cannot count the sparse products)
    # and the model whose weights it holds (a CSR copy keeps its weights out of the parameters)
    variants: list[tuple[str, nn.Module, int | None, nn.Module]] = [("dense", dense, None, dense)]
    for amount in CHANNEL_AMOUNTS:
        pruned = prune.prune_channels(dense, amount)
        variants.append((f"structured {amount:.0%}", pruned, None, pruned))
    masked = {s: prune.make_permanent_(prune.magnitude_prune_(copy.deepcopy(dense), s)) for s in SPARSITIES}
    variants += [(f"masked {s:.0%}", m, None, m) for s, m in masked.items()]
    if not args.no_csr:
        for s, m in masked.items():
            nnz_macs = sum(int(torch.count_nonzero(lin.weight)) for lin in m.modules() if isinstance(lin, nn.Linear))
            dense_macs = sum(lin.weight.numel() for lin in m.modules() if isinstance(lin, nn.Linear))
            macs = effdl.count_flops(m, x[:1]).macs - dense_macs + nnz_macs  # CSR does one MAC per non-zero
            variants.append((f"masked {s:.0%} + CSR linear", csr_linears(m), macs, m))

    rows = []
    for label, model, macs, weights in variants:
        lat = effdl.measure_latency(model, x, warmup=args.warmup, repeats=args.repeats, threads=args.threads)
        if macs is None:
            macs = effdl.count_flops(model, x[:1]).macs  # masked models: the dense kernels multiply the zeros too
        rows.append((label, lat, macs, effdl.count_nonzero(weights)))

    base = rows[0][1].median_ms
    first = rows[0][1]
    print(
        f"{args.model}: latency per batch of {args.batch} on {first.device}, {first.threads} threads, "
        f"{first.repeats} repeats"
    )
    print(f"{'variant':28s} {'median ms':>10s} {'IQR ms':>8s} {'× dense':>8s} {'MACs/sample':>12s} {'non-zeros':>10s}")
    for label, lat, macs, nnz in rows:
        print(f"{label:28s} {lat.median_ms:10.3f} {lat.iqr_ms:8.3f} {lat.median_ms / base:8.2f} {macs:12,d} {nnz:10,d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
