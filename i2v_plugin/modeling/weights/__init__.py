"""Pretrained weights from local files: converters to the plugin's Detectron2 names and 2D -> 3D
inflation for VideoSwin. The converted checkpoints load through ``MODEL.WEIGHTS`` (Detectron2's
checkpointer, which reports missing, unexpected and mismatched keys).

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
from .report import ConversionReport
from .swin import convert_mmseg_upernet_swin, convert_timm_swin

__all__ = [
    "CHECKPOINT_AUTHOR",
    "INFLATE_MODES",
    "ConversionReport",
    "convert_mmseg_upernet_swin",
    "convert_timm_swin",
    "convert_torchvision_deeplabv3",
    "inflate_swin_to_video_swin",
    "load_checkpoint_file",
    "save_d2_checkpoint",
    "unwrap_state_dict",
]
