"""Model components of i2v_plugin: backbones, heads and adversarial domain-adaptation blocks.

Importing it registers the backbones, heads, discriminators and the meta-architecture.
"""

from .backbone import D2SwinTransformer
from .heads import UperNetHead
from .meta_arch import I2VSemanticSegmentor

__all__ = ["D2SwinTransformer", "I2VSemanticSegmentor", "UperNetHead"]
