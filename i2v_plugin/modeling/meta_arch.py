"""``I2VSemanticSegmentor``: semantic segmentation trained on labeled samples, plus
domain-adversarial losses on every sample of a mixed image/video batch.

Images take the image path: "image" (3, H, W) -> one (C, H, W) prediction each. Clips take the
clip path, chosen when the backbone takes clips (``takes_clips``, e.g. VideoSwin) or an input's
"image" is (T, 3, H, W): time is folded into the batch after the backbone (``modeling/clips.py``),
so the head predicts every frame, the loss covers every labeled frame, and the discriminators see
per-frame maps labeled with their clip's domain (the 3D PatchGAN regroups them into clips).
"""

import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.modeling import (
    META_ARCH_REGISTRY,
    build_backbone,
    build_sem_seg_head,
)
from detectron2.modeling.postprocessing import sem_seg_postprocess
from detectron2.structures import ImageList
from torch import nn

from ..data.domains import domain_index
from .adversarial.build import DomainAdversarialBranch, build_adversarial_branch
from .clips import as_clip, check_clip_length, fold_time, use_clip_patchgans


@META_ARCH_REGISTRY.register()
class I2VSemanticSegmentor(nn.Module):
    """Backbone + segmentation head, with an optional ``DomainAdversarialBranch``.

    Training: the segmentation loss uses the samples that carry ``sem_seg``; the adversarial
    branch sees the tapped maps of all samples. Unlabeled samples run through the backbone only as
    deep as the deepest tap. Inference never touches the adversarial branch (no clustering).
    """

    @configurable
    def __init__(
        self,
        *,
        backbone: nn.Module,
        sem_seg_head: nn.Module,
        pixel_mean,
        pixel_std,
        adversarial: DomainAdversarialBranch | None = None,
        ignore_value: int = 255,
    ):
        """
        Args:
            backbone: a Detectron2 backbone whose ``forward(x, out_features=None)`` can stop early
                (e.g. ``D2SwinTransformer``).
            sem_seg_head: a head called as ``head(features, targets)`` (Detectron2 convention).
            pixel_mean, pixel_std: per-channel normalisation (length 3).
            adversarial: the adversarial losses, or None for source-only training.
            ignore_value: label used to pad targets.
        """
        super().__init__()
        self.backbone = backbone
        self.sem_seg_head = sem_seg_head
        self.adversarial = adversarial
        self.ignore_value = ignore_value
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean).view(-1, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std).view(-1, 1, 1), False)

    @classmethod
    def from_config(cls, cfg):
        backbone = build_backbone(cfg)
        adversarial = build_adversarial_branch(cfg, backbone)
        if adversarial is not None and getattr(backbone, "takes_clips", False):
            # A clip backbone's PatchGAN judges whole clips: the 3D PatchGAN.
            use_clip_patchgans(adversarial, cfg.INPUT.CLIP.LENGTH)
        return {
            "backbone": backbone,
            "sem_seg_head": build_sem_seg_head(cfg, backbone.output_shape()),
            "pixel_mean": cfg.MODEL.PIXEL_MEAN,
            "pixel_std": cfg.MODEL.PIXEL_STD,
            "adversarial": adversarial,
            "ignore_value": cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE,
        }

    @property
    def device(self) -> torch.device:
        return self.pixel_mean.device

    def _images(self, batched_inputs: list[dict]) -> ImageList:
        images = [
            (x["image"].to(self.device) - self.pixel_mean) / self.pixel_std for x in batched_inputs
        ]
        return ImageList.from_tensors(images, self.backbone.size_divisibility)

    def _targets(self, batched_inputs: list[dict], images: ImageList) -> torch.Tensor:
        targets = [x["sem_seg"].to(self.device) for x in batched_inputs]
        return ImageList.from_tensors(
            targets, self.backbone.size_divisibility, pad_value=self.ignore_value
        ).tensor[..., : images.tensor.shape[-2], : images.tensor.shape[-1]]

    def forward(self, batched_inputs: list[dict]):
        """
        Args:
            batched_inputs: list of dicts from ``I2VDatasetMapper``: "image" (C, H, W) uint8 or,
                for clips, (T, C, H, W); "domain" ("image" or "video"); "sem_seg" (H, W) or
                (T, H, W) long when labeled; "height"/"width" (output size) at inference; for
                clips optionally "clip_key_index" (the frame the sample stands for).
        Returns:
            training: dict of weighted losses, ``loss_sem_seg`` and ``loss_adv_*``;
            inference: list of ``{"sem_seg": (num_classes, height, width) logits}``; a clip input
            adds ``"clip_sem_seg"`` (T, num_classes, height, width) and its "sem_seg" is the
            frame at "clip_key_index" (default: the centre frame, (T - 1) // 2).
        """
        if self._takes_clip_path(batched_inputs):
            return self._forward_clips(batched_inputs)
        if not self.training:
            return self.inference(batched_inputs)
        labeled = [x for x in batched_inputs if "sem_seg" in x]
        unlabeled = [x for x in batched_inputs if "sem_seg" not in x]
        if not labeled:
            raise ValueError("A training batch needs at least one labeled sample (with 'sem_seg').")

        images = self._images(labeled)
        head_features = self.sem_seg_head.in_features
        taps = self.adversarial.feature_names if self.adversarial is not None else []
        features = self.backbone(images.tensor, out_features=sorted(set(head_features) | set(taps)))
        _, losses = self.sem_seg_head(
            {k: features[k] for k in head_features}, self._targets(labeled, images)
        )
        if self.adversarial is None:
            return losses

        tapped = {k: features[k] for k in taps}
        domains = [x["domain"] for x in labeled]
        if unlabeled:
            unlabeled_images = self._images(unlabeled)
            if unlabeled_images.tensor.shape[-2:] != images.tensor.shape[-2:]:
                raise ValueError(
                    "Labeled and unlabeled training samples must share one padded size "
                    f"(got {tuple(images.tensor.shape[-2:])} and "
                    f"{tuple(unlabeled_images.tensor.shape[-2:])}); enable INPUT.CROP and "
                    "INPUT.PAD_TO_CROP_SIZE."
                )
            extra = self.backbone(unlabeled_images.tensor, out_features=taps)
            tapped = {k: torch.cat([tapped[k], extra[k]], dim=0) for k in taps}
            domains += [x["domain"] for x in unlabeled]
        domain_ids = torch.tensor([domain_index(d) for d in domains], device=self.device)
        losses.update(self.adversarial(tapped, domain_ids))
        return losses

    def inference(self, batched_inputs: list[dict]) -> list[dict]:
        """Segment each input; returns ``[{"sem_seg": (num_classes, height, width)}]``."""
        images = self._images(batched_inputs)
        features = self.backbone(images.tensor, out_features=self.sem_seg_head.in_features)
        logits, _ = self.sem_seg_head(features)
        results = []
        for logit, x, image_size in zip(logits, batched_inputs, images.image_sizes):
            height = x.get("height", image_size[0])
            width = x.get("width", image_size[1])
            results.append({"sem_seg": sem_seg_postprocess(logit, image_size, height, width)})
        return results

    # ---- clip path ------------------------------------------------------------------------------

    def _takes_clip_path(self, batched_inputs: list[dict]) -> bool:
        return getattr(self.backbone, "takes_clips", False) or any(
            x["image"].dim() == 4 for x in batched_inputs
        )

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

    def _clip_targets(self, batched_inputs: list[dict], clips: ImageList) -> torch.Tensor:
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

    def _frame_features(self, clips: ImageList, names) -> dict[str, torch.Tensor]:
        """Backbone maps of every frame, (B*T, C, h, w), clip-major."""
        x = clips.tensor
        if not getattr(self.backbone, "takes_clips", False):
            return self.backbone(x.flatten(0, 1), out_features=names)
        maps = self.backbone(x.transpose(1, 2), out_features=names)
        for name, value in maps.items():
            if value.shape[2] != x.shape[1]:
                raise ValueError(
                    f"Backbone map {name!r} has {value.shape[2]} time steps for clips of "
                    f"{x.shape[1]} frames; per-frame segmentation needs a temporal patch size of 1"
                )
        return {name: fold_time(value) for name, value in maps.items()}

    def _forward_clips(self, batched_inputs: list[dict]):
        if not self.training:
            return self._clip_inference(batched_inputs)
        labeled = [x for x in batched_inputs if "sem_seg" in x]
        unlabeled = [x for x in batched_inputs if "sem_seg" not in x]
        if not labeled:
            raise ValueError("A training batch needs at least one labeled sample (with 'sem_seg').")

        clips = self._clips(labeled)
        length = clips.tensor.shape[1]
        head_features = self.sem_seg_head.in_features
        taps = self.adversarial.feature_names if self.adversarial is not None else []
        features = self._frame_features(clips, sorted(set(head_features) | set(taps)))
        _, losses = self.sem_seg_head(
            {k: features[k] for k in head_features}, self._clip_targets(labeled, clips)
        )
        if self.adversarial is None:
            return losses

        check_clip_length(self.adversarial, length)
        tapped = {k: features[k] for k in taps}
        domains = [x["domain"] for x in labeled]
        if unlabeled:
            extra_clips = self._clips(unlabeled)
            if extra_clips.tensor.shape[1:] != clips.tensor.shape[1:]:
                raise ValueError(
                    "Labeled and unlabeled training clips must share one length and padded size "
                    f"(got {tuple(clips.tensor.shape[1:])} and "
                    f"{tuple(extra_clips.tensor.shape[1:])}); enable INPUT.CROP and "
                    "INPUT.PAD_TO_CROP_SIZE."
                )
            extra = self._frame_features(extra_clips, taps)
            tapped = {k: torch.cat([tapped[k], extra[k]], dim=0) for k in taps}
            domains += [x["domain"] for x in unlabeled]
        domain_ids = torch.tensor([domain_index(d) for d in domains], device=self.device)
        losses.update(self.adversarial(tapped, domain_ids.repeat_interleave(length)))
        return losses

    def _clip_inference(self, batched_inputs: list[dict]) -> list[dict]:
        """Segment every frame; see ``forward`` for the output contract."""
        # Inputs are grouped by clip length so that one call may mix images and clips.
        groups: dict[int, list[int]] = {}
        for i, x in enumerate(batched_inputs):
            groups.setdefault(as_clip(x["image"], 3).shape[0], []).append(i)
        by_index = {}
        for indices in groups.values():
            inputs = [batched_inputs[i] for i in indices]
            clips = self._clips(inputs)
            features = self._frame_features(clips, self.sem_seg_head.in_features)
            logits, _ = self.sem_seg_head(features)
            logits = logits.view(*clips.tensor.shape[:2], *logits.shape[1:])
            for i, x, clip_logits, size in zip(indices, inputs, logits, clips.image_sizes):
                by_index[i] = self._clip_result(x, clip_logits, size)
        return [by_index[i] for i in range(len(batched_inputs))]

    @staticmethod
    def _clip_result(x: dict, logits: torch.Tensor, image_size) -> dict:
        """(T, C, Hpad, Wpad) logits of one input -> its result dict (see ``forward``)."""
        height = x.get("height", image_size[0])
        width = x.get("width", image_size[1])
        frames = logits[:, :, : image_size[0], : image_size[1]]
        frames = F.interpolate(frames, size=(height, width), mode="bilinear", align_corners=False)
        key = x.get("clip_key_index", (frames.shape[0] - 1) // 2)
        result = {"sem_seg": frames[key]}
        if x["image"].dim() == 4:
            result["clip_sem_seg"] = frames
        return result
