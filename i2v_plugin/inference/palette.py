"""Masks in the class palette: colouring and palette PNG files.

``CLASS_PALETTE`` (defined with every other palette in ``i2v_plugin.utils.palette``) colours every
mask and figure: class 0 is black (the background of the synthetic benchmark, DAVIS and VOC),
255 (the ignore label) is white, and neighbouring class indices get clearly different colours.
"""

import os

import numpy as np
from PIL import Image

from ..utils.palette import CLASS_PALETTE, IGNORE_INDEX

__all__ = ["CLASS_PALETTE", "IGNORE_INDEX", "check_mask", "colorize", "save_mask_png"]


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
