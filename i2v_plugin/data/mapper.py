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

from ..utils.domains import DOMAINS
from .augmentations import build_video_augmentations
from .clip_sampling import clip_frame_indices, sequence_frame_names
from .label_io import read_label_map
from .skips import report_skip
from .still_motion import move_still_clip
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


def pair_frame_index(frame: int, num_frames: int, distance: int) -> int:
    """The partner of ``frame`` in a temporal pair (``INPUT.UNLABELED_PAIR_DISTANCE``): the frame
    ``distance`` native frames later, or, near the end of the video, the one ``distance`` earlier
    (a clip of length 2 and stride ``distance`` through ``frame``, ``clip_frame_indices``). In a
    video of at most ``distance`` frames the later frame is clamped to the last one (which is
    then its own partner).

    An unlabeled stream that decodes frames itself gives the mapper this frame as
    "pair_video_frame" next to "video_frame" (see ``I2VDatasetMapper``).
    """
    indices, key = clip_frame_indices(frame, num_frames, 2, distance)
    return indices[1 - key]


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

    Training extras: an unlabeled sample padded to the crop size gets "valid" (H, W) bool (True
    on frame pixels, False on padding). With ``pair_distance`` k > 0 an unlabeled video sample
    (single frames only) also gets "pair_image" (3, H, W), frame ``pair_frame_index(t)`` (t + k,
    clamped to the video) with exactly the augmentation of "image", and "pair_frame_index".
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
        still_motion: float = 0.0,
        video_augmentations: list = (),
        pair_distance: int = 0,
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
            still_motion: largest per-frame zoom-in (fraction of the side) of the synthetic camera
                motion given to the copies of a still image in a clip (``still_motion.py``);
                training only, 0 keeps exact copies.
            video_augmentations: pixel-only augmentations of "image"-domain samples
                (``augmentations.py``, ``INPUT.VIDEO_AUG``), sampled after ``augmentations`` and
                before the padding.
            pair_distance: ``INPUT.UNLABELED_PAIR_DISTANCE``, training only; when > 0, an
                unlabeled video sample also gets "pair_image", the frame this many native frames
                later (clamped to the video, ``pair_frame_index``), with the same augmentation.
        """
        self.is_train = is_train
        self.augmentations = T.AugmentationList(list(augmentations))
        self.video_augmentations = (
            T.AugmentationList(list(video_augmentations)) if video_augmentations else None
        )
        # Pads right and bottom (a crop of at most the padded size never crops further).
        self.padding = (
            T.AugmentationList(
                [T.FixedSizeCrop(tuple(pad_to_size), pad_value=0, seg_pad_value=ignore_label)]
            )
            if pad_to_size
            else None
        )
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
        self.still_motion = float(still_motion) if is_train else 0.0
        if pair_distance < 0:
            raise ValueError(f"INPUT.UNLABELED_PAIR_DISTANCE must be >= 0, got {pair_distance}")
        if pair_distance and clip_length > 1:
            raise ValueError(
                "INPUT.UNLABELED_PAIR_DISTANCE > 0 pairs single frames; it cannot be combined "
                f"with clips (INPUT.CLIP.LENGTH {clip_length})"
            )
        self.pair_distance = int(pair_distance) if is_train else 0
        self._warned_pairless_stream = False

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
            "still_motion": cfg.INPUT.CLIP.STILL_MOTION,
            "video_augmentations": build_video_augmentations(cfg) if is_train else [],
            "pair_distance": cfg.INPUT.UNLABELED_PAIR_DISTANCE,
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
        """Frames of an encoded video; only the dict's own frame can have a label.

        A frame the unlabeled video stream decoded already (``video_stream.py``) comes as
        "video_frame" (RGB, maybe scaled down) with its "frame_index", and is taken as is.
        """
        if "video_frame" in d:
            if self.clip_length != 1:
                raise ValueError("A pre-decoded 'video_frame' is a single frame; clips read files")
            frames, indices, key = [d.pop("video_frame")], [d["frame_index"]], 0
        else:
            if "frame_index" not in d:
                d["frame_index"] = sample_frame_index(d)
            indices, key = clip_frame_indices(
                d["frame_index"], d["num_frames"], self.clip_length, self.clip_stride
            )
            try:
                frames = read_frames(d["video_file"], indices)
            except VideoReadError as err:
                report_skip(err.path, indices, err.reason)
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

    # ---- temporal pairs of unlabeled video frames ----------------------------------------------

    def _wants_pair(self, d: dict) -> bool:
        """Training with a pair distance, an unlabeled sample, and a frame of a video (encoded, or
        a frame file of a sequence); still images get no pair."""
        is_video = "video_file" in d or "video_id" in d
        return self.pair_distance > 0 and "sem_seg_file_name" not in d and is_video

    def _read_pair(self, d: dict):
        """Frames t and ``pair_frame_index(t)`` of an unlabeled video sample: (frames, labels,
        position of t). Sets "pair_frame_index".

        Which frames, not how they are decoded: frames a stream decoded already come as
        "video_frame" and "pair_video_frame" (with "frame_index" and "pair_frame_index") and are
        taken as they are. Otherwise the pair is read as a clip of 2 frames ``pair_distance``
        apart through the same reading path as clips (``_read_frames`` with that length and
        stride), from an encoded video or a sequence folder alike; a stream's lone "video_frame"
        is then dropped and the video read again (correct, but one more seek per sample).
        """
        if "video_frame" in d and "pair_video_frame" in d:
            frames = [d.pop("video_frame"), d.pop("pair_video_frame")]
            if self.image_format == "BGR":
                frames = [f[:, :, ::-1].copy() for f in frames]
            if "pair_frame_index" not in d:
                raise ValueError("A 'pair_video_frame' needs its 'pair_frame_index'")
            return frames, [None, None], 0
        if d.pop("video_frame", None) is not None and not self._warned_pairless_stream:
            logger.warning(
                "The unlabeled stream decoded single frames but INPUT.UNLABELED_PAIR_DISTANCE is "
                "%d: every pair is read again from its video file.",
                self.pair_distance,
            )
            self._warned_pairless_stream = True
        # The clip geometry is read from clip_length / clip_stride: a pair is a 2-frame clip.
        reader = copy.copy(self)
        reader.clip_length, reader.clip_stride = 2, self.pair_distance
        read = reader._read_frames(d)
        if read is None:
            return None
        frames, labels, key = read
        indices = d.pop("clip_frame_indices")
        d["pair_frame_index"] = indices[1 - key]
        return frames, labels, key

    def _sample_transforms(self, d: dict, frame: np.ndarray, label) -> T.TransformList:
        """One augmentation per sample (clip, pair), sampled on the dict's own frame so that
        data-dependent ones such as the category-area crop see its label, and then applied to
        every frame and label alike: the geometric augmentations, the video-like ones for the
        "image" domain, then the padding."""
        aug_input = T.AugInput(frame, sem_seg=label)
        transforms = self.augmentations(aug_input)
        if self.video_augmentations is not None and d["domain"] == "image":
            transforms = transforms + self.video_augmentations(aug_input)
        if self.padding is not None:
            transforms = transforms + self.padding(aug_input)
        return transforms

    # ---- mapping --------------------------------------------------------------------------------

    def __call__(self, dataset_dict: dict) -> dict | None:
        d = copy.deepcopy(dataset_dict)
        if d.get("domain") not in DOMAINS:
            raise ValueError(
                f"Dataset dict for {d.get('file_name', d.get('video_file'))} has domain "
                f"{d.get('domain')!r}; every sample needs 'domain' in {DOMAINS}"
            )
        pair = self._wants_pair(d)
        read = self._read_pair(d) if pair else self._read_frames(d)
        if read is None:
            return None
        frames, labels, key = read
        still = "video_file" not in d and not ("video_id" in d and self.clip_length > 1)
        if still and self.clip_length > 1:
            frames, labels = move_still_clip(frames, labels, self.still_motion)
        sizes = {f.shape[:2] for f in frames}
        if len(sizes) > 1:
            raise ValueError(
                f"Frames of the clip of {d.get('file_name', d.get('video_file'))} differ in size "
                f"{sorted(sizes)}; every frame of a sequence must have one size"
            )
        d.setdefault("height", frames[key].shape[0])
        d.setdefault("width", frames[key].shape[1])
        labeled = any(label is not None for label in labels)
        transforms = self._sample_transforms(d, frames[key], labels[key])
        images, targets = [], []
        for frame, label in zip(frames, labels):
            if labeled and label is None:
                label = np.full(frame.shape[:2], self.ignore_label, dtype=np.uint8)
            images.append(np.ascontiguousarray(transforms.apply_image(frame).transpose(2, 0, 1)))
            targets.append(transforms.apply_segmentation(label) if labeled else None)
        if not labeled and self.padding is not None:
            # Which pixels are frame and which are padding: losses on unlabeled predictions
            # (entropy, pseudo-labels) leave the padding out.
            ones = np.ones(frames[key].shape[:2], dtype=np.uint8)
            d["valid"] = torch.as_tensor(transforms.apply_segmentation(ones) == 1)
        if pair:
            d["image"] = torch.as_tensor(images[key])
            d["pair_image"] = torch.as_tensor(images[1 - key])
            return d
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
