"""effdl — a workbench for efficient deep learning."""

__version__ = "0.1.0"
