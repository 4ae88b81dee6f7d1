"""Segmentation heads (registered in ``SEM_SEG_HEADS_REGISTRY``)."""

from .upernet import UperNetHead

__all__ = ["UperNetHead"]
