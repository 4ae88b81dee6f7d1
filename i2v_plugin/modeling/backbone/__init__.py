"""Detectron2 backbone adapters (registered in ``BACKBONE_REGISTRY``)."""

from .swin import D2SwinTransformer, build_swin_backbone

__all__ = ["D2SwinTransformer", "build_swin_backbone"]
