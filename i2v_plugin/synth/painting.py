"""Painting textured shapes into images, shared by the scenes of both generator versions.

Images are float32 RGB arrays (H, W, 3) in [0, 1]; masks are (H, W) bool arrays of the same size.
"""

import math

import numpy as np

from .shapes import Pose, local_coordinates, rasterize_ellipse
from .textures import Appearance, TextureSpec, render_texture, sample_texture


def window_pose(pose: Pose, origin: tuple[int, int]) -> Pose:
    """``pose`` (scene pixels) in the pixels of a window whose top-left corner is ``origin``
    (x, y) in the scene."""
    return Pose(pose.cx - origin[0], pose.cy - origin[1], pose.size, pose.angle)


def paint_texture(image: np.ndarray, mask: np.ndarray, pose: Pose, texture: TextureSpec) -> None:
    """Paint ``texture``, attached to a shape at ``pose``, into ``image`` where ``mask`` is set
    (in place); the texture moves, turns and scales with the shape."""
    u, v = local_coordinates(pose, *mask.shape)
    image[mask] = render_texture(texture, u[mask], v[mask])


def paint_ellipses(
    rng: np.random.Generator,
    background: np.ndarray,
    count: int,
    size: tuple[float, float],
    aspect: tuple[float, float],
    side: float,
    appearance: Appearance,
) -> np.ndarray:
    """Paint ``count`` textured ellipses (no class) anywhere in ``background``.

    Each ellipse draws its centre (x, then y), its long axis (``size`` range, fraction of
    ``side``), its angle, its aspect (short / long axis, ``aspect`` range) and its texture, in
    that order.

    Args:
        rng: random generator.
        background: (H, W, 3) float32 image; not modified.
        count: number of ellipses.
        size: (min, max) long axis, fraction of ``side``.
        aspect: (min, max) short axis / long axis.
        side: the length ``size`` refers to, pixels.
        appearance: colour ranges and texture contrast of the textures.
    Returns:
        a painted copy of ``background``.
    """
    height, width = background.shape[:2]
    background = background.copy()
    for _ in range(count):
        pose = Pose(
            cx=float(rng.uniform(0, width)),
            cy=float(rng.uniform(0, height)),
            size=float(rng.uniform(*size) * side),
            angle=float(rng.uniform(0, math.pi)),
        )
        mask = rasterize_ellipse(pose, float(rng.uniform(*aspect)), height, width)
        paint_texture(background, mask, pose, sample_texture(rng, appearance))
    return background
