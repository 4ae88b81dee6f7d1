"""Synthetic camera motion for still images that enter a clip backbone.

A still image becomes a clip of T copies of itself. A discriminator with temporal kernels (the 3D
PatchGAN) can then tell image clips from video clips by their lack of motion alone, whatever the
per-frame features look like: a shortcut that teaches the encoder nothing about appearance. Each
copy is therefore seen through a slightly moving camera: a random zoom-in of up to ``amount`` of
the side and a random pan within the margin that leaves, drawn independently per frame. The view
never leaves the image, so no border has to be invented; labels move with their frame.
"""

import numpy as np
from detectron2.data import transforms as T
from PIL import Image


def camera_jitter(height: int, width: int, amount: float) -> T.ExtentTransform:
    """One frame's view: a window of ``(1 - z)`` times the image side, z uniform in
    [0, ``amount``], at a uniform position inside the image, resized back to (height, width)."""
    shrink = 1.0 - np.random.uniform(0.0, amount)
    view_w, view_h = width * shrink, height * shrink
    x0 = np.random.uniform(0.0, width - view_w)
    y0 = np.random.uniform(0.0, height - view_h)
    return T.ExtentTransform(
        (x0, y0, x0 + view_w, y0 + view_h), output_size=(height, width), interp=Image.BILINEAR
    )


def move_still_clip(frames: list, labels: list, amount: float) -> tuple[list, list]:
    """Give every copy of a still image its own small camera motion.

    Args:
        frames: T (H, W, 3) uint8 arrays (copies of one image).
        labels: T (H, W) label maps or None.
        amount: largest zoom-in, as a fraction of the side (0 returns the inputs unchanged).
    Returns:
        (frames, labels) of the same sizes, each frame viewed by its own ``camera_jitter``.
    """
    if amount <= 0:
        return frames, labels
    moved_frames, moved_labels = [], []
    for frame, label in zip(frames, labels):
        view = camera_jitter(frame.shape[0], frame.shape[1], amount)
        moved_frames.append(view.apply_image(frame))
        moved_labels.append(None if label is None else view.apply_segmentation(label))
    return moved_frames, moved_labels
