"""Appearance of the synthetic scenes: object textures and smooth textured backgrounds.

One distribution serves every object class and both domains, so colour and texture carry no
information about the class or the domain. Images here are float32 RGB in [0, 1].
"""

import colorsys
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

TEXTURE_KINDS = ("solid", "stripes", "checker", "dots", "gradient")


@dataclass(frozen=True)
class Appearance:
    """Colour statistics shared by every class and both domains.

    Attributes:
        texture_contrast: the second texture colour is pulled towards the first by this factor
            (1 = two independent colours, 0 = every texture looks solid).
        object_value: (min, max) HSV value (brightness) of object colours.
        background_value: (min, max) HSV value of background colours. Backgrounds darker than
            the objects make figure/ground easy in the bright image domain; the video domain's
            low light then shrinks that contrast.
    """

    texture_contrast: float = 1.0
    object_value: tuple[float, float] = (0.35, 1.0)
    background_value: tuple[float, float] = (0.25, 1.0)


# The appearance used when a caller gives none.
DEFAULT_APPEARANCE = Appearance()


def sample_colour(rng: np.random.Generator, value: tuple[float, float] = (0.35, 1.0)) -> np.ndarray:
    """A random RGB colour: uniform hue, saturation in [0.2, 1], HSV value uniform in ``value``.

    Returns:
        (3,) float32 array in [0, 1].
    """
    hue, sat, val = rng.uniform(0, 1), rng.uniform(0.2, 1.0), rng.uniform(*value)
    return np.array(colorsys.hsv_to_rgb(hue, sat, val), dtype=np.float32)


@dataclass(frozen=True)
class TextureSpec:
    """An object texture, defined in the object's own frame (units of the object's size).

    Attributes:
        kind: one of TEXTURE_KINDS.
        colour_a, colour_b: (3,) float32 RGB colours in [0, 1] (solid uses colour_a only).
        period: pattern period in object sizes (stripes, checker, dots).
        angle: pattern direction in radians.
        phase: pattern offset in periods, in [0, 1).
    """

    kind: str
    colour_a: np.ndarray
    colour_b: np.ndarray
    period: float
    angle: float
    phase: float


def sample_texture(
    rng: np.random.Generator, appearance: Appearance = DEFAULT_APPEARANCE
) -> TextureSpec:
    """Draw an object texture; every class uses this same distribution.

    Args:
        rng: random generator. Always consumes the same number of draws, so later draws do not
            depend on the kind or the contrast.
        appearance: object colour range and texture contrast.
    """
    kind = TEXTURE_KINDS[int(rng.integers(len(TEXTURE_KINDS)))]
    value = appearance.object_value
    colour_a, colour_b = sample_colour(rng, value), sample_colour(rng, value)
    contrast = appearance.texture_contrast
    return TextureSpec(
        kind=kind,
        colour_a=colour_a,
        colour_b=(colour_a + contrast * (colour_b - colour_a)).astype(np.float32),
        period=float(rng.uniform(0.12, 0.3)),
        angle=float(rng.uniform(0, math.pi)),
        phase=float(rng.uniform(0, 1)),
    )


def render_texture(spec: TextureSpec, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Evaluate a texture at object-frame coordinates.

    Args:
        spec: the texture.
        u, v: (H, W) float32 coordinates in object sizes (see ``local_coordinates``).
    Returns:
        (H, W, 3) float32 RGB in [0, 1].
    """
    cos, sin = math.cos(spec.angle), math.sin(spec.angle)
    along = (cos * u + sin * v) / spec.period + spec.phase
    across = (-sin * u + cos * v) / spec.period + spec.phase
    if spec.kind == "solid":
        weight = np.zeros_like(u)
    elif spec.kind == "stripes":
        weight = (np.floor(along * 2) % 2).astype(np.float32)
    elif spec.kind == "checker":
        weight = ((np.floor(along) + np.floor(across)) % 2).astype(np.float32)
    elif spec.kind == "dots":
        distance = np.hypot(along - np.round(along), across - np.round(across))
        weight = (distance < 0.3).astype(np.float32)
    elif spec.kind == "gradient":
        weight = np.clip(0.5 + (cos * u + sin * v), 0.0, 1.0)
    else:
        raise ValueError(f"Unknown texture kind {spec.kind!r}; expected one of {TEXTURE_KINDS}")
    weight = weight[..., None]
    return ((1 - weight) * spec.colour_a + weight * spec.colour_b).astype(np.float32)


def smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Low-frequency noise: a ``cells`` x ``cells`` grid of uniform values, bicubically upscaled.

    Returns:
        (height, width) float32, roughly in [0, 1].
    """
    grid = rng.uniform(0, 1, size=(cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(grid).resize((width, height), Image.BICUBIC))


def sample_background(
    rng: np.random.Generator, height: int, width: int, appearance: Appearance = DEFAULT_APPEARANCE
) -> np.ndarray:
    """A random smooth textured background field (shared by both domains).

    Two colours (value range ``appearance.background_value``) blended by low-frequency noise, a
    linear brightness gradient, and faint stripes.

    Returns:
        (height, width, 3) float32 RGB in [0, 1].
    """
    value = appearance.background_value
    colour_a, colour_b = sample_colour(rng, value), sample_colour(rng, value)
    blend = smooth_noise(rng, height, width, int(rng.integers(3, 7)))[..., None]
    field = (1 - blend) * colour_a + blend * colour_b

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    side = max(height, width)
    direction = rng.uniform(0, 2 * math.pi)
    ramp = (math.cos(direction) * x + math.sin(direction) * y) / side - 0.5
    field = field * (1 + rng.uniform(0.1, 0.4) * ramp)[..., None]

    stripe_angle = rng.uniform(0, math.pi)
    # At least 4 pixels: finer stripes would alias instead of looking like texture.
    stripe_period = max(4.0, rng.uniform(0.03, 0.1) * side)
    stripes = np.sin(
        2 * math.pi * (math.cos(stripe_angle) * x + math.sin(stripe_angle) * y) / stripe_period
    )
    field = field + rng.uniform(0.0, 0.05) * stripes[..., None]
    return np.clip(field, 0.0, 1.0).astype(np.float32)
