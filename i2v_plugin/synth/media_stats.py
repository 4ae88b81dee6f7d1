"""Luminance, contrast and sharpness of images and video frames at a common resolution.

The three statistics of the benchmark's calibration (datasets/README.md), computed on the grey
level (ITU-R BT.601 luma, 0..255) after resizing the shorter side to ``size`` pixels (area
average; images already that small are left as they are):

* luminance: mean grey level;
* contrast: standard deviation of the grey level;
* sharpness: variance of the 4-neighbour Laplacian over the interior pixels.

Each is averaged over the images (or frames) of a set; a video set's figures divided by a photo
set's give the ratios the generator is calibrated on.

Usage::

    python -m i2v_plugin.synth.media_stats PATH [PATH ...] [--reference PATH] [--size 64]
    python -m i2v_plugin.synth.media_stats --synth-root $DETECTRON2_DATASETS/i2v_synth

A PATH is an image, a video file, or a folder (its images, recursively; or its videos).
"""

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi", ".mov")
DEFAULT_SIZE = 64
# Frames taken from a video, evenly spaced over its length.
DEFAULT_MAX_FRAMES = 48
_LUMA = np.array([0.299, 0.587, 0.114], np.float64)


@dataclass(frozen=True)
class MediaStats:
    """Mean statistics of a set of images.

    Attributes:
        luminance: mean grey level (0..255).
        contrast: mean per-image standard deviation of the grey level.
        sharpness: mean per-image variance of the Laplacian.
        count: number of images (frames) measured.
    """

    luminance: float
    contrast: float
    sharpness: float
    count: int

    def ratio_to(self, reference: "MediaStats") -> dict[str, float]:
        """This set's statistics divided by ``reference``'s (keys luminance, contrast,
        sharpness)."""
        return {
            "luminance": self.luminance / reference.luminance,
            "contrast": self.contrast / reference.contrast,
            "sharpness": self.sharpness / reference.sharpness,
        }


def grey_at(rgb: np.ndarray, size: int = DEFAULT_SIZE) -> np.ndarray:
    """Grey level of an image whose shorter side is resized to ``size`` (area average).

    Args:
        rgb: (H, W, 3) or (H, W) uint8.
        size: target shorter side; an image already at most that small is kept as it is.
    Returns:
        (h, w) float64 in 0..255.
    Raises:
        ValueError for another shape or dtype.
    """
    if rgb.dtype != np.uint8 or rgb.ndim not in (2, 3) or (rgb.ndim == 3 and rgb.shape[2] < 3):
        raise ValueError(
            f"grey_at: expected an (H, W) or (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}"
        )
    grey = rgb.astype(np.float64) if rgb.ndim == 2 else rgb[..., :3].astype(np.float64) @ _LUMA
    height, width = grey.shape
    shorter = min(height, width)
    if shorter <= size:
        return grey
    new = (max(1, round(width * size / shorter)), max(1, round(height * size / shorter)))
    image = Image.fromarray(grey.astype(np.float32), mode="F").resize(new, Image.BOX)
    return np.asarray(image, dtype=np.float64)


def laplacian_variance(grey: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of a grey image over its interior pixels."""
    lap = grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:] - 4 * grey[1:-1, 1:-1]
    return float(lap.var())


def measure_arrays(images, size: int = DEFAULT_SIZE) -> MediaStats:
    """Statistics of an iterable of uint8 images (see ``grey_at``).

    Raises:
        ValueError when ``images`` is empty.
    """
    lum, con, sharp = [], [], []
    for rgb in images:
        grey = grey_at(rgb, size)
        lum.append(grey.mean())
        con.append(grey.std())
        sharp.append(laplacian_variance(grey))
    if not lum:
        raise ValueError("measure_arrays: no image to measure")
    return MediaStats(float(np.mean(lum)), float(np.mean(con)), float(np.mean(sharp)), len(lum))


def read_image(path) -> np.ndarray:
    """An image file as uint8 RGB (grey and palette images converted).

    Raises:
        ValueError naming the file when PIL cannot read it.
    """
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except OSError as err:
        raise ValueError(f"{path}: not a readable image ({err})") from None


def video_frames(path, max_frames: int = DEFAULT_MAX_FRAMES) -> list[np.ndarray]:
    """Up to ``max_frames`` frames of a video, evenly spaced over all its decoded frames.

    Raises:
        ValueError naming the file when it cannot be decoded or holds no frame.
    """
    try:
        with av.open(os.fspath(path)) as container:
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except (av.error.FFmpegError, IndexError) as err:
        raise ValueError(f"{path}: not a decodable video ({err})") from None
    if not frames:
        raise ValueError(f"{path}: the video holds no frame")
    picks = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round())
    return [frames[int(i)] for i in picks]


def _media_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ValueError(f"{path}: no such file or folder")
    files = sorted(
        p for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS + VIDEO_EXTENSIONS
    )
    if not files:
        raise ValueError(
            f"{path}: no image ({', '.join(IMAGE_EXTENSIONS)}) or video "
            f"({', '.join(VIDEO_EXTENSIONS)}) inside"
        )
    return files


def iter_media(paths, max_frames: int = DEFAULT_MAX_FRAMES):
    """Yield the uint8 RGB images of ``paths`` (image files, video files, folders of either)."""
    for path in paths:
        for file in _media_files(Path(path)):
            if file.suffix.lower() in VIDEO_EXTENSIONS:
                yield from video_frames(file, max_frames)
            else:
                yield read_image(file)


def measure_paths(paths, size: int = DEFAULT_SIZE, max_frames: int = DEFAULT_MAX_FRAMES):
    """Statistics of every image and video frame under ``paths`` (one set)."""
    return measure_arrays(iter_media(paths, max_frames), size)


def synth_split_files(root, split: str) -> list[Path]:
    """The frame files of a generated video split, or the images of ``images_<split>``.

    Args:
        root: an i2v_synth folder.
        split: a video split (val, sealed_val, ...) or "images_val" / "images_tune" / ...
    Raises:
        ValueError naming the missing sequence list or folder.
    """
    root = Path(root)
    if split.startswith("images_"):
        folder = root / "images" / split[len("images_") :]
        if not folder.is_dir():
            raise ValueError(f"{folder}: image folder not found")
        return sorted(folder.glob("*.jpg"))
    listing = root / "videos" / "ImageSets" / f"{split}.txt"
    if not listing.is_file():
        raise ValueError(f"{listing}: sequence list not found")
    frames = root / "videos" / "JPEGImages" / "480p"
    return [f for seq in listing.read_text().split() for f in sorted((frames / seq).glob("*.jpg"))]


def synth_report(root, size: int = DEFAULT_SIZE) -> dict:
    """Statistics of every (non-empty) video split of a generated benchmark, and their ratios
    to images-val.

    Returns:
        {"images_val": stats dict, "<split>": {**stats, "ratio": {...}}, ...}
    """
    reference = measure_paths(synth_split_files(root, "images_val"), size)
    report = {"images_val": asdict(reference)}
    for listing in sorted((Path(root) / "videos" / "ImageSets").glob("*.txt")):
        files = synth_split_files(root, listing.stem)
        if not files:  # an empty split
            continue
        stats = measure_paths(files, size)
        report[listing.stem] = {**asdict(stats), "ratio": stats.ratio_to(reference)}
    return report


def _format(name: str, stats: MediaStats, reference: MediaStats | None) -> str:
    line = (
        f"{name}: n={stats.count} luminance={stats.luminance:.2f} "
        f"contrast={stats.contrast:.2f} sharpness={stats.sharpness:.1f}"
    )
    if reference is not None:
        ratio = stats.ratio_to(reference)
        line += " | ratio " + " ".join(f"{k}={v:.3f}" for k, v in ratio.items())
    return line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", help="images, videos or folders (one set each)")
    parser.add_argument("--reference", help="the photo set the ratios divide by")
    parser.add_argument("--synth-root", help="report every split of a generated i2v_synth")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="shorter side, pixels")
    parser.add_argument("--max-frames", type=int, default=DEFAULT_MAX_FRAMES)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if not args.paths and not args.synth_root:
        parser.error("give PATHs or --synth-root")
    try:
        if args.synth_root:
            report = synth_report(args.synth_root, args.size)
            print(json.dumps(report, indent=2, sort_keys=True))
            return 0
        reference = None
        if args.reference:
            reference = measure_paths([args.reference], args.size, args.max_frames)
        results = {p: measure_paths([p], args.size, args.max_frames) for p in args.paths}
    except ValueError as err:
        print(f"media_stats: {err}", file=sys.stderr)
        return 2
    if args.json:
        out = {
            p: {**asdict(s), **({"ratio": s.ratio_to(reference)} if reference else {})}
            for p, s in results.items()
        }
        print(json.dumps(out, indent=2, sort_keys=True))
        return 0
    if reference is not None:
        print(_format(f"reference {args.reference}", reference, None))
    for path, stats in results.items():
        print(_format(path, stats, reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
