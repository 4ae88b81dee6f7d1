"""Dataset registration. Importing this package registers every split under
``$DETECTRON2_DATASETS`` (default ``./datasets``); files are only read when a split is loaded."""

import os

from .i2v_synth import register_all_i2v_synth

_root = os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets"))
register_all_i2v_synth(_root)
