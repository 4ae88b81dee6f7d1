"""Which frames make a clip: indices at a stride around a chosen frame, and the frame listing
of a sequence folder (for datasets of frame files)."""

import os
from functools import lru_cache


def clip_frame_indices(
    frame: int, num_frames: int, length: int, stride: int
) -> tuple[list[int], int]:
    """Indices of a clip of ``length`` frames, ``stride`` apart, that contains ``frame``.

    The frame sits as close to the clip centre (position ``(length - 1) // 2``) as the sequence
    bounds allow, so the clip stays inside the sequence whenever a placement on the stride grid
    through the frame fits. Otherwise (a short sequence, or a frame near its end) the clip starts
    as early as the grid allows and positions past the end repeat the last frame.

    Args:
        frame: index of the frame the sample stands for, in [0, num_frames).
        num_frames: frames in the sequence.
        length: frames per clip T (>= 1).
        stride: distance between consecutive clip frames (>= 1).
    Returns:
        (T indices in increasing order, position of ``frame`` in them).
    """
    if length < 1 or stride < 1:
        raise ValueError(f"Clip length and stride must be >= 1, got {length} and {stride}")
    if not 0 <= frame < num_frames:
        raise ValueError(f"Frame {frame} is outside a sequence of {num_frames} frames")
    centre = (length - 1) // 2
    # Key positions that keep the first index >= 0 (<= highest) and the last < num_frames
    # (>= lowest); when none does, the clip starts as early as possible and is clamped at the end.
    lowest = max(0, length - 1 - (num_frames - 1 - frame) // stride)
    highest = min(length - 1, frame // stride)
    key = min(max(centre, lowest), highest)
    indices = [min(frame + (i - key) * stride, num_frames - 1) for i in range(length)]
    return indices, key


@lru_cache(maxsize=4096)
def sequence_frame_names(folder: str, extension: str) -> tuple[str, ...]:
    """Sorted names of the ``extension`` files in ``folder`` (cached: folders are listed once
    per process)."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Sequence folder not found: {folder}")
    return tuple(sorted(name for name in os.listdir(folder) if name.endswith(extension)))
