"""DAVIS 2017: video frames, unlabeled or with semantic labels in the shared classes.

Layout (root ``$DETECTRON2_DATASETS/DAVIS``):
  JPEGImages/480p/<seq>/00000.jpg                 frames
  Annotations/480p/<seq>/00000.png                instance ids (palette PNGs, 255 = void)
  Annotations_unsupervised/480p/<seq>/00000.png   instance ids of the unsupervised task
  ImageSets/2017/{train,val}.txt                  sequence names
  davis_semantics.json, categories.json           per-sequence instance id -> category name
  shared_classes.json                             the shared class list (prepare script)
  <annotations>_semantic/480p/<seq>/00000.png     class indices (datasets/prepare_davis_semantic.py)
  <annotations>_semantic/manifest.json            what those PNGs were made from

Splits: davis2017_unlabeled_train; davis2017_semantic_{train,val} (from ``Annotations``);
davis2017_semantic_{train,val}_unsupervised (from ``Annotations_unsupervised``).
"""

import os

from detectron2.data import DatasetCatalog, MetadataCatalog

from .classes import stored_or_default_classes
from .manifests import require_manifest

PREPARE_COMMAND = "python datasets/prepare_davis_semantic.py"
RESOLUTION = "480p"
YEAR = "2017"
SHARED_CLASSES_FILE = "shared_classes.json"
SEMANTIC_SUFFIX = "_semantic"
MANIFEST_FILE = "manifest.json"


def read_sequence_list(davis_root: str, split: str) -> list[str]:
    """Sequence names of ``ImageSets/2017/<split>.txt``.

    Raises:
        FileNotFoundError naming the expected list file.
    """
    path = os.path.join(davis_root, "ImageSets", YEAR, f"{split}.txt")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"DAVIS sequence list not found: expected {path}")
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def semantic_folder(davis_root: str, annotations: str) -> str:
    """Where the semantic PNGs converted from ``annotations`` go."""
    return os.path.join(davis_root, annotations + SEMANTIC_SUFFIX)


def prepare_command(annotations: str) -> str:
    if annotations == "Annotations":
        return PREPARE_COMMAND
    return f"{PREPARE_COMMAND} --annotations {annotations}"


def _frame_names(folder: str) -> list[str]:
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"DAVIS frame folder not found: expected {folder}")
    return sorted(name for name in os.listdir(folder) if name.endswith(".jpg"))


def _checked_label_root(davis_root: str, annotations: str) -> str:
    """The semantic label folder, after checking its conversion finished with today's classes."""
    folder = semantic_folder(davis_root, annotations)
    manifest = require_manifest(os.path.join(folder, MANIFEST_FILE), prepare_command(annotations))
    stored = stored_or_default_classes(os.path.join(davis_root, SHARED_CLASSES_FILE))
    if manifest.get("classes") != stored:
        raise RuntimeError(
            f"{folder} was converted for classes {manifest.get('classes')}, but "
            f"{os.path.join(davis_root, SHARED_CLASSES_FILE)} now lists {stored}; rerun "
            f"`{prepare_command(annotations)}`."
        )
    return os.path.join(folder, RESOLUTION)


def load_davis_frames(davis_root: str, split: str, annotations: str | None = None) -> list[dict]:
    """One dict per frame of the ``split`` sequences; nothing is decoded.

    Args:
        davis_root: the DAVIS folder.
        split: "train" or "val" (a list in ImageSets/2017).
        annotations: None for unlabeled frames, else the instance annotation folder
            ("Annotations" or "Annotations_unsupervised") whose semantic conversion to use.
    Returns:
        dicts with "file_name", "domain": "video", "video_id", "frame_index" and, when labeled,
        "sem_seg_file_name".
    Raises:
        FileNotFoundError naming a missing list, frame folder or label (with the prepare command).
    """
    label_root = _checked_label_root(davis_root, annotations) if annotations else None
    dicts = []
    for seq in read_sequence_list(davis_root, split):
        frame_dir = os.path.join(davis_root, "JPEGImages", RESOLUTION, seq)
        for index, name in enumerate(_frame_names(frame_dir)):
            d = {
                "file_name": os.path.join(frame_dir, name),
                "domain": "video",
                "video_id": seq,
                "frame_index": index,
            }
            if label_root:
                label = os.path.join(label_root, seq, os.path.splitext(name)[0] + ".png")
                if not os.path.isfile(label):
                    raise FileNotFoundError(
                        f"Semantic label not found: expected {label}. Rerun "
                        f"`{prepare_command(annotations)}`."
                    )
                d["sem_seg_file_name"] = label
            dicts.append(d)
    return dicts


# name -> (split, instance annotation folder whose semantic conversion labels it, or None)
_PREDEFINED_SPLITS = {
    "davis2017_unlabeled_train": ("train", None),
    "davis2017_semantic_train": ("train", "Annotations"),
    "davis2017_semantic_val": ("val", "Annotations"),
    "davis2017_semantic_train_unsupervised": ("train", "Annotations_unsupervised"),
    "davis2017_semantic_val_unsupervised": ("val", "Annotations_unsupervised"),
}


def register_all_davis(root: str) -> None:
    """Register the DAVIS 2017 splits under ``<root>/DAVIS`` (read lazily)."""
    davis_root = os.path.join(root, "DAVIS")
    classes = stored_or_default_classes(os.path.join(davis_root, SHARED_CLASSES_FILE), strict=False)
    for name, (split, annotations) in _PREDEFINED_SPLITS.items():
        DatasetCatalog.register(
            name, lambda s=split, a=annotations: load_davis_frames(davis_root, s, a)
        )
        meta = {"stuff_classes": list(classes), "ignore_label": 255}
        if annotations:
            meta["evaluator_type"] = "video_sem_seg"
        MetadataCatalog.get(name).set(**meta)
