"""Detectron2 backbone adapters (registered in ``BACKBONE_REGISTRY``), all ``TappableBackbone``s:
Swin (timm), VideoSwin (torchvision) and the DeepLab ResNet (detectron2.projects.deeplab)."""

from .base import TappableBackbone
from .deeplab import D2DeepLabResNet, build_i2v_resnet_deeplab_backbone
from .swin import D2SwinTransformer, build_swin_backbone
from .video_swin import D2VideoSwinTransformer, build_video_swin_backbone

__all__ = [
    "D2DeepLabResNet",
    "D2SwinTransformer",
    "D2VideoSwinTransformer",
    "TappableBackbone",
    "build_i2v_resnet_deeplab_backbone",
    "build_swin_backbone",
    "build_video_swin_backbone",
]
