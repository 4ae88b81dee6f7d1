"""Data: dataset registration, the mixed image/video mapper and the two-stream train loader."""

from . import datasets  # noqa: F401  (registers every dataset)
from .loader import TwoStreamLoader, build_i2v_train_loader
from .mapper import I2VDatasetMapper

__all__ = ["I2VDatasetMapper", "TwoStreamLoader", "build_i2v_train_loader"]
