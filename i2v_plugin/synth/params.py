"""The generator's parameters (``SynthParams``), its two versions, and ``FIELD=VALUE`` overrides.

``SynthParams.version`` selects the generator's behaviour: 4 (default) writes the v4 benchmark
(calibrated artefacts, sealed families, factor splits, 200-sequence evaluation splits); 3
rewrites the v3 benchmark byte for byte. ``default_params(3)`` gives v3's defaults; a version-3
params may not change a field that only version 4 reads (``V4_ONLY_FIELDS``), and its cache key
(params.json) holds v3's fields only, exactly as v3 wrote it.
"""

import dataclasses
from dataclasses import dataclass

SUPPORTED_VERSIONS = (3, 4)
LATEST_VERSION = 4

# "tune": a labeled split for choosing hyper-parameters, so that val is only ever reported.
SPLITS = ("train", "val", "tune")


@dataclass(frozen=True)
class SynthParams:
    """Every knob of the generator; all are stored in params.json (the cache key).

    Fractions of the side refer to the image side (image domain) or the frame side (video
    domain). "(min, max)" fields are ranges sampled uniformly per object or per video. Fields
    after ``version`` are read by version 4 only.

    Version-4 defaults: the public video artefacts are calibrated so that videos-val against
    images-val matches real video frames against real photos at 64 px (datasets/README.md); the
    domain gap is carried mostly by scene content and geometry (smaller, off-centre, rotating,
    partly occluded objects over brighter, cluttered backgrounds).
    """

    # Master random seed.
    seed: int = 0
    # Side of the square images, pixels.
    image_size: int = 64
    # Side of the square video frames, pixels (even: H.264 yuv420p).
    video_size: int = 64
    # Number of labeled images per split.
    num_train_images: int = 4000
    num_val_images: int = 1000
    num_tune_images: int = 1000
    # Number of videos per split (version 4: also the size of the splits that pair with val
    # and tune, unless their own counts below say otherwise).
    num_train_videos: int = 200
    num_val_videos: int = 200
    num_tune_videos: int = 200
    # Frames per video (version 4: train videos only; see eval_frames_per_video).
    frames_per_video: int = 24
    # Video frame rate, frames per second (written into the mp4).
    fps: float = 24.0
    # (min, max) number of class objects per image or video.
    objects_per_scene: tuple[int, int] = (1, 1)
    # Up to this many small non-class blobs are painted into each background (both domains).
    max_distractors: int = 0
    # Contrast of object textures (stripes, checker, dots, gradient) in [0, 1]: the second
    # texture colour is pulled towards the first (0 = every object looks solid).
    texture_contrast: float = 0.3
    # (min, max) HSV value (brightness) of object colours and of background colours (version 4:
    # of image-domain backgrounds; see video_background_value).
    object_value: tuple[float, float] = (0.6, 1.0)
    background_value: tuple[float, float] = (0.1, 0.45)

    # --- image domain ---
    # (min, max) object diameter, fraction of the image side.
    image_object_size: tuple[float, float] = (0.5, 0.8)
    # Object centres lie within +-this of the image centre, fraction of the side.
    image_centre_jitter: float = 0.12
    # Objects are rotated by at most +-this from upright, degrees (180 = any orientation).
    image_max_rotation: float = 15.0

    # --- video domain: content and motion ---
    # (min, max) object diameter at the first frame, fraction of the frame side.
    video_object_size: tuple[float, float] = (0.3, 0.55)
    # Object centres stay within [margin, 1 - margin] of the frame, fraction of the side (a
    # small margin lets objects stick out of the frame).
    video_centre_margin: float = 0.15
    # (min, max) object speed, fraction of the frame side per frame.
    video_speed: tuple[float, float] = (0.005, 0.025)
    # Object size changes by a factor in exp(+-this) over a video (0 = constant size).
    video_scale_change: float = 0.3
    # Object rotation speed is uniform in +-this, degrees per frame.
    video_rotation_speed: float = 3.0

    # --- video domain: public degradations (each off at the value given in brackets) ---
    # Motion blur: shutter-open time in frame intervals [0]; >1 exaggerates the blur.
    motion_blur_exposure: float = 0.4
    # Renders averaged over the exposure (>= 1); more = smoother blur, slower generation.
    motion_blur_substeps: int = 5
    # (min, max) low-light brightness gain per video [(1, 1)].
    low_light_gain: tuple[float, float] = (0.9, 1.0)
    # (min, max) low-light gamma per video, >1 darkens mid-tones [(1, 1)].
    low_light_gamma: tuple[float, float] = (0.95, 1.1)
    # Colour cast: each channel gain is uniform in 1 +- this, per video [0].
    colour_cast: float = 0.08
    # Sensor read-noise standard deviation, fraction of the full range [0].
    noise_read_sigma: float = 0.004
    # Sensor shot-noise standard deviation on a white pixel, fraction of the range [0].
    noise_shot_sigma: float = 0.012
    # Low resolution: downsample by this factor and upsample back [1].
    downsample_factor: float = 1.0
    # Camera shake: per-frame jitter standard deviation, fraction of the frame side [0].
    camera_shake: float = 0.006
    # H.264 constant rate factor, 0..51: higher = stronger compression artefacts [~18].
    crf: int = 23

    # ============================ version 4 only ============================
    # Generator version: 4, or 3 to rewrite the v3 benchmark exactly (default_params(3)).
    version: int = LATEST_VERSION
    # Frames per video of the labeled evaluation splits (val, tune and their factor splits).
    eval_frames_per_video: int = 12
    # Sequences of the splits that pair with val or tune; -1 = as many as val (tune).
    num_sealed_val_videos: int = -1
    num_sealed_tune_videos: int = -1
    num_severe_val_videos: int = -1
    num_style_val_videos: int = -1
    num_geometry_val_videos: int = -1

    # --- video domain content (the shift that survives calibrated artefacts) ---
    # (min, max) HSV value of video backgrounds: reaching far brighter than the images'
    # backgrounds, so "bright object on a dark ground" stops being a shortcut.
    video_background_value: tuple[float, float] = (0.0, 0.75)
    # Texture contrast of video objects and clutter (see texture_contrast): bolder patterns
    # than the images'.
    video_texture_contrast: float = 0.8
    # (min, max) number of non-class clutter blobs painted into each video background.
    video_clutter: tuple[int, int] = (2, 5)
    # (min, max) clutter blob length, fraction of the frame side.
    video_clutter_size: tuple[float, float] = (0.12, 0.35)
    # (min, max) number of moving non-class occluders drawn over the objects (label 0).
    video_occluders: tuple[int, int] = (0, 1)
    # (min, max) occluder length, fraction of the frame side.
    video_occluder_size: tuple[float, float] = (0.2, 0.4)
    # Style split: image-domain scenes that drift by (min, max) fraction of the side per frame
    # and turn by at most +-this degrees per frame.
    style_speed: tuple[float, float] = (0.0, 0.004)
    style_rotation_speed: float = 0.5

    # --- sealed families (synth/families.py): no augmentation of the project implements them ---
    # Probability that a train video gets each sealed family (independently).
    sealed_train_prob: float = 0.3
    # Probability that a sealed-split video gets each sealed family beyond its assigned one.
    sealed_eval_prob: float = 0.3
    # Rolling shutter: (min, max) peak pan speed of an oscillating camera, fraction of the side
    # per frame; the pan's period in frames; the row readout time in frame intervals.
    rolling_shutter_speed: tuple[float, float] = (0.06, 0.12)
    rolling_shutter_period: float = 8.0
    rolling_shutter_readout: float = 1.0
    # Vignetting: (min, max) fraction of the light lost in the frame corners.
    vignetting_strength: tuple[float, float] = (0.35, 0.6)
    # Haze: (min, max) optical density at the farthest depth (transmission exp(-density)).
    haze_density: tuple[float, float] = (0.5, 1.2)
    # Chromatic aberration: (min, max) magnification of red over blue, relative (0.03 = 3 %).
    chromatic_aberration: tuple[float, float] = (0.03, 0.06)

    def __post_init__(self):
        _validate(self)


# The v3 defaults of the fields whose default changed in version 4; default_params(3) and the
# severe split (v3-strength artefacts) read them.
V3_DEFAULTS = {
    "num_val_images": 200,
    "num_tune_images": 200,
    "num_val_videos": 20,
    "num_tune_videos": 20,
    "video_object_size": (0.35, 0.6),
    "video_centre_margin": 0.2,
    "motion_blur_exposure": 1.0,
    "low_light_gain": (0.45, 0.8),
    "low_light_gamma": (1.1, 1.6),
    "colour_cast": 0.15,
    "noise_read_sigma": 0.02,
    "noise_shot_sigma": 0.05,
    "downsample_factor": 2.0,
    "camera_shake": 0.012,
    "crf": 32,
}

FIELD_NAMES = [f.name for f in dataclasses.fields(SynthParams)]
# Fields that version 3 does not read; the cache key of a version-3 params leaves them out.
V4_ONLY_FIELDS = tuple(FIELD_NAMES[FIELD_NAMES.index("version") :])
V3_FIELDS = tuple(FIELD_NAMES[: FIELD_NAMES.index("version")])
# Video splits that pair with val or tune (version 4) and the split whose size they default to.
PAIRED_SPLITS = {
    "sealed_val": "val",
    "sealed_tune": "tune",
    "severe_val": "val",
    "style_val": "val",
    "geometry_val": "val",
}


def default_params(version: int = LATEST_VERSION) -> SynthParams:
    """The default parameters of generator ``version`` (3 or 4).

    Raises:
        ValueError for another version.
    """
    if version == 3:
        return SynthParams(version=3, **V3_DEFAULTS)
    if version == 4:
        return SynthParams()
    raise ValueError(f"Unknown generator version {version}; expected one of {SUPPORTED_VERSIONS}")


def num_videos(params: SynthParams, split: str) -> int:
    """Number of sequences of video ``split`` (a SPLITS name or a PAIRED_SPLITS name).

    Raises:
        ValueError for an unknown split name.
    """
    if split in SPLITS:
        return getattr(params, f"num_{split}_videos")
    if split not in PAIRED_SPLITS:
        raise ValueError(f"Unknown video split {split!r}; expected one of {video_splits(params)}")
    count = getattr(params, f"num_{split}_videos")
    return num_videos(params, PAIRED_SPLITS[split]) if count < 0 else count


def video_splits(params: SynthParams) -> tuple[str, ...]:
    """The video splits that ``params.version`` writes, in writing order."""
    return SPLITS if params.version == 3 else SPLITS + tuple(PAIRED_SPLITS)


def cache_key_params(params: SynthParams) -> dict:
    """The fields stored in params.json: all, or for version 3 v3's fields only."""
    values = dataclasses.asdict(params)
    if params.version == 3:
        return {name: values[name] for name in V3_FIELDS}
    return values


# -------------------------------------------------------------------------------- validation


def _require(condition: bool, field: str, expectation: str) -> None:
    if not condition:
        raise ValueError(f"SynthParams.{field} {expectation}")


def _require_range(params: SynthParams, field: str, low: float, high: float | None) -> None:
    value = getattr(params, field)
    ok = isinstance(value, tuple) and len(value) == 2 and low <= value[0] <= value[1]
    ok = ok and (high is None or value[1] <= high)
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
    _require(ok, field, f"must be a (min, max) tuple with min <= max, both {bounds}; got {value!r}")


def _validate(p: SynthParams) -> None:
    _validate_v3_fields(p)
    _require(p.version in SUPPORTED_VERSIONS, "version", f"must be one of {SUPPORTED_VERSIONS}")
    if p.version == 3:
        defaults = SynthParams()
        changed = [n for n in V4_ONLY_FIELDS[1:] if getattr(p, n) != getattr(defaults, n)]
        _require(
            not changed,
            changed[0] if changed else "version",
            "is read by generator version 4 only; leave it at its default with version=3",
        )
        return
    _validate_v4_fields(p)


def _validate_v3_fields(p: SynthParams) -> None:
    for name in ("seed", "max_distractors"):
        _require(getattr(p, name) >= 0, name, "must be >= 0")
    for name in (f"num_{s}_{kind}" for s in SPLITS for kind in ("images", "videos")):
        _require(getattr(p, name) >= 0, name, "must be >= 0")
    _require(p.image_size >= 8, "image_size", "must be >= 8 pixels")
    _require(
        p.video_size >= 8 and p.video_size % 2 == 0,
        "video_size",
        "must be an even number >= 8 (H.264 yuv420p needs even sides)",
    )
    _require(p.frames_per_video >= 1, "frames_per_video", "must be >= 1")
    _require(p.fps > 0, "fps", "must be > 0")
    _require_range(p, "objects_per_scene", 1, None)
    _require_range(p, "image_object_size", 0.0, 2.0)
    _require_range(p, "video_object_size", 0.0, 2.0)
    _require_range(p, "video_speed", 0.0, None)
    _require_range(p, "object_value", 0.0, 1.0)
    _require_range(p, "background_value", 0.0, 1.0)
    _require_range(p, "low_light_gain", 0.0, None)
    _require_range(p, "low_light_gamma", 0.0, None)
    _require(0 <= p.image_centre_jitter <= 0.5, "image_centre_jitter", "must be in [0, 0.5]")
    _require(0 <= p.video_centre_margin < 0.5, "video_centre_margin", "must be in [0, 0.5)")
    for name in ("video_scale_change", "video_rotation_speed", "motion_blur_exposure"):
        _require(getattr(p, name) >= 0, name, "must be >= 0")
    for name in ("colour_cast", "noise_read_sigma", "noise_shot_sigma", "camera_shake"):
        _require(getattr(p, name) >= 0, name, "must be >= 0")
    _require(0 <= p.image_max_rotation <= 180, "image_max_rotation", "must be in [0, 180]")
    _require(0 <= p.texture_contrast <= 1, "texture_contrast", "must be in [0, 1]")
    _require(p.colour_cast < 1, "colour_cast", "must be < 1 (a channel gain would be <= 0)")
    _require(p.motion_blur_substeps >= 1, "motion_blur_substeps", "must be >= 1")
    _require(p.downsample_factor >= 1, "downsample_factor", "must be >= 1")
    _require(0 <= p.crf <= 51, "crf", "must be in 0..51")


def _validate_v4_fields(p: SynthParams) -> None:
    _require(p.eval_frames_per_video >= 1, "eval_frames_per_video", "must be >= 1")
    for split in PAIRED_SPLITS:
        name = f"num_{split}_videos"
        _require(getattr(p, name) >= -1, name, "must be >= 0, or -1 (as many as its pair)")
    _require_range(p, "video_background_value", 0.0, 1.0)
    _require(0 <= p.video_texture_contrast <= 1, "video_texture_contrast", "must be in [0, 1]")
    _require_range(p, "video_clutter", 0, None)
    _require_range(p, "video_clutter_size", 0.0, 2.0)
    _require_range(p, "video_occluders", 0, None)
    _require_range(p, "video_occluder_size", 0.0, 2.0)
    _require_range(p, "style_speed", 0.0, None)
    _require(p.style_rotation_speed >= 0, "style_rotation_speed", "must be >= 0")
    for name in ("sealed_train_prob", "sealed_eval_prob"):
        _require(0 <= getattr(p, name) <= 1, name, "must be in [0, 1]")
    _require_range(p, "rolling_shutter_speed", 0.0, 0.5)
    _require(p.rolling_shutter_period >= 2, "rolling_shutter_period", "must be >= 2 frames")
    _require(0 <= p.rolling_shutter_readout <= 1, "rolling_shutter_readout", "must be in [0, 1]")
    _require_range(p, "vignetting_strength", 0.0, 1.0)
    _require_range(p, "haze_density", 0.0, None)
    _require_range(p, "chromatic_aberration", 0.0, 0.5)
