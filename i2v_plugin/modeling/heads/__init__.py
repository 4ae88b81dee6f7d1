"""Segmentation heads (registered in ``SEM_SEG_HEADS_REGISTRY``): UperNet and DeepLabv3's ASPP."""

from .deeplab import I2VDeepLabV3Head
from .upernet import UperNetHead

__all__ = ["I2VDeepLabV3Head", "UperNetHead"]
