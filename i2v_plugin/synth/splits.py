"""The video splits of generator version 4 and what each one is made of.

Splits that share a ``scene_code`` draw the same scenes and the same public-artefact random
values for the same index (sealed draws come from their own stream): ``val``, ``sealed_val``,
``severe_val`` and ``geometry_val`` show the same 200 scenes with different pixels, so their
differences are paired comparisons of one factor each.

| split | scenes | public artefacts | sealed families | frames |
| --- | --- | --- | --- | --- |
| train | video | calibrated | each with p = sealed_train_prob | frames_per_video |
| val, tune | video | calibrated | none | eval_frames_per_video |
| sealed_val, sealed_tune | as val, tune | calibrated | one assigned + each with p | eval |
| severe_val | as val | v3 strength | none | eval |
| style_val | image-like (own seeds) | calibrated | none | eval |
| geometry_val | as val | none, no codec (JPEG q95 like images) | none | eval |
"""

from dataclasses import dataclass

from .params import V3_DEFAULTS, SynthParams

# Seed stream codes (v3 used 0..5: image train/val, video train/val, image/video tune).
_VIDEO_TRAIN, _VIDEO_VAL, _VIDEO_TUNE, _STYLE_VAL = 2, 3, 5, 6


@dataclass(frozen=True)
class PublicStrengths:
    """Strengths of the public families for one split (see SynthParams for each field).

    ``crf`` None: frames are not encoded (they are written as JPEG q95, like images).
    """

    motion_blur_exposure: float
    motion_blur_substeps: int
    low_light_gain: tuple[float, float]
    low_light_gamma: tuple[float, float]
    colour_cast: float
    noise_read_sigma: float
    noise_shot_sigma: float
    downsample_factor: float
    camera_shake: float
    crf: int | None


_STRENGTH_FIELDS = tuple(PublicStrengths.__dataclass_fields__)


def public_strengths(params: SynthParams, level: str) -> PublicStrengths:
    """The public artefact strengths of ``level``.

    Args:
        params: generator parameters.
        level: "calibrated" (params' own fields), "severe" (version 3's defaults, with params'
            substeps) or "clean" (every family off, no codec).
    Raises:
        ValueError for another level.
    """
    if level == "calibrated":
        return PublicStrengths(**{f: getattr(params, f) for f in _STRENGTH_FIELDS})
    if level == "severe":
        values = {f: V3_DEFAULTS.get(f, getattr(params, f)) for f in _STRENGTH_FIELDS}
        return PublicStrengths(**values)
    if level == "clean":
        return PublicStrengths(0.0, 1, (1.0, 1.0), (1.0, 1.0), 0.0, 0.0, 0.0, 1.0, 0.0, None)
    raise ValueError(f"Unknown artefact level {level!r}; expected calibrated, severe or clean")


@dataclass(frozen=True)
class VideoSplit:
    """How one version-4 video split is made.

    Attributes:
        name: split name (sequence names are ``<name>_<index:04d>``).
        scene_code: seed stream of scenes and public-artefact draws.
        scenes: "video" (video geometry) or "image_like" (image-domain geometry, slight motion).
        artefacts: public strength level (``public_strengths``).
        sealed: "none", "train" (each family with sealed_train_prob) or "eval" (one assigned
            family, round-robin, plus each other with sealed_eval_prob).
        evaluation: True for labeled evaluation splits (eval_frames_per_video frames).
    """

    name: str
    scene_code: int
    scenes: str
    artefacts: str
    sealed: str
    evaluation: bool

    def num_frames(self, params: SynthParams) -> int:
        """Frames per video of this split."""
        return params.eval_frames_per_video if self.evaluation else params.frames_per_video


VIDEO_SPLITS = {
    s.name: s
    for s in (
        VideoSplit("train", _VIDEO_TRAIN, "video", "calibrated", "train", False),
        VideoSplit("val", _VIDEO_VAL, "video", "calibrated", "none", True),
        VideoSplit("tune", _VIDEO_TUNE, "video", "calibrated", "none", True),
        VideoSplit("sealed_val", _VIDEO_VAL, "video", "calibrated", "eval", True),
        VideoSplit("sealed_tune", _VIDEO_TUNE, "video", "calibrated", "eval", True),
        VideoSplit("severe_val", _VIDEO_VAL, "video", "severe", "none", True),
        VideoSplit("style_val", _STYLE_VAL, "image_like", "calibrated", "none", True),
        VideoSplit("geometry_val", _VIDEO_VAL, "video", "clean", "none", True),
    )
}
