"""``SelfTraining``: mean-teacher self-training on unlabeled frames (DAFormer-style), optionally
with ClassMix and with temporal agreement on pairs of frames.

A registered training objective (``MODEL.I2V.SELF_TRAINING``, instance ``self_training``,
loss ``loss_self_training``). One step (all inside the model's forward, so Detectron2's stock
``run_step`` stays):

1. The EMA teacher takes ``alpha = min(1 - 1 / (iter + 1), decay)`` of itself and the rest from
   the student (``ema.py``); ``iter`` is the trainer iteration from the event storage.
2. The teacher predicts the weakly augmented unlabeled frames (the mapper's output) in eval mode,
   without gradients. Pseudo-label = its class per pixel, kept where its max probability reaches
   the threshold (and, with temporal pairs, where both frames agree, ``temporal.py``).
3. Quality weight (DAFormer): each frame's loss is weighted by its fraction of kept pixels.
4. Optional ClassMix: half of the classes of a labeled image are pasted onto each view; pasted
   pixels take the image's label with weight 1.
5. The student segments strong views of the (mixed) frames (``strong_aug.py``: photometric only,
   so pixels stay aligned with the teacher's) and learns the kept pixels by weighted cross
   entropy (``pseudo_labels.py``). A step with no kept pixel gives an exact 0 that still depends
   on every student parameter.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F
from detectron2.structures import ImageList
from detectron2.utils.events import get_event_storage
from torch import nn

from ...clips import as_clip
from ..base import OBJECTIVE_REGISTRY, TrainingObjective
from .classmix import classmix_masks
from .ema import EMATeacher
from .pseudo_labels import (
    class_histogram,
    confident_pseudo_labels,
    pixel_weights,
    quality_weights,
    weighted_cross_entropy,
)
from .strong_aug import StrongPhotometric
from .temporal import ALIGN_MODES, grey_levels, phase_correlation_shift, temporal_pseudo_labels


class TemporalAgreement:
    """Options of the temporal pseudo-labels (``MODEL.I2V.SELF_TRAINING.TEMPORAL``)."""

    def __init__(self, align: str = "phase", max_shift: float = 0.25):
        if align not in ALIGN_MODES:
            raise ValueError(
                f"MODEL.I2V.SELF_TRAINING.TEMPORAL.ALIGN must be one of {ALIGN_MODES}, got "
                f"{align!r}"
            )
        if not 0.0 <= max_shift <= 0.5:
            raise ValueError(f"TEMPORAL.MAX_SHIFT must lie in [0, 0.5], got {max_shift}")
        self.align = align
        self.max_shift = float(max_shift)

    def shifts(self, frames_t, frames_k, valid) -> torch.Tensor:
        """(N, 2) shift of frame t + k relative to frame t (zeros without alignment)."""
        if self.align == "none":
            return torch.zeros(frames_t.shape[0], 2, dtype=torch.long, device=frames_t.device)
        return phase_correlation_shift(
            grey_levels(frames_t, valid), grey_levels(frames_k, valid), self.max_shift
        )


@OBJECTIVE_REGISTRY.register()
class SelfTraining(TrainingObjective):
    """Owns the EMA teacher; computes ``loss_self_training`` from unlabeled frames.

    Config: ``MODEL.I2V.SELF_TRAINING.*`` (``build.py``). Unlabeled input: frames, or frame
    pairs with ``TEMPORAL.ENABLED``.
    """

    unlabeled_input = "frames"

    def __init__(
        self,
        *,
        teacher: EMATeacher,
        threshold: float,
        num_classes: int,
        loss_weight: float = 1.0,
        quality_weight: bool = True,
        strong: StrongPhotometric | None = None,
        classmix: bool = False,
        temporal: TemporalAgreement | None = None,
        ignore_value: int = 255,
        class_portion: float = 0.0,
    ):
        """
        Args:
            teacher: the EMA teacher (a copy of the student's backbone and head).
            threshold: confidence a pseudo-label needs (max softmax probability).
            num_classes: classes of the head (for the pseudo-label histogram).
            loss_weight: weight of ``loss_self_training``.
            quality_weight: weight each frame by its fraction of kept pixels (DAFormer).
            strong: the strong view (None: the weak frames themselves).
            classmix: mix each view with a labeled sample (needs labeled frames in ``forward``).
            temporal: temporal agreement on frame pairs, or None (single frames).
            ignore_value: label of unlabeled pixels in labeled targets.
            class_portion: class-balanced pseudo-label selection (CBST): the most confident
                fraction of each predicted class is kept below ``threshold`` too; 0 off.
        """
        super().__init__("self_training")
        if not 0.0 <= class_portion <= 1.0:
            raise ValueError(
                f"MODEL.I2V.SELF_TRAINING.CLASS_PORTION must lie in [0, 1], got {class_portion}"
            )
        self.class_portion = float(class_portion)
        self.teacher = teacher
        self.threshold = float(threshold)
        self.num_classes = int(num_classes)
        self.loss_weight = float(loss_weight)
        self.quality_weight = bool(quality_weight)
        self.strong = strong
        self.classmix = bool(classmix)
        self.temporal = temporal
        self.ignore_value = int(ignore_value)

    @classmethod
    def enabled(cls, cfg) -> bool:
        st = cfg.MODEL.I2V.SELF_TRAINING
        if st.TEMPORAL.ENABLED and not st.ENABLED:
            raise ValueError(
                "MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED needs SELF_TRAINING.ENABLED True"
            )
        return bool(st.ENABLED)

    @classmethod
    def unlabeled_input_for(cls, cfg) -> str:
        return "frame_pairs" if cfg.MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED else "frames"

    @classmethod
    def build(cls, cfg, backbone, sem_seg_head) -> list["SelfTraining"]:
        return [cls.from_config(cfg, backbone, sem_seg_head)]

    @classmethod
    def from_config(cls, cfg, backbone: nn.Module, sem_seg_head: nn.Module) -> "SelfTraining":
        """The objective with an EMA teacher copied from ``backbone`` and ``sem_seg_head``."""
        st = cfg.MODEL.I2V.SELF_TRAINING
        temporal = None
        if st.TEMPORAL.ENABLED:
            if cfg.INPUT.UNLABELED_PAIR_DISTANCE <= 0:
                raise ValueError(
                    "MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED needs frame pairs: set "
                    "INPUT.UNLABELED_PAIR_DISTANCE > 0 (in native frames)"
                )
            temporal = TemporalAgreement(st.TEMPORAL.ALIGN, st.TEMPORAL.MAX_SHIFT)
        if not 0.0 <= st.THRESHOLD <= 1.0:
            raise ValueError(
                f"MODEL.I2V.SELF_TRAINING.THRESHOLD must lie in [0, 1], got {st.THRESHOLD}"
            )
        strong = StrongPhotometric(
            jitter=st.STRONG.JITTER,
            blur_sigma=st.STRONG.BLUR_SIGMA,
            blur_prob=st.STRONG.BLUR_PROB,
            noise_std=st.STRONG.NOISE_STD,
            image_format=cfg.INPUT.FORMAT,
        )
        return cls(
            teacher=EMATeacher(backbone, sem_seg_head, st.EMA_DECAY),
            threshold=st.THRESHOLD,
            num_classes=cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES,
            loss_weight=st.LOSS_WEIGHT,
            quality_weight=st.QUALITY_WEIGHT,
            strong=strong,
            classmix=st.CLASSMIX,
            temporal=temporal,
            class_portion=st.CLASS_PORTION,
            ignore_value=cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
        )

    def forward(self, step) -> dict:
        """The step's unlabeled frames (and their pairs), and the labeled frames and labels for
        ClassMix, padded to one size; the student is the model's own unlabeled pass.

        Returns:
            ``{"loss_self_training": weighted loss}`` (see ``loss``).
        """
        step.require_unlabeled("Self-training")
        labeled, unlabeled = step.labeled, step.unlabeled
        device = step.model.device
        length = as_clip(unlabeled[0]["image"], 3).shape[0]
        groups = [[as_clip(x["image"], 3) for x in unlabeled]]
        if self.temporal is not None:
            # A sample without a pair (a still image) is its own pair: plain self-training.
            groups.append([as_clip(x.get("pair_image", x["image"]), 3) for x in unlabeled])
        if self.classmix:
            groups.append([as_clip(x["image"], 3) for x in labeled])
        frames = [f.to(device).float() for group in groups for f in group]
        padded = ImageList.from_tensors(frames, step.model.backbone.size_divisibility).tensor
        size = padded.shape[-2:]
        parts = padded.split([len(group) for group in groups])
        labeled_images = labeled_targets = None
        if self.classmix:
            labeled_images = parts[-1].flatten(0, 1)
            targets = [as_clip(x["sem_seg"], 2).to(device) for x in labeled]
            pad = [(0, size[1] - t.shape[-1], 0, size[0] - t.shape[-2]) for t in targets]
            labeled_targets = torch.cat(
                [F.pad(t, p, value=self.ignore_value) for t, p in zip(targets, pad)]
            )
        return self.loss(
            student=lambda views: step.segment_views(views, length),
            student_modules=(step.model.backbone, step.model.sem_seg_head),
            normalize=step.normalize,
            weak=parts[0].flatten(0, 1),
            valid=step.valid(unlabeled, size),
            pair=parts[1].flatten(0, 1) if self.temporal is not None else None,
            labeled_images=labeled_images,
            labeled_targets=labeled_targets,
            frames_per_sample=length,
            iteration=step.iteration,
        )

    def loss(
        self,
        *,
        student: Callable[[torch.Tensor], torch.Tensor],
        student_modules: tuple[nn.Module, nn.Module],
        normalize: Callable[[torch.Tensor], torch.Tensor],
        weak: torch.Tensor,
        valid: torch.Tensor,
        pair: torch.Tensor | None = None,
        labeled_images: torch.Tensor | None = None,
        labeled_targets: torch.Tensor | None = None,
        frames_per_sample: int = 1,
        iteration: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """
        Args:
            student: raw frames (M, 3, H, W) in 0..255 -> student logits (M, C, H, W), M a
                multiple of ``frames_per_sample`` (the model's unlabeled pass).
            student_modules: the student's (backbone, head), which the teacher follows.
            normalize: raw frames -> the networks' input (pixel mean and std).
            weak: (N, 3, H, W) raw weakly augmented unlabeled frames (N = samples x T).
            valid: (N, H, W) bool, False on padding.
            pair: (N, 3, H, W) raw frames t + k of each sample (temporal agreement only).
            labeled_images: (L * T, 3, H, W) raw labeled frames (ClassMix only).
            labeled_targets: (L * T, H, W) long their labels (ClassMix only).
            frames_per_sample: T, frames per sample (clips); pairs need 1.
            iteration: the trainer iteration (default: the event storage's).
        Returns:
            ``{"loss_self_training": weighted loss}``. Figures go to the event storage:
            ``i2v/pseudo/{ema_alpha, confident, quality, class_<k>}``, with ClassMix
            ``i2v/pseudo/mixed`` and with pairs ``i2v/pseudo/{temporal_agreement, shift_px}``.
        """
        storage = get_event_storage()
        t = frames_per_sample
        alpha = self.teacher.update(
            *student_modules, storage.iter if iteration is None else iteration
        )
        figures = {"i2v/pseudo/ema_alpha": alpha}
        n, _, h, w = weak.shape
        if self.temporal is not None:
            if pair is None or t != 1:
                raise ValueError(
                    "Temporal self-training needs a 'pair_image' per unlabeled sample and single "
                    "frames (INPUT.UNLABELED_PAIR_DISTANCE > 0, INPUT.CLIP.LENGTH 1)"
                )
            frames = torch.cat([weak, pair])
            probs = self.teacher.predict(normalize(frames).view(-1, 1, 3, h, w))
            shifts = self.temporal.shifts(weak, pair, valid)
            labels_t, keep_t, labels_k, keep_k, stats = temporal_pseudo_labels(
                probs[:n], probs[n:], valid, self.threshold, shifts, self.class_portion
            )
            labels, keep = torch.cat([labels_t, labels_k]), torch.cat([keep_t, keep_k])
            valid = torch.cat([valid, valid])
            figures["i2v/pseudo/temporal_agreement"] = stats["agreement"]
            figures["i2v/pseudo/shift_px"] = stats["shift"]
        else:
            frames = weak
            probs = self.teacher.predict(normalize(frames).view(-1, t, 3, h, w))
            labels, keep = confident_pseudo_labels(probs, self.threshold, valid, self.class_portion)
        quality = quality_weights(keep, valid)
        weights = pixel_weights(keep, quality if self.quality_weight else None)
        figures["i2v/pseudo/confident"] = float(keep.sum()) / max(1, int(valid.sum()))
        figures["i2v/pseudo/quality"] = float(quality.mean())
        histogram = class_histogram(labels, keep, self.num_classes)
        figures.update({f"i2v/pseudo/class_{k}": float(v) for k, v in enumerate(histogram)})
        if self.classmix:
            if labeled_images is None or labeled_targets is None:
                raise ValueError("ClassMix needs the labeled frames of the batch")
            masks, sources = classmix_masks(
                labeled_targets, frames.shape[0] // t, self.ignore_value, t
            )
            pasted = masks.unsqueeze(1)
            frames = torch.where(pasted, labeled_images[sources], frames)
            labels = torch.where(masks, labeled_targets[sources], labels)
            weights = torch.where(masks, torch.ones_like(weights), weights)
            figures["i2v/pseudo/mixed"] = float(masks.float().mean())
        views = self.strong(frames, t) if self.strong is not None else frames
        loss = weighted_cross_entropy(student(views), labels, weights)
        storage.put_scalars(**figures, smoothing_hint=False)
        return {"loss_self_training": loss * self.loss_weight}
