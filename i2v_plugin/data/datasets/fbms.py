"""FBMS-59: video frames (unlabeled) and the sparse ground-truth frames (labeled).

Layout (root ``$DETECTRON2_DATASETS/FBMS``):
  {Trainingset,Testset}/<seq>/<seq>_NNNN.jpg                 frames (counter from 0 or 1)
  {Trainingset,Testset}/<seq>/GroundTruth/<seq>Def.dat       ground-truth definition
  {Trainingset,Testset}/<seq>/GroundTruth/<seq>_NNNN_gt.pgm  (or .ppm) region maps
  {Trainingset,Testset}/<seq>/GroundTruth_semantic/*.png     training ids (prepare_fbms.py)
  {Trainingset,Testset}/GroundTruth_semantic.json            their class list

Splits: fbms59_unlabeled_train (every Trainingset frame), fbms59_train_labeled (Trainingset
ground-truth frames), fbms59_val (Testset ground-truth frames). Without a class table the
labels are background / foreground.
"""

import os
import re

from detectron2.data import DatasetCatalog, MetadataCatalog

from .fbms_groundtruth import (
    FOREGROUND_CLASSES,
    def_file_path,
    list_sequences,
    manifest_path,
    parse_def_file,
    semantic_label_path,
)
from .label_conversion import manifest_classes, require_manifest

PREPARE_COMMAND = "python datasets/prepare_fbms.py"
_COUNTER = re.compile(r"(\d+)\.jpg$")


def _frame_order(name: str):
    # Frame counters are not always zero-padded to one width, so sort by their value.
    match = _COUNTER.search(name)
    return (int(match.group(1)) if match else float("inf"), name)


def list_frames(seq_dir: str) -> list[str]:
    """The .jpg frames of a sequence folder in temporal order."""
    names = [n for n in os.listdir(seq_dir) if n.endswith(".jpg") and not n.startswith(".")]
    return sorted(names, key=_frame_order)


def load_fbms_frames(fbms_root: str, split: str) -> list[dict]:
    """Every frame of every sequence of ``split`` ("Trainingset"/"Testset"), unlabeled.

    Returns:
        dicts with "file_name", "domain": "video", "video_id", "frame_index".
    """
    split_dir = os.path.join(fbms_root, split)
    dicts = []
    for seq in list_sequences(split_dir):
        seq_dir = os.path.join(split_dir, seq)
        for index, name in enumerate(list_frames(seq_dir)):
            dicts.append(
                {
                    "file_name": os.path.join(seq_dir, name),
                    "domain": "video",
                    "video_id": seq,
                    "frame_index": index,
                }
            )
    return dicts


def load_fbms_labeled(fbms_root: str, split: str) -> list[dict]:
    """The ground-truth frames of ``split`` with their converted labels.

    ``frame_index`` is the frame's position among all frames of its sequence, so gaps between
    labeled frames are visible to the evaluator.
    Raises:
        FileNotFoundError naming a missing conversion, frame or label and the prepare command.
    """
    split_dir = os.path.join(fbms_root, split)
    require_manifest(manifest_path(split_dir), PREPARE_COMMAND)
    dicts = []
    for seq in list_sequences(split_dir):
        seq_dir = os.path.join(split_dir, seq)
        position = {name: i for i, name in enumerate(list_frames(seq_dir))}
        definition = parse_def_file(def_file_path(seq_dir))
        for frame in definition.frames:
            if frame.image_file not in position:
                raise FileNotFoundError(
                    f"{definition.path} labels frame {frame.image_file}, but "
                    f"{os.path.join(seq_dir, frame.image_file)} does not exist"
                )
            label = semantic_label_path(seq_dir, frame)
            if not os.path.isfile(label):
                raise FileNotFoundError(
                    f"Converted FBMS label not found: expected {label}. Rerun `{PREPARE_COMMAND}`."
                )
            dicts.append(
                {
                    "file_name": os.path.join(seq_dir, frame.image_file),
                    "sem_seg_file_name": label,
                    "domain": "video",
                    "video_id": seq,
                    "frame_index": position[frame.image_file],
                }
            )
    return dicts


# name -> (loader, split folder, evaluator_type or None for unlabeled splits)
_PREDEFINED_SPLITS = {
    "fbms59_unlabeled_train": (load_fbms_frames, "Trainingset", None),
    "fbms59_train_labeled": (load_fbms_labeled, "Trainingset", "video_sem_seg"),
    "fbms59_val": (load_fbms_labeled, "Testset", "video_sem_seg"),
}


def register_all_fbms(root: str) -> None:
    """Register the FBMS-59 splits under ``<root>/FBMS`` (read lazily)."""
    fbms_root = os.path.join(root, "FBMS")
    for name, (loader, split, evaluator_type) in _PREDEFINED_SPLITS.items():
        DatasetCatalog.register(name, lambda f=loader, s=split: f(fbms_root, s))
        classes = manifest_classes(
            manifest_path(os.path.join(fbms_root, split)), FOREGROUND_CLASSES
        )
        meta = {"stuff_classes": classes, "ignore_label": 255}
        if evaluator_type:
            meta["evaluator_type"] = evaluator_type
        MetadataCatalog.get(name).set(**meta)
