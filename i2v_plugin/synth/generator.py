"""Generator of the synthetic image-to-video benchmark (``datasets/prepare_synthetic.py``).

Labeled *images* (sharp, well lit, large centred objects) and *videos* of the same ten shape
classes (smaller moving objects, motion blur, low light, colour cast, sensor noise, low
resolution, camera shake, H.264 artefacts). Layout under ``root``::

    params.json, classes.json
    images/{train,val}/000000.jpg                 RGB JPEG, quality 95
    images/stuffthingmaps/{train,val}/000000.png  mode "L", value = class index
    videos/JPEGImages/480p/<seq>/00000.jpg        frames decoded back from the mp4
    videos/Annotations/480p/<seq>/00000.png       mode "P" (palette), value = class index
    videos/ImageSets/{train,val}.txt              sequence names, one a line
    videos/mp4/<seq>.mp4                          H.264, yuv420p, at params.fps

Each sample has its own random generator seeded by (seed, split code, index), so the same
params give byte-identical files whatever the number of workers. A run writes into a temporary
sibling folder and renames it into place at the end; ``params.json`` is the cache key.
"""

import dataclasses
import json
import multiprocessing
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..data.video import read_frames, write_video
from ..utils.palette import hsv_palette
from .artifacts import (
    average_exposure,
    camera_shake,
    colour_cast,
    low_light,
    low_resolution,
    sample_channel_gains,
    sensor_noise,
    shake_margin,
    to_uint8,
)
from .classes import SYNTH_CLASSES
from .scenes import (
    NUM_SHAPE_CLASSES,
    render_scene,
    sample_image_scene,
    sample_video_scene,
)
from .textures import Appearance

# Bump whenever a change to the generator changes its output: it invalidates cached datasets.
GENERATOR_VERSION = 3

JPEG_QUALITY = 95
DEFAULT_WORKERS = 2
# "tune": a labeled split for choosing hyper-parameters, so that val is only ever reported.
SPLITS = ("train", "val", "tune")
# Seeds (seed, code, index) keep the six sample streams independent (tune draws from its own).
_SPLIT_CODES = {
    ("image", "train"): 0,
    ("image", "val"): 1,
    ("video", "train"): 2,
    ("video", "val"): 3,
    ("image", "tune"): 4,
    ("video", "tune"): 5,
}
_IMAGES_PER_TASK = 25
# Entries a generated root holds; anything else means the folder is not ours to replace.
_OWN_ENTRIES = {"params.json", "classes.json", "images", "videos"}


@dataclass(frozen=True)
class SynthParams:
    """Every knob of the generator; all are stored in params.json (the cache key).

    Fractions of the side refer to the image side (image domain) or the frame side (video
    domain). "(min, max)" fields are ranges sampled uniformly per object or per video.

    The defaults are calibrated for the small CPU Swin of configs/synthetic (datasets/README.md,
    measured figures in docs/RESULTS.md): one object per scene, 64 px, objects brighter than the
    background, so the image task is learnable in minutes; the video domain keeps every
    degradation, smaller objects and any orientation, which opens the domain gap.
    """

    # Master random seed.
    seed: int = 0
    # Side of the square images, pixels.
    image_size: int = 64
    # Side of the square video frames, pixels (even: H.264 yuv420p).
    video_size: int = 64
    # Number of labeled images per split.
    num_train_images: int = 4000
    num_val_images: int = 200
    num_tune_images: int = 200
    # Number of videos per split.
    num_train_videos: int = 200
    num_val_videos: int = 20
    num_tune_videos: int = 20
    # Frames per video.
    frames_per_video: int = 24
    # Video frame rate, frames per second (written into the mp4).
    fps: float = 24.0
    # (min, max) number of class objects per image or video.
    objects_per_scene: tuple[int, int] = (1, 1)
    # Up to this many small non-class blobs are painted into each background.
    max_distractors: int = 0
    # Contrast of object textures (stripes, checker, dots, gradient) in [0, 1]: the second
    # texture colour is pulled towards the first (0 = every object looks solid).
    texture_contrast: float = 0.3
    # (min, max) HSV value (brightness) of object colours and of background colours, shared by
    # both domains. Darker backgrounds separate figure from ground in the bright images; the
    # video domain's low light and noise then erode that contrast.
    object_value: tuple[float, float] = (0.6, 1.0)
    background_value: tuple[float, float] = (0.1, 0.45)

    # --- image domain ---
    # (min, max) object diameter, fraction of the image side.
    image_object_size: tuple[float, float] = (0.5, 0.8)
    # Object centres lie within +-this of the image centre, fraction of the side.
    image_centre_jitter: float = 0.12
    # Objects are rotated by at most +-this from upright, degrees (180 = any orientation).
    image_max_rotation: float = 15.0

    # --- video domain: content and motion ---
    # (min, max) object diameter at the first frame, fraction of the frame side.
    video_object_size: tuple[float, float] = (0.35, 0.6)
    # Object centres stay within [margin, 1 - margin] of the frame, fraction of the side (a
    # small margin lets objects stick out of the frame).
    video_centre_margin: float = 0.2
    # (min, max) object speed, fraction of the frame side per frame.
    video_speed: tuple[float, float] = (0.005, 0.025)
    # Object size changes by a factor in exp(+-this) over a video (0 = constant size).
    video_scale_change: float = 0.3
    # Object rotation speed is uniform in +-this, degrees per frame.
    video_rotation_speed: float = 3.0

    # --- video domain: degradations (each off at the value given in brackets) ---
    # Motion blur: shutter-open time in frame intervals [0]; >1 exaggerates the blur.
    motion_blur_exposure: float = 1.0
    # Renders averaged over the exposure (>= 1); more = smoother blur, slower generation.
    motion_blur_substeps: int = 5
    # (min, max) low-light brightness gain per video [(1, 1)].
    low_light_gain: tuple[float, float] = (0.45, 0.8)
    # (min, max) low-light gamma per video, >1 darkens mid-tones [(1, 1)].
    low_light_gamma: tuple[float, float] = (1.1, 1.6)
    # Colour cast: each channel gain is uniform in 1 +- this, per video [0].
    colour_cast: float = 0.15
    # Sensor read-noise standard deviation, fraction of the full range [0].
    noise_read_sigma: float = 0.02
    # Sensor shot-noise standard deviation on a white pixel, fraction of the range [0].
    noise_shot_sigma: float = 0.05
    # Low resolution: downsample by this factor and upsample back [1].
    downsample_factor: float = 2.0
    # Camera shake: per-frame jitter standard deviation, fraction of the frame side [0].
    camera_shake: float = 0.012
    # H.264 constant rate factor, 0..51: higher = stronger compression artefacts [~18].
    crf: int = 32

    def __post_init__(self):
        for name in ("seed", "max_distractors"):
            _require(getattr(self, name) >= 0, name, "must be >= 0")
        for name in (f"num_{s}_{kind}" for s in SPLITS for kind in ("images", "videos")):
            _require(getattr(self, name) >= 0, name, "must be >= 0")
        _require(self.image_size >= 8, "image_size", "must be >= 8 pixels")
        _require(
            self.video_size >= 8 and self.video_size % 2 == 0,
            "video_size",
            "must be an even number >= 8 (H.264 yuv420p needs even sides)",
        )
        _require(self.frames_per_video >= 1, "frames_per_video", "must be >= 1")
        _require(self.fps > 0, "fps", "must be > 0")
        _require_range(self, "objects_per_scene", 1, None)
        _require_range(self, "image_object_size", 0.0, 2.0)
        _require_range(self, "video_object_size", 0.0, 2.0)
        _require_range(self, "video_speed", 0.0, None)
        _require_range(self, "object_value", 0.0, 1.0)
        _require_range(self, "background_value", 0.0, 1.0)
        _require_range(self, "low_light_gain", 0.0, None)
        _require_range(self, "low_light_gamma", 0.0, None)
        _require(0 <= self.image_centre_jitter <= 0.5, "image_centre_jitter", "must be in [0, 0.5]")
        _require(0 <= self.video_centre_margin < 0.5, "video_centre_margin", "must be in [0, 0.5)")
        for name in ("video_scale_change", "video_rotation_speed", "motion_blur_exposure"):
            _require(getattr(self, name) >= 0, name, "must be >= 0")
        for name in ("colour_cast", "noise_read_sigma", "noise_shot_sigma", "camera_shake"):
            _require(getattr(self, name) >= 0, name, "must be >= 0")
        _require(0 <= self.image_max_rotation <= 180, "image_max_rotation", "must be in [0, 180]")
        _require(0 <= self.texture_contrast <= 1, "texture_contrast", "must be in [0, 1]")
        _require(self.colour_cast < 1, "colour_cast", "must be < 1 (a channel gain would be <= 0)")
        _require(self.motion_blur_substeps >= 1, "motion_blur_substeps", "must be >= 1")
        _require(self.downsample_factor >= 1, "downsample_factor", "must be >= 1")
        _require(0 <= self.crf <= 51, "crf", "must be in 0..51")


def _require(condition: bool, field: str, expectation: str) -> None:
    if not condition:
        raise ValueError(f"SynthParams.{field} {expectation}")


def _require_range(params: SynthParams, field: str, low: float, high: float | None) -> None:
    value = getattr(params, field)
    ok = isinstance(value, tuple) and len(value) == 2 and low <= value[0] <= value[1]
    ok = ok and (high is None or value[1] <= high)
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
    _require(ok, field, f"must be a (min, max) tuple with min <= max, both {bounds}; got {value!r}")


# ---------------------------------------------------------------------------------- overrides


def _convert(text: str, example, field: str):
    """Parse ``text`` as the type of ``example`` (a field's default value)."""
    if isinstance(example, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{field}: expected true or false, got {text!r}")
    if isinstance(example, tuple):
        parts = [p for p in text.replace("(", "").replace(")", "").split(",") if p.strip()]
        if len(parts) != len(example):
            raise ValueError(
                f"{field}: expected {len(example)} comma-separated values like "
                f"{','.join(str(x) for x in example)}, got {text!r}"
            )
        return tuple(_convert(p.strip(), e, field) for p, e in zip(parts, example, strict=True))
    try:
        return type(example)(text)
    except ValueError:
        raise ValueError(
            f"{field}: expected a value of type {type(example).__name__}, got {text!r}"
        ) from None


def params_with_overrides(params: SynthParams, assignments: list[str]) -> SynthParams:
    """Apply ``FIELD=VALUE`` strings to ``params``, converting each value to the field's type.

    Tuples are written comma-separated (``video_speed=0.01,0.03``); booleans as true/false.

    Args:
        params: the starting parameters.
        assignments: strings "FIELD=VALUE".
    Returns:
        a new, validated SynthParams.
    Raises:
        ValueError naming the assignment for a missing "=", an unknown field (listing the valid
        ones), a value of the wrong type, or a value SynthParams rejects.
    """
    valid = [f.name for f in dataclasses.fields(SynthParams)]
    changes = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"Override {assignment!r} must have the form FIELD=VALUE")
        if name not in valid:
            raise ValueError(
                f"Unknown SynthParams field {name!r} in {assignment!r}; valid fields: "
                + ", ".join(valid)
            )
        changes[name] = _convert(text.strip(), getattr(params, name), name)
    return dataclasses.replace(params, **changes)


# ------------------------------------------------------------------------------------ writing


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


def _sample_rng(params: SynthParams, domain: str, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([params.seed, _SPLIT_CODES[(domain, split)], index])


def _top_class(index: int) -> int:
    # Cycling the topmost (always visible) object's class balances classes in every split.
    return 1 + index % NUM_SHAPE_CLASSES


def _appearance(params: SynthParams) -> Appearance:
    return Appearance(
        texture_contrast=params.texture_contrast,
        object_value=params.object_value,
        background_value=params.background_value,
    )


def make_image_sample(params: SynthParams, split: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Render image ``index`` of ``split``.

    Returns:
        rgb: (image_size, image_size, 3) uint8; label: (image_size, image_size) uint8 in 0..10.
    """
    rng = _sample_rng(params, "image", split, index)
    scene = sample_image_scene(
        rng,
        image_size=params.image_size,
        top_class=_top_class(index),
        objects_per_scene=params.objects_per_scene,
        object_size=params.image_object_size,
        centre_jitter=params.image_centre_jitter,
        max_rotation_deg=params.image_max_rotation,
        max_distractors=params.max_distractors,
        appearance=_appearance(params),
    )
    rgb, label = render_scene(scene, time=0.0)
    return to_uint8(rgb), label


def make_video_sample(
    params: SynthParams, split: str, index: int
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Render video ``index`` of ``split`` before encoding.

    Pipeline per frame: motion-blurred render through the shaken camera window, then low
    resolution, low light, colour cast and sensor noise (the H.264 encode comes after).

    Returns:
        frames: list of frames_per_video (video_size, video_size, 3) uint8 arrays;
        labels: list of (video_size, video_size) uint8 maps of the mid-exposure scene.
    """
    scene_rng, artefact_rng = _sample_rng(params, "video", split, index).spawn(2)
    size = params.video_size
    shake_px = params.camera_shake * size
    border = shake_margin(shake_px)
    scene = sample_video_scene(
        scene_rng,
        frame_size=size,
        border=border,
        num_frames=params.frames_per_video,
        top_class=_top_class(index),
        objects_per_scene=params.objects_per_scene,
        object_size=params.video_object_size,
        centre_margin=params.video_centre_margin,
        speed=params.video_speed,
        scale_change=params.video_scale_change,
        rotation_speed_deg=params.video_rotation_speed,
        max_distractors=params.max_distractors,
        appearance=_appearance(params),
    )
    gain = artefact_rng.uniform(*params.low_light_gain)
    gamma = artefact_rng.uniform(*params.low_light_gamma)
    channel_gains = sample_channel_gains(artefact_rng, params.colour_cast)
    offsets = camera_shake(artefact_rng, params.frames_per_video, shake_px) + border

    frames, labels = [], []
    for t, (ox, oy) in enumerate(offsets.tolist()):
        window = {"origin": (ox, oy), "size": (size, size)}
        rgb = average_exposure(
            lambda time, w=window: render_scene(scene, time, **w)[0],
            float(t),
            params.motion_blur_exposure,
            params.motion_blur_substeps,
        )
        labels.append(render_scene(scene, float(t), **window)[1])
        rgb = low_resolution(rgb, params.downsample_factor)
        rgb = colour_cast(low_light(rgb, gain, gamma), channel_gains)
        rgb = sensor_noise(rgb, artefact_rng, params.noise_read_sigma, params.noise_shot_sigma)
        frames.append(to_uint8(rgb))
    return frames, labels


def _write_images(out: Path, params: SynthParams, split: str, indices: range) -> int:
    for index in indices:
        rgb, label = make_image_sample(params, split, index)
        _save_jpeg(rgb, out / "images" / split / f"{index:06d}.jpg")
        Image.fromarray(label).save(out / "images" / "stuffthingmaps" / split / f"{index:06d}.png")
    return len(indices)


def sequence_name(split: str, index: int) -> str:
    """Name of video ``index`` of ``split``, e.g. ``train_0003``."""
    return f"{split}_{index:04d}"


def _write_video(out: Path, params: SynthParams, split: str, index: int) -> int:
    seq = sequence_name(split, index)
    frames, labels = make_video_sample(params, split, index)
    mp4 = out / "videos" / "mp4" / f"{seq}.mp4"
    write_video(mp4, frames, params.fps, codec="libx264", crf=params.crf)
    decoded = read_frames(mp4, range(len(frames)))
    frame_dir = out / "videos" / "JPEGImages" / "480p" / seq
    label_dir = out / "videos" / "Annotations" / "480p" / seq
    frame_dir.mkdir(parents=True)
    label_dir.mkdir(parents=True)
    for t, (frame, label) in enumerate(zip(decoded, labels, strict=True)):
        _save_jpeg(frame, frame_dir / f"{t:05d}.jpg")
        _save_palette_png(label, label_dir / f"{t:05d}.png")
    return 1


def _run_task(task) -> tuple[str, int]:
    """One unit of pool work: ("images", split, start, stop) or ("video", split, index)."""
    out, params, kind, split, *where = task
    if kind == "images":
        return kind, _write_images(out, params, split, range(*where))
    return kind, _write_video(out, params, split, where[0])


def _tasks(out: Path, params: SynthParams) -> list[tuple]:
    # Videos first: they are the long tasks, so starting them early balances the workers.
    tasks = []
    for split in SPLITS:
        for index in range(getattr(params, f"num_{split}_videos")):
            tasks.append((out, params, "video", split, index))
    for split in SPLITS:
        count = getattr(params, f"num_{split}_images")
        for start in range(0, count, _IMAGES_PER_TASK):
            tasks.append(
                (out, params, "images", split, start, min(start + _IMAGES_PER_TASK, count))
            )
    return tasks


def _make_layout(out: Path, params: SynthParams) -> None:
    for split in SPLITS:
        (out / "images" / split).mkdir(parents=True)
        (out / "images" / "stuffthingmaps" / split).mkdir(parents=True)
    for folder in ("JPEGImages/480p", "Annotations/480p", "ImageSets", "mp4"):
        (out / "videos" / folder).mkdir(parents=True)
    for split in SPLITS:
        names = [sequence_name(split, i) for i in range(getattr(params, f"num_{split}_videos"))]
        (out / "videos" / "ImageSets" / f"{split}.txt").write_text("".join(n + "\n" for n in names))
    _write_json(out / "classes.json", {"classes": list(SYNTH_CLASSES)})


def _run_tasks(tasks: list[tuple], workers: int, progress: bool) -> None:
    total = sum(t[5] - t[4] if t[2] == "images" else 1 for t in tasks)
    with tqdm(total=total, desc="i2v_synth", unit="sample", disable=not progress) as bar:
        if workers <= 1:
            for task in tasks:
                bar.update(_run_task(task)[1])
            return
        # fork avoids re-importing the package (and torch) in every worker where it exists.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        with context.Pool(workers) as pool:
            for _, done in pool.imap_unordered(_run_task, tasks):
                bar.update(done)


# ------------------------------------------------------------------------------ cache + entry


def _write_json(path: Path, content: dict) -> None:
    path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")


def _cache_key(params: SynthParams) -> dict:
    key = {"generator_version": GENERATOR_VERSION, "params": dataclasses.asdict(params)}
    return json.loads(json.dumps(key))  # tuples -> lists, as they read back from the file


def is_up_to_date(root, params: SynthParams) -> bool:
    """Whether ``root`` holds a finished dataset generated with exactly ``params``.

    Args:
        root: dataset folder.
        params: the wanted parameters.
    Returns:
        True if root/params.json exists and matches params and GENERATOR_VERSION.
    """
    try:
        stored = json.loads((Path(root) / "params.json").read_text())
    except (OSError, ValueError):
        return False
    return stored == _cache_key(params)


def _check_replaceable(root: Path) -> None:
    if not root.exists():
        return
    if not root.is_dir():
        raise FileExistsError(f"Dataset root {root} exists and is not a folder")
    foreign = sorted(set(os.listdir(root)) - _OWN_ENTRIES)
    if foreign:
        raise FileExistsError(
            f"Dataset root {root} holds entries the generator did not write "
            f"({', '.join(foreign[:5])}); refusing to replace it. Remove it or choose another root."
        )


def _remove_leftovers(root: Path) -> None:
    """Delete staging folders of interrupted runs (``.<name>.partial-*``, ``.<name>.old-*``)."""
    for pattern in (f".{root.name}.partial-*", f".{root.name}.old-*"):
        for leftover in root.parent.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def generate_synthetic(
    root,
    params: SynthParams | None = None,
    force: bool = False,
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Generate the benchmark under ``root`` unless an identical finished one is already there.

    The dataset is written into a temporary sibling folder (``.<name>.partial-*``) whose
    params.json is written last, and renamed to ``root`` at the end, replacing an outdated
    dataset; an interrupted run therefore never looks finished, and its leftovers are deleted by
    the next run. Do not run two generators on the same root at once.

    Args:
        root: dataset folder (created, or replaced when outdated).
        params: generator parameters; None = SynthParams() defaults.
        force: regenerate even if root is up to date.
        workers: worker processes (None = DEFAULT_WORKERS; <= 1 = in this process). The output
            does not depend on it.
        progress: show a tqdm progress bar.
    Returns:
        Path of root.
    Raises:
        FileExistsError if root exists but holds files the generator did not write.
    """
    root = Path(root)
    params = params if params is not None else SynthParams()
    if not force and is_up_to_date(root, params):
        return root
    _check_replaceable(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(root)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.partial-", dir=root.parent))
    try:
        _make_layout(staging, params)
        tasks = _tasks(staging, params)
        workers = DEFAULT_WORKERS if workers is None else workers
        _run_tasks(tasks, min(workers, len(tasks)), progress)
        _write_json(staging / "params.json", _cache_key(params))
        if root.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{root.name}.old-", dir=root.parent))
            os.replace(root, retired / root.name)
            os.replace(staging, root)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, root)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return root
