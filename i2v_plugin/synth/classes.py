"""The classes of the synthetic benchmark: background plus ten shapes (label value = index).

Kept apart from the generator so that registration reads the list without importing it.
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
