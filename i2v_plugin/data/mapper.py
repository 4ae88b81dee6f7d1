"""``I2VDatasetMapper``: one dataset dict (an image, a video frame on disk, or a frame of an
encoded video) -> the model's input dict, with the same augmentations for every source."""

import copy
import logging

import numpy as np
import torch
from detectron2.config import configurable
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T

from .domains import DOMAINS
from .label_io import read_label_map
from .video import VideoReadError, read_frames

logger = logging.getLogger(__name__)


def sample_frame_index(d: dict) -> int:
    """A random frame of an encoded video, uniform in time.

    With "sample_fps" in the dict (e.g. 30 for folders of arbitrary videos) the video is treated
    as resampled to that rate: a random time step of that rate is drawn and mapped to the native
    frame shown at that time (needs "fps", the native rate). Otherwise a native frame is drawn.
    """
    if "sample_fps" not in d:
        return int(np.random.randint(d["num_frames"]))
    steps = max(1, int(d["num_frames"] / d["fps"] * d["sample_fps"]))
    step = int(np.random.randint(steps))
    return min(int(step * d["fps"] / d["sample_fps"]), d["num_frames"] - 1)


def build_augmentations(cfg, is_train: bool) -> list:
    """Resize (shortest edge), random crop and flip in training; resize only at test time."""
    if not is_train:
        return [T.ResizeShortestEdge(cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST, "choice")]
    augs = [
        T.ResizeShortestEdge(
            cfg.INPUT.MIN_SIZE_TRAIN, cfg.INPUT.MAX_SIZE_TRAIN, cfg.INPUT.MIN_SIZE_TRAIN_SAMPLING
        )
    ]
    if cfg.INPUT.CROP.ENABLED:
        augs.append(
            T.RandomCrop_CategoryAreaConstraint(
                cfg.INPUT.CROP.TYPE,
                cfg.INPUT.CROP.SIZE,
                cfg.INPUT.CROP.SINGLE_CATEGORY_MAX_AREA,
                cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
            )
        )
    if cfg.INPUT.RANDOM_FLIP != "none":
        augs.append(
            T.RandomFlip(
                horizontal=cfg.INPUT.RANDOM_FLIP == "horizontal",
                vertical=cfg.INPUT.RANDOM_FLIP == "vertical",
            )
        )
    return augs


class I2VDatasetMapper:
    """Reads, checks and augments one sample.

    Input dict keys: "domain" ("image"/"video"), and either "file_name" (an image or frame file)
    or "video_file" + "num_frames" (a frame is decoded with PyAV: "frame_index" if given, else a
    random one, see ``sample_frame_index``); optional "sem_seg_file_name" (index PNG).
    Output: the input keys plus "image" (3, H, W) uint8 tensor and, when labeled, "sem_seg"
    (H, W) long tensor. Returns None for a video that cannot be decoded (the loader then draws
    another sample).
    """

    @configurable
    def __init__(
        self,
        is_train: bool = True,
        *,
        augmentations: list,
        image_format: str = "RGB",
        num_classes: int,
        ignore_label: int = 255,
        pad_to_size: tuple[int, int] | None = None,
    ):
        """
        Args:
            is_train: training mode (random frame choice for videos).
            augmentations: Detectron2 augmentations applied to image and label together.
            image_format: PIL format of the returned image ("RGB" or "BGR").
            num_classes: labels must lie in [0, num_classes) or equal ``ignore_label``.
            ignore_label: label value excluded from losses and metrics.
            pad_to_size: (H, W) every output is padded to (image 0, label ignore), or None.
        """
        self.is_train = is_train
        self.augmentations = T.AugmentationList(augmentations)
        self.image_format = image_format
        self.num_classes = num_classes
        self.ignore_label = ignore_label
        self.pad_to_size = tuple(pad_to_size) if pad_to_size else None

    @classmethod
    def from_config(cls, cfg, is_train: bool = True):
        crop = cfg.INPUT.CROP
        pad = is_train and crop.ENABLED and crop.TYPE == "absolute" and cfg.INPUT.PAD_TO_CROP_SIZE
        return {
            "is_train": is_train,
            "augmentations": build_augmentations(cfg, is_train),
            "image_format": cfg.INPUT.FORMAT,
            "num_classes": cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES,
            "ignore_label": cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
            "pad_to_size": tuple(crop.SIZE) if pad else None,
        }

    def _read_image(self, d: dict) -> np.ndarray | None:
        if "video_file" not in d:
            return utils.read_image(d["file_name"], format=self.image_format)
        if "frame_index" not in d:
            d["frame_index"] = sample_frame_index(d)
        try:
            frame = read_frames(d["video_file"], [d["frame_index"]])[0]
        except VideoReadError as err:
            logger.warning("%s", err)
            return None
        return frame[:, :, ::-1].copy() if self.image_format == "BGR" else frame

    def _read_label(self, d: dict, image_shape) -> np.ndarray:
        path = d["sem_seg_file_name"]
        label = read_label_map(path)
        if label.shape != tuple(image_shape[:2]):
            raise ValueError(
                f"{path}: label size {label.shape} differs from its image "
                f"{d.get('file_name', d.get('video_file'))} of size {tuple(image_shape[:2])}"
            )
        bad = (label >= self.num_classes) & (label != self.ignore_label)
        if bad.any():
            raise ValueError(
                f"{path}: label values {sorted(np.unique(label[bad]).tolist())} are out of range; "
                f"expected 0..{self.num_classes - 1} or {self.ignore_label} (ignore)"
            )
        return label

    def _pad(self, image: np.ndarray, label: np.ndarray | None):
        h, w = image.shape[:2]
        pad_h, pad_w = self.pad_to_size[0] - h, self.pad_to_size[1] - w
        if pad_h <= 0 and pad_w <= 0:
            return image, label
        pad_h, pad_w = max(pad_h, 0), max(pad_w, 0)
        image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)))
        if label is not None:
            label = np.pad(label, ((0, pad_h), (0, pad_w)), constant_values=self.ignore_label)
        return image, label

    def __call__(self, dataset_dict: dict) -> dict | None:
        d = copy.deepcopy(dataset_dict)
        if d.get("domain") not in DOMAINS:
            raise ValueError(
                f"Dataset dict for {d.get('file_name', d.get('video_file'))} has domain "
                f"{d.get('domain')!r}; every sample needs 'domain' in {DOMAINS}"
            )
        image = self._read_image(d)
        if image is None:
            return None
        d.setdefault("height", image.shape[0])
        d.setdefault("width", image.shape[1])
        label = self._read_label(d, image.shape) if "sem_seg_file_name" in d else None
        aug_input = T.AugInput(image, sem_seg=label)
        self.augmentations(aug_input)
        image, label = aug_input.image, aug_input.sem_seg
        if self.pad_to_size is not None:
            image, label = self._pad(image, label)
        d["image"] = torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1)))
        if label is not None:
            d["sem_seg"] = torch.as_tensor(label.astype(np.int64))
        return d
