"""The ten object classes of the synthetic benchmark, as shape rasterisers.

Classes differ by shape and structure only (appearance is drawn elsewhere, from one distribution
shared by all classes). Pairs such as disk/ring, square/frame and disk/hexagon differ only in fine
structure. Each shape is a list of polygons in unit coordinates (the shape fits in the unit
circle), filled (add) or cleared (cut) in order; PIL draws them into a mask.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from .classes import SHAPE_NAMES

# Vertex count used to draw circles; enough to look round at a few hundred pixels.
_CIRCLE_VERTICES = 64


@dataclass(frozen=True)
class Pose:
    """Placement of a shape in an image.

    Attributes:
        cx, cy: centre in pixels (x to the right, y down; pixel (row i, col j) has centre (j, i)).
        size: diameter in pixels of the circle that encloses the shape.
        angle: rotation in radians.
    """

    cx: float
    cy: float
    size: float
    angle: float = 0.0


def _regular_polygon(n: int, radius: float, centre=(0.0, 0.0), phase: float = -math.pi / 2):
    angles = phase + 2 * math.pi * np.arange(n) / n
    return np.stack([centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles)], 1)


def _rectangle(x0: float, y0: float, x1: float, y1: float):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def _star(points: int, outer: float, inner: float):
    radii = np.tile([outer, inner], points)
    angles = -math.pi / 2 + math.pi * np.arange(2 * points) / points
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], 1)


def _cross(half_width: float, half_length: float):
    w, h = half_width, half_length
    return np.array(
        [[-w, -h], [w, -h], [w, -w], [h, -w], [h, w], [w, w], [w, h], [-w, h], [-w, w], [-h, w]]
        + [[-h, -w], [-w, -w]],
        dtype=float,
    )


def _arrow():
    # Points along +x: a shaft from the tail to the head's base, then a triangular head.
    return np.array(
        [[-0.95, -0.22], [0.1, -0.22], [0.1, -0.62], [0.95, 0.0], [0.1, 0.62], [0.1, 0.22]]
        + [[-0.95, 0.22]],
        dtype=float,
    )


# Each shape: (polygon in unit coordinates, fill) pairs drawn in order; fill False cuts a hole.
_SHAPE_PARTS = {
    "disk": [(_regular_polygon(_CIRCLE_VERTICES, 1.0), True)],
    "square": [(_rectangle(-0.7, -0.7, 0.7, 0.7), True)],
    "triangle": [(_regular_polygon(3, 1.0), True)],
    "star": [(_star(5, 1.0, 0.42), True)],
    "cross": [(_cross(0.28, 0.95), True)],
    "ring": [
        (_regular_polygon(_CIRCLE_VERTICES, 1.0), True),
        (_regular_polygon(_CIRCLE_VERTICES, 0.6), False),
    ],
    "crescent": [
        (_regular_polygon(_CIRCLE_VERTICES, 1.0), True),
        (_regular_polygon(_CIRCLE_VERTICES, 0.85, centre=(0.45, 0.0)), False),
    ],
    "hexagon": [(_regular_polygon(6, 1.0, phase=0.0), True)],
    "arrow": [(_arrow(), True)],
    "frame": [
        (_rectangle(-0.7, -0.7, 0.7, 0.7), True),
        (_rectangle(-0.42, -0.42, 0.42, 0.42), False),
    ],
}


def _to_pixels(points: np.ndarray, pose: Pose) -> list[tuple[float, float]]:
    cos, sin = math.cos(pose.angle), math.sin(pose.angle)
    scale = pose.size / 2
    x = pose.cx + scale * (cos * points[:, 0] - sin * points[:, 1])
    y = pose.cy + scale * (sin * points[:, 0] + cos * points[:, 1])
    return list(zip(x.tolist(), y.tolist(), strict=True))


def _draw(parts, pose: Pose, height: int, width: int) -> np.ndarray:
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for polygon, fill in parts:
        draw.polygon(_to_pixels(polygon, pose), fill=255 if fill else 0)
    return np.asarray(canvas) > 0


def rasterize_parts(parts, pose: Pose, height: int, width: int) -> np.ndarray:
    """Mask of a shape given as parts: (polygon, fill) pairs drawn in order.

    Args:
        parts: list of ((N, 2) array of unit coordinates inside the unit circle, fill) pairs;
            fill True adds the polygon, False cuts it out.
        pose: centre, enclosing diameter (pixels) and rotation.
        height, width: mask size in pixels.
    Returns:
        (height, width) bool array.
    """
    return _draw(parts, pose, height, width)


def rasterize_shape(name: str, pose: Pose, height: int, width: int) -> np.ndarray:
    """Mask of one class shape.

    Args:
        name: one of SHAPE_NAMES.
        pose: centre, enclosing diameter (pixels) and rotation.
        height, width: mask size in pixels; the shape may extend past the border (clipped).
    Returns:
        (height, width) bool array, True inside the shape.
    Raises:
        ValueError for an unknown shape name.
    """
    if name not in _SHAPE_PARTS:
        raise ValueError(f"Unknown shape {name!r}; expected one of {SHAPE_NAMES}")
    return _draw(_SHAPE_PARTS[name], pose, height, width)


def rasterize_ellipse(pose: Pose, aspect: float, height: int, width: int) -> np.ndarray:
    """Mask of an ellipse (a non-class distractor blob).

    Args:
        pose: centre, long-axis length ``size`` (pixels) and rotation of the long axis.
        aspect: short axis / long axis, in (0, 1].
        height, width: mask size in pixels.
    Returns:
        (height, width) bool array.
    """
    ellipse = _regular_polygon(_CIRCLE_VERTICES, 1.0) * np.array([1.0, aspect])
    return _draw([(ellipse, True)], pose, height, width)


def local_coordinates(pose: Pose, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel's coordinates in the shape's own frame, in units of the shape's size.

    Textures evaluated on these coordinates move, rotate and scale with the shape.

    Returns:
        (u, v): two (height, width) float32 arrays; (0, 0) is the centre, one unit is ``size``
        pixels, u runs along the shape's rotated x axis.
    """
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = x - pose.cx, y - pose.cy
    cos, sin = math.cos(pose.angle), math.sin(pose.angle)
    u = (cos * dx + sin * dy) / pose.size
    v = (-sin * dx + cos * dy) / pose.size
    return u.astype(np.float32), v.astype(np.float32)
