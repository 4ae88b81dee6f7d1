"""The ten shapes of the pretraining task (``PRETRAIN_SHAPE_NAMES``), none of them a benchmark
class. Each is a list of (polygon in unit coordinates, fill) parts that fits in the unit circle,
drawn by ``shapes.rasterize_parts``.
"""

import math

import numpy as np

from .classes import PRETRAIN_SHAPE_NAMES
from .shapes import Pose, rasterize_parts


def _circle_points(count: int, start: float, stop: float) -> np.ndarray:
    angles = np.linspace(start, stop, count)
    return np.stack([np.cos(angles), np.sin(angles)], 1)


def _regular(n: int, phase: float) -> np.ndarray:
    return _circle_points(n + 1, phase, phase + 2 * math.pi)[:-1]


def _heart() -> np.ndarray:
    t = np.linspace(0, 2 * math.pi, 64, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    points = np.stack([x, y + 2.5], 1)
    return points / np.hypot(points[:, 0], points[:, 1]).max()


def _semicircle() -> np.ndarray:
    half = _circle_points(33, 0, math.pi)  # y >= 0, flat side on y = 0
    return (half - [0.0, 0.5]) * 0.88


_PARTS = {
    "ellipse": [(_circle_points(64, 0, 2 * math.pi) * [1.0, 0.5], True)],
    "diamond": [(np.array([[0, -1], [0.55, 0], [0, 1], [-0.55, 0]], float), True)],
    "pentagon": [(_regular(5, -math.pi / 2), True)],
    "parallelogram": [(np.array([[-0.9, 0.4], [0.35, 0.4], [0.9, -0.4], [-0.35, -0.4]]), True)],
    "trapezoid": [(np.array([[-0.9, 0.45], [0.9, 0.45], [0.4, -0.45], [-0.4, -0.45]]), True)],
    "chevron": [
        (np.array([[-0.8, -0.5], [0, 0.2], [0.8, -0.5], [0.8, 0.0], [0, 0.7], [-0.8, 0.0]]), True)
    ],
    "heart": [(_heart(), True)],
    "semicircle": [(_semicircle(), True)],
    "bowtie": [
        (
            np.array([[-0.85, -0.5], [0, -0.1], [0.85, -0.5], [0.85, 0.5], [0, 0.1], [-0.85, 0.5]]),
            True,
        )
    ],
    "lshape": [
        (
            np.array(
                [[-0.6, -0.75], [-0.2, -0.75], [-0.2, 0.3], [0.6, 0.3], [0.6, 0.7], [-0.6, 0.7]]
            ),
            True,
        )
    ],
}
if tuple(_PARTS) != PRETRAIN_SHAPE_NAMES:
    raise RuntimeError("pretrain_shapes: the shapes must follow PRETRAIN_SHAPE_NAMES")


def rasterize_pretrain_shape(name: str, pose: Pose, height: int, width: int) -> np.ndarray:
    """Mask of one pretraining shape.

    Args:
        name: one of PRETRAIN_SHAPE_NAMES.
        pose: centre, enclosing diameter (pixels) and rotation.
        height, width: mask size in pixels.
    Returns:
        (height, width) bool array.
    Raises:
        ValueError for an unknown name.
    """
    if name not in _PARTS:
        raise ValueError(
            f"Unknown pretraining shape {name!r}; expected one of {PRETRAIN_SHAPE_NAMES}"
        )
    return rasterize_parts(_PARTS[name], pose, height, width)
