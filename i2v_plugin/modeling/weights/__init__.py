"""Pretrained weights from local files, both ways, for every backbone.

Import: converters from published checkpoints to the plugin's Detectron2 names (and 2D -> 3D
inflation for VideoSwin); the converted checkpoints load through ``MODEL.WEIGHTS``. Export: a
trained encoder in its home library's layout (``export.py``). Each backbone's module (``swin.py``,
``mmseg_swin.py``, ``deeplab.py``, ``video_swin.py``) registers its converters under its builder
name (``registry.py``); ``tools/convert_weights.py`` and ``tools/export_backbone.py`` only look
them up. Importing this package registers them. Nothing here downloads anything.
"""

from . import deeplab, mmseg_swin, swin, video_swin  # noqa: F401  (registration)
from .checkpoint_io import (
    CHECKPOINT_AUTHOR,
    load_checkpoint_file,
    save_d2_checkpoint,
    unwrap_state_dict,
)
from .deeplab import convert_torchvision_deeplabv3
from .export import (
    EncoderExport,
    ExportError,
    export_encoder,
    inverse_names,
    side_paths,
    write_export,
)
from .inflate import INFLATE_MODES, inflate_swin_to_video_swin
from .mmseg_swin import convert_mmseg_upernet_swin
from .registry import (
    BackboneExporter,
    HomeModel,
    ImportOptions,
    exporters,
    import_checkpoint,
    import_sources,
    one_step_importer,
    register_backbone_weights,
)
from .report import ConversionReport
from .swin import convert_timm_swin

__all__ = [
    "CHECKPOINT_AUTHOR",
    "INFLATE_MODES",
    "BackboneExporter",
    "ConversionReport",
    "EncoderExport",
    "ExportError",
    "HomeModel",
    "ImportOptions",
    "convert_mmseg_upernet_swin",
    "convert_timm_swin",
    "convert_torchvision_deeplabv3",
    "export_encoder",
    "exporters",
    "import_checkpoint",
    "import_sources",
    "inflate_swin_to_video_swin",
    "inverse_names",
    "load_checkpoint_file",
    "one_step_importer",
    "register_backbone_weights",
    "save_d2_checkpoint",
    "side_paths",
    "unwrap_state_dict",
    "write_export",
]
