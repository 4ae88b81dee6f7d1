"""Sealed video degradations (``families.SEALED_FAMILIES``): effects no augmentation of the
project implements.

Images are float32 RGB arrays in [0, 1] of shape (H, W, 3). Camera-side effects (rolling
shutter, interlacing) decide *where and when* each row is captured, so they act on the image and
the label map alike; optical effects (haze, chromatic aberration, vignetting) change pixels only.
"""

import math

import numpy as np
from PIL import Image

from .textures import smooth_noise


def pan_offset(time: float, amplitude_px: float, period: float, phase: float) -> float:
    """Horizontal position of an oscillating camera pan at ``time``.

    Args:
        time: time in frames.
        amplitude_px: largest displacement in pixels (0 = no pan).
        period: oscillation period in frames.
        phase: phase in radians.
    Returns:
        displacement in pixels, in [-amplitude_px, amplitude_px].
    """
    return amplitude_px * math.sin(2 * math.pi * time / period + phase)


def rolling_shutter_rows(
    height: int, time: float, readout: float, amplitude_px: float, period: float, phase: float
) -> np.ndarray:
    """Per-row horizontal camera offsets of a rolling shutter under the oscillating pan.

    Row r is read at ``time + readout * (r / (height - 1) - 0.5)`` frames, so during a fast pan
    the rows shift progressively and vertical edges lean (the frame's middle row is read at
    ``time``).

    Args:
        height: rows of the frame.
        time: mid-readout time in frames.
        readout: time to read all rows, in frame intervals (0 = a global shutter).
        amplitude_px, period, phase: the pan (see ``pan_offset``).
    Returns:
        (height,) int64 offsets in pixels (rounded), added to the window's x origin.
    """
    rows = np.arange(height, dtype=np.float64)
    times = time + readout * (rows / max(height - 1, 1) - 0.5)
    offsets = [pan_offset(float(t), amplitude_px, period, phase) for t in times]
    return np.round(offsets).astype(np.int64)


def interlace_fields(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """An interlaced frame: even rows from the ``first`` field, odd rows from the ``second``.

    Args:
        first, second: arrays of the same shape (images or label maps), the two fields
            captured half a frame apart.
    Returns:
        array of that shape; moving edges comb.
    """
    if first.shape != second.shape:
        raise ValueError(
            f"interlace_fields: fields of different shapes {first.shape} and {second.shape}"
        )
    out = first.copy()
    out[1::2] = second[1::2]
    return out


def vignette(image: np.ndarray, strength: float) -> np.ndarray:
    """Lens fall-off: multiply by ``1 - strength * rho**2``, rho = distance from the centre over
    the half-diagonal.

    Args:
        image: (H, W, 3) float32.
        strength: fraction of the light lost in the corners, in [0, 1]; 0 = unchanged.
    Returns:
        (H, W, 3) float32.
    """
    height, width = image.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = (height - 1) / 2, (width - 1) / 2
    rho2 = ((x - cx) ** 2 + (y - cy) ** 2) / (cx**2 + cy**2)
    return (image * (1.0 - strength * rho2)[..., None]).astype(np.float32)


def _magnify(channel: np.ndarray, scale: float) -> np.ndarray:
    """Magnify one (H, W) float32 channel by ``scale`` about its centre (bilinear)."""
    height, width = channel.shape
    cx, cy = (width - 1) / 2, (height - 1) / 2
    # PIL's affine data maps output (x, y) to input (a x + b y + c, d x + e y + f).
    inv = 1.0 / scale
    data = (inv, 0.0, cx - inv * cx, 0.0, inv, cy - inv * cy)
    image = Image.fromarray(np.ascontiguousarray(channel, np.float32), mode="F")
    out = image.transform((width, height), Image.AFFINE, data, resample=Image.BILINEAR)
    return np.asarray(out, dtype=np.float32)


def chromatic_aberration(image: np.ndarray, magnification: float) -> np.ndarray:
    """Lateral chromatic aberration: red magnified by ``1 + m/2``, blue by ``1 - m/2`` about the
    centre, green unchanged, so edges away from the centre get red and blue fringes.

    Args:
        image: (H, W, 3) float32.
        magnification: relative size difference of red over blue; 0 = unchanged.
    Returns:
        (H, W, 3) float32 (pixels mapped from outside the frame repeat the edge).
    """
    if magnification <= 0:
        return image
    padded = np.pad(image, ((2, 2), (2, 2), (0, 0)), mode="edge")
    red = _magnify(padded[..., 0], 1.0 + magnification / 2)
    blue = _magnify(padded[..., 2], 1.0 - magnification / 2)
    out = np.stack([red, padded[..., 1], blue], axis=-1)[2:-2, 2:-2]
    return out.astype(np.float32)


def haze_depth(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A plausible depth map for haze: far at the top, near at the bottom, with smooth relief.

    Args:
        rng: random generator (always the same number of draws).
    Returns:
        (height, width) float32 in [0, 1], 1 = farthest.
    """
    rows = np.linspace(1.0, 0.2, height, dtype=np.float32)[:, None]
    relief = smooth_noise(rng, height, width, 3) - 0.5
    return np.clip(rows + 0.4 * relief, 0.0, 1.0).astype(np.float32)


def haze(image: np.ndarray, depth: np.ndarray, density: float, airlight: np.ndarray) -> np.ndarray:
    """Atmospheric scattering (Koschmieder): ``image * t + airlight * (1 - t)``, with
    transmission ``t = exp(-density * depth)``.

    Args:
        image: (H, W, 3) float32 in [0, 1].
        depth: (H, W) float32 in [0, 1] (see ``haze_depth``).
        density: optical density at depth 1; 0 = clear air.
        airlight: (3,) colour of the veil in [0, 1].
    Returns:
        (H, W, 3) float32 in [0, 1].
    """
    transmission = np.exp(-density * depth)[..., None].astype(np.float32)
    veil = np.asarray(airlight, np.float32) * (1.0 - transmission)
    return np.clip(image * transmission + veil, 0.0, 1.0).astype(np.float32)
