"""``StreamingVideoWriter``: encode frames to a video file one at a time, atomically.

``data.video.write_video`` aims at reproducible dataset files (single-threaded, bit-exact x264);
overlay videos are previews, so this writer favours speed: an x264 preset and the encoder's own
threads. Both take the container from ``data.video.VIDEO_FORMATS`` and encode through
``data.video.FrameEncoder``. The file appears under its name only once it is complete.
"""

import os

import av
import numpy as np

from ..data.video import VIDEO_FORMATS, FrameEncoder, output_format, quality_options
from ..utils.atomic import StagedFile

CODEC = "libx264"
# The extensions whose format is H.264.
H264_FORMATS = {ext: fmt for ext, fmt in VIDEO_FORMATS.items() if fmt.codec == CODEC}


class StreamingVideoWriter:
    """H.264 (yuv420p) writer: ``with StreamingVideoWriter(path, fps) as w: w.write(frame)``.

    Args:
        path: output file (.mp4, .mov or .mkv).
        fps: frame rate (> 0), e.g. the input's exact Fraction.
        crf: x264 constant quality (0..51, higher = smaller and worse).
        preset: x264 speed preset ("ultrafast" .. "veryslow").
    Frames are HxWx3 uint8 RGB with even sides, all of one size. Leaving the ``with`` block
    through an exception (or closing without frames) removes the partial file.
    """

    def __init__(self, path, fps, crf: int = 20, preset: str = "ultrafast"):
        self.path = os.fspath(path)
        video_format, rate = output_format(self.path, fps, self.path, H264_FORMATS)
        options = {**quality_options(CODEC, crf), "preset": preset}
        self._staged = StagedFile(self.path)
        try:
            self._container = av.open(self._staged.tmp_path, "w", format=video_format.container)
        except BaseException:
            self._staged.discard()
            raise
        self._encoder = FrameEncoder(
            self._container, CODEC, rate, "yuv420p", options, self.path, threaded=True
        )

    @property
    def num_frames(self) -> int:
        """Frames written so far."""
        return self._encoder.num_frames

    def write(self, frame: np.ndarray) -> None:
        """Encode the next frame (HxWx3 uint8 RGB, the size of the first one)."""
        self._encoder.write(frame)

    def close(self) -> None:
        """Flush the encoder and move the finished file into place."""
        try:
            self._encoder.finish()
            self._container.close()
            self._staged.commit()
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Abandon the video: close the container and remove the partial file."""
        try:
            self._container.close()
        except (av.error.FFmpegError, ValueError):
            pass  # a stream that never received a frame cannot be finalised; the file goes anyway
        self._staged.discard()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            self.close()
        else:
            self.discard()
