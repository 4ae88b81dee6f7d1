"""Pretrained weights from local files: converters to the plugin's Detectron2 names, 2D -> 3D
inflation for VideoSwin, and a loader that reports missing/unexpected keys in one message.

Used by ``tools/convert_weights.py``; nothing here downloads anything.
"""

from .checkpoint_io import (
    CHECKPOINT_AUTHOR,
    load_checkpoint_file,
    save_d2_checkpoint,
    unwrap_state_dict,
)
from .deeplab import convert_torchvision_deeplabv3
from .inflate import INFLATE_MODES, inflate_swin_to_video_swin
from .loading import LoadReport, WeightLoadError, load_converted_weights
from .report import ConversionReport
from .swin import convert_mmseg_upernet_swin, convert_timm_swin

__all__ = [
    "CHECKPOINT_AUTHOR",
    "INFLATE_MODES",
    "ConversionReport",
    "LoadReport",
    "WeightLoadError",
    "convert_mmseg_upernet_swin",
    "convert_timm_swin",
    "convert_torchvision_deeplabv3",
    "inflate_swin_to_video_swin",
    "load_checkpoint_file",
    "load_converted_weights",
    "save_d2_checkpoint",
    "unwrap_state_dict",
]
