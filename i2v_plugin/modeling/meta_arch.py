"""``I2VSemanticSegmentor``: semantic segmentation trained on labeled samples, plus
domain-adversarial losses on every sample of a mixed image/video batch and, optionally, entropy
minimisation and self-training on the unlabeled samples (``self_training/``).

One path for everything: a still image (3, H, W) is a clip of length 1, a clip is (T, 3, H, W).
Inputs become (B, T, 3, H, W) clips, the backbone's ``forward_frames`` returns per-frame maps
(B*T, C, h, w), the head predicts every frame, the loss covers every labeled frame and the
discriminators see per-frame maps labeled with their clip's domain. The time axis is squeezed
again only at the output boundary (an image input gets a plain "sem_seg").
"""

import contextlib

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.modeling import (
    META_ARCH_REGISTRY,
    build_backbone,
    build_sem_seg_head,
)
from detectron2.structures import ImageList
from detectron2.utils.events import get_event_storage
from torch import nn

from ..data.domains import domain_index
from .adversarial.build import DomainAdversarialBranch, build_adversarial_branch
from .backbone.base import TappableBackbone
from .batchnorm import UNLABELED_BN_MODES, unlabeled_batchnorm
from .self_training import SelfTraining, build_self_training, entropy_loss, frame_logits


def as_clip(x: torch.Tensor, frame_dims: int) -> torch.Tensor:
    """Add a time axis of length 1 to a single frame: ``frame_dims`` is 3 for an image
    (3, H, W) and 2 for a label map (H, W); a tensor with one more dim is already a clip."""
    if x.dim() == frame_dims:
        return x.unsqueeze(0)
    if x.dim() != frame_dims + 1:
        raise ValueError(
            f"Expected a frame with {frame_dims} dims or a clip with {frame_dims + 1}, got shape "
            f"{tuple(x.shape)}"
        )
    return x


@META_ARCH_REGISTRY.register()
class I2VSemanticSegmentor(nn.Module):
    """Backbone + segmentation head, with an optional ``DomainAdversarialBranch`` and optional
    objectives on the unlabeled samples (entropy minimisation, ``SelfTraining``).

    Training: the segmentation loss uses the samples that carry ``sem_seg``; the adversarial
    branch sees the tapped maps of all samples (``tapped_features``). Without an unlabeled
    objective, unlabeled samples run through the backbone only as deep as the deepest tap; with
    entropy minimisation they run through backbone and head once (the adversarial taps reuse that
    pass); self-training runs the teacher on them and the student on their strong views. Every
    unlabeled pass follows ``unlabeled_bn`` for BatchNorm layers. Inference never touches the
    adversarial branch (no clustering) nor the teacher.
    """

    @configurable
    def __init__(
        self,
        *,
        backbone: TappableBackbone,
        sem_seg_head: nn.Module,
        pixel_mean,
        pixel_std,
        adversarial: DomainAdversarialBranch | None = None,
        ignore_value: int = 255,
        clip_length: int = 1,
        unlabeled_bn: str = "batch",
        entropy_weight: float = 0.0,
        self_training: SelfTraining | None = None,
    ):
        """
        Args:
            backbone: a ``TappableBackbone`` (stops after the deepest requested map).
            sem_seg_head: a head called as ``head(features, targets)`` (Detectron2 convention).
            pixel_mean, pixel_std: per-channel normalisation (length 3).
            adversarial: the adversarial losses, or None for source-only training.
            ignore_value: label used to pad targets.
            clip_length: frames per training sample (``INPUT.CLIP.LENGTH``); training batches
                must have it (the 3D PatchGAN is built for it). Inference takes any length.
            unlabeled_bn: BatchNorm behaviour of the unlabeled pass, "batch", "frozen" or "update"
                (``modeling/batchnorm.py``).
            entropy_weight: weight of ``loss_entropy`` on the unlabeled samples (0: off).
            self_training: the self-training objective (with its EMA teacher), or None.
        """
        super().__init__()
        self.backbone = backbone
        self.sem_seg_head = sem_seg_head
        self.adversarial = adversarial
        self.ignore_value = ignore_value
        self.clip_length = int(clip_length)
        if unlabeled_bn not in UNLABELED_BN_MODES:
            raise ValueError(
                f"MODEL.I2V.UNLABELED_BN must be one of {UNLABELED_BN_MODES}, got {unlabeled_bn!r}"
            )
        self.unlabeled_bn = unlabeled_bn
        self.entropy_weight = float(entropy_weight)
        self.self_training = self_training
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean).view(-1, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std).view(-1, 1, 1), False)

    @classmethod
    def from_config(cls, cfg):
        backbone = build_backbone(cfg)
        adversarial = build_adversarial_branch(cfg, backbone)
        head = build_sem_seg_head(cfg, backbone.output_shape())
        entropy = cfg.MODEL.I2V.ENTROPY
        return {
            "backbone": backbone,
            "sem_seg_head": head,
            "pixel_mean": cfg.MODEL.PIXEL_MEAN,
            "pixel_std": cfg.MODEL.PIXEL_STD,
            "adversarial": adversarial,
            "ignore_value": cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
            "clip_length": cfg.INPUT.CLIP.LENGTH,
            "unlabeled_bn": cfg.MODEL.I2V.UNLABELED_BN,
            "entropy_weight": entropy.LOSS_WEIGHT if entropy.ENABLED else 0.0,
            "self_training": build_self_training(cfg, backbone, head),
        }

    @property
    def device(self) -> torch.device:
        return self.pixel_mean.device

    # ---- inputs ---------------------------------------------------------------------------------

    def _clips(self, batched_inputs: list[dict]) -> ImageList:
        """Normalised clips padded together: tensor (B, T, C, H, W); image_sizes per clip."""
        clips = [
            (as_clip(x["image"], 3).to(self.device) - self.pixel_mean) / self.pixel_std
            for x in batched_inputs
        ]
        lengths = sorted({c.shape[0] for c in clips})
        if len(lengths) > 1:
            raise ValueError(
                f"Clips of one batch must have the same number of frames, got {lengths}; the "
                "mapper gives every sample INPUT.CLIP.LENGTH frames (still images as copies)"
            )
        return ImageList.from_tensors(clips, self.backbone.size_divisibility)

    def _targets(self, batched_inputs: list[dict], clips: ImageList) -> torch.Tensor:
        """Labels of every frame, padded with the ignore value: (B*T, H, W)."""
        targets = [as_clip(x["sem_seg"], 2).to(self.device) for x in batched_inputs]
        padded = ImageList.from_tensors(
            targets, self.backbone.size_divisibility, pad_value=self.ignore_value
        ).tensor[..., : clips.tensor.shape[-2], : clips.tensor.shape[-1]]
        if padded.shape[:2] != clips.tensor.shape[:2]:
            raise ValueError(
                f"Labels of shape {tuple(padded.shape[1:])} per clip do not match clips of "
                f"{clips.tensor.shape[1]} frames"
            )
        return padded.flatten(0, 1)

    @staticmethod
    def _split(batched_inputs: list[dict]) -> tuple[list[dict], list[dict]]:
        labeled = [x for x in batched_inputs if "sem_seg" in x]
        unlabeled = [x for x in batched_inputs if "sem_seg" not in x]
        return labeled, unlabeled

    # ---- training -------------------------------------------------------------------------------

    def forward(self, batched_inputs: list[dict]):
        """
        Args:
            batched_inputs: list of dicts from ``I2VDatasetMapper``: "image" (3, H, W) uint8 or,
                for clips, (T, 3, H, W); "domain" ("image" or "video"); "sem_seg" (H, W) or
                (T, H, W) long when labeled; "height"/"width" (output size) at inference; for
                clips optionally "clip_key_index" (the frame the sample stands for). Unlabeled
                training samples may carry "valid" (H, W) bool (False on padding) and, for
                temporal self-training, "pair_image" (3, H, W) (the frame k frames later).
        Returns:
            training: dict of weighted losses, ``loss_sem_seg``, ``loss_adv_*``,
            ``loss_entropy`` and ``loss_self_training`` (the configured ones);
            inference: see ``inference``.
        """
        if not self.training:
            return self.inference(batched_inputs)
        labeled, unlabeled = self._split(batched_inputs)
        if not labeled:
            raise ValueError("A training batch needs at least one labeled sample (with 'sem_seg').")
        if not unlabeled and (self.entropy_weight > 0 or self.self_training is not None):
            raise ValueError(
                "Entropy minimisation and self-training need unlabeled samples in every batch "
                "(DATASETS.TRAIN_UNLABELED, SOLVER.IMS_PER_BATCH_UNLABELED > 0)"
            )
        clips = self._clips(labeled)
        if clips.tensor.shape[1] != self.clip_length:
            raise ValueError(
                f"Training clips have {clips.tensor.shape[1]} frames but the model was built for "
                f"clips of {self.clip_length} frames (INPUT.CLIP.LENGTH)"
            )
        head_features = self.sem_seg_head.in_features
        taps = self.adversarial.feature_names if self.adversarial is not None else []
        features = self.backbone.forward_frames(
            clips.tensor, sorted(set(head_features) | set(taps))
        )
        _, losses = self.sem_seg_head(
            {k: features[k] for k in head_features}, self._targets(labeled, clips)
        )
        unlabeled_pass = None
        if self.entropy_weight > 0:
            unlabeled_pass, loss = self._entropy(unlabeled, taps)
            losses["loss_entropy"] = loss * self.entropy_weight
        if self.adversarial is not None:
            tapped, domains = self._tap_all(
                labeled, unlabeled, taps, (clips, features), unlabeled_pass
            )
            losses.update(self.adversarial(tapped, domains))
        if self.self_training is not None:
            losses.update(self._self_training(labeled, unlabeled))
        return losses

    # ---- passes over the unlabeled samples ----------------------------------------------------

    def _unlabeled_bn(self):
        """BatchNorm of backbone and head in the unlabeled passes (``unlabeled_bn``)."""
        stack = contextlib.ExitStack()
        stack.enter_context(unlabeled_batchnorm(self.backbone, self.unlabeled_bn))
        stack.enter_context(unlabeled_batchnorm(self.sem_seg_head, self.unlabeled_bn))
        return stack

    def _valid(self, samples: list[dict], size) -> torch.Tensor:
        """(N, H, W) bool for every frame of ``samples`` padded to ``size``: the mapper's "valid"
        (frame, not crop padding) where given, and False on the batch padding."""
        masks = []
        for x in samples:
            frames = as_clip(x["image"], 3)
            valid = x.get("valid")
            if valid is None:
                valid = torch.ones(frames.shape[-2:], dtype=torch.bool)
            valid = valid.to(self.device, torch.bool)
            pad = (0, size[1] - valid.shape[1], 0, size[0] - valid.shape[0])
            masks.append(F.pad(valid, pad, value=False).expand(frames.shape[0], *size))
        return torch.cat(masks)

    def _entropy(self, unlabeled: list[dict], taps: list[str]):
        """ADVENT's entropy of the unlabeled predictions (mean over valid pixels, normalised by
        log C); returns ((clips, features) of the pass, with the adversarial taps, and the
        unweighted loss)."""
        clips = self._clips(unlabeled)
        names = sorted(set(self.sem_seg_head.in_features) | set(taps))
        with self._unlabeled_bn():
            features = self.backbone.forward_frames(clips.tensor, names)
            logits = self.sem_seg_head.layers(features)
        logits = F.interpolate(
            logits, size=clips.tensor.shape[-2:], mode="bilinear", align_corners=False
        )
        loss = entropy_loss(logits, self._valid(unlabeled, clips.tensor.shape[-2:]))
        get_event_storage().put_scalar("i2v/entropy", loss.item(), smoothing_hint=False)
        return (clips, features), loss

    def _normalize(self, frames: torch.Tensor) -> torch.Tensor:
        return (frames - self.pixel_mean) / self.pixel_std

    def _self_training(self, labeled: list[dict], unlabeled: list[dict]) -> dict:
        """Raw frames for ``SelfTraining``: the unlabeled frames (and their pairs), the labeled
        frames and labels for ClassMix, padded to one size; the student is this model's own
        unlabeled pass."""
        st = self.self_training
        length = as_clip(unlabeled[0]["image"], 3).shape[0]
        groups = [[as_clip(x["image"], 3) for x in unlabeled]]
        if st.temporal is not None:
            # A sample without a pair (a still image) is its own pair: plain self-training.
            groups.append([as_clip(x.get("pair_image", x["image"]), 3) for x in unlabeled])
        if st.classmix:
            groups.append([as_clip(x["image"], 3) for x in labeled])
        frames = [f.to(self.device).float() for group in groups for f in group]
        padded = ImageList.from_tensors(frames, self.backbone.size_divisibility).tensor
        size = padded.shape[-2:]
        parts = padded.split([len(group) for group in groups])
        weak = parts[0].flatten(0, 1)
        pair = parts[1].flatten(0, 1) if st.temporal is not None else None
        labeled_images = labeled_targets = None
        if st.classmix:
            labeled_images = parts[-1].flatten(0, 1)
            targets = [as_clip(x["sem_seg"], 2).to(self.device) for x in labeled]
            labeled_targets = torch.cat(
                [
                    F.pad(
                        t,
                        (0, size[1] - t.shape[-1], 0, size[0] - t.shape[-2]),
                        value=self.ignore_value,
                    )
                    for t in targets
                ]
            )

        def student(views: torch.Tensor) -> torch.Tensor:
            clips = self._normalize(views).view(-1, length, *views.shape[1:])
            with self._unlabeled_bn():
                return frame_logits(self.backbone, self.sem_seg_head, clips)

        return st(
            student=student,
            student_modules=(self.backbone, self.sem_seg_head),
            normalize=self._normalize,
            weak=weak,
            valid=self._valid(unlabeled, size),
            pair=pair,
            labeled_images=labeled_images,
            labeled_targets=labeled_targets,
            frames_per_sample=length,
        )

    def _tap_all(self, labeled, unlabeled, names, labeled_pass=None, unlabeled_pass=None):
        """Maps ``names`` of every frame of ``labeled`` then ``unlabeled`` samples, and their
        domain ids; ``labeled_pass`` / ``unlabeled_pass`` (clips, features) reuse a backbone pass
        of that group."""
        parts, domains, shape = [], [], None
        for group, done in ((labeled, labeled_pass), (unlabeled, unlabeled_pass)):
            if not group:
                continue
            clips, features = done if done is not None else (self._clips(group), None)
            if shape is not None and clips.tensor.shape[1:] != shape:
                raise ValueError(
                    "Labeled and unlabeled training samples must share one clip length and "
                    f"padded size (got {tuple(shape)} and {tuple(clips.tensor.shape[1:])}); "
                    "enable INPUT.CROP and INPUT.PAD_TO_CROP_SIZE."
                )
            shape = clips.tensor.shape[1:]
            if features is None:
                mode = self.unlabeled_bn if group is unlabeled else "update"
                with unlabeled_batchnorm(self.backbone, mode):
                    features = self.backbone.forward_frames(clips.tensor, names)
            parts.append({k: features[k] for k in names})
            length = clips.tensor.shape[1]
            domains += [domain_index(x["domain"]) for x in group for _ in range(length)]
        tapped = {k: torch.cat([p[k] for p in parts], dim=0) for k in names}
        return tapped, torch.tensor(domains, device=self.device)

    def tapped_features(
        self, batched_inputs: list[dict], names=None
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The backbone maps the adversarial losses see, for any batch.

        Args:
            batched_inputs: mapper outputs, labeled and unlabeled mixed.
            names: backbone maps to return (default: the adversarial branch's taps).
        Returns:
            (dict name -> (N, C, h, w) with N = frames of all samples, labeled samples first
            then unlabeled, each clip's frames in order; (N,) int64 domain ids, 0 image,
            1 video). Exactly what a training step hands to the adversarial branch.
        """
        if names is None:
            if self.adversarial is None:
                raise ValueError("tapped_features needs names: this model has no adversarial loss")
            names = self.adversarial.feature_names
        labeled, unlabeled = self._split(batched_inputs)
        return self._tap_all(labeled, unlabeled, list(names))

    def segment_frames(self, batched_inputs: list[dict]) -> torch.Tensor:
        """Logits (N, num_classes, H, W) of every frame of any batch at the padded input size,
        in the model's current mode and without losses or labels: the pass AdaBN
        (``engine/adabn.py``) re-estimates BatchNorm statistics with."""
        return frame_logits(self.backbone, self.sem_seg_head, self._clips(batched_inputs).tensor)

    # ---- inference ------------------------------------------------------------------------------

    def inference(self, batched_inputs: list[dict]) -> list[dict]:
        """Segment every frame of every input.

        Returns, per input: ``{"sem_seg": (num_classes, height, width) logits}``; a clip input
        adds ``"clip_sem_seg"`` (T, num_classes, height, width) and its "sem_seg" is the frame at
        "clip_key_index" (default: the centre frame, (T - 1) // 2).
        """
        # Inputs are grouped by clip length so that one call may mix images and clips.
        groups: dict[int, list[int]] = {}
        for i, x in enumerate(batched_inputs):
            groups.setdefault(as_clip(x["image"], 3).shape[0], []).append(i)
        by_index = {}
        for indices in groups.values():
            inputs = [batched_inputs[i] for i in indices]
            clips = self._clips(inputs)
            features = self.backbone.forward_frames(clips.tensor, self.sem_seg_head.in_features)
            logits, _ = self.sem_seg_head(features)
            logits = logits.view(*clips.tensor.shape[:2], *logits.shape[1:])
            for i, x, clip_logits, size in zip(indices, inputs, logits, clips.image_sizes):
                by_index[i] = self._result(x, clip_logits, size)
        return [by_index[i] for i in range(len(batched_inputs))]

    @staticmethod
    def _result(x: dict, logits: torch.Tensor, image_size) -> dict:
        """(T, C, Hpad, Wpad) logits of one input -> its result dict (see ``inference``)."""
        height = x.get("height", image_size[0])
        width = x.get("width", image_size[1])
        frames = logits[:, :, : image_size[0], : image_size[1]]
        frames = F.interpolate(frames, size=(height, width), mode="bilinear", align_corners=False)
        key = x.get("clip_key_index", (frames.shape[0] - 1) // 2)
        result = {"sem_seg": frames[key]}
        if x["image"].dim() == 4:
            result["clip_sem_seg"] = frames
        return result
