"""Rendering of one version-4 video: scene, camera, sealed and public artefacts.

Per frame: the camera window (shake, plus the pan and row-by-row readout of a rolling shutter),
motion blur over the exposure, the two fields of an interlaced frame; then the optical sealed
effects (haze, chromatic aberration, vignetting) and the public pixel degradations in version
3's order (low resolution, low light, colour cast, sensor noise). The H.264 encode comes after
(``generator``). Labels are the scene at mid-exposure seen through the same window and rows.
"""

import math

import numpy as np

from .artifacts import average_exposure, shake_margin
from .clip import Clip
from .params import V3_DEFAULTS, SynthParams
from .public_artefacts import degrade_frame, sample_public_draws
from .scenes import NUM_SHAPE_CLASSES
from .scenes_v4 import Geometry, MovingScene, render_moving_scene, sample_moving_scene
from .sealed import (
    chromatic_aberration,
    haze,
    interlace_fields,
    rolling_shutter_rows,
    vignette,
)
from .sealed_plan import SealedPlan, max_pan_amplitude_px, sample_sealed_plan
from .splits import VideoSplit, public_strengths
from .textures import Appearance


def scene_geometry(params: SynthParams, kind: str) -> Geometry:
    """The scene geometry of ``kind``: "video" (video-domain fields) or "image_like" (the
    image domain's sizes, placement, upright pose and backgrounds, drifting slightly).

    Raises:
        ValueError for another kind.
    """
    if kind == "video":
        margin = params.video_centre_margin
        return Geometry(
            object_size=params.video_object_size,
            centre_range=(margin, 1 - margin),
            max_rotation_deg=180.0,
            speed=params.video_speed,
            scale_change=params.video_scale_change,
            rotation_speed_deg=params.video_rotation_speed,
            clutter=params.video_clutter,
            clutter_size=params.video_clutter_size,
            occluders=params.video_occluders,
            occluder_size=params.video_occluder_size,
            appearance=Appearance(
                params.video_texture_contrast, params.object_value, params.video_background_value
            ),
        )
    if kind == "image_like":
        jitter = params.image_centre_jitter
        return Geometry(
            object_size=params.image_object_size,
            centre_range=(0.5 - jitter, 0.5 + jitter),
            max_rotation_deg=params.image_max_rotation,
            speed=params.style_speed,
            scale_change=0.0,
            rotation_speed_deg=params.style_rotation_speed,
            clutter=(0, params.max_distractors),
            clutter_size=(0.05, 0.1),
            occluders=(0, 0),
            occluder_size=(0.0, 0.0),
            appearance=Appearance(
                params.texture_contrast, params.object_value, params.background_value
            ),
        )
    raise ValueError(f"Unknown scene kind {kind!r}; expected video or image_like")


def scene_border(params: SynthParams) -> int:
    """Background margin around the frame: room for the strongest shake (calibrated or v3's)
    and the widest pan, identical for every split so that paired splits share their scenes."""
    shake = max(params.camera_shake, V3_DEFAULTS["camera_shake"]) * params.video_size
    return shake_margin(shake) + math.ceil(max_pan_amplitude_px(params)) + 1


class _Camera:
    """Renders a moving scene through one frame's window, with an optional rolling shutter."""

    def __init__(self, scene: MovingScene, size: int, origin: tuple[int, int], plan: SealedPlan):
        self.scene, self.size, self.origin, self.plan = scene, size, origin, plan

    def row_offsets(self, time: float) -> np.ndarray:
        if not self.plan.has("rolling_shutter"):
            return np.zeros(self.size, np.int64)
        p = self.plan
        return rolling_shutter_rows(
            self.size, time, p.readout, p.pan_amplitude_px, p.pan_period, p.pan_phase
        )

    def capture(self, time: float) -> tuple[np.ndarray, np.ndarray]:
        """(rgb, label) of the window at ``time``, each row at its own horizontal offset."""
        offsets = self.row_offsets(time)
        low, high = int(offsets.min()), int(offsets.max())
        ox, oy = self.origin
        rgb, label = render_moving_scene(
            self.scene, time, (ox + low, oy), (self.size, self.size + high - low)
        )
        if low == high:
            return rgb, label
        rows = np.arange(self.size)[:, None]
        cols = (offsets - low)[:, None] + np.arange(self.size)[None, :]
        return rgb[rows, cols], label[rows, cols]

    def exposure(self, time: float, exposure: float, substeps: int) -> np.ndarray:
        return average_exposure(lambda t: self.capture(t)[0], time, exposure, substeps)


def _frame(camera: _Camera, t: int, strengths, plan: SealedPlan):
    """The rendered (rgb, label) of frame ``t`` before the pixel degradations."""
    exposure, substeps = strengths.motion_blur_exposure, strengths.motion_blur_substeps
    if not plan.has("interlacing"):
        return camera.exposure(float(t), exposure, substeps), camera.capture(float(t))[1]
    # Two fields half a frame apart, each exposed for at most its half of the interval.
    times = (t - 0.25, t + 0.25)
    fields = [camera.exposure(time, exposure / 2, substeps) for time in times]
    labels = [camera.capture(time)[1] for time in times]
    return interlace_fields(*fields), interlace_fields(*labels)


def _optics(rgb: np.ndarray, plan: SealedPlan) -> np.ndarray:
    if plan.has("haze"):
        rgb = haze(rgb, plan.depth, plan.haze_density, plan.airlight)
    if plan.has("chromatic_aberration"):
        rgb = chromatic_aberration(rgb, plan.magnification)
    if plan.has("vignetting"):
        rgb = vignette(rgb, plan.vignetting)
    return rgb


def render_video(
    params: SynthParams, split: VideoSplit, index: int
) -> tuple[list[np.ndarray], list[np.ndarray], SealedPlan]:
    """Render video ``index`` of version-4 ``split`` before encoding.

    Returns:
        frames: (video_size, video_size, 3) uint8 arrays, split.num_frames(params) of them;
        labels: (video_size, video_size) uint8 maps;
        plan: the video's sealed families.
    """
    base = np.random.default_rng([params.seed, split.scene_code, index])
    scene_rng, public_rng, sealed_rng = base.spawn(3)
    size = params.video_size
    clip = Clip(size, scene_border(params), split.num_frames(params))
    scene = sample_moving_scene(
        scene_rng,
        clip,
        top_class=1 + index % NUM_SHAPE_CLASSES,
        objects_per_scene=params.objects_per_scene,
        geometry=scene_geometry(params, split.scenes),
    )
    strengths = public_strengths(params, split.artefacts)
    # Version 3's draw order; every draw happens whatever the strengths.
    draws = sample_public_draws(public_rng, strengths, clip)
    plan = sample_sealed_plan(sealed_rng, params, split.sealed, index)

    frames, labels = [], []
    for t, (ox, oy) in enumerate(draws.offsets.tolist()):
        camera = _Camera(scene, size, (ox, oy), plan)
        rgb, label = _frame(camera, t, strengths, plan)
        frames.append(degrade_frame(_optics(rgb, plan), strengths, draws, public_rng))
        labels.append(label)
    return frames, labels, plan
