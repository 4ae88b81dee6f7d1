"""The pretraining task: clean images of ten other shapes (``PRETRAIN_CLASSES``) with other
textures, the synthetic stand-in for the ADE20k weights the paper fine-tunes from.

Samples are rendered on the fly by ``render_pretrain_sample``, deterministically from (seed,
split, index). The registered splits ``i2v_synth_pretrain_train`` / ``_val`` read a small cached
folder that ``ensure_pretrain_dataset`` writes (atomically, with a progress bar, a few seconds
for the default 3000 + 300 images) in the layout of the benchmark's images, so the ordinary
mapper reads it::

    $DETECTRON2_DATASETS/i2v_synth_pretrain/
      params.json, classes.json
      images/{train,val}/000000.jpg                 RGB JPEG, quality 95
      images/stuffthingmaps/{train,val}/000000.png  mode "L", value = index in PRETRAIN_CLASSES

Usage: ``python -m i2v_plugin.synth.pretrain [--root DIR] [--force] [--workers N]`` (also run
by ``datasets/prepare_synthetic.py``).
"""

import argparse
import math
import multiprocessing
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from .artifacts import to_uint8
from .classes import PRETRAIN_CLASSES, PRETRAIN_SHAPE_NAMES
from .pretrain_shapes import rasterize_pretrain_shape
from .shapes import Pose, local_coordinates
from .staging import build_atomically, is_finished, write_json
from .textures import sample_colour, smooth_noise

# Bump when a change changes the rendered samples (part of the cache key).
PRETRAIN_VERSION = 5
PRETRAIN_TEXTURES = ("solid", "waves", "rings", "plaid", "radial")
_SPLIT_CODES = {"train": 100, "val": 101}
_CHUNK = 50
_OWN_ENTRIES = {"params.json", "classes.json", "images"}


@dataclass(frozen=True)
class PretrainSettings:
    """What the pretraining folder holds (its cache key).

    Attributes:
        seed: master seed.
        size: side of the square images, pixels.
        num_train, num_val: images per split.
        objects: (min, max) shapes per image.
        object_value, background_value: (min, max) HSV value of the shapes' texture colours and
            of the background's. Shapes brighter than the background (as in the benchmark's
            images) make the task learnable by the small networks within the pretraining
            budget: with one range (0.15, 1.0) for both and 1-3 shapes, the small Swin stayed
            at 10.5 mIoU (background only) after 4000 iterations, and with these ranges and 1-2
            shapes at 15-17 after 1500.
        texture_contrast: how far a texture's second colour lies from its first (0: solid).
        max_angle: shapes turn by at most this, radians (any orientation made the ten shapes too
            hard to tell apart within the budget: 24-36 mIoU after 3000-6000 iterations).
    """

    seed: int = 0
    size: int = 64
    num_train: int = 3000
    num_val: int = 300
    objects: tuple[int, int] = (1, 1)
    object_value: tuple[float, float] = (0.55, 1.0)
    background_value: tuple[float, float] = (0.05, 0.45)
    texture_contrast: float = 0.5
    max_angle: float = 0.5

    def __post_init__(self):
        if self.size < 8:
            raise ValueError(f"PretrainSettings.size must be >= 8 pixels, got {self.size}")
        if self.num_train < 0 or self.num_val < 0 or self.seed < 0:
            raise ValueError("PretrainSettings.seed, num_train and num_val must be >= 0")
        low, high = self.objects
        if not 1 <= low <= high:
            raise ValueError(
                f"PretrainSettings.objects must be (min, max), 1 <= min <= max: {self.objects}"
            )


def _texture(
    rng: np.random.Generator, u: np.ndarray, v: np.ndarray, value, contrast: float
) -> np.ndarray:
    """A pretraining texture at object coordinates (u, v): (N, 3) float32; the second colour is
    pulled towards the first by 1 - ``contrast``."""
    kind = PRETRAIN_TEXTURES[int(rng.integers(len(PRETRAIN_TEXTURES)))]
    a, b = sample_colour(rng, value), sample_colour(rng, value)
    b = a + contrast * (b - a)
    period, angle, phase = rng.uniform(0.15, 0.4), rng.uniform(0, math.pi), rng.uniform(0, 1)
    along = math.cos(angle) * u + math.sin(angle) * v
    across = -math.sin(angle) * u + math.cos(angle) * v
    if kind == "solid":
        weight = np.zeros_like(u)
    elif kind == "waves":
        weight = 0.5 + 0.5 * np.sin(2 * math.pi * (along / period + phase))
    elif kind == "rings":
        weight = 0.5 + 0.5 * np.sin(2 * math.pi * (np.hypot(u, v) / period + phase))
    elif kind == "plaid":
        weight = 0.25 * (
            2 + np.sin(2 * math.pi * along / period) + np.sin(2 * math.pi * across / period)
        )
    else:  # radial
        weight = np.clip(2 * np.hypot(u, v), 0, 1)
    weight = weight[..., None].astype(np.float32)
    return ((1 - weight) * a + weight * b).astype(np.float32)


def render_pretrain_sample(
    seed: int,
    index: int,
    size: int = 64,
    split: str = "train",
    objects=(1, 1),
    object_value=(0.55, 1.0),
    background_value=(0.05, 0.45),
    texture_contrast: float = 0.5,
    max_angle: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Render pretraining image ``index`` of ``split``.

    Args:
        seed: master seed.
        index: image index (>= 0); the topmost shape's class cycles over the ten classes.
        size: side of the square image, pixels.
        split: "train" or "val" (independent random streams).
        objects: (min, max) number of shapes.
        object_value, background_value: (min, max) HSV value of shape and background colours.
        texture_contrast: how far a texture's second colour lies from its first (0: solid).
        max_angle: shapes turn by at most this, radians.
    Returns:
        image: (size, size, 3) uint8 RGB; label: (size, size) uint8, 0 = background, else the
        class index in PRETRAIN_CLASSES of the topmost shape there.
    Raises:
        ValueError for an unknown split.
    """
    if split not in _SPLIT_CODES:
        raise ValueError(
            f"Unknown pretraining split {split!r}; expected one of {tuple(_SPLIT_CODES)}"
        )
    rng = np.random.default_rng([seed, _SPLIT_CODES[split], index])
    colours = sample_colour(rng, background_value), sample_colour(rng, background_value)
    blend = smooth_noise(rng, size, size, int(rng.integers(2, 7)))[..., None]
    rgb = ((1 - blend) * colours[0] + blend * colours[1]).astype(np.float32)
    label = np.zeros((size, size), np.uint8)
    count = int(rng.integers(objects[0], objects[1] + 1))
    num_shapes = len(PRETRAIN_SHAPE_NAMES)
    classes = [int(c) for c in rng.integers(1, num_shapes + 1, size=count - 1)]
    classes.append(1 + index % num_shapes)
    for class_id in classes:
        pose = Pose(
            cx=float(rng.uniform(0.25, 0.75) * size),
            cy=float(rng.uniform(0.25, 0.75) * size),
            size=float(rng.uniform(0.4, 0.8) * size),
            # Near upright, as the benchmark's images: a free rotation made the ten shapes
            # too hard for the small networks to tell apart within the pretraining budget.
            angle=float(rng.uniform(-max_angle, max_angle)),
        )
        mask = rasterize_pretrain_shape(PRETRAIN_SHAPE_NAMES[class_id - 1], pose, size, size)
        u, v = local_coordinates(pose, size, size)
        texture = _texture(rng, u[mask], v[mask], object_value, texture_contrast)
        rgb[mask] = texture
        label[mask] = class_id
    return to_uint8(np.clip(rgb, 0, 1)), label


def _write_chunk(task) -> int:
    out, settings, split, start, stop = task
    for index in range(start, stop):
        rgb, label = render_pretrain_sample(
            settings.seed,
            index,
            settings.size,
            split,
            settings.objects,
            settings.object_value,
            settings.background_value,
            settings.texture_contrast,
            settings.max_angle,
        )
        Image.fromarray(rgb).save(out / "images" / split / f"{index:06d}.jpg", quality=95)
        Image.fromarray(label).save(out / "images" / "stuffthingmaps" / split / f"{index:06d}.png")
    return stop - start


def _cache_key(settings: PretrainSettings) -> dict:
    return {"pretrain_version": PRETRAIN_VERSION, "settings": asdict(settings)}


def default_pretrain_root() -> Path:
    """$DETECTRON2_DATASETS/i2v_synth_pretrain (DETECTRON2_DATASETS defaults to ./datasets)."""
    return (
        Path(os.path.expanduser(os.getenv("DETECTRON2_DATASETS", "datasets")))
        / "i2v_synth_pretrain"
    )


def ensure_pretrain_dataset(
    root=None,
    settings: PretrainSettings | None = None,
    force: bool = False,
    workers: int = 2,
    progress: bool = True,
) -> Path:
    """Write the pretraining folder unless an identical finished one is there.

    Args:
        root: folder (None = ``default_pretrain_root()``, the one the registered splits read).
        settings: what to write (None = PretrainSettings() defaults).
        force: rewrite even when up to date.
        workers: processes (<= 1 = in this one); the files do not depend on it.
        progress: show a tqdm progress bar.
    Returns:
        Path of root.
    Raises:
        FileExistsError when root holds entries this function did not write.
    """
    root = Path(root) if root is not None else default_pretrain_root()
    settings = settings if settings is not None else PretrainSettings()
    key = _cache_key(settings)
    if not force and is_finished(root, key):
        return root

    def build(out: Path) -> None:
        tasks = []
        for split in _SPLIT_CODES:
            (out / "images" / split).mkdir(parents=True)
            (out / "images" / "stuffthingmaps" / split).mkdir(parents=True)
            count = getattr(settings, f"num_{split}")
            tasks += [
                (out, settings, split, s, min(s + _CHUNK, count)) for s in range(0, count, _CHUNK)
            ]
        write_json(out / "classes.json", {"classes": list(PRETRAIN_CLASSES)})
        total = settings.num_train + settings.num_val
        with tqdm(
            total=total, desc="i2v_synth_pretrain", unit="image", disable=not progress
        ) as bar:
            if workers <= 1 or len(tasks) <= 1:
                for task in tasks:
                    bar.update(_write_chunk(task))
                return
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            with context.Pool(min(workers, len(tasks))) as pool:
                for done in pool.imap_unordered(_write_chunk, tasks):
                    bar.update(done)

    return build_atomically(root, key, build, _OWN_ENTRIES)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write the pretraining task's cached folder.")
    parser.add_argument(
        "--root", default=None, help="default: $DETECTRON2_DATASETS/i2v_synth_pretrain"
    )
    parser.add_argument("--force", action="store_true", help="rewrite even if up to date")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    root = ensure_pretrain_dataset(
        args.root, force=args.force, workers=args.workers, progress=not args.no_progress
    )
    print(f"{root}: ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
