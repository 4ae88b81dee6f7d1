"""COCO-Stuff 164k remapped to the shared classes: the labeled image domain.

Layout (root ``$DETECTRON2_DATASETS/coco``):
  {train2017,val2017}/<image_id>.jpg                  images
  stuffthingmaps/{train2017,val2017}/<image_id>.png   "L" maps, value = COCO category_id - 1
  stuffthingmaps_shared/{train2017,val2017}/*.png     "L" maps in training ids (written by
                                                      datasets/prepare_coco_stuff.py)
  stuffthingmaps_shared/{train2017,val2017}.json      manifest: the class list of those maps

Splits: coco_stuff_shared_train / coco_stuff_shared_val (domain "image", evaluator "sem_seg").
"""

import os
from collections.abc import Sequence

import numpy as np
from detectron2.data import DatasetCatalog, MetadataCatalog

from ..label_io import read_label_map
from .classes import (
    BACKGROUND,
    COCO_STUFF_MAX_VALUE,
    COCO_THING_VALUES,
    DEFAULT_SHARED_CLASSES,
    canonical_name,
)
from .label_conversion import (
    ConversionJob,
    convert_all,
    manifest_classes,
    remap_table,
    require_manifest,
    write_index_png,
)

PREPARE_COMMAND = "python datasets/prepare_coco_stuff.py"
SOURCE_LABELS = "stuffthingmaps"
SHARED_LABELS = "stuffthingmaps_shared"
SPLITS = ("train2017", "val2017")
IGNORE_LABEL = 255


def coco_stuff_remap_table(classes: Sequence[str]) -> np.ndarray:
    """Lookup table COCO-Stuff value -> training id for ``classes``.

    Each shared class gets its index in ``classes``; every other labeled value (0..181) becomes
    background (0); 255 stays 255. Values 182..254 do not occur in COCO-Stuff and map to 255 here;
    ``remap_coco_stuff_map`` rejects them before the table is applied.

    Raises:
        ValueError naming a class that is not a COCO thing class.
    """
    mapping = {value: 0 for value in range(COCO_STUFF_MAX_VALUE + 1)}
    for index, name in enumerate(classes):
        if index == 0 and name == BACKGROUND:
            continue
        coco_name = canonical_name(name)
        if coco_name not in COCO_THING_VALUES:
            raise ValueError(
                f"Shared class {name!r} is not a COCO thing class; known names: "
                f"{sorted(COCO_THING_VALUES)}"
            )
        mapping[COCO_THING_VALUES[coco_name]] = index
    return remap_table(mapping, default=IGNORE_LABEL, source="COCO-Stuff remap")


def remap_coco_stuff_map(labels: np.ndarray, table: np.ndarray, path: str) -> np.ndarray:
    """Apply ``table`` to one COCO-Stuff map after checking its values.

    Raises:
        ValueError naming ``path`` if a value lies outside 0..181 and is not 255.
    """
    bad = (labels > COCO_STUFF_MAX_VALUE) & (labels != IGNORE_LABEL)
    if bad.any():
        raise ValueError(
            f"{path}: values {sorted(np.unique(labels[bad]).tolist())} are not COCO-Stuff labels; "
            f"expected 0..{COCO_STUFF_MAX_VALUE} (category_id - 1) or {IGNORE_LABEL} (unlabeled)"
        )
    return table[labels]


def _convert_one(job: ConversionJob) -> None:
    labels = read_label_map(job.source, ("L",))
    write_index_png(job.destination, remap_coco_stuff_map(labels, job.payload, job.source))


def manifest_path(coco_root: str, split: str) -> str:
    return os.path.join(coco_root, SHARED_LABELS, f"{split}.json")


def prepare_coco_stuff(
    coco_root: str,
    classes: Sequence[str],
    splits: Sequence[str] = SPLITS,
    workers: int = 0,
    force: bool = False,
    progress: bool = True,
) -> dict:
    """Write the shared-class label maps of ``splits`` (resumable, see ``label_conversion``).

    Args:
        coco_root: the ``coco`` folder.
        classes: shared class list ("background" first).
        splits: subfolders of ``stuffthingmaps`` to convert.
        workers: conversion processes (0: in this process).
        force: rewrite outputs that already exist.
        progress: show progress bars.
    Returns:
        {split: {"converted", "reused", "total"}}.
    Raises:
        FileNotFoundError naming a missing source folder; ValueError for a bad class or label.
    """
    table = coco_stuff_remap_table(classes)
    summary = {}
    for split in splits:
        source_dir = os.path.join(coco_root, SOURCE_LABELS, split)
        if not os.path.isdir(source_dir):
            raise FileNotFoundError(
                f"COCO-Stuff label folder not found: expected {source_dir} (unzip "
                f"stuffthingmaps_trainval2017.zip into {os.path.join(coco_root, SOURCE_LABELS)})"
            )
        target_dir = os.path.join(coco_root, SHARED_LABELS, split)
        jobs = [
            ConversionJob(os.path.join(source_dir, name), os.path.join(target_dir, name), table)
            for name in sorted(os.listdir(source_dir))
            if name.endswith(".png") and not name.startswith(".")
        ]
        if not jobs:
            raise FileNotFoundError(f"No label PNG in {source_dir}")
        manifest = {"classes": list(classes), "source": os.path.join(SOURCE_LABELS, split)}
        summary[split] = convert_all(
            jobs,
            _convert_one,
            manifest_path(coco_root, split),
            manifest,
            workers=workers,
            force=force,
            desc=f"COCO-Stuff {split}",
            progress=progress,
        )
    return summary


def load_coco_stuff_shared(coco_root: str, split: str) -> list[dict]:
    """Labeled images of ``split`` with their shared-class maps; nothing is decoded.

    Returns:
        dicts with "file_name", "sem_seg_file_name", "domain": "image".
    Raises:
        FileNotFoundError naming the missing folder or label and the prepare command.
    """
    require_manifest(manifest_path(coco_root, split), PREPARE_COMMAND)
    image_dir = os.path.join(coco_root, split)
    label_dir = os.path.join(coco_root, SHARED_LABELS, split)
    if not os.path.isdir(image_dir):
        raise FileNotFoundError(f"COCO image folder not found: expected {image_dir}")
    labels = set(os.listdir(label_dir))
    dicts, missing = [], []
    for name in sorted(os.listdir(image_dir)):
        if not name.endswith(".jpg"):
            continue
        label_name = os.path.splitext(name)[0] + ".png"
        if label_name not in labels:
            missing.append(os.path.join(label_dir, label_name))
            continue
        dicts.append(
            {
                "file_name": os.path.join(image_dir, name),
                "sem_seg_file_name": os.path.join(label_dir, label_name),
                "domain": "image",
            }
        )
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} images of {image_dir} have no converted label, e.g. {missing[0]}. "
            f"Check coco/{SOURCE_LABELS}/{split} and rerun `{PREPARE_COMMAND}`."
        )
    return dicts


# name -> split folder
_PREDEFINED_SPLITS = {
    "coco_stuff_shared_train": "train2017",
    "coco_stuff_shared_val": "val2017",
}


def register_all_coco_stuff(root: str) -> None:
    """Register the COCO-Stuff shared-class splits under ``<root>/coco`` (read lazily)."""
    coco_root = os.path.join(root, "coco")
    for name, split in _PREDEFINED_SPLITS.items():
        DatasetCatalog.register(name, lambda s=split: load_coco_stuff_shared(coco_root, s))
        MetadataCatalog.get(name).set(
            stuff_classes=manifest_classes(manifest_path(coco_root, split), DEFAULT_SHARED_CLASSES),
            ignore_label=IGNORE_LABEL,
            evaluator_type="sem_seg",
        )
