"""``TrainingStep``: what one training step offers the objectives.

The meta-architecture runs the labeled pass (backbone to the head's maps and every objective's
taps, then the segmentation loss) and hands the objectives one ``TrainingStep``. Passes over the
unlabeled samples are run on first request and shared: with entropy minimisation the unlabeled
samples run through backbone and head once and the adversarial taps reuse that pass; without,
they run through the backbone only as deep as the deepest tap. Every unlabeled pass follows the
model's ``unlabeled_bn`` for BatchNorm layers.
"""

import contextlib

import torch
from detectron2.structures import ImageList
from detectron2.utils.events import get_event_storage

from ...utils.domains import domain_index
from ..batchnorm import unlabeled_batchnorm
from ..clips import frame_logits, valid_masks


def tap_samples(model, labeled, unlabeled, names, labeled_pass=None, unlabeled_pass=None):
    """Maps ``names`` of every frame of ``labeled`` then ``unlabeled`` samples, and their
    domain ids.

    Args:
        model: the ``I2VSemanticSegmentor``.
        labeled, unlabeled: mapper outputs.
        names: backbone maps to return.
        labeled_pass, unlabeled_pass: (clips, features) of a backbone pass of that group to
            reuse, or None to run one (labeled: BatchNorm in train mode; unlabeled: as
            ``model.unlabeled_bn`` says).
    Returns:
        (dict name -> (N, C, h, w), N = frames of all samples, labeled first; (N,) int64 domain
        ids, 0 image, 1 video).
    """
    parts, domains, shape = [], [], None
    for group, done in ((labeled, labeled_pass), (unlabeled, unlabeled_pass)):
        if not group:
            continue
        clips, features = done if done is not None else (model.clips(group), None)
        if shape is not None and clips.tensor.shape[1:] != shape:
            raise ValueError(
                "Labeled and unlabeled training samples must share one clip length and "
                f"padded size (got {tuple(shape)} and {tuple(clips.tensor.shape[1:])}); "
                "enable INPUT.CROP and INPUT.PAD_TO_CROP_SIZE."
            )
        shape = clips.tensor.shape[1:]
        if features is None:
            mode = model.unlabeled_bn if group is unlabeled else "update"
            with unlabeled_batchnorm(model.backbone, mode):
                features = model.backbone.forward_frames(clips.tensor, names)
        parts.append({k: features[k] for k in names})
        length = clips.tensor.shape[1]
        domains += [domain_index(x["domain"]) for x in group for _ in range(length)]
    tapped = {k: torch.cat([p[k] for p in parts], dim=0) for k in names}
    return tapped, torch.tensor(domains, device=model.device)


class TrainingStep:
    """One training iteration as the objectives see it.

    Attributes:
        model: the ``I2VSemanticSegmentor`` (``backbone``, ``sem_seg_head``, ``ignore_value``,
            ``unlabeled_bn``, ``device``).
        labeled, unlabeled: the batch's samples with and without "sem_seg" (mapper outputs).
        labeled_clips: ``ImageList`` of the labeled clips (B, T, 3, H, W), normalised.
        labeled_features: backbone maps of the labeled pass (the head's and every tap).
        taps: every map the objectives tap (sorted).
    """

    def __init__(self, model, labeled, unlabeled, labeled_clips, labeled_features, taps):
        self.model = model
        self.labeled = labeled
        self.unlabeled = unlabeled
        self.labeled_clips = labeled_clips
        self.labeled_features = labeled_features
        self.taps = list(taps)
        self._unlabeled_pass = None
        self._tapped = None

    @property
    def iteration(self) -> int:
        """The trainer iteration (schedules and seeds derive from it, so resume is exact)."""
        return get_event_storage().iter

    def require_unlabeled(self, who: str) -> None:
        """Raise a clear error when the batch has no unlabeled sample for ``who``."""
        if not self.unlabeled:
            raise ValueError(
                f"{who} needs unlabeled samples in every batch "
                "(DATASETS.TRAIN_UNLABELED, SOLVER.IMS_PER_BATCH_UNLABELED > 0)"
            )

    def normalize(self, frames: torch.Tensor) -> torch.Tensor:
        """Raw frames (..., 3, H, W) in 0..255 -> the networks' input."""
        return (frames - self.model.pixel_mean) / self.model.pixel_std

    def unlabeled_bn(self):
        """Context for a pass of unlabeled samples: BatchNorm of backbone and head as
        ``MODEL.I2V.UNLABELED_BN`` says."""
        stack = contextlib.ExitStack()
        stack.enter_context(unlabeled_batchnorm(self.model.backbone, self.model.unlabeled_bn))
        stack.enter_context(unlabeled_batchnorm(self.model.sem_seg_head, self.model.unlabeled_bn))
        return stack

    def valid(self, samples: list[dict], size) -> torch.Tensor:
        """(N, H, W) bool for every frame of ``samples`` padded to ``size`` (False on padding)."""
        return valid_masks(samples, size, self.model.device)

    def unlabeled_logits(self) -> tuple[ImageList, torch.Tensor]:
        """The unlabeled samples through backbone and head (once per step).

        Returns:
            (their normalised clips, logits (N, C, H, W) at the padded input size); the pass's
            backbone maps (with every tap) are reused by ``tapped``.
        """
        if self._unlabeled_pass is None:
            clips = self.model.clips(self.unlabeled)
            head = self.model.sem_seg_head
            names = sorted(set(head.in_features) | set(self.taps))
            with self.unlabeled_bn():
                features = self.model.backbone.forward_frames(clips.tensor, names)
                logits = head.layers(features)
            logits = torch.nn.functional.interpolate(
                logits, size=clips.tensor.shape[-2:], mode="bilinear", align_corners=False
            )
            self._unlabeled_pass = (clips, features, logits)
        clips, _, logits = self._unlabeled_pass
        return clips, logits

    def tapped(self) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Every tapped map of every sample (labeled first) and the domain ids (once per step);
        see ``tap_samples``."""
        if self._tapped is None:
            reuse = None
            if self._unlabeled_pass is not None:
                reuse = self._unlabeled_pass[:2]
            self._tapped = tap_samples(
                self.model,
                self.labeled,
                self.unlabeled,
                self.taps,
                (self.labeled_clips, self.labeled_features),
                reuse,
            )
        return self._tapped

    def segment_views(self, views: torch.Tensor, frames_per_sample: int) -> torch.Tensor:
        """The student's logits of new unlabeled views.

        Args:
            views: (M, 3, H, W) raw frames in 0..255, M a multiple of ``frames_per_sample``.
            frames_per_sample: T of the clips the views come from.
        Returns:
            (M, C, H, W) logits (backbone and head, BatchNorm as for unlabeled samples).
        """
        clips = self.normalize(views).view(-1, frames_per_sample, *views.shape[1:])
        with self.unlabeled_bn():
            return frame_logits(self.model.backbone, self.model.sem_seg_head, clips)
