"""The public degradations of one video, as versions 3 and 4 both apply them: the per-video
random draws (``sample_public_draws``, in version 3's draw order) and the per-frame pixel
pipeline (``degrade_frame``: low resolution, low light, colour cast, sensor noise).

``strengths`` is anything with the public strength fields of ``SynthParams`` (a ``SynthParams``
itself in version 3, a ``splits.PublicStrengths`` in version 4).
"""

from dataclasses import dataclass

import numpy as np

from .artifacts import (
    camera_shake,
    colour_cast,
    low_light,
    low_resolution,
    sample_channel_gains,
    sensor_noise,
    to_uint8,
)
from .clip import Clip


@dataclass(frozen=True)
class PublicDraws:
    """The random values of a video's public degradations.

    Attributes:
        gain, gamma: low-light brightness gain and gamma.
        channel_gains: (3,) float32 colour-cast gains.
        offsets: (num_frames, 2) int64 top-left corners (x, y) of each frame's camera window in
            scene pixels: the shake offsets plus the scene border.
    """

    gain: float
    gamma: float
    channel_gains: np.ndarray
    offsets: np.ndarray


def sample_public_draws(rng: np.random.Generator, strengths, clip: Clip) -> PublicDraws:
    """Draw a video's public degradations: gain, gamma, channel gains, then the shake offsets.

    Args:
        rng: the video's public-artefact generator; every draw happens whatever the strengths.
        strengths: low_light_gain, low_light_gamma, colour_cast and camera_shake (a fraction of
            the frame side) are read.
        clip: frames of the video (one offset each), frame size and border (added to the
            offsets).
    """
    gain = rng.uniform(*strengths.low_light_gain)
    gamma = rng.uniform(*strengths.low_light_gamma)
    channel_gains = sample_channel_gains(rng, strengths.colour_cast)
    offsets = camera_shake(rng, clip.num_frames, strengths.camera_shake * clip.frame_size)
    offsets = offsets + clip.border
    return PublicDraws(gain, gamma, channel_gains, offsets)


def degrade_frame(
    rgb: np.ndarray, strengths, draws: PublicDraws, rng: np.random.Generator
) -> np.ndarray:
    """Low resolution, low light, colour cast and sensor noise, in that order.

    Args:
        rgb: (H, W, 3) float32 rendered frame in [0, 1].
        strengths: downsample_factor, noise_read_sigma and noise_shot_sigma are read.
        draws: the video's ``PublicDraws``.
        rng: generator of the sensor noise (the one ``draws`` came from).
    Returns:
        (H, W, 3) uint8 frame.
    """
    rgb = low_resolution(rgb, strengths.downsample_factor)
    rgb = colour_cast(low_light(rgb, draws.gain, draws.gamma), draws.channel_gains)
    rgb = sensor_noise(rgb, rng, strengths.noise_read_sigma, strengths.noise_shot_sigma)
    return to_uint8(rgb)
