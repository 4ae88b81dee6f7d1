"""Samples of the synthetic benchmark: labeled images (both versions) and videos before encoding.

``make_image_sample`` is the same in versions 3 and 4. ``make_video_sample`` renders version 3's
videos with version 3's scenes (``_make_video_sample_v3``, same output as ever) and version 4's
through ``video_v4.render_video``; both apply the public degradations of ``public_artefacts``.
"""

import numpy as np

from .artifacts import average_exposure, shake_margin, to_uint8
from .clip import Clip
from .params import SynthParams
from .public_artefacts import degrade_frame, sample_public_draws
from .scenes import (
    NUM_SHAPE_CLASSES,
    render_scene,
    sample_image_scene,
    sample_video_scene,
)
from .splits import VIDEO_SPLITS
from .textures import Appearance
from .video_v4 import render_video

# Seeds (seed, code, index) keep the sample streams independent (tune draws from its own);
# version 4's video splits take theirs from ``splits.VIDEO_SPLITS``.
_SPLIT_CODES = {
    ("image", "train"): 0,
    ("image", "val"): 1,
    ("video", "train"): 2,
    ("video", "val"): 3,
    ("image", "tune"): 4,
    ("video", "tune"): 5,
}


def _sample_rng(params: SynthParams, domain: str, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([params.seed, _SPLIT_CODES[(domain, split)], index])


def _top_class(index: int) -> int:
    # Cycling the topmost (always visible) object's class balances classes in every split.
    return 1 + index % NUM_SHAPE_CLASSES


def _appearance(params: SynthParams) -> Appearance:
    return Appearance(
        texture_contrast=params.texture_contrast,
        object_value=params.object_value,
        background_value=params.background_value,
    )


def make_image_sample(params: SynthParams, split: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Render image ``index`` of ``split``.

    Returns:
        rgb: (image_size, image_size, 3) uint8; label: (image_size, image_size) uint8 in 0..10.
    """
    rng = _sample_rng(params, "image", split, index)
    scene = sample_image_scene(
        rng,
        image_size=params.image_size,
        top_class=_top_class(index),
        objects_per_scene=params.objects_per_scene,
        object_size=params.image_object_size,
        centre_jitter=params.image_centre_jitter,
        max_rotation_deg=params.image_max_rotation,
        max_distractors=params.max_distractors,
        appearance=_appearance(params),
    )
    rgb, label = render_scene(scene, time=0.0)
    return to_uint8(rgb), label


def make_video_sample(
    params: SynthParams, split: str, index: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Render video ``index`` of ``split`` before encoding (version 4: any split of
    ``splits.VIDEO_SPLITS``; version 3: train, val or tune).

    Returns:
        frames: list of (video_size, video_size, 3) uint8 arrays;
        labels: list of (video_size, video_size) uint8 maps of the mid-exposure scene.
    Raises:
        ValueError for a split the version does not have.
    """
    if params.version == 3:
        if ("video", split) not in _SPLIT_CODES:
            raise ValueError(f"Generator version 3 has no video split {split!r}")
        return _make_video_sample_v3(params, split, index)
    if split not in VIDEO_SPLITS:
        raise ValueError(f"Unknown video split {split!r}; expected one of {tuple(VIDEO_SPLITS)}")
    frames, labels, _ = render_video(params, VIDEO_SPLITS[split], index)
    return frames, labels


def _make_video_sample_v3(
    params: SynthParams, split: str, index: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Render video ``index`` of ``split`` before encoding (generator version 3).

    Pipeline per frame: motion-blurred render through the shaken camera window, then low
    resolution, low light, colour cast and sensor noise (the H.264 encode comes after).

    Returns:
        frames: list of frames_per_video (video_size, video_size, 3) uint8 arrays;
        labels: list of (video_size, video_size) uint8 maps of the mid-exposure scene.
    """
    scene_rng, artefact_rng = _sample_rng(params, "video", split, index).spawn(2)
    size = params.video_size
    clip = Clip(size, shake_margin(params.camera_shake * size), params.frames_per_video)
    scene = sample_video_scene(
        scene_rng,
        clip,
        top_class=_top_class(index),
        objects_per_scene=params.objects_per_scene,
        object_size=params.video_object_size,
        centre_margin=params.video_centre_margin,
        speed=params.video_speed,
        scale_change=params.video_scale_change,
        rotation_speed_deg=params.video_rotation_speed,
        max_distractors=params.max_distractors,
        appearance=_appearance(params),
    )
    draws = sample_public_draws(artefact_rng, params, clip)

    frames, labels = [], []
    for t, (ox, oy) in enumerate(draws.offsets.tolist()):
        window = {"origin": (ox, oy), "size": (size, size)}
        rgb = average_exposure(
            lambda time, w=window: render_scene(scene, time, **w)[0],
            float(t),
            params.motion_blur_exposure,
            params.motion_blur_substeps,
        )
        labels.append(render_scene(scene, float(t), **window)[1])
        frames.append(degrade_frame(rgb, params, draws, artefact_rng))
    return frames, labels
