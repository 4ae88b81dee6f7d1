"""Class lists of the synthetic datasets (label value = index in the tuple).

The benchmark's ten shape classes and the pretraining task's ten other shapes live here, in the
data layer, so that registration reads them without importing the generator package
(``i2v_plugin.synth`` imports them from here, never the other way round).
"""

SHAPE_NAMES = (
    "disk",
    "square",
    "triangle",
    "star",
    "cross",
    "ring",
    "crescent",
    "hexagon",
    "arrow",
    "frame",
)

SYNTH_CLASSES = ("background", *SHAPE_NAMES)

# The pretraining task (``i2v_synth_pretrain_*``): shapes that are none of SHAPE_NAMES, so that
# fine-tuning on the benchmark starts from features of a disjoint label set, as fine-tuning from
# ADE20k weights does in the paper.
PRETRAIN_SHAPE_NAMES = (
    "ellipse",
    "diamond",
    "pentagon",
    "parallelogram",
    "trapezoid",
    "chevron",
    "heart",
    "semicircle",
    "bowtie",
    "lshape",
)

PRETRAIN_CLASSES = ("background", *PRETRAIN_SHAPE_NAMES)
