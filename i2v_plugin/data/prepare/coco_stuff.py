"""COCO-Stuff 164k label maps -> maps of the shared classes (``datasets/prepare_coco_stuff.py``).

Reads ``coco/stuffthingmaps/<split>/*.png`` ("L", value = COCO category_id - 1, 255 unlabeled)
and writes ``coco/stuffthingmaps_shared/<split>/*.png`` plus the manifest that registration
(``data.datasets.coco_stuff``) reads.
"""

import os
from collections.abc import Sequence

import numpy as np

from ..datasets.classes import BACKGROUND
from ..datasets.coco_stuff import IGNORE_LABEL, SHARED_LABELS, SOURCE_LABELS, SPLITS, manifest_path
from ..label_io import read_label_map
from .label_conversion import ConversionJob, convert_all, remap_table, write_index_png
from .shared_classes import COCO_THING_VALUES, canonical_name

# Largest value COCO-Stuff uses for a labeled pixel; 255 is "unlabeled".
COCO_STUFF_MAX_VALUE = 181


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
