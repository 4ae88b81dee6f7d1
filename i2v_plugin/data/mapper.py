"""``I2VDatasetMapper``: one dataset dict (an image, a video frame on disk, or a frame of an
encoded video) -> the model's input dict, with the same augmentations for every source.

One decode path: every sample is read as a clip of ``INPUT.CLIP.LENGTH`` T frames
``INPUT.CLIP.STRIDE`` apart around the dict's frame (``clip_sampling.clip_frame_indices``):
decoded from the encoded video, or read from the neighbouring files of the frame's sequence
folder; a still image becomes T copies of itself. T = 1 is the single-frame case. One augmentation
is sampled per clip (on the dict's own frame) and applied to every frame and label.
"""

import copy
import logging
import os

import numpy as np
import torch
from detectron2.config import configurable
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T

from .clip_sampling import clip_frame_indices, sequence_frame_names
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

    Clips (``clip_length`` T > 1): "image" (T, 3, H, W) and, when any frame is labeled,
    "sem_seg" (T, H, W) (frames without a label file are all ``ignore_label``), plus
    "clip_key_index" (position of the dict's own frame) and, for videos,
    "clip_frame_indices" (the T frame indices in the sequence). A frame-file dict needs
    "video_id"; its neighbours are the files with the same extension in its folder (sorted), and
    a neighbour's label is the file of the same stem next to the dict's "sem_seg_file_name".
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
        clip_length: int = 1,
        clip_stride: int = 1,
    ):
        """
        Args:
            is_train: training mode (random frame choice for videos).
            augmentations: Detectron2 augmentations applied to image and label together.
            image_format: PIL format of the returned image ("RGB" or "BGR").
            num_classes: labels must lie in [0, num_classes) or equal ``ignore_label``.
            ignore_label: label value excluded from losses and metrics.
            pad_to_size: (H, W) every output is padded to (image 0, label ignore), or None;
                Detectron2's ``FixedSizeCrop`` after the other augmentations.
            clip_length: frames per sample T (1: single images/frames).
            clip_stride: distance between consecutive clip frames, in native frames.
        """
        self.is_train = is_train
        augmentations = list(augmentations)
        if pad_to_size:
            # Pads right and bottom (a crop of at most the padded size never crops further).
            augmentations.append(
                T.FixedSizeCrop(tuple(pad_to_size), pad_value=0, seg_pad_value=ignore_label)
            )
        self.augmentations = T.AugmentationList(augmentations)
        self.image_format = image_format
        self.num_classes = num_classes
        self.ignore_label = ignore_label
        if clip_length < 1 or clip_stride < 1:
            raise ValueError(
                f"INPUT.CLIP.LENGTH and INPUT.CLIP.STRIDE must be >= 1, got {clip_length} and "
                f"{clip_stride}"
            )
        self.clip_length = int(clip_length)
        self.clip_stride = int(clip_stride)

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
            "clip_length": cfg.INPUT.CLIP.LENGTH,
            "clip_stride": cfg.INPUT.CLIP.STRIDE,
        }

    # ---- reading: one path for images, frame files, encoded videos and clips of them ---------

    def _read_frames(self, d: dict) -> tuple[list, list, int] | None:
        """The T frames of the sample, their labels (None where a frame has none) and the
        position of the dict's own frame; None when a video cannot be decoded."""
        if "video_file" in d:
            return self._read_video(d)
        if "video_id" in d and self.clip_length > 1:
            return self._read_sequence(d)
        # A still image (or a single frame file): T copies of itself.
        image = utils.read_image(d["file_name"], format=self.image_format)
        label = self._read_label(d, image.shape) if "sem_seg_file_name" in d else None
        return [image] * self.clip_length, [label] * self.clip_length, (self.clip_length - 1) // 2

    def _read_video(self, d: dict):
        """Frames of an encoded video; only the dict's own frame can have a label."""
        if "frame_index" not in d:
            d["frame_index"] = sample_frame_index(d)
        indices, key = clip_frame_indices(
            d["frame_index"], d["num_frames"], self.clip_length, self.clip_stride
        )
        try:
            frames = read_frames(d["video_file"], indices)
        except VideoReadError as err:
            logger.warning("%s", err)
            return None
        if self.image_format == "BGR":
            frames = [f[:, :, ::-1].copy() for f in frames]
        if self.clip_length > 1:
            d["clip_frame_indices"] = indices
        labels: list = [None] * len(frames)
        if "sem_seg_file_name" in d:
            labels[key] = self._read_label(d, frames[key].shape)
        return frames, labels, key

    def _read_sequence(self, d: dict):
        """Frames from the files next to the dict's frame file, with their labels if present."""
        folder, name = os.path.split(d["file_name"])
        names = sequence_frame_names(folder, os.path.splitext(name)[1])
        if name not in names:
            raise FileNotFoundError(f"Frame file not found: {d['file_name']}")
        indices, key = clip_frame_indices(
            names.index(name), len(names), self.clip_length, self.clip_stride
        )
        d["clip_frame_indices"] = indices
        frames, labels = [], []
        for position, index in enumerate(indices):
            path = os.path.join(folder, names[index])
            frame = utils.read_image(path, format=self.image_format)
            label_path = self._neighbour_label(
                d.get("sem_seg_file_name"), names[index], position == key
            )
            frames.append(frame)
            labels.append(
                self._read_label_file(label_path, frame.shape, path) if label_path else None
            )
        return frames, labels, key

    @staticmethod
    def _neighbour_label(label_path: str | None, frame_name: str, is_key: bool) -> str | None:
        """The label file of a sequence frame: the dict's own for its frame, else the file of
        the frame's stem next to it (None when the sample is unlabeled or that file is absent)."""
        if label_path is None or is_key:
            return label_path
        stem = os.path.splitext(frame_name)[0]
        candidate = os.path.join(
            os.path.dirname(label_path), stem + os.path.splitext(label_path)[1]
        )
        return candidate if os.path.isfile(candidate) else None

    def _read_label(self, d: dict, image_shape) -> np.ndarray:
        return self._read_label_file(
            d["sem_seg_file_name"], image_shape, d.get("file_name", d.get("video_file"))
        )

    def _read_label_file(self, path: str, image_shape, image_name: str) -> np.ndarray:
        label = read_label_map(path)
        if label.shape != tuple(image_shape[:2]):
            raise ValueError(
                f"{path}: label size {label.shape} differs from its image "
                f"{image_name} of size {tuple(image_shape[:2])}"
            )
        bad = (label >= self.num_classes) & (label != self.ignore_label)
        if bad.any():
            raise ValueError(
                f"{path}: label values {sorted(np.unique(label[bad]).tolist())} are out of range; "
                f"expected 0..{self.num_classes - 1} or {self.ignore_label} (ignore)"
            )
        return label

    # ---- mapping --------------------------------------------------------------------------------

    def __call__(self, dataset_dict: dict) -> dict | None:
        d = copy.deepcopy(dataset_dict)
        if d.get("domain") not in DOMAINS:
            raise ValueError(
                f"Dataset dict for {d.get('file_name', d.get('video_file'))} has domain "
                f"{d.get('domain')!r}; every sample needs 'domain' in {DOMAINS}"
            )
        read = self._read_frames(d)
        if read is None:
            return None
        frames, labels, key = read
        sizes = {f.shape[:2] for f in frames}
        if len(sizes) > 1:
            raise ValueError(
                f"Frames of the clip of {d.get('file_name', d.get('video_file'))} differ in size "
                f"{sorted(sizes)}; every frame of a sequence must have one size"
            )
        d.setdefault("height", frames[key].shape[0])
        d.setdefault("width", frames[key].shape[1])
        labeled = any(label is not None for label in labels)
        # One augmentation per clip: sampled on the dict's own frame (so data-dependent ones such
        # as the category-area crop see its label), then applied to every frame and label alike.
        transforms = self.augmentations(T.AugInput(frames[key], sem_seg=labels[key]))
        images, targets = [], []
        for frame, label in zip(frames, labels):
            if labeled and label is None:
                label = np.full(frame.shape[:2], self.ignore_label, dtype=np.uint8)
            images.append(np.ascontiguousarray(transforms.apply_image(frame).transpose(2, 0, 1)))
            targets.append(transforms.apply_segmentation(label) if labeled else None)
        # The time axis exists only for clips: a single frame gives (3, H, W) and (H, W).
        if self.clip_length == 1:
            d["image"] = torch.as_tensor(images[0])
            if labeled:
                d["sem_seg"] = torch.as_tensor(targets[0].astype(np.int64))
            return d
        d["image"] = torch.as_tensor(np.stack(images))
        d["clip_key_index"] = key
        if labeled:
            d["sem_seg"] = torch.as_tensor(np.stack(targets).astype(np.int64))
        return d
