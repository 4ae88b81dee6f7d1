"""Detectron2 backbone adapters (registered in ``BACKBONE_REGISTRY``): Swin (timm), VideoSwin
(torchvision) and the DeepLab ResNet (detectron2.projects.deeplab, with its ASPP head)."""

from .deeplab import D2DeepLabResNet, I2VDeepLabV3Head, build_i2v_resnet_deeplab_backbone
from .swin import D2SwinTransformer, build_swin_backbone
from .video_swin import D2VideoSwinTransformer, build_video_swin_backbone

__all__ = [
    "D2DeepLabResNet",
    "D2SwinTransformer",
    "D2VideoSwinTransformer",
    "I2VDeepLabV3Head",
    "build_i2v_resnet_deeplab_backbone",
    "build_swin_backbone",
    "build_video_swin_backbone",
]
