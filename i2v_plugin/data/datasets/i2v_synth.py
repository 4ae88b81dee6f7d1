"""Registration of the synthetic image-to-video benchmark (``datasets/prepare_synthetic.py``).

Splits (root ``$DETECTRON2_DATASETS/i2v_synth``):
  i2v_synth_images_train / _val      labeled images, COCO-Stuff style ("image" domain)
  i2v_synth_videos_train             unlabeled: frames decoded from ``videos/mp4/*.mp4``
  i2v_synth_videos_train_labeled     labeled DAVIS-style frame folders of the train sequences
  i2v_synth_videos_val               labeled DAVIS-style frame folders of the val sequences
  i2v_synth_images_val_as_video      the val images, unlabeled, in the "video" domain (the
                                     synthetic stand-in for the unlabeled-VOC ablation)
  i2v_synth_images_train_as_video    the same for the train images (Table 4's analogue)
  i2v_synth_images_tune / _videos_tune  labeled held-out splits drawn from their own seeds, for
                                     choosing hyper-parameters (val is only ever reported)
Generator version 4 only (labeled, DAVIS style, ``video_sem_seg``):
  i2v_synth_videos_sealed_val / _tune  val / tune scenes plus artefact families that no
                                     augmentation implements (``synth/families.py``)
  i2v_synth_videos_severe_val        val scenes with version 3's (severe) artefacts
  i2v_synth_videos_style_val         image-like scenes with the video artefacts
  i2v_synth_videos_geometry_val      val scenes with clean, image-like pixels
Pretraining task (root ``$DETECTRON2_DATASETS/i2v_synth_pretrain``, other classes):
  i2v_synth_pretrain_train / _val    labeled images of PRETRAIN_CLASSES ("image" domain)
"""

import os

from detectron2.data import DatasetCatalog, MetadataCatalog

from ..video import probe_video
from .synth_classes import PRETRAIN_CLASSES, SYNTH_CLASSES

PREPARE_COMMAND = "python datasets/prepare_synthetic.py"
PRETRAIN_COMMAND = "python datasets/prepare_synthetic.py --pretrain-only"


def _require(path: str, what: str, command: str = PREPARE_COMMAND) -> str:
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{what} not found: expected {path}. Create it with `{command}` (or `make demo`), "
            "or point $DETECTRON2_DATASETS at the folder that holds it. Splits other than "
            "train, val and tune need generator version 4."
        )
    return path


def _sequences(root: str, split: str) -> list[str]:
    listing = _require(os.path.join(root, "videos", "ImageSets", f"{split}.txt"), "Sequence list")
    with open(listing) as f:
        return [line.strip() for line in f if line.strip()]


def load_synth_images(root: str, split: str, command: str = PREPARE_COMMAND) -> list[dict]:
    """Labeled images of ``split``: dicts with file_name, sem_seg_file_name, domain "image"."""
    image_dir = _require(os.path.join(root, "images", split), "Image folder", command)
    label_dir = _require(
        os.path.join(root, "images", "stuffthingmaps", split), "Label folder", command
    )
    return [
        {
            "file_name": os.path.join(image_dir, name),
            "sem_seg_file_name": os.path.join(label_dir, os.path.splitext(name)[0] + ".png"),
            "domain": "image",
        }
        for name in sorted(os.listdir(image_dir))
        if name.endswith(".jpg")
    ]


def load_synth_images_as_video(root: str, split: str) -> list[dict]:
    """The images of ``split`` without labels and with domain "video": still images acting as
    the discriminators' second domain (the synthetic counterpart of the unlabeled-VOC ablation).
    """
    dicts = load_synth_images(root, split)
    return [{"file_name": d["file_name"], "domain": "video"} for d in dicts]


def load_synth_video_frames(root: str, split: str) -> list[dict]:
    """Labeled frames of the ``split`` sequences: one dict per frame, domain "video"."""
    dicts = []
    for seq in _sequences(root, split):
        frame_dir = _require(
            os.path.join(root, "videos", "JPEGImages", "480p", seq), "Frame folder"
        )
        label_dir = os.path.join(root, "videos", "Annotations", "480p", seq)
        for index, name in enumerate(
            sorted(f for f in os.listdir(frame_dir) if f.endswith(".jpg"))
        ):
            dicts.append(
                {
                    "file_name": os.path.join(frame_dir, name),
                    "sem_seg_file_name": os.path.join(
                        label_dir, os.path.splitext(name)[0] + ".png"
                    ),
                    "domain": "video",
                    "video_id": seq,
                    "frame_index": index,
                }
            )
    return dicts


def load_synth_videos(root: str, split: str) -> list[dict]:
    """Unlabeled encoded videos of ``split``: one dict per video (the mapper picks a frame)."""
    dicts = []
    for seq in _sequences(root, split):
        path = _require(os.path.join(root, "videos", "mp4", f"{seq}.mp4"), "Video file")
        info = probe_video(path)
        dicts.append(
            {
                "video_file": path,
                "num_frames": info.num_frames,
                "height": info.height,
                "width": info.width,
                "domain": "video",
                "video_id": seq,
            }
        )
    return dicts


def load_synth_pretrain(root: str, split: str) -> list[dict]:
    """Labeled images of the pretraining task (``<root>`` = .../i2v_synth_pretrain)."""
    return load_synth_images(root, split, PRETRAIN_COMMAND)


# name -> (loader, split, evaluator_type or None for unlabeled splits)
_PREDEFINED_SPLITS = {
    "i2v_synth_images_train": (load_synth_images, "train", "sem_seg"),
    "i2v_synth_images_val": (load_synth_images, "val", "sem_seg"),
    "i2v_synth_videos_train": (load_synth_videos, "train", None),
    "i2v_synth_videos_train_labeled": (load_synth_video_frames, "train", "video_sem_seg"),
    "i2v_synth_videos_val": (load_synth_video_frames, "val", "video_sem_seg"),
    # Labeled held-out splits for hyper-parameter search (their own seeds; never reported).
    "i2v_synth_images_tune": (load_synth_images, "tune", "sem_seg"),
    "i2v_synth_videos_tune": (load_synth_video_frames, "tune", "video_sem_seg"),
    "i2v_synth_images_val_as_video": (load_synth_images_as_video, "val", None),
    # The train images again, unlabeled, in the "video" domain: the Table 4 analogue (still
    # images as the second domain, with no leakage of an evaluation split into training).
    "i2v_synth_images_train_as_video": (load_synth_images_as_video, "train", None),
    # Generator version 4: sealed artefact families, v3-strength artefacts, and the two
    # factor splits (video pixels on image scenes; video scenes with image pixels).
    "i2v_synth_videos_sealed_val": (load_synth_video_frames, "sealed_val", "video_sem_seg"),
    "i2v_synth_videos_sealed_tune": (load_synth_video_frames, "sealed_tune", "video_sem_seg"),
    "i2v_synth_videos_severe_val": (load_synth_video_frames, "severe_val", "video_sem_seg"),
    "i2v_synth_videos_style_val": (load_synth_video_frames, "style_val", "video_sem_seg"),
    "i2v_synth_videos_geometry_val": (load_synth_video_frames, "geometry_val", "video_sem_seg"),
}

# The pretraining task: its own root and class list.
_PRETRAIN_SPLITS = {
    "i2v_synth_pretrain_train": "train",
    "i2v_synth_pretrain_val": "val",
}


def register_all_i2v_synth(root: str) -> None:
    """Register every synthetic split under ``<root>/i2v_synth`` and the pretraining splits
    under ``<root>/i2v_synth_pretrain`` (files are read lazily)."""
    synth_root = os.path.join(root, "i2v_synth")
    for name, (loader, split, evaluator_type) in _PREDEFINED_SPLITS.items():
        DatasetCatalog.register(name, lambda f=loader, s=split: f(synth_root, s))
        meta = {"stuff_classes": list(SYNTH_CLASSES), "ignore_label": 255}
        if evaluator_type:
            meta["evaluator_type"] = evaluator_type
        MetadataCatalog.get(name).set(**meta)
    pretrain_root = os.path.join(root, "i2v_synth_pretrain")
    for name, split in _PRETRAIN_SPLITS.items():
        DatasetCatalog.register(name, lambda s=split: load_synth_pretrain(pretrain_root, s))
        MetadataCatalog.get(name).set(
            stuff_classes=list(PRETRAIN_CLASSES), ignore_label=255, evaluator_type="sem_seg"
        )
