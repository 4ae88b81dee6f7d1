"""Every colour palette of the project, as (256, 3) uint8 RGB arrays indexed by label value.

In all of them index 0 (background) is black and 255 (the ignore label) is white or near white.

* ``CLASS_PALETTE``: predicted masks, overlays and figures. Each class gets a saturated colour
  whose hue advances by the golden ratio, so neighbouring class indices always differ clearly,
  whatever the number of classes.
* ``DAVIS_PALETTE``: the colour map of the published DAVIS and Pascal VOC annotation PNGs; the
  converted DAVIS labels keep it, like the files they come from.
* The synthetic benchmark's annotations use ``hsv_palette`` with evenly spaced hues (see
  ``synth.generator``).

Only the index of a pixel carries meaning: the palette of a label PNG is for display. Changing
one would still change the bytes of every file written with it, so none is changed lightly.
"""

import colorsys
from collections.abc import Mapping

import numpy as np

IGNORE_INDEX = 255
_GOLDEN = 0.618033988749895


def hsv_palette(colours: Mapping[int, tuple[float, float, float]]) -> np.ndarray:
    """A palette holding ``colours`` (index -> HSV in [0, 1]), white at 255, black elsewhere.

    Returns:
        (256, 3) uint8 array; each channel is ``round(255 * value)``.
    """
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index, hsv in colours.items():
        palette[index] = [round(255 * c) for c in colorsys.hsv_to_rgb(*hsv)]
    palette[IGNORE_INDEX] = 255
    return palette


def _class_colour(index: int) -> tuple[float, float, float]:
    hue = ((index - 1) * _GOLDEN) % 1.0
    # Saturation and value cycle slowly so classes ten apart with similar hues still differ.
    saturation = (0.9, 0.6)[((index - 1) // 10) % 2]
    value = (1.0, 0.8)[((index - 1) // 20) % 2]
    return hue, saturation, value


def _davis_palette() -> np.ndarray:
    # The bits of the index are spread over the high bits of r, g and b in turn, so small
    # indices get well separated colours; 255 is near white.
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        value = index
        for bit in range(8):
            for channel in range(3):
                palette[index, channel] |= ((value >> channel) & 1) << (7 - bit)
            value >>= 3
    return palette


CLASS_PALETTE = hsv_palette({index: _class_colour(index) for index in range(1, IGNORE_INDEX)})
DAVIS_PALETTE = _davis_palette()
