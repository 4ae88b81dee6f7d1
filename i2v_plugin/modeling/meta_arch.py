"""``I2VSemanticSegmentor``: semantic segmentation trained on labeled samples, plus
domain-adversarial losses on every sample of a mixed image/video batch."""

import torch
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
        return {
            "backbone": backbone,
            "sem_seg_head": build_sem_seg_head(cfg, backbone.output_shape()),
            "pixel_mean": cfg.MODEL.PIXEL_MEAN,
            "pixel_std": cfg.MODEL.PIXEL_STD,
            "adversarial": build_adversarial_branch(cfg, backbone),
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
            batched_inputs: list of dicts from ``I2VDatasetMapper``: "image" (C, H, W) uint8,
                "domain" ("image" or "video"), "sem_seg" (H, W) long when labeled, and
                "height"/"width" (output size) at inference.
        Returns:
            training: dict of weighted losses, ``loss_sem_seg`` and ``loss_adv_*``;
            inference: list of ``{"sem_seg": (num_classes, height, width) logits}``.
        """
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
