"""The practitioner's guide: effdl on your own ``torch.nn.Module`` (:func:`analyze` reports what to compress first)."""

from effdl.guide.analyze import ModelReport, analyze

__all__ = ["ModelReport", "analyze"]
