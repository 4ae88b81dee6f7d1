"""Which sealed families a version-4 video gets, and their per-video parameters.

Every video draws the same values in the same order whatever its split's mode, so a family's
parameters for a given (seed, scene code, index) do not depend on which families are on.
"""

import math
from dataclasses import dataclass

import numpy as np

from .families import SEALED_FAMILY_NAMES
from .params import SynthParams
from .scenes import NUM_SHAPE_CLASSES
from .sealed import haze_depth


@dataclass(frozen=True)
class SealedPlan:
    """The sealed families of one video.

    Attributes:
        active: names of the families on (a subset of SEALED_FAMILY_NAMES, in its order).
        pan_amplitude_px, pan_period, pan_phase, readout: the rolling shutter's pan.
        vignetting: fraction of light lost in the corners.
        magnification: chromatic aberration (red over blue).
        haze_density: optical density at the farthest depth.
        airlight: (3,) haze colour.
        depth: (size, size) haze depth map in [0, 1].
    """

    active: tuple[str, ...]
    pan_amplitude_px: float
    pan_period: float
    pan_phase: float
    readout: float
    vignetting: float
    magnification: float
    haze_density: float
    airlight: np.ndarray
    depth: np.ndarray

    def has(self, family: str) -> bool:
        """Whether ``family`` is on."""
        return family in self.active


def max_pan_amplitude_px(params: SynthParams) -> float:
    """The largest pan displacement a rolling-shutter video can have, in pixels."""
    peak_speed = params.rolling_shutter_speed[1] * params.video_size
    return peak_speed * params.rolling_shutter_period / (2 * math.pi)


def assigned_family(index: int) -> str:
    """The family a sealed evaluation video always has: round-robin over blocks of
    NUM_SHAPE_CLASSES videos, so every (class, family) pair is equally frequent."""
    return SEALED_FAMILY_NAMES[(index // NUM_SHAPE_CLASSES) % len(SEALED_FAMILY_NAMES)]


def sample_sealed_plan(
    rng: np.random.Generator, params: SynthParams, mode: str, index: int
) -> SealedPlan:
    """Draw the sealed families of video ``index``.

    Args:
        rng: the video's sealed-family random generator.
        params: generator parameters (probabilities and strength ranges).
        mode: "none" (no family), "train" (each with sealed_train_prob) or "eval" (the
            ``assigned_family`` plus each other with sealed_eval_prob).
        index: the video's index in its split.
    Raises:
        ValueError for another mode.
    """
    if mode not in ("none", "train", "eval"):
        raise ValueError(f"Unknown sealed mode {mode!r}; expected none, train or eval")
    coins = rng.uniform(0, 1, size=len(SEALED_FAMILY_NAMES))
    size = params.video_size
    speed = rng.uniform(*params.rolling_shutter_speed) * size
    period = params.rolling_shutter_period
    phase = rng.uniform(0, 2 * math.pi)
    vignetting = rng.uniform(*params.vignetting_strength)
    magnification = rng.uniform(*params.chromatic_aberration)
    density = rng.uniform(*params.haze_density)
    grey = rng.uniform(0.75, 0.95)
    airlight = np.clip(grey + rng.uniform(-0.05, 0.05, size=3), 0, 1).astype(np.float32)
    depth = haze_depth(rng, size, size)

    if mode == "none":
        active = ()
    else:
        prob = params.sealed_train_prob if mode == "train" else params.sealed_eval_prob
        on = coins < prob
        if mode == "eval":
            on[SEALED_FAMILY_NAMES.index(assigned_family(index))] = True
        active = tuple(name for name, flag in zip(SEALED_FAMILY_NAMES, on, strict=True) if flag)
    return SealedPlan(
        active=active,
        pan_amplitude_px=float(speed * period / (2 * math.pi)),
        pan_period=float(period),
        pan_phase=float(phase),
        readout=float(params.rolling_shutter_readout),
        vignetting=float(vignetting),
        magnification=float(magnification),
        haze_density=float(density),
        airlight=airlight,
        depth=depth,
    )
