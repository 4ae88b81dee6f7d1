"""Scenes of the synthetic benchmark: a background plus textured class shapes that may move.

A scene is sampled once (background, objects with their motion) and rendered at any time (in
frames) through any window of its background, which is how camera shake moves objects and
background together. Objects are drawn in order, so later objects occlude earlier ones, in the
image and in the label map alike.
"""

import math
from dataclasses import dataclass

import numpy as np

from .clip import Clip
from .painting import paint_ellipses, paint_texture, window_pose
from .shapes import SHAPE_NAMES, Pose, rasterize_shape
from .textures import (
    DEFAULT_APPEARANCE,
    Appearance,
    TextureSpec,
    sample_background,
    sample_texture,
)

NUM_SHAPE_CLASSES = len(SHAPE_NAMES)


@dataclass(frozen=True)
class SceneObject:
    """One class shape with a texture and a constant-rate motion.

    Attributes:
        class_id: label value, 1..NUM_SHAPE_CLASSES (shape SHAPE_NAMES[class_id - 1]).
        texture: appearance, attached to the object's frame (moves and scales with it).
        start: pose at time 0 (scene pixel coordinates).
        velocity: (vx, vy) centre velocity in pixels per frame.
        log_scale_rate: d log(size) / dt per frame (0 = constant size).
        angular_velocity: rotation speed in radians per frame.
    """

    class_id: int
    texture: TextureSpec
    start: Pose
    velocity: tuple[float, float] = (0.0, 0.0)
    log_scale_rate: float = 0.0
    angular_velocity: float = 0.0

    def pose_at(self, time: float) -> Pose:
        """The pose ``time`` frames after the start (time may be fractional)."""
        return Pose(
            cx=self.start.cx + self.velocity[0] * time,
            cy=self.start.cy + self.velocity[1] * time,
            size=self.start.size * math.exp(self.log_scale_rate * time),
            angle=self.start.angle + self.angular_velocity * time,
        )


@dataclass(frozen=True)
class Scene:
    """A static background and the objects drawn over it, bottom to top.

    Attributes:
        background: (H, W, 3) float32 RGB in [0, 1]; may be larger than the rendered window.
        objects: tuple of SceneObject, drawn in order.
    """

    background: np.ndarray
    objects: tuple[SceneObject, ...]


def render_scene(
    scene: Scene, time: float, origin: tuple[int, int] = (0, 0), size: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Render the scene at ``time`` through a window of its background.

    Args:
        scene: the scene.
        time: time in frames.
        origin: (x, y) of the window's top-left corner in scene pixels.
        size: (height, width) of the window; None = the whole background.
    Returns:
        rgb: (height, width, 3) float32 in [0, 1].
        label: (height, width) uint8, 0 = background, else the class_id of the visible object.
    """
    ox, oy = origin
    height, width = size if size is not None else scene.background.shape[:2]
    rgb = scene.background[oy : oy + height, ox : ox + width].copy()
    if rgb.shape[:2] != (height, width):
        raise ValueError(
            f"render_scene: window {width}x{height} at {origin} leaves the background of size "
            f"{scene.background.shape[1]}x{scene.background.shape[0]}"
        )
    label = np.zeros((height, width), np.uint8)
    for obj in scene.objects:
        pose = window_pose(obj.pose_at(time), origin)
        mask = rasterize_shape(SHAPE_NAMES[obj.class_id - 1], pose, height, width)
        if mask.any():
            paint_texture(rgb, mask, pose, obj.texture)
            label[mask] = obj.class_id
    return rgb, label


def sample_count(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    """A count uniform in ``bounds`` = (min, max), both included."""
    return int(rng.integers(bounds[0], bounds[1] + 1))


def sample_class_ids(rng: np.random.Generator, count: int, top_class: int) -> list[int]:
    """``count`` class ids, bottom to top: ``count - 1`` uniform ones, then ``top_class``."""
    others = rng.integers(1, NUM_SHAPE_CLASSES + 1, size=count - 1).tolist()
    return [int(c) for c in others] + [top_class]


def _add_distractors(
    rng: np.random.Generator,
    background: np.ndarray,
    max_count: int,
    side: float,
    appearance: Appearance = DEFAULT_APPEARANCE,
) -> np.ndarray:
    """Paint up to ``max_count`` small textured ellipses (no class) into the background."""
    count = sample_count(rng, (0, max_count))
    return paint_ellipses(rng, background, count, (0.05, 0.1), (0.25, 0.6), side, appearance)


def sample_image_scene(
    rng: np.random.Generator,
    image_size: int,
    top_class: int,
    objects_per_scene: tuple[int, int],
    object_size: tuple[float, float],
    centre_jitter: float,
    max_distractors: int,
    appearance: Appearance = DEFAULT_APPEARANCE,
    max_rotation_deg: float = 180.0,
) -> Scene:
    """A still scene of the image domain: large objects near the centre.

    Args:
        rng: random generator.
        image_size: side of the square image in pixels.
        top_class: class of the topmost (never occluded) object, 1..NUM_SHAPE_CLASSES; lets the
            caller balance classes. The others are uniform.
        objects_per_scene: (min, max) number of objects.
        object_size: (min, max) enclosing diameter as a fraction of the image side.
        centre_jitter: object centres are uniform within +-jitter (fraction of the side) of the
            image centre.
        max_distractors: up to this many non-class blobs are painted into the background.
        appearance: colour ranges and texture contrast (shared by all classes and domains).
        max_rotation_deg: objects are rotated by U(-this, this) degrees from their upright
            pose (180 = any orientation); iconic photos show objects mostly upright.
    Returns:
        Scene whose background is image_size x image_size.
    """
    side = float(image_size)
    background = sample_background(rng, image_size, image_size, appearance)
    background = _add_distractors(rng, background, max_distractors, side, appearance)
    count = sample_count(rng, objects_per_scene)
    objects = []
    for class_id in sample_class_ids(rng, count, top_class):
        centre = side / 2 + rng.uniform(-centre_jitter, centre_jitter, size=2) * side
        pose = Pose(
            cx=float(centre[0]),
            cy=float(centre[1]),
            size=float(rng.uniform(*object_size) * side),
            angle=math.radians(float(rng.uniform(-1, 1)) * max_rotation_deg),
        )
        objects.append(SceneObject(class_id, sample_texture(rng, appearance), pose))
    return Scene(background, tuple(objects))


def end_point(rng, start: np.ndarray, travel: float, low: float, high: float) -> np.ndarray:
    """Where an object travelling ``travel`` pixels in a random direction ends, kept in the box:
    an axis that would leave [low, high] is reversed, then clipped."""
    direction = rng.uniform(0, 2 * math.pi)
    displacement = travel * np.array([math.cos(direction), math.sin(direction)])
    end = start + displacement
    outside = (end < low) | (end > high)
    end[outside] = start[outside] - displacement[outside]
    return np.clip(end, low, high)


def sample_track(
    rng: np.random.Generator,
    low: float,
    high: float,
    speed: tuple[float, float],
    side: float,
    steps: int,
) -> tuple[np.ndarray, tuple[float, float]]:
    """A straight constant-speed track that stays in the box [low, high] (scene pixels, both
    axes) for ``steps`` frames.

    Draws the start centre (uniform in the box), the speed (``speed`` range, fraction of ``side``
    per frame) and the direction (``end_point``), in that order.

    Returns:
        start: (2,) float64 start centre (x, y); velocity: (vx, vy) pixels per frame.
    """
    start = rng.uniform(low, high, size=2)
    end = end_point(rng, start, rng.uniform(*speed) * side * steps, low, high)
    return start, (float(end[0] - start[0]) / steps, float(end[1] - start[1]) / steps)


def sample_rates(
    rng: np.random.Generator, scale_change: float, rotation_speed_deg: float, steps: int
) -> tuple[float, float]:
    """How fast a moving object grows and turns; draws the scale change, then the rotation speed.

    Args:
        scale_change: the size changes by a factor exp(U(-scale_change, scale_change)) over
            ``steps`` frames.
        rotation_speed_deg: the rotation speed is uniform in +-this, degrees per frame.
    Returns:
        (log_scale_rate, angular_velocity): d log(size) / dt and radians, per frame.
    """
    log_scale_rate = float(rng.uniform(-scale_change, scale_change)) / steps
    angular_velocity = math.radians(float(rng.uniform(-1, 1)) * rotation_speed_deg)
    return log_scale_rate, angular_velocity


def sample_video_scene(
    rng: np.random.Generator,
    clip: Clip,
    top_class: int,
    objects_per_scene: tuple[int, int],
    object_size: tuple[float, float],
    centre_margin: float,
    speed: tuple[float, float],
    scale_change: float,
    rotation_speed_deg: float,
    max_distractors: int,
    appearance: Appearance = DEFAULT_APPEARANCE,
) -> Scene:
    """A moving scene of the video domain: smaller objects anywhere in the frame.

    Scene coordinates include the clip's ``border`` on every side of the frame so that a shaking
    camera window never leaves the background; the unshaken frame is the window at (border,
    border).

    Args:
        rng: random generator.
        clip: frame size, border and length of the video.
        top_class: class of the topmost object (see ``sample_image_scene``).
        objects_per_scene: (min, max) number of objects.
        object_size: (min, max) enclosing diameter at time 0, fraction of the frame side.
        centre_margin: object centres stay within [margin, 1 - margin] of the frame (fraction
            of the side) all clip long, so objects near the edge are partly out of frame.
        speed: (min, max) centre speed, fraction of the frame side per frame.
        scale_change: the size changes by a factor exp(U(-scale_change, scale_change)) over the
            clip.
        rotation_speed_deg: rotation speed is uniform in +-this, degrees per frame.
        max_distractors: up to this many non-class blobs in the background.
        appearance: see ``sample_image_scene``.
    Returns:
        Scene whose background is ``clip.canvas`` square.
    """
    side, border, steps = clip.side, clip.border, clip.steps
    background = sample_background(rng, clip.canvas, clip.canvas, appearance)
    background = _add_distractors(rng, background, max_distractors, side, appearance)
    count = sample_count(rng, objects_per_scene)
    low, high = border + centre_margin * side, border + (1 - centre_margin) * side
    objects = []
    for class_id in sample_class_ids(rng, count, top_class):
        start, velocity = sample_track(rng, low, high, speed, side, steps)
        pose = Pose(
            cx=float(start[0]),
            cy=float(start[1]),
            size=float(rng.uniform(*object_size) * side),
            angle=float(rng.uniform(0, 2 * math.pi)),
        )
        texture = sample_texture(rng, appearance)  # before the rates (version 4: after)
        rates = sample_rates(rng, scale_change, rotation_speed_deg, steps)
        objects.append(SceneObject(class_id, texture, pose, velocity, *rates))
    return Scene(background, tuple(objects))
