"""COCO-Stuff 164k remapped to the shared classes: the labeled image domain.

Layout (root ``$DETECTRON2_DATASETS/coco``):
  {train2017,val2017}/<image_id>.jpg                  images
  stuffthingmaps/{train2017,val2017}/<image_id>.png   "L" maps, value = COCO category_id - 1
  stuffthingmaps_shared/{train2017,val2017}/*.png     "L" maps in training ids (written by
                                                      datasets/prepare_coco_stuff.py, see
                                                      data.prepare.coco_stuff)
  stuffthingmaps_shared/{train2017,val2017}.json      manifest: the class list of those maps

Splits: coco_stuff_shared_train / coco_stuff_shared_val (domain "image", evaluator "sem_seg").
"""

import os

from detectron2.data import DatasetCatalog, MetadataCatalog

from .classes import DEFAULT_SHARED_CLASSES
from .manifests import manifest_classes, require_manifest

PREPARE_COMMAND = "python datasets/prepare_coco_stuff.py"
SOURCE_LABELS = "stuffthingmaps"
SHARED_LABELS = "stuffthingmaps_shared"
SPLITS = ("train2017", "val2017")
IGNORE_LABEL = 255


def manifest_path(coco_root: str, split: str) -> str:
    """The manifest of the converted maps of ``split``."""
    return os.path.join(coco_root, SHARED_LABELS, f"{split}.json")


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
