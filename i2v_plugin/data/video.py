"""Basic video I/O with PyAV: write RGB frames to a file, probe its metadata, decode chosen frames.

Frames are always HxWx3 uint8 RGB numpy arrays. Frame ``i`` of a stream is the one whose
presentation time is ``i / fps`` after the stream start; ``read_frames`` seeks to the keyframe
before the first wanted frame and checks every decoded frame's timestamp, so it never returns a
neighbouring frame by mistake.
"""

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from ..utils.atomic import atomic_path

# Encoder chosen from the file extension when ``write_video(codec=None)``.
CODEC_BY_EXTENSION = {
    ".mp4": "libx264",
    ".mov": "libx264",
    ".mkv": "libx264",
    ".webm": "libvpx-vp9",
    ".avi": "mpeg4",
}

# Container format by extension; given explicitly because the file is first written under a
# temporary name.
_FORMAT_BY_EXTENSION = {
    ".mp4": "mp4",
    ".mov": "mov",
    ".mkv": "matroska",
    ".webm": "webm",
    ".avi": "avi",
}


class VideoReadError(RuntimeError):
    """A video that is missing, empty, unreadable, or lacks a requested frame.

    Attributes:
        path: the video file (str).
        reason: what went wrong, in words.
    """

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"Cannot read video {self.path}: {reason}")


@dataclass(frozen=True)
class VideoInfo:
    """Metadata of the first video stream of a file.

    Attributes:
        path: the video file.
        num_frames: number of frames in the stream.
        fps: average frame rate (frames per second).
        width, height: frame size in pixels.
        duration_s: stream duration in seconds.
    """

    path: str
    num_frames: int
    fps: float
    width: int
    height: int
    duration_s: float


def _quality_options(codec: str, crf: int) -> dict[str, str]:
    """Encoder options giving constant quality ``crf`` (0..51 scale, higher = worse)."""
    if codec in ("libx264", "libx265"):
        return {"crf": str(crf)}
    if codec in ("libvpx-vp9", "libvpx"):
        # b=0 makes libvpx use pure constant quality instead of a bitrate-capped one.
        return {"crf": str(crf), "b": "0"}
    # mpeg4 and similar have no crf: map 0..51 onto a fixed quantiser in 2..31.
    quantiser = int(np.clip(round(2 + crf * 29 / 51), 2, 31))
    return {"qmin": str(quantiser), "qmax": str(quantiser)}


def _check_frame(frame, index: int, path: str, size: tuple[int, int] | None) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(
            f"write_video({path}): frame {index} must be an HxWx3 uint8 RGB array, "
            f"got shape {frame.shape} dtype {frame.dtype}"
        )
    if size is not None and frame.shape[:2] != size:
        raise ValueError(
            f"write_video({path}): frame {index} has size {frame.shape[:2]}, "
            f"but the first frame had {size}; all frames must have the same size"
        )
    return frame


def write_video(
    path,
    frames: Iterable[np.ndarray],
    fps: float,
    codec: str | None = None,
    crf: int = 23,
    pix_fmt: str = "yuv420p",
    deterministic: bool = True,
) -> None:
    """Encode RGB frames into a video file, atomically and deterministically.

    The file is written under a temporary name in the same folder and renamed into place, so a
    reader never sees a half-written video. The encoder runs single-threaded with bit-exact
    flags, so the same frames give the same bytes (see ``deterministic``).

    Args:
        path: output file; the extension picks the container (.mp4, .mov, .mkv, .webm, .avi).
        frames: iterable of HxWx3 uint8 RGB arrays, all the same size (at least one).
        fps: frame rate (frames per second), > 0.
        codec: FFmpeg encoder name; None picks by extension (libx264 for .mp4/.mov/.mkv,
            libvpx-vp9 for .webm, mpeg4 for .avi).
        crf: constant-quality level, higher = smaller file and stronger artefacts. libx264 uses
            it as is (0..51), libvpx as its crf (0..63), mpeg4 as a quantiser mapped to 2..31.
        pix_fmt: encoder pixel format; yuv420p needs even width and height.
        deterministic: for libx264, use x264's plain C code (no SIMD). Some x264 SIMD routines
            read uninitialised memory on small frames, so even single-threaded encodes of the
            same frames can differ between runs; the C code is exact and CPU-independent but
            about 3-5x slower. Other encoders are deterministic single-threaded already.
    Raises:
        ValueError naming the file for an unknown extension, bad fps, no frames, or frames of the
        wrong shape/dtype/size.
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in _FORMAT_BY_EXTENSION:
        raise ValueError(
            f"write_video({path}): unsupported extension {extension!r}; "
            f"expected one of {sorted(_FORMAT_BY_EXTENSION)}"
        )
    if not fps > 0:
        raise ValueError(f"write_video({path}): fps must be > 0, got {fps}")
    codec = codec or CODEC_BY_EXTENSION[extension]
    rate = Fraction(fps).limit_denominator(100_000)

    options = {**_quality_options(codec, crf), "threads": "1", "flags": "+bitexact"}
    if deterministic and codec == "libx264":
        options["x264-params"] = "asm=0"
    with atomic_path(path) as tmp_path:
        _encode(
            tmp_path, _FORMAT_BY_EXTENSION[extension], frames, rate, codec, options, pix_fmt, path
        )


def _encode(tmp_path, container_format, frames, rate, codec, options, pix_fmt, path) -> None:
    # bitexact keeps version strings and random ids (Matroska) out of the file.
    with av.open(
        tmp_path, "w", format=container_format, container_options={"fflags": "+bitexact"}
    ) as container:
        stream = None
        size = None
        for index, frame in enumerate(frames):
            frame = _check_frame(frame, index, path, size)
            if stream is None:
                size = frame.shape[:2]
                if pix_fmt == "yuv420p" and (size[0] % 2 or size[1] % 2):
                    raise ValueError(
                        f"write_video({path}): {pix_fmt} needs even width and height, "
                        f"got {size[1]}x{size[0]}"
                    )
                stream = container.add_stream(codec, rate=rate)
                stream.height, stream.width = size
                stream.pix_fmt = pix_fmt
                stream.options = options
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = index
            for packet in stream.encode(video_frame):
                container.mux(packet)
        if stream is None:
            raise ValueError(f"write_video({path}): no frames given")
        for packet in stream.encode(None):
            container.mux(packet)


def _open(path: str):
    """Open ``path`` for reading; VideoReadError if missing, empty, unreadable or without video."""
    if not os.path.isfile(path):
        raise VideoReadError(path, "file does not exist")
    if os.path.getsize(path) == 0:
        raise VideoReadError(path, "file is empty (0 bytes)")
    try:
        container = av.open(path)
    except av.error.FFmpegError as err:
        raise VideoReadError(path, f"not a readable video container ({err})") from err
    if not container.streams.video:
        container.close()
        raise VideoReadError(path, "the file has no video stream")
    return container


def _frame_rate(stream) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return Fraction(rate) if rate else Fraction(0)


def probe_video(path) -> VideoInfo:
    """Read a video's metadata without decoding it.

    The frame count comes from the container (``stream.frames``); where the container does not
    store it (e.g. WebM) the stream's packets are counted by demuxing, still without decoding.

    Args:
        path: the video file.
    Returns:
        VideoInfo of the first video stream.
    Raises:
        VideoReadError naming the file if it is missing, empty, unreadable, has no video
        stream, no frame rate or no frames.
    """
    path = os.fspath(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        fps = _frame_rate(stream)
        if fps <= 0:
            raise VideoReadError(path, "the video stream has no frame rate")
        num_frames = stream.frames
        if num_frames <= 0:
            num_frames = sum(1 for packet in container.demux(stream) if packet.size > 0)
        if num_frames <= 0:
            raise VideoReadError(path, "the video stream has no frames")
        if stream.duration:
            duration_s = float(stream.duration * stream.time_base)
        else:
            duration_s = float(num_frames / fps)
        return VideoInfo(
            path=path,
            num_frames=int(num_frames),
            fps=float(fps),
            width=int(stream.codec_context.width),
            height=int(stream.codec_context.height),
            duration_s=duration_s,
        )
    except av.error.FFmpegError as err:
        raise VideoReadError(path, f"demuxing failed ({err})") from err
    finally:
        container.close()


class _FrameClock:
    """Converts between frame indices and timestamps (pts) of one stream."""

    def __init__(self, stream, fps: Fraction):
        self.time_base = Fraction(stream.time_base)
        self.fps = fps
        self.start = stream.start_time or 0

    def pts_of(self, index: int) -> int:
        # Rounded down so that a seek target never lies after the frame's real timestamp.
        return self.start + int(Fraction(index) / (self.fps * self.time_base))

    def index_of(self, pts: int) -> int:
        return round((pts - self.start) * self.time_base * self.fps)


def _decode_from(container, stream, clock, seek_index: int, wanted: set[int], path: str):
    """Decode from the keyframe before ``seek_index`` until every wanted index is found.

    Returns (frames by index, index of the first decoded frame or None).
    """
    container.seek(clock.pts_of(seek_index), stream=stream, backward=True, any_frame=False)
    found: dict[int, np.ndarray] = {}
    first_index = None
    last_wanted = max(wanted)
    for frame in container.decode(stream):
        if frame.pts is None:
            raise VideoReadError(path, "decoded frame without a timestamp; cannot index frames")
        index = clock.index_of(frame.pts)
        if first_index is None:
            first_index = index
            if index > seek_index:
                break  # the seek overshot; the caller decodes from the start instead
        if index in wanted:
            found[index] = frame.to_ndarray(format="rgb24")
        if index >= last_wanted:
            break
    return found, first_index


def read_frames(path, indices: Sequence[int]) -> list[np.ndarray]:
    """Decode the frames with the given 0-based indices.

    Seeks to the keyframe at or before the smallest index and decodes forward from there (not
    from the start of the file); each decoded frame's timestamp is mapped back to its index.

    Args:
        path: the video file.
        indices: frame indices in [0, num_frames), in any order, repeats allowed.
    Returns:
        one HxWx3 uint8 RGB array per entry of ``indices``, in the same order (a repeated index
        gives the same array object twice).
    Raises:
        VideoReadError naming the file if it cannot be opened, an index is out of range, or a
        frame cannot be decoded. TypeError if an index is not an integer.
    """
    path = os.fspath(path)
    indices = list(indices)
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"read_frames({path}): frame indices must be integers, got {index!r}")
    if not indices:
        return []
    num_frames = probe_video(path).num_frames
    bad = [int(i) for i in indices if not 0 <= i < num_frames]
    if bad:
        raise VideoReadError(
            path, f"frame index {bad[0]} out of range; the video has {num_frames} frames"
        )
    wanted = {int(i) for i in indices}
    container = _open(path)
    try:
        stream = container.streams.video[0]
        clock = _FrameClock(stream, _frame_rate(stream))
        first_wanted = min(wanted)
        found, first_index = _decode_from(container, stream, clock, first_wanted, wanted, path)
        if first_index is not None and first_index > first_wanted:
            found, _ = _decode_from(container, stream, clock, 0, wanted, path)
    except av.error.FFmpegError as err:
        raise VideoReadError(path, f"decoding failed ({err})") from err
    finally:
        container.close()
    missing = sorted(wanted - found.keys())
    if missing:
        raise VideoReadError(
            path, f"frame {missing[0]} could not be decoded (stream ended or is damaged)"
        )
    return [found[int(i)] for i in indices]
