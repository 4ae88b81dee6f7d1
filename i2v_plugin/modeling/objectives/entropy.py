"""Entropy minimisation (ADVENT, Vu et al., 2019): the student's prediction entropy on
unlabeled frames, normalised by log C so that it lies in [0, 1], as a training objective."""

import math

import torch
from detectron2.utils.events import get_event_storage

from ...utils.precision import float32_region
from .base import OBJECTIVE_REGISTRY, TrainingObjective


def normalized_entropy(logits: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) logits -> (N, H, W) float32 entropy of the softmax divided by log C
    (computed in float32, autocast off)."""
    with float32_region(logits.device):
        log_probs = logits.float().log_softmax(dim=1)
        entropy = -(log_probs.exp() * log_probs).sum(dim=1)
        return entropy / math.log(logits.shape[1])


def entropy_loss(logits: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean normalised entropy over the valid pixels (padding excluded).

    Args:
        logits: (N, C, H, W); valid: (N, H, W) bool.
    """
    entropy = normalized_entropy(logits)
    with float32_region(logits.device):
        return (entropy * valid).sum() / valid.sum().clamp_min(1)


@OBJECTIVE_REGISTRY.register()
class EntropyMinimization(TrainingObjective):
    """``loss_entropy``: the unlabeled frames run through backbone and head (BatchNorm as
    ``MODEL.I2V.UNLABELED_BN`` says) and their mean normalised prediction entropy is minimised.

    Config: ``MODEL.I2V.ENTROPY.{ENABLED, LOSS_WEIGHT}``. Instance name ``entropy``. Figure:
    ``i2v/entropy`` (unweighted).
    """

    unlabeled_input = "frames"

    def __init__(self, weight: float):
        super().__init__("entropy")
        self.weight = float(weight)

    @classmethod
    def enabled(cls, cfg) -> bool:
        return bool(cfg.MODEL.I2V.ENTROPY.ENABLED)

    @classmethod
    def build(cls, cfg, backbone, sem_seg_head) -> list["EntropyMinimization"]:
        return [cls(cfg.MODEL.I2V.ENTROPY.LOSS_WEIGHT)]

    def forward(self, step) -> dict:
        step.require_unlabeled("Entropy minimisation")
        clips, logits = step.unlabeled_logits()
        loss = entropy_loss(logits, step.valid(step.unlabeled, clips.tensor.shape[-2:]))
        get_event_storage().put_scalar("i2v/entropy", loss.item(), smoothing_hint=False)
        return {"loss_entropy": loss * self.weight}
