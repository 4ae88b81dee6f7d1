"""Frames blended with their mask colours, for the overlay video."""

import functools

import numpy as np

from .palette import CLASS_PALETTE


@functools.lru_cache(maxsize=8)
def _blend_tables(alpha: float, background: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-class weight of the colour (x/256, uint16) and the colour premultiplied by it."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"blend: alpha must lie in [0, 1], got {alpha}")
    weight = np.full(len(CLASS_PALETTE), round(alpha * 256), dtype=np.uint16)
    if background is not None:
        weight[background] = 0
    return weight, CLASS_PALETTE.astype(np.uint16) * weight[:, None]


def blend(
    frame: np.ndarray, mask: np.ndarray, alpha: float = 0.5, background: int | None = 0
) -> np.ndarray:
    """Blend RGB frames with the palette colours of their masks.

    Args:
        frame: (..., H, W, 3) uint8 RGB, one frame or a batch.
        mask: (..., H, W) uint8 class indices of the same leading shape.
        alpha: weight of the mask colours, in [0, 1].
        background: class whose pixels keep the frame's colours (class 0, the background of the
            synthetic benchmark and DAVIS, is black in the palette and would only darken the
            frame); None tints every class.
    Returns:
        (..., H, W, 3) uint8 ``(1 - alpha) * frame + alpha * colour`` (the frame on background).
    """
    if frame.shape[:-1] != mask.shape:
        raise ValueError(f"blend: frame {frame.shape[:-1]} and mask {mask.shape} differ in size")
    weight, premultiplied = _blend_tables(float(alpha), background)
    # Fixed-point maths in 1/256 steps with table look-ups instead of boolean masking: several
    # times faster, which matters because the writer must keep up with a GPU.
    frame_weight = 256 - np.take(weight, mask)[..., None]
    mixed = frame.astype(np.uint16) * frame_weight + np.take(premultiplied, mask, axis=0)
    mixed += 128  # rounds; the sum stays below 2**16 since the weights add up to 256
    return (mixed >> 8).astype(np.uint8)


def pad_to_even(frame: np.ndarray) -> np.ndarray:
    """Repeat the last row/column where needed so both sides are even (yuv420p needs it)."""
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    if not (pad_h or pad_w):
        return frame
    return np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def overlay_frame(
    frame: np.ndarray,
    mask: np.ndarray,
    alpha: float = 0.5,
    side_by_side: bool = False,
    background: int | None = 0,
) -> np.ndarray:
    """The frame written to the overlay video: the blend (see ``blend``), or ``frame | blend``
    side by side, padded to even sides."""
    blended = blend(frame, mask, alpha, background)
    if side_by_side:
        blended = np.concatenate([frame, blended], axis=1)
    return pad_to_even(blended)
