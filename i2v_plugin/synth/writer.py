"""File writers of the synthetic benchmark: images with label maps, and video sequences (mp4 plus
DAVIS-style frame and annotation folders).
"""

from pathlib import Path

import numpy as np
from PIL import Image

from ..data.video import read_frames, write_video
from ..utils.palette import hsv_palette
from .params import SynthParams
from .samples import _make_video_sample_v3, make_image_sample
from .scenes import NUM_SHAPE_CLASSES
from .splits import VIDEO_SPLITS, public_strengths
from .video_v4 import render_video

JPEG_QUALITY = 95

# Palette of the annotation PNGs: black background, one evenly spaced hue per class, white 255.
_PALETTE = hsv_palette(
    {c: ((c - 1) / NUM_SHAPE_CLASSES, 0.85, 1.0) for c in range(1, NUM_SHAPE_CLASSES + 1)}
).tobytes()


def _save_jpeg(rgb: np.ndarray, path: Path) -> None:
    Image.fromarray(rgb).save(path, quality=JPEG_QUALITY)


def _save_palette_png(label: np.ndarray, path: Path) -> None:
    image = Image.fromarray(label)  # mode "L"; putpalette turns it into "P", values kept
    image.putpalette(_PALETTE)
    image.save(path)


def sequence_name(split: str, index: int) -> str:
    """Name of video ``index`` of ``split``, e.g. ``train_0003``, ``sealed_val_0012``."""
    return f"{split}_{index:04d}"


def write_images(out: Path, params: SynthParams, split: str, indices: range) -> int:
    """Write images ``indices`` of ``split`` (JPEG q95) and their "L" label PNGs under ``out``.

    Returns:
        the number of images written.
    """
    for index in indices:
        rgb, label = make_image_sample(params, split, index)
        _save_jpeg(rgb, out / "images" / split / f"{index:06d}.jpg")
        Image.fromarray(label).save(out / "images" / "stuffthingmaps" / split / f"{index:06d}.png")
    return len(indices)


def _write_frames(out: Path, seq: str, frames, labels) -> None:
    frame_dir = out / "videos" / "JPEGImages" / "480p" / seq
    label_dir = out / "videos" / "Annotations" / "480p" / seq
    frame_dir.mkdir(parents=True)
    label_dir.mkdir(parents=True)
    for t, (frame, label) in enumerate(zip(frames, labels, strict=True)):
        _save_jpeg(frame, frame_dir / f"{t:05d}.jpg")
        _save_palette_png(label, label_dir / f"{t:05d}.png")


def write_video_v3(out: Path, params: SynthParams, split: str, index: int) -> tuple[str, ...]:
    """Write version 3's video ``index`` of ``split``: the H.264 mp4, then the frames decoded
    back from it (JPEG) and the palette label PNGs.

    Returns:
        the video's sealed families: always empty.
    """
    seq = sequence_name(split, index)
    frames, labels = _make_video_sample_v3(params, split, index)
    mp4 = out / "videos" / "mp4" / f"{seq}.mp4"
    write_video(mp4, frames, params.fps, codec="libx264", crf=params.crf)
    decoded = read_frames(mp4, range(len(frames)))
    _write_frames(out, seq, decoded, labels)
    return ()


def write_video_v4(out: Path, params: SynthParams, split: str, index: int) -> tuple[str, ...]:
    """Write version 4's video ``index`` of ``split``: like version 3, except that a split
    without public artefacts (geometry_val) gets no mp4 and its rendered frames go straight to
    JPEG q95, like the images.

    Returns:
        the names of the video's sealed families.
    """
    spec = VIDEO_SPLITS[split]
    seq = sequence_name(split, index)
    frames, labels, plan = render_video(params, spec, index)
    crf = public_strengths(params, spec.artefacts).crf
    if crf is not None:
        mp4 = out / "videos" / "mp4" / f"{seq}.mp4"
        write_video(mp4, frames, params.fps, codec="libx264", crf=crf)
        frames = read_frames(mp4, range(len(frames)))
    _write_frames(out, seq, frames, labels)
    return plan.active
