"""The fixed class palette of every mask and figure, and palette PNG masks.

Class 0 is black (the background of the synthetic benchmark, DAVIS and VOC), 255 (the ignore
label) is white, and every other class gets a saturated colour whose hue advances by the golden
ratio, so neighbouring class indices always get clearly different colours whatever the number
of classes.
"""

import colorsys
import os

import numpy as np
from PIL import Image

IGNORE_INDEX = 255
_GOLDEN = 0.618033988749895


def _build_palette() -> np.ndarray:
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(1, IGNORE_INDEX):
        hue = ((index - 1) * _GOLDEN) % 1.0
        # Saturation and value cycle slowly so classes ten apart with similar hues still differ.
        saturation = (0.9, 0.6)[((index - 1) // 10) % 2]
        value = (1.0, 0.8)[((index - 1) // 20) % 2]
        rgb = colorsys.hsv_to_rgb(hue, saturation, value)
        palette[index] = [round(255 * c) for c in rgb]
    palette[IGNORE_INDEX] = 255
    return palette


# (256, 3) uint8 RGB colour of each mask value.
CLASS_PALETTE = _build_palette()


def check_mask(mask: np.ndarray, who: str) -> np.ndarray:
    """Return ``mask`` if it is an (H, W) uint8 map of class indices, else raise ValueError."""
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"{who}: expected an (H, W) uint8 mask, got {mask.shape} {mask.dtype}")
    return mask


def colorize(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8 class indices -> (H, W, 3) uint8 RGB colours of ``CLASS_PALETTE``."""
    return np.take(CLASS_PALETTE, check_mask(mask, "colorize"), axis=0)


def save_mask_png(mask: np.ndarray, path, compress_level: int = 3) -> None:
    """Write an (H, W) uint8 mask as a palette ("P") PNG: pixel value = class index.

    ``compress_level`` trades file size for speed (masks compress well even at low levels).
    """
    image = Image.fromarray(check_mask(mask, f"save_mask_png({os.fspath(path)})"), mode="L")
    image.putpalette(CLASS_PALETTE.tobytes())  # turns "L" into "P" and keeps the values
    image.save(path, compress_level=compress_level)
