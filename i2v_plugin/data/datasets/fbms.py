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

Registration reads ``<seq>Def.dat`` to list the labeled frames. The file is a list of headed
fields, each a line ending in ":" followed by its value on the next non-empty line: the number of
regions, each region's "Scale" (its grey value in ``.pgm`` ground truth, or its colour packed as
(R << 16) | (G << 8) | B in ``.ppm``), the number of frames of the shot and of labeled frames,
then per labeled frame its number, the ground-truth file name and the input image name. Region 0
is background. ``data.prepare.fbms_groundtruth`` converts the region maps.
"""

import os
import re
from dataclasses import dataclass

from detectron2.data import DatasetCatalog, MetadataCatalog

from .classes import BACKGROUND
from .manifests import manifest_classes, require_manifest

PREPARE_COMMAND = "python datasets/prepare_fbms.py"
FOREGROUND_CLASSES = (BACKGROUND, "foreground")
SEMANTIC_FOLDER = "GroundTruth_semantic"
_COUNTER = re.compile(r"(\d+)\.jpg$")


@dataclass(frozen=True)
class LabeledFrame:
    """One labeled frame of a ``Def.dat`` file.

    Attributes:
        frame_number: the frame number written in the file.
        gt_file: ground-truth file name (inside ``GroundTruth/``).
        image_file: the frame's image file name (inside the sequence folder).
    """

    frame_number: int
    gt_file: str
    image_file: str


@dataclass(frozen=True)
class GroundTruthDef:
    """A parsed ``<seq>Def.dat``.

    Attributes:
        path: the .dat file.
        region_scales: value of each region in the ground-truth images; index = region.
        total_frames: frames of the shot.
        frames: the labeled frames, ``*PROB_gt.ppm`` entries left out.
    """

    path: str
    region_scales: tuple[int, ...]
    total_frames: int
    frames: tuple[LabeledFrame, ...]


def _headed_fields(path: str) -> list[tuple[str, str]]:
    """(header, value) pairs in file order; header lower-cased without its colon."""
    with open(path, errors="replace") as f:
        lines = [line.strip() for line in f]
    fields, header = [], None
    for line in lines:
        if not line:
            continue
        if line.endswith(":"):
            header = line[:-1].strip().lower()
        elif header is not None:
            fields.append((header, line))
            header = None
    return fields


def _int_value(path: str, header: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{path}: field {header!r} must be an integer, got {value!r}") from None


def _image_from_gt_name(gt_file: str) -> str:
    stem = os.path.splitext(gt_file)[0]
    return (stem[: -len("_gt")] if stem.endswith("_gt") else stem) + ".jpg"


def parse_def_file(path: str) -> GroundTruthDef:
    """Parse an FBMS ground-truth definition file.

    Raises:
        FileNotFoundError naming the file; ValueError naming it and the inconsistent field
        (region count vs scales, labeled frame count vs entries, a frame without file name).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"FBMS ground-truth definition not found: expected {path}")
    num_regions = total_frames = num_labeled = None
    scales: dict[int, int] = {}
    records: list[dict] = []
    for header, value in _headed_fields(path):
        if header.startswith("total number of regions"):
            num_regions = _int_value(path, header, value)
        elif header.startswith("scale of region"):
            region = _int_value(path, header, header.rsplit(" ", 1)[-1])
            scales[region] = _int_value(path, header, value)
        elif header.startswith("total number of frames"):
            total_frames = _int_value(path, header, value)
        elif header.startswith("total number of labeled frames"):
            num_labeled = _int_value(path, header, value)
        elif header.startswith("frame number"):
            records.append({"frame_number": _int_value(path, header, value)})
        elif header.startswith("file name") and records:
            records[-1]["gt_file"] = value
        elif header.startswith("input file name") and records:
            records[-1]["image_file"] = value
    if num_regions is None or sorted(scales) != list(range(num_regions)):
        raise ValueError(
            f"{path}: expected 'Total number of regions' and one 'Scale of region k' for "
            f"k = 0..n-1; got {num_regions} regions and scales for {sorted(scales)}"
        )
    if num_regions > 255:
        raise ValueError(f"{path}: {num_regions} regions do not fit 8-bit region maps")
    if len(set(scales.values())) != len(scales):
        raise ValueError(f"{path}: two regions share a scale value: {scales}")
    if num_labeled is not None and num_labeled != len(records):
        raise ValueError(
            f"{path}: 'Total number of labeled frames' is {num_labeled}, but {len(records)} "
            "'Frame number' entries follow"
        )
    frames = []
    for record in records:
        if "gt_file" not in record:
            raise ValueError(f"{path}: frame {record['frame_number']} has no 'File name'")
        if record["gt_file"].lower().endswith("prob_gt.ppm"):
            continue
        image = record.get("image_file") or _image_from_gt_name(record["gt_file"])
        frames.append(LabeledFrame(record["frame_number"], record["gt_file"], image))
    return GroundTruthDef(
        path=path,
        region_scales=tuple(scales[k] for k in range(num_regions)),
        total_frames=total_frames if total_frames is not None else -1,
        frames=tuple(frames),
    )


def def_file_path(seq_dir: str) -> str:
    """``<seq_dir>/GroundTruth/<seq>Def.dat``."""
    seq = os.path.basename(os.path.normpath(seq_dir))
    return os.path.join(seq_dir, "GroundTruth", f"{seq}Def.dat")


def semantic_label_path(seq_dir: str, frame: LabeledFrame) -> str:
    """Where the converted label of ``frame`` goes: ``GroundTruth_semantic/<image stem>.png``."""
    stem = os.path.splitext(frame.image_file)[0]
    return os.path.join(seq_dir, SEMANTIC_FOLDER, stem + ".png")


def manifest_path(split_dir: str) -> str:
    """The manifest of the converted labels of a split folder."""
    return os.path.join(split_dir, SEMANTIC_FOLDER + ".json")


def list_sequences(split_dir: str) -> list[str]:
    """Sequence folders of an FBMS split folder, sorted.

    Raises:
        FileNotFoundError naming the folder if it does not exist.
    """
    if not os.path.isdir(split_dir):
        raise FileNotFoundError(f"FBMS split folder not found: expected {split_dir}")
    return sorted(
        name
        for name in os.listdir(split_dir)
        if not name.startswith(".") and os.path.isdir(os.path.join(split_dir, name))
    )


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
