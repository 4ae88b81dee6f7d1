"""Synthetic media for the inference tests: moving-square frames and palette masks."""

import numpy as np
from PIL import Image

SIZE = 64


def make_frames(num: int, height: int = SIZE, width: int = SIZE) -> list[np.ndarray]:
    """A bright square moving over a colour gradient (varied content, so argmax varies)."""
    yy, xx = np.mgrid[0:height, 0:width]
    frames = []
    for t in range(num):
        frame = np.stack([xx * 4 % 256, yy * 4 % 256, np.full_like(xx, 40 * t % 256)], axis=-1)
        frame[10 + 3 * t : 30 + 3 * t, 8 + 4 * t : 28 + 4 * t] = (250, 230, 20)
        frames.append(frame.astype(np.uint8))
    return frames


def read_mask(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "P"
        return np.asarray(image)
