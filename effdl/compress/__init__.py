"""effdl.compress — model compression: pruning, low-rank factorization, distillation, quantization.

Each technique is a module (``effdl.compress.prune``, ``.lowrank``, ``.distill``, ``.quant``) whose functions take
any ``torch.nn.Module`` or tensor.
"""
