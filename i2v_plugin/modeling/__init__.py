"""Model components of i2v_plugin: backbones, heads, the training objectives and their
adversarial building blocks.

Importing it registers the backbones, heads, discriminators, objectives and the
meta-architecture.
"""

from .backbone import D2SwinTransformer
from .heads import UperNetHead
from .meta_arch import I2VSemanticSegmentor
from .objectives import OBJECTIVE_REGISTRY, TrainingObjective, required_inputs

__all__ = [
    "OBJECTIVE_REGISTRY",
    "D2SwinTransformer",
    "I2VSemanticSegmentor",
    "TrainingObjective",
    "UperNetHead",
    "required_inputs",
]
