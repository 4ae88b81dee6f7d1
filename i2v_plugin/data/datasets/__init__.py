"""Dataset registration. Importing this package registers every split under
``$DETECTRON2_DATASETS`` (default ``./datasets``); files are only read when a split is loaded."""

import os

from .coco_stuff import register_all_coco_stuff
from .davis import register_all_davis
from .fbms import register_all_fbms
from .i2v_synth import register_all_i2v_synth
from .video_folder import register_all_video_folders, register_video_folder
from .voc import register_all_voc

__all__ = ["register_video_folder"]

_root = os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))
register_all_i2v_synth(_root)
register_all_coco_stuff(_root)
register_all_davis(_root)
register_all_fbms(_root)
register_all_voc(_root)
register_all_video_folders(_root)
