"""i2v_plugin: image-to-video domain adaptation for semantic segmentation, as a Detectron2 plugin.

Importing the package registers every dataset, backbone, head, discriminator and the
meta-architecture, and exposes the public API below.
"""

from . import data, modeling  # noqa: F401  (registration side effects)
from .config import add_i2v_config
from .data import I2VDatasetMapper, build_i2v_train_loader
from .modeling import D2SwinTransformer, I2VSemanticSegmentor, UperNetHead

__all__ = [
    "D2SwinTransformer",
    "I2VDatasetMapper",
    "I2VSemanticSegmentor",
    "UperNetHead",
    "add_i2v_config",
    "build_i2v_train_loader",
]
