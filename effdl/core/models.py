"""The workbench's models, each readable top to bottom.

Image classifiers (all take ``(N, C, H, W)`` float tensors and return ``(N, num_classes)`` logits):

- :class:`MLP` — flatten, fully connected hidden layers, linear head.
- :class:`SmallCNN` — a strictly sequential conv-BN-ReLU-maxpool stack and a two-layer head.
- :class:`MobileNetV1` — Howard et al. 2017, depthwise-separable convolutions, adapted to small inputs.
- :class:`ResNet20` — He et al. 2016, the CIFAR ResNet (6n+2 layers) with projection shortcuts.

Every image model is an :class:`ImageClassifier` with two ``nn.Sequential`` parts, ``features`` and
``classifier``, so ``model(x) == model.classifier(model.features(x))``. Layers are plain ``nn.Conv2d``,
``nn.BatchNorm2d``, ``nn.Linear`` and ``nn.ReLU`` modules (no weights hidden in functional calls) because
later chapters prune, factorize and quantize them module by module.

Language model: :class:`TinyTransformer`, a decoder-only character transformer in the style of GPT-2/nanoGPT.

:func:`build` makes an image model for a dataset's input shape and number of classes.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Sequence

import torch
import torch.fx
import torch.nn.functional as F
from torch import Tensor, nn

from effdl.core.checks import is_int, positive_int
from effdl.core.data import IMAGE_DATASETS, info

__all__ = [
    "MLP",
    "MODELS",
    "BasicBlock",
    "DepthwiseSeparable",
    "ImageClassifier",
    "MobileNetV1",
    "ResNet20",
    "SmallCNN",
    "TinyTransformer",
    "build",
]


# ----------------------------------------------------------------------------------------------------------
# Argument checks: raise at the constructor with the argument's name, value and allowed range.


def _positive_ints(name: str, value: object, *, allow_empty: bool, example: str) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a sequence of positive ints such as {example}, got {value!r}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must hold at least one positive int such as {example}, got {value!r}")
    if not all(is_int(v) and v > 0 for v in value):
        raise ValueError(f"{name} entries must be positive ints such as {example}, got {value!r}")
    return tuple(int(v) for v in value)


def _positive_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be > 0, got {value}")
    return float(value)


def _dropout(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"dropout must be a number in [0, 1), got {value!r}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {value}")
    return float(value)


def _in_shape(value: object) -> tuple[int, int, int]:
    if (
        isinstance(value, (str, bytes))
        or not isinstance(value, Sequence)
        or len(value) != 3
        or not all(is_int(v) and v > 0 for v in value)
    ):
        raise ValueError(f"in_shape must be (C, H, W) with positive ints, got {value!r}")
    c, h, w = (int(v) for v in value)
    return c, h, w


def _num_classes(value: object) -> int:
    if not is_int(value):
        raise TypeError(f"num_classes must be an int >= 2, got {value!r}")
    if value < 2:  # type: ignore[operator]
        raise ValueError(f"num_classes must be an int >= 2, got {value}")
    return int(value)  # type: ignore[call-overload]


def _shape_str(shape: Sequence[int | str]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


# ----------------------------------------------------------------------------------------------------------
# Image classifiers


class ImageClassifier(nn.Module):
    """Base of the workbench's image models: ``(N, C, H, W)`` images -> ``(N, num_classes)`` logits.

    Stores ``in_shape = (C, H, W)`` and ``num_classes``; subclasses build ``features`` and ``classifier``
    (both ``nn.Sequential``) and the forward pass is ``classifier(features(x))`` after a shape check.
    """

    in_shape: tuple[int, int, int]
    num_classes: int
    features: nn.Sequential
    classifier: nn.Sequential

    def __init__(self, in_shape: Sequence[int], num_classes: int) -> None:
        super().__init__()
        self.in_shape = _in_shape(in_shape)
        self.num_classes = _num_classes(num_classes)

    def check_input(self, x: Tensor) -> None:
        """Raise ``ValueError`` unless ``x`` has shape ``(N, *in_shape)``; a tuple compare, so it is cheap."""
        # Under torch.fx.symbolic_trace, x is a Proxy whose shape is unknown (comparing it would raise a
        # TraceError), so the check is skipped and the traced graph holds only the model's own layers.
        if isinstance(x, torch.fx.Proxy):
            return
        if not isinstance(x, Tensor):
            raise TypeError(f"{type(self).__name__} expects a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 4 or x.shape[1:] != self.in_shape:
            raise ValueError(
                f"{type(self).__name__} expects input of shape {_shape_str(('N', *self.in_shape))}, "
                f"got {_shape_str(tuple(x.shape))}"
            )

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``(N, C, H, W)`` float images -> ``(N, num_classes)`` logits."""
        self.check_input(x)
        return self.classifier(self.features(x))


class MLP(ImageClassifier):
    """Multi-layer perceptron: Flatten -> [Linear, ReLU, (Dropout)] per hidden size -> Linear.

    ``features`` is the flatten and the hidden layers (output ``(N, hidden[-1])``); ``classifier`` is the
    final ``Linear``. ``hidden=()`` gives multinomial logistic regression.
    """

    def __init__(
        self,
        in_shape: Sequence[int] = (1, 28, 28),
        num_classes: int = 10,
        hidden: Sequence[int] = (256, 128),
        dropout: float = 0.0,
    ) -> None:
        super().__init__(in_shape, num_classes)
        self.hidden = _positive_ints("hidden", hidden, allow_empty=True, example="(256, 128)")
        self.dropout = _dropout(dropout)

        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(self.in_shape)
        for h in self.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout))
            width = h
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(width, self.num_classes))


class SmallCNN(ImageClassifier):
    """A small, strictly sequential CNN.

    ``features``: per entry of ``channels``, Conv3x3(padding 1) -> BatchNorm -> ReLU -> MaxPool2 (the pooling
    is skipped once the feature map is smaller than 2×2). ``classifier``: Flatten -> Linear(flat, hidden) ->
    ReLU -> Linear(hidden, num_classes). Convolutions have no bias because the BatchNorm right after has one.
    Every module feeds the next, so removing a conv's output channels means slicing that conv, its
    BatchNorm and the next layer's inputs — what structured pruning relies on.
    """

    def __init__(
        self,
        in_shape: Sequence[int] = (1, 28, 28),
        num_classes: int = 10,
        channels: Sequence[int] = (16, 32),
        hidden: int = 64,
    ) -> None:
        super().__init__(in_shape, num_classes)
        self.channels = _positive_ints("channels", channels, allow_empty=False, example="(16, 32)")
        self.hidden = positive_int("hidden", hidden)

        c, h, w = self.in_shape
        layers: list[nn.Module] = []
        for out in self.channels:
            layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
            if min(h, w) >= 2:
                layers.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            c = out
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c * h * w, self.hidden),
            nn.ReLU(),
            nn.Linear(self.hidden, self.num_classes),
        )


class DepthwiseSeparable(nn.Module):
    """MobileNet block: depthwise 3×3 conv (one filter per channel) -> BN -> ReLU, then pointwise 1×1 conv
    (mixes channels) -> BN -> ReLU. ``(N, c_in, H, W) -> (N, c_out, ceil(H/stride), ceil(W/stride))``.

    Costs ``9·c_in + c_in·c_out`` weights instead of ``9·c_in·c_out`` for a full 3×3 convolution.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.dw = nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False)
        self.dw_bn = nn.BatchNorm2d(c_in)
        self.dw_relu = nn.ReLU()
        self.pw = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.pw_bn = nn.BatchNorm2d(c_out)
        self.pw_relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        x = self.dw_relu(self.dw_bn(self.dw(x)))
        return self.pw_relu(self.pw_bn(self.pw(x)))


# Howard et al. 2017, Table 1: the stem is a 32-channel 3×3 conv with stride 2, then 13 depthwise-separable
# blocks given as (output channels, stride).
_MOBILENET_STEM = (32, 2)
_MOBILENET_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    *[(512, 1)] * 5,
    (1024, 2),
    (1024, 1),
)


def _round8(channels: float) -> int:
    """Round a channel count to the nearest multiple of 8 (at least 8), as MobileNet implementations do."""
    return max(8, int(channels / 8 + 0.5) * 8)


def _halvings(size: int) -> int:
    """How many stride-2 (3×3, padding 1) layers a side of ``size`` takes before it would drop below 2."""
    n = 0
    while (size + 1) // 2 >= 2:  # a stride-2 conv with padding 1 maps a side s to ceil(s / 2)
        size = (size + 1) // 2
        n += 1
    return n


class MobileNetV1(ImageClassifier):
    """MobileNet v1 (Howard et al. 2017), adapted to small images.

    ``features``: ``stem`` (conv3×3-BN-ReLU, 32 channels) then ``block1`` … ``block{depth}``
    (:class:`DepthwiseSeparable`) with the paper's channels 64, 128, 128, 256, 256, 512×6, 1024, 1024, each
    times ``width`` rounded to a multiple of 8 (at least 8). ``classifier``: global average pool -> Flatten ->
    Linear.

    The paper downsamples 224×224 inputs 32-fold (five stride-2 layers) to 7×7. On small inputs the
    *earliest* stride-2 layers get stride 1 instead (starting with the stem), until the last feature map is
    at least 2×2: 32×32 or 28×28 inputs keep four stride-2 blocks and end at 2×2, 8×8 inputs keep two. Early
    downsampling is what hurts small images most, which is why CIFAR variants of MobileNet drop it first.
    ``depth`` (1..13) keeps only the first ``depth`` blocks, for CPU-sized tutorials.
    """

    def __init__(
        self,
        in_shape: Sequence[int] = (1, 28, 28),
        num_classes: int = 10,
        width: float = 1.0,
        depth: int | None = None,
    ) -> None:
        super().__init__(in_shape, num_classes)
        self.width = _positive_float("width", width)
        n_max = len(_MOBILENET_BLOCKS)
        if depth is not None and is_int(depth) and not 1 <= depth <= n_max:
            raise ValueError(f"depth must be an int in 1..{n_max} or None (all {n_max} blocks), got {depth}")
        self.depth = n_max if depth is None else positive_int("depth", depth)

        plan = [_MOBILENET_STEM, *_MOBILENET_BLOCKS[: self.depth]]  # (channels, stride) per layer
        strides = [s for _, s in plan]
        stride2 = [i for i, s in enumerate(strides) if s == 2]
        n_drop = max(0, len(stride2) - _halvings(min(self.in_shape[1:])))
        for i in stride2[:n_drop]:
            strides[i] = 1
        self.strides = tuple(strides)  # the strides used: stem first, then one per block

        c_in = self.in_shape[0]
        c = _round8(_MOBILENET_STEM[0] * self.width)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["stem"] = nn.Sequential(
            nn.Conv2d(c_in, c, 3, stride=self.strides[0], padding=1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(),
        )
        for i, ((out, _), stride) in enumerate(zip(plan[1:], self.strides[1:], strict=True), start=1):
            c_out = _round8(out * self.width)
            layers[f"block{i}"] = DepthwiseSeparable(c, c_out, stride)
            c = c_out
        self.features = nn.Sequential(layers)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, self.num_classes))


class BasicBlock(nn.Module):
    """ResNet basic block: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    ``(N, c_in, H, W) -> (N, c_out, ceil(H/stride), ceil(W/stride))``. The shortcut is the identity when the
    shape is kept, else a 1×1 conv (with the block's stride) + BN projection — He et al.'s "option B".
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu2 = nn.ReLU()
        if stride != 1 or c_in != c_out:
            self.shortcut: nn.Module = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + self.shortcut(x))


class ResNet20(ImageClassifier):
    """The CIFAR ResNet of He et al. 2016 (Sec. 4.2), 6n+2 layers with ``n = blocks_per_stage``.

    ``features``: ``stem`` (conv3×3-BN-ReLU, 16w channels), then ``stage1``/``stage2``/``stage3`` of ``n``
    :class:`BasicBlock` each with 16w, 32w, 64w channels (w = ``width``; stages 2 and 3 start with stride 2).
    ``classifier``: global average pool -> Flatten -> Linear. ``n = 3`` is ResNet-20 (~0.27M parameters at
    width 1); ``n = 5, 7, 9`` give ResNet-32/44/56. Works for any input size, 8×8 included.
    """

    def __init__(
        self,
        in_shape: Sequence[int] = (3, 32, 32),
        num_classes: int = 10,
        width: float = 1.0,
        blocks_per_stage: int = 3,
    ) -> None:
        super().__init__(in_shape, num_classes)
        self.width = _positive_float("width", width)
        self.blocks_per_stage = positive_int("blocks_per_stage", blocks_per_stage)

        c = max(1, round(16 * self.width))
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["stem"] = nn.Sequential(
            nn.Conv2d(self.in_shape[0], c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()
        )
        c_in = c
        for stage, (c_out, stride) in enumerate([(c, 1), (2 * c, 2), (4 * c, 2)], start=1):
            blocks = [BasicBlock(c_in, c_out, stride)]
            blocks += [BasicBlock(c_out, c_out) for _ in range(self.blocks_per_stage - 1)]
            layers[f"stage{stage}"] = nn.Sequential(*blocks)
            c_in = c_out
        self.features = nn.Sequential(layers)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, self.num_classes))


MODELS: dict[str, type[ImageClassifier]] = {
    "mlp": MLP,
    "smallcnn": SmallCNN,
    "mobilenetv1": MobileNetV1,
    "resnet20": ResNet20,
}


def build(
    name: str,
    dataset: str | None = "mnist5k",
    *,
    in_shape: Sequence[int] | None = None,
    num_classes: int | None = None,
    seed: int | None = None,
    **kwargs: object,
) -> ImageClassifier:
    """Build the image model ``name`` (a key of :data:`MODELS`) for ``dataset``'s input shape and classes.

    ``in_shape``/``num_classes`` override the dataset's (with ``dataset=None`` give both). Other keyword
    arguments go to the model's constructor, e.g. ``build("resnet20", "cifar10", width=0.5)``. With ``seed``
    the initial weights are reproducible and the global random state is left untouched.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if dataset is None:
        if in_shape is None or num_classes is None:
            raise ValueError("with dataset=None, give both in_shape=(C, H, W) and num_classes")
    else:
        if dataset not in IMAGE_DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(IMAGE_DATASETS)} (or pass None)")
        ds = info(dataset)  # shapes only: nothing is loaded
        ds_shape, ds_classes = ds.input_shape, ds.num_classes
        in_shape = ds_shape if in_shape is None else in_shape
        num_classes = ds_classes if num_classes is None else num_classes
    if seed is not None and not is_int(seed):
        raise TypeError(f"seed must be an int or None, got {seed!r}")

    cls = MODELS[key]
    if seed is None:
        return cls(in_shape=in_shape, num_classes=num_classes, **kwargs)  # type: ignore[arg-type]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(in_shape=in_shape, num_classes=num_classes, **kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------
# Language model


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t only sees positions <= t. ``(B, T, C) -> (B, T, C)``."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)  # queries, keys and values of all heads in one matmul
        self.proj = nn.Linear(width, width)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        # (B, T, C) -> (B, heads, T, head_dim): each head attends independently in its own subspace
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)

        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))  # (B, heads, T, T) similarity scores
        # causal[t, s] is True where query t may look at key s, i.e. s <= t (a lower triangle). Built per
        # call (T² bools, negligible) rather than sliced from a buffer, so torch.fx can trace it.
        pos = torch.arange(T, device=x.device)
        causal = pos[None, :] <= pos[:, None]  # (T, T)
        att = att.masked_fill(~causal, float("-inf"))  # the future gets weight exp(-inf) = 0
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v  # (B, heads, T, head_dim): weighted average of the visible values

        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.proj(y))


class TransformerMLP(nn.Module):
    """Position-wise feed-forward net: Linear(C, r·C) -> GELU -> Linear(r·C, C). ``(B, T, C) -> (B, T, C)``"""

    def __init__(self, width: int, mlp_ratio: int, dropout: float) -> None:
        super().__init__()
        self.fc = nn.Linear(width, mlp_ratio * width)
        self.act = nn.GELU()
        self.proj = nn.Linear(mlp_ratio * width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.proj(self.act(self.fc(x))))


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attn(ln1(x))``, then ``x + mlp(ln2(x))``; ``(B, T, C)`` in and out."""

    def __init__(self, width: int, heads: int, dropout: float, mlp_ratio: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, dropout)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = TransformerMLP(width, mlp_ratio, dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyTransformer(nn.Module):
    """Decoder-only (GPT-style) language model over a small vocabulary, e.g. characters.

    Token + learned position embeddings -> ``depth`` pre-norm :class:`TransformerBlock` s -> final LayerNorm
    -> LM head whose weight is tied to (is the same tensor as) the token embedding. Weights start as in
    GPT-2: normal(0, 0.02), residual projections scaled down by sqrt(2·depth), so the loss at init is about
    ln(vocab_size).
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        width: int = 128,
        depth: int = 2,
        heads: int = 4,
        context: int = 128,
        dropout: float = 0.0,
        mlp_ratio: int = 4,
    ) -> None:
        super().__init__()
        if not is_int(vocab_size):
            raise TypeError(f"vocab_size must be an int >= 2, got {vocab_size!r}")
        if vocab_size <= 1:
            raise ValueError(f"vocab_size must be an int >= 2, got {vocab_size}")
        self.vocab_size = int(vocab_size)
        self.width = positive_int("width", width)
        self.depth = positive_int("depth", depth)
        self.heads = positive_int("heads", heads)
        self.context = positive_int("context", context)
        self.mlp_ratio = positive_int("mlp_ratio", mlp_ratio)
        self.dropout = _dropout(dropout)
        if self.width % self.heads:
            raise ValueError(f"width must be divisible by heads, got width={self.width} and heads={self.heads}")

        self.tok_emb = nn.Embedding(self.vocab_size, self.width)
        self.pos_emb = nn.Embedding(self.context, self.width)
        self.drop = nn.Dropout(self.dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(self.width, self.heads, self.dropout, self.mlp_ratio) for _ in range(self.depth)
        )
        self.ln_f = nn.LayerNorm(self.width)
        self.lm_head = nn.Linear(self.width, self.vocab_size, bias=False)
        # Weight tying (Press & Wolf 2017): reading a token in and writing it out share one matrix, which
        # saves vocab_size·width parameters and helps small models.
        self.lm_head.weight = self.tok_emb.weight

        self.apply(self._init_weights)
        for block in self.blocks:
            # each block adds two residual branches; scaling them keeps the residual stream's variance flat
            for proj in (block.attn.proj, block.mlp.proj):
                nn.init.normal_(proj.weight, mean=0.0, std=0.02 / math.sqrt(2 * self.depth))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    @staticmethod
    def param_count_formula(vocab_size: int, width: int, depth: int, context: int, mlp_ratio: int = 4) -> int:
        """Exact parameter count, with V = vocab_size, d = width, L = depth, T = context, r = mlp_ratio::

          V·d                      token embedding (also the LM head: tied, counted once)
        + T·d                      position embedding
        + L·((4 + 2r)·d² + (9 + r)·d)   blocks: qkv 3d²+3d, attn proj d²+d, fc r·d²+r·d, mlp proj r·d²+d,
                                        two LayerNorms 4d
        + 2·d                      final LayerNorm
        """
        d, r = width, mlp_ratio
        per_block = (4 + 2 * r) * d * d + (9 + r) * d
        return vocab_size * d + context * d + depth * per_block + 2 * d

    def num_params(self, non_embedding: bool = False) -> int:
        """Number of parameters (tied weights counted once).

        ``non_embedding=True`` leaves out the token and position embeddings, as in Kaplan et al. 2020's
        scaling laws (the tied LM head goes with the token embedding).
        """
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.tok_emb.weight.numel() + self.pos_emb.weight.numel()
        return n

    def forward(self, idx: Tensor, targets: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        """``idx``: ``(B, T)`` token ids, T <= context -> logits ``(B, T, vocab_size)``.

        With ``targets`` (``(B, T)`` ids, the next token at each position; -1 is ignored) returns
        ``(logits, loss)`` where ``loss`` is the mean cross-entropy in nats.
        """
        if not isinstance(idx, torch.fx.Proxy):  # shapes are unknown under fx symbolic tracing
            self._check_ids("idx", idx)
            if targets is not None:
                self._check_ids("targets", targets)
                if targets.shape != idx.shape:
                    raise ValueError(
                        f"targets must have the shape of idx {_shape_str(tuple(idx.shape))}, "
                        f"got {_shape_str(tuple(targets.shape))}"
                    )
            if idx.shape[1] > self.context:
                raise ValueError(f"sequence length must be <= context={self.context}, got T={idx.shape[1]}")

        T = idx.shape[1]
        pos = torch.arange(T, device=idx.device)  # (T,)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))  # (B, T, C)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab_size)
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss

    @staticmethod
    def _check_ids(name: str, ids: Tensor) -> None:
        if not isinstance(ids, Tensor) or ids.dtype.is_floating_point or ids.dtype.is_complex:
            what = ids.dtype if isinstance(ids, Tensor) else type(ids).__name__
            raise TypeError(f"{name} must be an integer (torch.long) tensor of token ids, got {what}")
        if ids.dim() != 2:
            raise ValueError(f"{name} must have shape (B, T), got {_shape_str(tuple(ids.shape))}")

    @torch.no_grad()
    def generate(
        self,
        idx: Tensor,
        max_new_tokens: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int | None = None,
    ) -> Tensor:
        """Sample ``max_new_tokens`` tokens after the prompt ``idx`` ``(B, T)``; returns ``(B, T + new)``.

        Each step feeds the last ``context`` tokens, divides the logits by ``temperature`` and, with
        ``top_k``, samples among the k most likely tokens only. Same ``seed``, same text. Call
        ``model.eval()`` first if the model has dropout.
        """
        self._check_ids("idx", idx)
        if not is_int(max_new_tokens) or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        temperature = _positive_float("temperature", temperature)
        if top_k is not None and not (is_int(top_k) and 1 <= top_k <= self.vocab_size):
            raise ValueError(f"top_k must be None or an int in 1..{self.vocab_size}, got {top_k!r}")
        gen = None
        if seed is not None:
            gen = torch.Generator(device=idx.device)
            gen.manual_seed(seed)

        for _ in range(max_new_tokens):
            logits = self(idx[:, -self.context :])
            logits = logits[:, -1, :] / temperature  # (B, vocab_size): only the last position predicts
            if top_k is not None:
                kth = torch.topk(logits, top_k).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = F.softmax(logits, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=gen)  # (B, 1)
            idx = torch.cat([idx, nxt], dim=1)
        return idx
