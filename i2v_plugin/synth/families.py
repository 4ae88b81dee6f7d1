"""The video artefact families of the synthetic benchmark (version 4), as data.

*Public* families are the degradations the project's augmentations imitate (``INPUT.VIDEO_AUG``
in ``data/augmentations.py``, the strong view of self-training): a method may have seen them.
*Sealed* families are implemented by no augmentation of the project; they appear only in the
unlabeled training videos and in the sealed evaluation splits (``i2v_synth_videos_sealed_*``),
so a gain on those splits comes from adaptation, not from an augmentation that copies them.

Each family names the functions of ``i2v_plugin.synth`` that implement it (``identifiers``) and
the words an implementation of it would carry (``keywords``, matched case-insensitively, words
joined by ``_``, ``-``, spaces or nothing); ``tests/synth/test_sealed_families.py`` fails when the
augmentation code or a config carries a sealed family's identifier or keyword, or when an
augmentation class is not listed under a public family's ``augmentations``.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """One artefact family.

    Attributes:
        name: identifier, e.g. "rolling_shutter".
        description: one line: what the family does to a frame.
        identifiers: names of the functions in ``i2v_plugin.synth`` that implement it.
        keywords: words that name the effect in code or configs.
        augmentations: names of the project's augmentations (classes, functions) that imitate
            it; always empty for a sealed family.
    """

    name: str
    description: str
    identifiers: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    augmentations: tuple[str, ...] = ()


PUBLIC_FAMILIES = (
    Family(
        "motion_blur",
        "objects (and camera) move while the shutter is open: blur along the motion",
        identifiers=("average_exposure",),
        augmentations=("RandomGaussianBlur", "gaussian_blur"),
    ),
    Family(
        "low_light",
        "under-exposure: a brightness gain below 1 and a gamma above 1 (crushed shadows)",
        identifiers=("low_light",),
        augmentations=("RandomBrightness", "RandomContrast", "StrongPhotometric"),
    ),
    Family(
        "colour_cast",
        "wrong white balance: one gain per colour channel",
        identifiers=("colour_cast", "sample_channel_gains"),
        augmentations=("RandomSaturation", "RandomLighting", "StrongPhotometric"),
    ),
    Family(
        "sensor_noise",
        "Gaussian read noise plus signal-dependent shot noise",
        identifiers=("sensor_noise",),
        augmentations=("RandomGaussianNoise", "StrongPhotometric"),
    ),
    Family(
        "low_resolution",
        "capture at a lower resolution: area downsampling then bilinear upsampling",
        identifiers=("low_resolution",),
        augmentations=("RandomDownscale",),
    ),
    Family(
        "camera_shake",
        "hand-held jitter: the camera window moves by a random offset every frame",
        identifiers=("camera_shake",),
    ),
    Family(
        "h264_compression",
        "H.264 encoding at a constant rate factor (blocking, smearing, chroma 4:2:0)",
        identifiers=("write_video",),
        augmentations=("RandomJPEG",),
    ),
)

SEALED_FAMILIES = (
    Family(
        "rolling_shutter",
        "an oscillating camera pan read out row by row: rows shift and the frame skews",
        identifiers=("pan_offset", "rolling_shutter_rows"),
        keywords=("rolling shutter", "jello", "readout"),
    ),
    Family(
        "interlacing",
        "even and odd rows come from two fields half a frame apart: combing on motion",
        identifiers=("interlace_fields",),
        keywords=("interlac", "combing"),
    ),
    Family(
        "vignetting",
        "lens fall-off: the frame darkens towards its corners",
        identifiers=("vignette",),
        keywords=("vignet",),
    ),
    Family(
        "chromatic_aberration",
        "lateral chromatic aberration: red magnified over blue, colour fringes off-centre",
        identifiers=("chromatic_aberration",),
        keywords=("chromatic", "aberration", "colour fringe", "color fringe"),
    ),
    Family(
        "haze",
        "atmospheric scattering: a bright veil that thickens with scene depth",
        identifiers=("haze", "haze_depth"),
        keywords=("haze", "fog", "airlight", "atmospheric", "dehaz"),
    ),
)

PUBLIC_FAMILY_NAMES = tuple(f.name for f in PUBLIC_FAMILIES)
SEALED_FAMILY_NAMES = tuple(f.name for f in SEALED_FAMILIES)


def term_pattern(term: str) -> re.Pattern:
    """A case-insensitive pattern for ``term`` whose words may be joined by ``_``, ``-``, spaces
    or nothing: "rolling shutter" matches rolling_shutter, RollingShutter, "rolling-shutter"."""
    words = [w for w in re.split(r"[\s_-]+", term) if w]
    return re.compile(r"[\s_-]*".join(re.escape(w) for w in words), re.IGNORECASE)


def sealed_terms(family: Family) -> tuple[str, ...]:
    """Every term that marks an implementation of ``family``: its name, its identifiers and
    its keywords."""
    return (family.name, *family.identifiers, *family.keywords)


def sealed_matches(text: str) -> list[tuple[str, str]]:
    """Which sealed families ``text`` mentions.

    Args:
        text: source code, a config, or a name.
    Returns:
        (family name, matching term) pairs, in SEALED_FAMILIES order; empty when none.
    """
    return [
        (f.name, t)
        for f in SEALED_FAMILIES
        for t in sealed_terms(f)
        if term_pattern(t).search(text)
    ]
