"""Video-domain degradations of the synthetic benchmark, one small function each.

Images are float32 RGB arrays in [0, 1] of shape (H, W, 3). Every function documents its strength
parameter and the value at which it does nothing. Functions that take a random generator draw the
same number of values whatever the strength, so changing one strength leaves every other random
draw (scene, other artefacts) unchanged.

The codec artefacts come from the real H.264 encode (``video.write_video`` with a crf).
"""

from collections.abc import Callable

import numpy as np
from PIL import Image


def average_exposure(
    render: Callable[[float], np.ndarray], time: float, exposure: float, substeps: int
) -> np.ndarray:
    """Motion blur: the mean of ``substeps`` renders spread over the exposure around ``time``.

    Args:
        render: time (in frames) -> (H, W, 3) float32 image.
        time: mid-exposure time in frames (the label is the scene at this time).
        exposure: shutter-open duration in frame intervals; 0 = no blur, 1 = open the whole
            frame interval, above 1 exaggerates the blur beyond what a real shutter allows.
        substeps: number of renders averaged (>= 1); more gives a smoother blur.
    Returns:
        (H, W, 3) float32 image.
    """
    if exposure <= 0 or substeps <= 1:
        return render(time)
    offsets = np.linspace(-0.5, 0.5, substeps) * exposure
    return np.mean([render(time + float(dt)) for dt in offsets], axis=0, dtype=np.float32)


def _resize_channels(image: np.ndarray, width: int, height: int, resample) -> np.ndarray:
    channels = [
        np.asarray(Image.fromarray(image[..., c]).resize((width, height), resample))
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=-1)


def low_resolution(image: np.ndarray, factor: float) -> np.ndarray:
    """Downsample by ``factor`` (area average) and upsample back (bilinear): loses fine detail.

    Args:
        image: (H, W, 3) float32.
        factor: downsampling factor; 1 = unchanged, 2 = half the resolution, etc.
    Returns:
        (H, W, 3) float32 of the input size.
    """
    if factor <= 1:
        return image
    height, width = image.shape[:2]
    small = (max(1, round(width / factor)), max(1, round(height / factor)))
    reduced = _resize_channels(np.ascontiguousarray(image, np.float32), *small, Image.BOX)
    return _resize_channels(reduced, width, height, Image.BILINEAR).astype(np.float32)


def low_light(image: np.ndarray, gain: float, gamma: float) -> np.ndarray:
    """Under-exposure: ``gain * image ** gamma``.

    Args:
        image: (H, W, 3) float32 in [0, 1].
        gain: overall brightness factor; 1 = unchanged, below 1 darker.
        gamma: tone curve exponent; 1 = unchanged, above 1 darkens mid-tones more than
            highlights (crushes shadows).
    Returns:
        (H, W, 3) float32 in [0, gain].
    """
    return (gain * np.power(np.clip(image, 0.0, 1.0), gamma)).astype(np.float32)


def sample_channel_gains(rng: np.random.Generator, strength: float) -> np.ndarray:
    """Per-channel gains of a colour cast, each uniform in [1 - strength, 1 + strength].

    Args:
        strength: maximum relative change of one channel; 0 = no cast.
    Returns:
        (3,) float32 gains.
    """
    return (1.0 + strength * rng.uniform(-1.0, 1.0, size=3)).astype(np.float32)


def colour_cast(image: np.ndarray, channel_gains: np.ndarray) -> np.ndarray:
    """Wrong white balance: multiply each channel by its gain and clip to [0, 1].

    Args:
        image: (H, W, 3) float32.
        channel_gains: (3,) gains (see ``sample_channel_gains``); all ones = unchanged.
    """
    return np.clip(image * np.asarray(channel_gains, np.float32), 0.0, 1.0).astype(np.float32)


def sensor_noise(
    image: np.ndarray, rng: np.random.Generator, read_sigma: float, shot_sigma: float
) -> np.ndarray:
    """Gaussian read noise plus signal-dependent shot noise, clipped to [0, 1].

    The noise standard deviation at a pixel of value x is ``sqrt(read_sigma**2 + shot_sigma**2
    * x)``: read noise everywhere, shot noise growing with the signal (``shot_sigma`` is its
    standard deviation on a white pixel).

    Args:
        image: (H, W, 3) float32 in [0, 1].
        rng: random generator.
        read_sigma, shot_sigma: noise levels in units of the full range; 0 and 0 = no noise.
    Returns:
        (H, W, 3) float32 in [0, 1].
    """
    sigma = np.sqrt(read_sigma**2 + shot_sigma**2 * np.clip(image, 0.0, 1.0))
    noisy = image + sigma * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)


def camera_shake(rng: np.random.Generator, num_frames: int, sigma_px: float) -> np.ndarray:
    """Per-frame global jitter of a hand-held camera, as integer pixel offsets.

    Each frame's offset is drawn independently from a Gaussian of standard deviation
    ``sigma_px`` and clipped to ``shake_margin(sigma_px)`` pixels.

    Args:
        rng: random generator.
        num_frames: number of frames.
        sigma_px: jitter standard deviation in pixels; 0 = a steady camera.
    Returns:
        (num_frames, 2) int64 array of (dx, dy) offsets.
    """
    jitter = rng.standard_normal((num_frames, 2)) * sigma_px
    limit = shake_margin(sigma_px)
    return np.clip(np.round(jitter), -limit, limit).astype(np.int64)


def shake_margin(sigma_px: float) -> int:
    """The largest offset ``camera_shake`` returns: the border a scene needs around the frame."""
    return int(np.ceil(3 * sigma_px))


def to_uint8(image: np.ndarray) -> np.ndarray:
    """float image in [0, 1] -> uint8 image (rounded, clipped)."""
    return np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
