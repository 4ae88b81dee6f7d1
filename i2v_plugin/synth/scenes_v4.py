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

from .clip import Clip
from .painting import paint_ellipses, paint_texture, window_pose
from .scenes import (
    Scene,
    SceneObject,
    render_scene,
    sample_class_ids,
    sample_count,
    sample_rates,
    sample_track,
)
from .shapes import Pose, rasterize_ellipse
from .textures import Appearance, TextureSpec, sample_background, sample_texture


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
    for occluder in moving.occluders:
        pose = window_pose(occluder.pose_at(time), origin)
        mask = rasterize_ellipse(pose, occluder.aspect, *size)
        if mask.any():
            paint_texture(rgb, mask, pose, occluder.texture)
            label[mask] = 0
    return rgb, label


# Clutter and occluders are ellipses of aspect 0.3..0.7, unlike the round disk class.
_BLOB_ASPECT = (0.3, 0.7)


def _sample_occluder(rng, geometry: Geometry, low, high, side: float, steps: int) -> Occluder:
    start, velocity = sample_track(rng, low, high, geometry.speed, side, steps)
    pose = Pose(
        cx=float(start[0]),
        cy=float(start[1]),
        size=float(rng.uniform(*geometry.occluder_size) * side),
        angle=float(rng.uniform(0, math.pi)),
    )
    return Occluder(
        start=pose,
        aspect=float(rng.uniform(*_BLOB_ASPECT)),
        velocity=velocity,
        texture=sample_texture(rng, geometry.appearance),
    )


def sample_moving_scene(
    rng: np.random.Generator,
    clip: Clip,
    top_class: int,
    objects_per_scene: tuple[int, int],
    geometry: Geometry,
) -> MovingScene:
    """Sample a moving scene; the unshaken frame is the window at (border, border).

    Args:
        rng: random generator.
        clip: frame size, border (camera shake and pan) and length of the video.
        top_class: class of the topmost class object, 1..10 (balances classes per split).
        objects_per_scene: (min, max) number of class objects.
        geometry: layout, motion, clutter and occluders.
    Returns:
        MovingScene whose background is ``clip.canvas`` square.
    """
    side, border, steps = clip.side, clip.border, clip.steps
    look = geometry.appearance
    background = sample_background(rng, clip.canvas, clip.canvas, look)
    clutter = sample_count(rng, geometry.clutter)
    background = paint_ellipses(
        rng, background, clutter, geometry.clutter_size, _BLOB_ASPECT, side, look
    )
    count = sample_count(rng, objects_per_scene)
    low, high = (border + c * side for c in geometry.centre_range)
    objects = []
    for class_id in sample_class_ids(rng, count, top_class):
        start, velocity = sample_track(rng, low, high, geometry.speed, side, steps)
        pose = Pose(
            cx=float(start[0]),
            cy=float(start[1]),
            size=float(rng.uniform(*geometry.object_size) * side),
            angle=math.radians(float(rng.uniform(-1, 1)) * geometry.max_rotation_deg),
        )
        rates = sample_rates(rng, geometry.scale_change, geometry.rotation_speed_deg, steps)
        texture = sample_texture(rng, look)  # after the rates (version 3: before)
        objects.append(SceneObject(class_id, texture, pose, velocity, *rates))
    occluder_count = sample_count(rng, geometry.occluders)
    occluders = tuple(
        _sample_occluder(rng, geometry, low, high, side, steps) for _ in range(occluder_count)
    )
    return MovingScene(Scene(background, tuple(objects)), occluders)
