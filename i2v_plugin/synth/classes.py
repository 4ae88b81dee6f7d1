"""The classes of the synthetic benchmark (kept for existing imports).

The lists live in the data layer, ``i2v_plugin.data.datasets.synth_classes``, so that
registration never imports this package; this module re-exports them.
"""

from ..data.datasets.synth_classes import (
    PRETRAIN_CLASSES,
    PRETRAIN_SHAPE_NAMES,
    SHAPE_NAMES,
    SYNTH_CLASSES,
)

__all__ = ["PRETRAIN_CLASSES", "PRETRAIN_SHAPE_NAMES", "SHAPE_NAMES", "SYNTH_CLASSES"]
