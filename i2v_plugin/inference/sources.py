"""Frame sources for prediction: a video file, a folder of frames, or a glob of images.

Every source yields HxWx3 uint8 RGB frames of one size, in order, and knows its frame rate and
(for naming the masks) one name per frame.
"""

import glob
import os
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, UnidentifiedImageError

from ..data.video import VideoReadError, probe_video

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
DEFAULT_IMAGE_FPS = 24.0
_GLOB_CHARACTERS = set("*?[")


class FrameSource:
    """Base class: ``path`` (the input as given), ``fps`` (Fraction), ``num_frames`` (expected
    count), ``frame_names`` (one per frame, no extension) and ``frames()``."""

    path: str
    fps: Fraction
    num_frames: int
    frame_names: list[str]

    def frames(self) -> Iterator[np.ndarray]:
        """Yield the frames in order as HxWx3 uint8 RGB arrays."""
        raise NotImplementedError


class VideoFileSource(FrameSource):
    """Frames of the first video stream of a file, decoded in order with PyAV."""

    def __init__(self, path: str):
        """Probes the file; raises VideoReadError naming it if it cannot be read."""
        self.path = path
        info = probe_video(path)
        with av.open(path) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        # The exact rational rate, so the output keeps e.g. 30000/1001 rather than 29.97.
        self.fps = Fraction(rate) if rate else Fraction(info.fps).limit_denominator(100_000)
        self.num_frames = info.num_frames
        self.frame_names = [f"{i:06d}" for i in range(self.num_frames)]

    def frames(self) -> Iterator[np.ndarray]:
        count = 0
        # One converter for all frames: ``frame.to_ndarray(format=...)`` would set up a new
        # colour converter for every frame, which costs more than decoding a small frame.
        to_rgb = VideoReformatter()
        try:
            with av.open(self.path) as container:
                stream = container.streams.video[0]
                # Frame-parallel decoding: the decoder's own threads run outside the GIL.
                stream.thread_type = "AUTO"
                for frame in container.decode(stream):
                    yield to_rgb.reformat(frame, format="rgb24").to_ndarray()
                    count += 1
        except av.error.FFmpegError as err:
            raise VideoReadError(
                self.path, f"decoding failed after {count} frames ({err})"
            ) from err
        if count == 0:
            raise VideoReadError(self.path, "no frame could be decoded")


class ImageSequenceSource(FrameSource):
    """Image files read in the given order, all of the same size, shown at ``fps``."""

    def __init__(self, paths: list[str], fps: float, description: str):
        """
        Args:
            paths: image files, in display order (at least one).
            fps: frame rate of the output video (> 0).
            description: the input as given (folder or glob), for messages.
        """
        if not fps > 0:
            raise ValueError(f"{description}: the frame rate must be > 0, got {fps}")
        self.path = description
        self.paths = list(paths)
        self.fps = Fraction(fps).limit_denominator(100_000)
        self.num_frames = len(self.paths)
        stems = [os.path.splitext(os.path.basename(p))[0] for p in self.paths]
        # Masks are named after their frames, unless two frames share a name (globs over folders).
        unique = len(set(stems)) == len(stems)
        self.frame_names = stems if unique else [f"{i:06d}" for i in range(self.num_frames)]

    def frames(self) -> Iterator[np.ndarray]:
        size = None
        for path in self.paths:
            frame = read_rgb_image(path)
            if size is None:
                size = frame.shape[:2]
            elif frame.shape[:2] != size:
                raise ValueError(
                    f"{path}: frame size {frame.shape[1]}x{frame.shape[0]} differs from the first "
                    f"frame's {size[1]}x{size[0]} ({self.paths[0]}); all frames of a sequence "
                    "must have one size"
                )
            yield frame


def read_rgb_image(path: str) -> np.ndarray:
    """Read an image file as an HxWx3 uint8 RGB array; ValueError naming the file if unreadable."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError) as err:
        raise ValueError(f"{path}: cannot read the image ({err})") from err


def _is_image(path: str) -> bool:
    return os.path.isfile(path) and path.lower().endswith(IMAGE_EXTENSIONS)


def open_frame_source(spec: str, fps: float | None = None) -> FrameSource:
    """Open a video file, a folder of frames (sorted by name), a glob of images or one image.

    Args:
        spec: the input path or glob pattern (quote it in the shell).
        fps: frame rate for image inputs (default ``DEFAULT_IMAGE_FPS``); a video keeps its own
            rate, so giving ``fps`` for a video is an error.
    Returns:
        a FrameSource.
    Raises:
        FileNotFoundError naming the folder or pattern that holds no image;
        VideoReadError naming the file for a missing or unreadable video;
        ValueError for ``fps`` given with a video.
    """
    spec = os.fspath(spec)
    image_fps = DEFAULT_IMAGE_FPS if fps is None else fps
    expected = ", ".join(IMAGE_EXTENSIONS)
    if os.path.isdir(spec):
        paths = sorted(os.path.join(spec, n) for n in os.listdir(spec))
        paths = [p for p in paths if _is_image(p)]
        if not paths:
            raise FileNotFoundError(f"Frame folder {spec} holds no image file ({expected})")
        return ImageSequenceSource(paths, image_fps, spec)
    if not os.path.exists(spec) and _GLOB_CHARACTERS & set(spec):
        paths = [p for p in sorted(glob.glob(spec)) if _is_image(p)]
        if not paths:
            raise FileNotFoundError(f"No image file ({expected}) matches the pattern {spec}")
        return ImageSequenceSource(paths, image_fps, spec)
    if _is_image(spec):
        return ImageSequenceSource([spec], image_fps, spec)
    if fps is not None:
        raise ValueError(
            f"{spec}: --fps applies to frame folders and image globs; a video keeps its own rate"
        )
    return VideoFileSource(spec)
