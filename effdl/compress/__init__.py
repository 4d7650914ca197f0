"""effdl.compress — model compression: pruning, low-rank factorization, distillation (and, later, quantization).

Each technique is a module (``effdl.compress.prune``, ``.lowrank``, ``.distill``) whose functions take any
``torch.nn.Module``.
"""
