"""The trace of one training forward: ops, stored tensors, reversible blocks (what :func:`simulate` reads)."""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from effdl.core.checks import int_at_least, is_int, positive_int
from effdl.hardware.edram._hardware import _check_type

# ----------------------------------------------------------------------------------------------------------
# The trace: ops, stored tensors, reversible blocks


@dataclass(frozen=True)
class Op:
    """One leaf-module call of the forward pass. Sizes in elements (bytes = elements · ``value_bytes``).

    - ``macs``: forward multiply-accumulates. ``gemm``: ``(M, K, N)`` of one group when the op is a GEMM
      (``M`` rows streamed through a ``K × N`` weight tile; ``macs = groups·M·K·N``), else ``None``.
    - ``vector_elems``: elements the vector unit processes when ``macs == 0`` (0 for views: no time).
    - ``in_elems`` / ``out_elems``: activation elements read / written in forward, from / to the buffer.
      ``input_elems``: elements of the model input read (from DRAM) in forward.
    - ``weight_elems``: parameter elements read at each use.
    - ``saved_elems``: elements of stored tensors its backward reads; ``saved_input_elems``: those that are the
      model input (read from DRAM).
    - ``block``: the reversible block it belongs to, ``stage``: the unit of recompute-then-backward inside it
      (a coupling's ``f`` or ``g``; the block itself otherwise). Both ``None`` for plain ops.
    """

    name: str
    kind: str = "op"
    macs: int = 0
    gemm: tuple[int, int, int] | None = None
    groups: int = 1
    vector_elems: int = 0
    in_elems: int = 0
    input_elems: int = 0
    out_elems: int = 0
    weight_elems: int = 0
    saved_elems: int = 0
    saved_input_elems: int = 0
    block: str | None = None
    stage: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty str, got {self.name!r}")
        for name in ("macs", "vector_elems", "in_elems", "input_elems", "out_elems", "weight_elems",
                     "saved_elems", "saved_input_elems"):  # fmt: skip
            int_at_least(name, getattr(self, name), 0)
        positive_int("groups", self.groups)
        if self.gemm is not None:
            if not (isinstance(self.gemm, tuple) and len(self.gemm) == 3):
                raise TypeError(f"gemm must be None or a tuple (M, K, N) of positive ints, got {self.gemm!r}")
            for name, v in zip(("gemm M", "gemm K", "gemm N"), self.gemm, strict=True):
                positive_int(name, v)
        if self.stage is not None and self.block is None:
            raise ValueError(f"op {self.name!r} has stage {self.stage!r} but no block")


@dataclass(frozen=True)
class Stored:
    """A tensor kept for backward, as the ops of one group (a reversible stage or a run of plain ops) save it.

    ``elems``: its elements (several views of one storage saved by the group count once). ``storage``: the
    memory it lives in; records of one storage from different groups overlap there. ``producer``: the op whose
    forward writes it, or ``None`` when no traced op does (an addition inside a block's own code): then it is
    written right before its first reader. ``readers``: the ops whose backward reads it.
    """

    name: str
    elems: int
    storage: str
    producer: int | None
    readers: tuple[int, ...]

    def __post_init__(self) -> None:
        positive_int("elems", self.elems)
        if not self.readers:
            raise ValueError(f"stored tensor {self.name!r} needs at least one reader")


@dataclass(frozen=True)
class Block:
    """A reversible block: ops ``first..last`` (inclusive), its ``stages`` in forward order, the storage of
    its input and output, and the output's elements."""

    name: str
    first: int
    last: int
    stages: tuple[str, ...]
    input_storage: str | None
    output_storage: str | None
    out_elems: int


@dataclass(frozen=True)
class Trace:
    """What :func:`simulate` needs: the ops in forward order, the stored tensors, the reversible blocks.

    ``storage_elems``: elements of each storage that any op saves (the union of the saved views; defaults to
    the largest record's ``elems``). ``param_elems``: the model's parameter elements (loaded from DRAM once per
    step, gradients stored once). ``batch``: the batch size traced. Build it by hand for toy examples.
    """

    ops: tuple[Op, ...]
    stored: tuple[Stored, ...] = ()
    blocks: tuple[Block, ...] = ()
    storage_elems: dict[str, int] = field(default_factory=dict)
    param_elems: int = 0
    batch: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))
        object.__setattr__(self, "stored", tuple(self.stored))
        object.__setattr__(self, "blocks", tuple(self.blocks))
        if not self.ops:
            raise ValueError("ops must hold at least one Op")
        for op in self.ops:
            _check_type("ops entries", op, Op)
        n = len(self.ops)
        for s in self.stored:
            _check_type("stored entries", s, Stored)
            if s.producer is not None and not 0 <= s.producer < n:
                raise ValueError(f"stored tensor {s.name!r}: producer must be None or in 0..{n - 1}, got {s.producer}")
            bad = [r for r in s.readers if not (is_int(r) and 0 <= r < n)]
            if bad:
                raise ValueError(f"stored tensor {s.name!r}: readers must be op indices in 0..{n - 1}, got {bad}")
        for b in self.blocks:
            _check_type("blocks entries", b, Block)
            if not 0 <= b.first <= b.last < n:
                raise ValueError(f"block {b.name!r}: need 0 <= first <= last < {n}, got {b.first}..{b.last}")
        units = {}
        for s in self.stored:
            units[s.storage] = max(units.get(s.storage, 0), s.elems)
        for storage, elems in self.storage_elems.items():  # the union of a storage's views covers each view
            units[storage] = max(units.get(storage, 0), int_at_least("storage_elems values", elems, 0))
        object.__setattr__(self, "storage_elems", units)
        int_at_least("param_elems", self.param_elems, 0)
        positive_int("batch", self.batch)

    @property
    def macs(self) -> int:
        """Forward multiply-accumulates of the whole model."""
        return sum(op.macs for op in self.ops)


# ----------------------------------------------------------------------------------------------------------
# trace(): one forward with hooks on the leaf modules


def _default_reversible() -> Callable[[nn.Module], bool]:
    try:  # imported here: edram must not depend on reversible at import time
        from effdl.hardware.reversible import AdditiveCoupling
    except ImportError:  # pragma: no cover - reversible.py ships with the package
        return lambda m: False
    return lambda m: isinstance(m, AdditiveCoupling)


def _stages_of(block: nn.Module) -> list[nn.Module]:
    """The recompute-then-backward units of a block: a coupling's F and G (in that forward order), else itself."""
    try:
        from effdl.hardware.reversible import AdditiveCoupling
    except ImportError:  # pragma: no cover
        return [block]
    if isinstance(block, AdditiveCoupling):
        return [block.f, block.g]
    return [block]


def _tensors(obj: object) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _skey(t: torch.Tensor) -> str:
    return f"{t.device}:{t.untyped_storage().data_ptr()}"


def _view(t: torch.Tensor) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    return t.storage_offset(), tuple(t.shape), tuple(t.stride())


def _gemm_shape(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> tuple[tuple[int, int, int], int] | None:
    """``((M, K, N), groups)`` for Conv/Linear layers: ``M`` output positions, ``K`` reduction, ``N`` outputs."""
    if isinstance(module, nn.Linear):
        return (out.numel() // module.out_features, module.in_features, module.out_features), 1
    if isinstance(module, nn.modules.conv._ConvNd) and not isinstance(module, nn.modules.conv._ConvTransposeNd):
        g = module.groups
        k = (module.in_channels // g) * math.prod(module.kernel_size)
        m = out.numel() // module.out_channels
        return (m, k, module.out_channels // g), g
    return None


# Leaf modules with no multiply-accumulates: FlopCounterMode is skipped for them (it costs ~1 ms a call).
_NO_MACS = (
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Softmax,
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd,
    nn.Flatten,
    nn.Unflatten,
    nn.Identity,
    nn.modules.dropout._DropoutNd,
)


def trace(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    batch: int = 1,
    reversible: Callable[[nn.Module], bool] | None = None,
) -> Trace:
    """Trace one training forward of ``model`` on a ``(batch, *input_shape)`` float batch.

    Hooks on every leaf module record an :class:`Op` per call, in execution order. Each call is re-run once on
    a copy of its inputs under ``saved_tensors_hooks``, so what is recorded is what plain autograd would keep
    for that op (parameters and buffers excluded) — also for ops that a memory-saving autograd Function runs
    without a graph. MACs come from the layer's shape for ``Conv*d``/``Linear`` (equal to ``FlopCounterMode``'s
    FLOPs / 2) and from ``FlopCounterMode`` for other modules that may multiply (attention). Saved tensors are
    matched to the module's inputs and outputs by storage (a view the op saves of its input counts as the
    whole input view it was given); a tensor made by no leaf module (a block's own addition) has no producer.
    Runs single-threaded (the tensors are small); about 1 ms per op.

    ``reversible(module) -> bool`` marks the reversible blocks (outermost match wins); default: instances of
    :class:`effdl.hardware.reversible.AdditiveCoupling`. The model is deep-copied and run in train mode, so
    ``model`` itself (weights, BatchNorm statistics, mode) and the random state are left untouched.
    Elementwise work done in non-leaf ``forward`` code (additions, ``cat``, ``chunk``) is not traced.
    """
    _check_type("model", model, nn.Module)
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence) or not input_shape:
        raise TypeError(
            f"input_shape must be a non-empty sequence of positive ints such as (1, 28, 28), got {input_shape!r}"
        )
    shape = tuple(positive_int("input_shape entries", s) for s in input_shape)
    n = positive_int("batch", batch)
    if reversible is None:
        reversible = _default_reversible()
    elif not callable(reversible):
        raise TypeError(f"reversible must be None or a callable (nn.Module) -> bool, got {type(reversible).__name__}")

    marked = {name for name, m in model.named_modules() if reversible(m)}  # asked of the caller's modules
    net = copy.deepcopy(model).train()
    names = {m: name for name, m in net.named_modules()}
    state = {_skey(t) for t in [*net.parameters(), *net.buffers()]}
    blocks_found = [m for m in net.modules() if names[m] in marked]
    block_of: dict[nn.Module, nn.Module] = {}
    stage_of: dict[nn.Module, nn.Module] = {}
    for b in blocks_found:
        if b in block_of:  # nested in an outer block: the outer one wins
            continue
        for stage in _stages_of(b):
            for m in stage.modules():
                stage_of[m] = stage
        for m in b.modules():
            block_of[m] = b
    outer_blocks = [b for b in blocks_found if block_of.get(b) is b]

    gen = torch.Generator().manual_seed(0)
    x = torch.randn((n, *shape), generator=gen)
    input_key = _skey(x)
    keep: list[torch.Tensor] = [x]  # every traced tensor stays alive so storages are never reused
    calls: dict[str, int] = {}
    raw_ops: list[dict] = []
    producer: dict[str, int] = {}
    block_calls: list[dict] = []
    open_blocks: dict[int, dict] = {}
    busy = [False]

    def unique(name: str) -> str:
        calls[name] = calls.get(name, 0) + 1
        return name if calls[name] == 1 else f"{name}#{calls[name]}"

    def leaf_hook(module: nn.Module, args: tuple, kwargs: dict, output: object) -> None:
        if busy[0]:
            return
        ins = _tensors(args) + _tensors(kwargs)
        outs = _tensors(output)
        keep.extend(ins)
        keep.extend(outs)
        index = len(raw_ops)
        # re-run on copies: what would plain autograd save, and how many FLOPs
        with torch.enable_grad():  # the model may run this op under no_grad (a memory-saving Function)
            fed = [t.detach().clone().requires_grad_(True) if t.is_floating_point() else t.detach() for t in ins]
            fed = [t.clone() if t.requires_grad else t for t in fed]  # non-leaf, so in-place ops are allowed
        fed_of = {_skey(f): t for f, t in zip(fed, ins, strict=True)}
        saved: list[torch.Tensor] = []

        def pack(t: torch.Tensor) -> torch.Tensor:
            saved.append(t)
            return t

        it = iter(fed)
        new_args = _replace_tensors(args, it)
        new_kwargs = _replace_tensors(kwargs, it)
        busy[0] = True
        try:
            gemm = _gemm_shape(module, ins[0], outs[0]) if ins and outs else None
            counter = FlopCounterMode(display=False) if gemm is None and not isinstance(module, _NO_MACS) else None
            with (
                torch.random.fork_rng(devices=[]),
                torch.enable_grad(),
                counter if counter is not None else contextlib.nullcontext(),
                torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t),
            ):
                rerun = module(*new_args, **new_kwargs)
        finally:
            busy[0] = False
        rerun_of = {_skey(r): o for r, o in zip(_tensors(rerun), outs, strict=False)}
        if gemm is not None:
            (m, k, nn_), groups = gemm
            macs = groups * m * k * nn_
        else:
            macs = counter.get_total_flops() // 2 if counter is not None else 0
        views: list[tuple[str, tuple, int]] = []  # (storage, view, numel)
        for t in saved:
            if t.layout != torch.strided:
                continue
            k = _skey(t)
            if k in state:
                continue
            if k in fed_of:
                orig = fed_of[k]
            elif k in rerun_of:
                orig = rerun_of[k]
            else:  # op-internal (BatchNorm statistics, pooling indices): a storage of its own
                keep.append(t)
                views.append((f"{names[module]}:{index}:internal:{k}", (0, (t.numel(),), (1,)), t.numel()))
                continue
            views.append((_skey(orig), _view(orig), orig.numel()))
        for o in outs:
            producer.setdefault(_skey(o), index)
        in_keys = {_skey(t) for t in ins}
        alias = bool(outs) and all(_skey(o) in in_keys for o in outs) and not views and macs == 0
        block = block_of.get(module)
        stage = stage_of.get(module) if block is not None else None
        raw_ops.append(
            dict(
                name=unique(names[module] or type(module).__name__),
                kind=type(module).__name__,
                macs=int(macs),
                gemm=gemm,
                ins=[(_skey(t), t.numel()) for t in ins if t.is_floating_point()],
                out_elems=0 if alias else sum(o.numel() for o in outs),
                weight_elems=sum(p.numel() for p in module.parameters(recurse=False)),
                views=views,
                alias=alias,
                block=block,
                stage=stage if stage is not None else block,
            )
        )

    def block_pre(module: nn.Module, args: tuple, kwargs: dict) -> None:
        if busy[0]:
            return
        ins = _tensors(args) + _tensors(kwargs)
        open_blocks[id(module)] = dict(module=module, first=len(raw_ops), input=_skey(ins[0]) if ins else None)

    def block_post(module: nn.Module, args: tuple, kwargs: dict, output: object) -> None:
        if busy[0]:
            return
        info = open_blocks.pop(id(module))
        outs = _tensors(output)
        keep.extend(outs)
        info.update(last=len(raw_ops) - 1, output=_skey(outs[0]) if outs else None,
                    out_elems=outs[0].numel() if outs else 0)  # fmt: skip
        if info["last"] >= info["first"]:
            block_calls.append(info)

    handles = []
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # tiny tensors: extra threads only add contention
        for m in net.modules():
            if not any(True for _ in m.children()):
                handles.append(m.register_forward_hook(leaf_hook, with_kwargs=True))
        for b in outer_blocks:
            handles.append(b.register_forward_pre_hook(block_pre, with_kwargs=True))
            handles.append(b.register_forward_hook(block_post, with_kwargs=True))
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            net(x)
        for h in handles:
            h.remove()
        if not raw_ops:
            raise ValueError(f"{type(model).__name__} ran no leaf module on a {(n, *shape)} input: nothing to trace")
        return _build_trace(raw_ops, block_calls, producer, input_key, names, net, n)
    finally:
        torch.set_num_threads(threads)
        for h in handles:
            h.remove()


def _replace_tensors(obj: object, it) -> object:
    if isinstance(obj, torch.Tensor):
        return next(it)
    if isinstance(obj, tuple):
        return tuple(_replace_tensors(o, it) for o in obj)
    if isinstance(obj, list):
        return [_replace_tensors(o, it) for o in obj]
    if isinstance(obj, dict):
        return {k: _replace_tensors(v, it) for k, v in obj.items()}
    return obj


def _build_trace(raw_ops, block_calls, producer, input_key, names, net, batch) -> Trace:
    # block names: the module path, "#k" for the k-th call of the same module
    block_name: dict[int, str] = {}  # first op -> name
    seen: dict[str, int] = {}
    for info in block_calls:
        base = names[info["module"]] or type(info["module"]).__name__
        seen[base] = seen.get(base, 0) + 1
        block_name[info["first"]] = base if seen[base] == 1 else f"{base}#{seen[base]}"
    op_block: list[str | None] = [None] * len(raw_ops)
    op_stage: list[str | None] = [None] * len(raw_ops)
    blocks: list[Block] = []
    for info in block_calls:
        bname = block_name[info["first"]]
        stages: list[str] = []
        for i in range(info["first"], info["last"] + 1):
            sm = raw_ops[i]["stage"]
            base = names[info["module"]]
            rel = names[sm][len(base) + 1 :] if base else names[sm]
            sname = bname if sm is info["module"] else f"{bname}.{rel}"
            op_block[i], op_stage[i] = bname, sname
            if sname not in stages:
                stages.append(sname)
        blocks.append(
            Block(bname, info["first"], info["last"], tuple(stages), info["input"], info["output"], info["out_elems"])
        )

    # groups: a reversible stage, or a maximal run of plain ops
    group: list[str] = []
    run = 0
    for i in range(len(raw_ops)):
        if op_stage[i] is not None:
            group.append(op_stage[i])  # type: ignore[arg-type]
        else:
            if i > 0 and op_stage[i - 1] is not None:
                run += 1
            group.append(f"plain{run}")

    # union of saved views per (storage, group) and per storage: one view -> its numel; several -> a mask
    views_of: dict[tuple[str, str], set] = {}
    all_views: dict[str, set] = {}
    readers: dict[tuple[str, str], list[int]] = {}
    saved_elems = [0] * len(raw_ops)
    saved_input = [0] * len(raw_ops)
    for i, r in enumerate(raw_ops):
        for storage, view, numel in r["views"]:
            if storage == input_key:
                saved_input[i] += numel
                continue
            saved_elems[i] += numel
            views_of.setdefault((storage, group[i]), set()).add((view, numel))
            all_views.setdefault(storage, set()).add((view, numel))
            rs = readers.setdefault((storage, group[i]), [])
            if i not in rs:
                rs.append(i)

    def union(views: set) -> int:
        if len(views) == 1:
            return next(iter(views))[1]
        size = max(off + sum((n - 1) * st for n, st in zip(shape, stride, strict=True)) + 1
                   for (off, shape, stride), _ in views)  # fmt: skip
        mask = torch.zeros(size, dtype=torch.bool)
        for (off, shape, stride), numel in views:
            if numel:
                mask.as_strided(shape, stride, off).fill_(True)
        return int(mask.sum())

    short: dict[str, str] = {}  # readable storage ids, in order of first appearance
    for storage in [*all_views, *(k for b in blocks for k in (b.input_storage, b.output_storage) if k is not None)]:
        short.setdefault(storage, f"t{len(short)}")
    stored = []
    for (storage, g), rs in readers.items():
        elems = union(views_of[(storage, g)])
        if elems == 0:
            continue
        p = producer.get(storage)
        if p is None and ":internal:" in storage:
            p = rs[0]
        first = raw_ops[rs[0]]["name"]
        stored.append(Stored(f"{short[storage]}@{first}", elems, short[storage], p, tuple(rs)))

    ops = []
    for i, r in enumerate(raw_ops):
        in_elems = sum(k for s, k in r["ins"] if s != input_key)
        input_elems = sum(k for s, k in r["ins"] if s == input_key)
        gemm, groups = r["gemm"] if r["gemm"] is not None else (None, 1)
        alias = r["alias"]
        ops.append(
            Op(
                name=r["name"],
                kind=r["kind"],
                macs=r["macs"],
                gemm=gemm if r["macs"] else None,
                groups=groups,
                vector_elems=0 if alias or r["macs"] else max(in_elems + input_elems, r["out_elems"]),
                in_elems=0 if alias else in_elems,
                input_elems=0 if alias else input_elems,
                out_elems=r["out_elems"],
                weight_elems=r["weight_elems"],
                saved_elems=saved_elems[i],
                saved_input_elems=saved_input[i],
                block=op_block[i],
                stage=op_stage[i],
            )
        )
    blocks = [
        replace(
            b,
            input_storage=short.get(b.input_storage) if b.input_storage is not None else None,
            output_storage=short.get(b.output_storage) if b.output_storage is not None else None,
        )
        for b in blocks
    ]
    storage_elems = {short[s]: union(v) for s, v in all_views.items()}
    params = sum(p.numel() for p in net.parameters())
    return Trace(tuple(ops), tuple(stored), tuple(blocks), storage_elems, params, batch)
