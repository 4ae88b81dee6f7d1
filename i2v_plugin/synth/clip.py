"""The frame geometry of one video, shared by its scene sampler and its camera."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Clip:
    """``num_frames`` square frames of ``frame_size`` pixels, each a window of a scene that
    extends ``border`` pixels beyond the frame on every side (room for camera shake and pan);
    the unshaken frame is the window at (border, border).

    Attributes:
        frame_size: side of the square frame, pixels.
        border: extra scene background on each side of the frame, pixels.
        num_frames: frames of the video (motion is planned over them).
    """

    frame_size: int
    border: int
    num_frames: int

    @property
    def side(self) -> float:
        """The frame side as a float: the length that scene fractions refer to."""
        return float(self.frame_size)

    @property
    def canvas(self) -> int:
        """Side of the square scene background: the frame plus its border on both sides."""
        return self.frame_size + 2 * self.border

    @property
    def steps(self) -> int:
        """Frame intervals that motion is planned over (at least 1, for one-frame clips)."""
        return max(self.num_frames - 1, 1)
