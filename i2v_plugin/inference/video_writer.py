"""``StreamingVideoWriter``: encode frames to a video file one at a time, atomically.

``data.video.write_video`` aims at reproducible dataset files (single-threaded, bit-exact x264);
overlay videos are previews, so this writer favours speed: an x264 preset and the encoder's own
threads. The file appears under its name only once it is complete.
"""

import os
from fractions import Fraction

import av
import numpy as np

from ..utils.atomic import StagedFile

CONTAINER_BY_EXTENSION = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}


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
        extension = os.path.splitext(self.path)[1].lower()
        if extension not in CONTAINER_BY_EXTENSION:
            raise ValueError(
                f"{self.path}: unsupported extension {extension!r}; expected one of "
                f"{sorted(CONTAINER_BY_EXTENSION)}"
            )
        if not fps > 0:
            raise ValueError(f"{self.path}: fps must be > 0, got {fps}")
        self.rate = Fraction(fps).limit_denominator(100_000)
        self.options = {"crf": str(crf), "preset": preset}
        self.num_frames = 0
        self._staged = StagedFile(self.path)
        try:
            self._container = av.open(
                self._staged.tmp_path, "w", format=CONTAINER_BY_EXTENSION[extension]
            )
        except BaseException:
            self._staged.discard()
            raise
        self._stream = None

    def _open_stream(self, height: int, width: int) -> None:
        if height % 2 or width % 2:
            raise ValueError(f"{self.path}: yuv420p needs even sides, got {width}x{height}")
        self._stream = self._container.add_stream("libx264", rate=self.rate)
        self._stream.height, self._stream.width = height, width
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = self.options
        # Frame threads run outside the GIL; "AUTO" picks their number from the CPU count.
        self._stream.thread_type = "AUTO"

    def write(self, frame: np.ndarray) -> None:
        """Encode the next frame (HxWx3 uint8 RGB, the size of the first one)."""
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(
                f"{self.path}: frames must be HxWx3 uint8 RGB, got {frame.shape} {frame.dtype}"
            )
        if self._stream is None:
            self._open_stream(*frame.shape[:2])
        elif frame.shape[:2] != (self._stream.height, self._stream.width):
            raise ValueError(
                f"{self.path}: frame {self.num_frames} is {frame.shape[1]}x{frame.shape[0]}, "
                f"the first was {self._stream.width}x{self._stream.height}"
            )
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        video_frame.pts = self.num_frames
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self.num_frames += 1

    def close(self) -> None:
        """Flush the encoder and move the finished file into place."""
        try:
            if self._stream is None:
                raise ValueError(f"{self.path}: no frame was written")
            for packet in self._stream.encode(None):
                self._container.mux(packet)
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
