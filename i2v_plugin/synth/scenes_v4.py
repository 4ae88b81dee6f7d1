"""Moving scenes of generator version 4: a scene ``Geometry`` (object sizes, placement, motion,
clutter, occluders, background brightness) shared by the video splits and the image-like style
split.

A ``MovingScene`` is a version-3 ``Scene`` (background and class objects, rendered by
``scenes.render_scene``) plus occluders: textured ellipses that move over the objects and are
labeled background, so objects are partly hidden.
"""

import math
from dataclasses import dataclass

import numpy as np

from .scenes import Scene, SceneObject, end_point, render_scene, sample_class_ids
from .shapes import Pose, local_coordinates, rasterize_ellipse
from .textures import Appearance, TextureSpec, render_texture, sample_background, sample_texture


@dataclass(frozen=True)
class Geometry:
    """How a moving scene is laid out; every length is a fraction of the frame side.

    Attributes:
        object_size: (min, max) enclosing diameter of class objects at time 0.
        centre_range: (low, high): object centres stay in [low, high] of the frame all along.
        max_rotation_deg: initial rotation in +-this from upright (180 = any orientation).
        speed: (min, max) centre speed per frame.
        scale_change: size changes by exp(U(-this, this)) over the clip.
        rotation_speed_deg: rotation speed uniform in +-this, degrees per frame.
        clutter: (min, max) number of non-class blobs painted into the background.
        clutter_size: (min, max) blob length.
        occluders: (min, max) number of moving non-class blobs drawn over the objects.
        occluder_size: (min, max) occluder length.
        appearance: colour ranges and texture contrast.
    """

    object_size: tuple[float, float]
    centre_range: tuple[float, float]
    max_rotation_deg: float
    speed: tuple[float, float]
    scale_change: float
    rotation_speed_deg: float
    clutter: tuple[int, int]
    clutter_size: tuple[float, float]
    occluders: tuple[int, int]
    occluder_size: tuple[float, float]
    appearance: Appearance


@dataclass(frozen=True)
class Occluder:
    """A textured ellipse moving at constant velocity, labeled background.

    Attributes:
        start: pose at time 0 (scene pixels; size = long axis).
        aspect: short axis / long axis.
        velocity: (vx, vy) pixels per frame.
        texture: appearance.
    """

    start: Pose
    aspect: float
    velocity: tuple[float, float]
    texture: TextureSpec

    def pose_at(self, time: float) -> Pose:
        """The pose ``time`` frames after the start."""
        s = self.start
        return Pose(s.cx + self.velocity[0] * time, s.cy + self.velocity[1] * time, s.size, s.angle)


@dataclass(frozen=True)
class MovingScene:
    """Class objects over a background (``scene``) and occluders drawn on top of them."""

    scene: Scene
    occluders: tuple[Occluder, ...]


def render_moving_scene(
    moving: MovingScene, time: float, origin: tuple[int, int], size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Render ``moving`` at ``time`` through a window (see ``scenes.render_scene``).

    Returns:
        rgb: (height, width, 3) float32; label: (height, width) uint8, 0 under occluders.
    """
    rgb, label = render_scene(moving.scene, time, origin, size)
    ox, oy = origin
    height, width = size
    for occluder in moving.occluders:
        pose = occluder.pose_at(time)
        pose = Pose(pose.cx - ox, pose.cy - oy, pose.size, pose.angle)
        mask = rasterize_ellipse(pose, occluder.aspect, height, width)
        if not mask.any():
            continue
        u, v = local_coordinates(pose, height, width)
        rgb[mask] = render_texture(occluder.texture, u[mask], v[mask])
        label[mask] = 0
    return rgb, label


def _paint_clutter(rng, background, count: int, size: tuple[float, float], side: float, look):
    """Paint ``count`` textured ellipses (aspect 0.3..0.7, unlike the round disk class)."""
    height, width = background.shape[:2]
    background = background.copy()
    for _ in range(count):
        pose = Pose(
            cx=float(rng.uniform(0, width)),
            cy=float(rng.uniform(0, height)),
            size=float(rng.uniform(*size) * side),
            angle=float(rng.uniform(0, math.pi)),
        )
        mask = rasterize_ellipse(pose, float(rng.uniform(0.3, 0.7)), height, width)
        u, v = local_coordinates(pose, height, width)
        background[mask] = render_texture(sample_texture(rng, look), u[mask], v[mask])
    return background


def _sample_occluder(rng, geometry: Geometry, low, high, side: float, steps: int) -> Occluder:
    start = rng.uniform(low, high, size=2)
    end = end_point(rng, start, rng.uniform(*geometry.speed) * side * steps, low, high)
    pose = Pose(
        cx=float(start[0]),
        cy=float(start[1]),
        size=float(rng.uniform(*geometry.occluder_size) * side),
        angle=float(rng.uniform(0, math.pi)),
    )
    return Occluder(
        start=pose,
        aspect=float(rng.uniform(0.3, 0.7)),
        velocity=(float(end[0] - start[0]) / steps, float(end[1] - start[1]) / steps),
        texture=sample_texture(rng, geometry.appearance),
    )


def sample_moving_scene(
    rng: np.random.Generator,
    frame_size: int,
    border: int,
    num_frames: int,
    top_class: int,
    objects_per_scene: tuple[int, int],
    geometry: Geometry,
) -> MovingScene:
    """Sample a moving scene; the unshaken frame is the window at (border, border).

    Args:
        rng: random generator.
        frame_size: side of the square frame in pixels.
        border: extra background on each side, in pixels (camera shake and pan).
        num_frames: clip length (motion is planned over it).
        top_class: class of the topmost class object, 1..10 (balances classes per split).
        objects_per_scene: (min, max) number of class objects.
        geometry: layout, motion, clutter and occluders.
    Returns:
        MovingScene whose background is (frame_size + 2 border) square.
    """
    side = float(frame_size)
    canvas = frame_size + 2 * border
    look = geometry.appearance
    background = sample_background(rng, canvas, canvas, look)
    clutter = int(rng.integers(geometry.clutter[0], geometry.clutter[1] + 1))
    background = _paint_clutter(rng, background, clutter, geometry.clutter_size, side, look)
    count = int(rng.integers(objects_per_scene[0], objects_per_scene[1] + 1))
    steps = max(num_frames - 1, 1)
    low, high = (border + c * side for c in geometry.centre_range)
    objects = []
    for class_id in sample_class_ids(rng, count, top_class):
        start = rng.uniform(low, high, size=2)
        end = end_point(rng, start, rng.uniform(*geometry.speed) * side * steps, low, high)
        pose = Pose(
            cx=float(start[0]),
            cy=float(start[1]),
            size=float(rng.uniform(*geometry.object_size) * side),
            angle=math.radians(float(rng.uniform(-1, 1)) * geometry.max_rotation_deg),
        )
        scale = float(rng.uniform(-geometry.scale_change, geometry.scale_change))
        spin = math.radians(float(rng.uniform(-1, 1)) * geometry.rotation_speed_deg)
        objects.append(
            SceneObject(
                class_id=class_id,
                texture=sample_texture(rng, look),
                start=pose,
                velocity=(float(end[0] - start[0]) / steps, float(end[1] - start[1]) / steps),
                log_scale_rate=scale / steps,
                angular_velocity=spin,
            )
        )
    occluder_count = int(rng.integers(geometry.occluders[0], geometry.occluders[1] + 1))
    occluders = tuple(
        _sample_occluder(rng, geometry, low, high, side, steps) for _ in range(occluder_count)
    )
    return MovingScene(Scene(background, tuple(objects)), occluders)
