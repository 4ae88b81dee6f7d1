"""Confident pseudo-labels, their quality weights (DAFormer) and the weighted cross entropy."""

import torch
import torch.nn.functional as F

from ....utils.precision import float32_region


def confident_pseudo_labels(
    probs: torch.Tensor, threshold: float, valid: torch.Tensor, class_portion: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's class per pixel and whether it is confident.

    With ``class_portion`` p > 0, class-balanced selection as in CBST (Zou et al., ECCV 2018) is
    added: for every class the teacher predicts in the batch, the most confident fraction p of
    its pixels is kept even below ``threshold``. A fixed threshold alone keeps only the dominant
    class when the teacher is unsure about the rare ones (on the synthetic videos: background
    only), and self-training then teaches "everything is background".

    Args:
        probs: (N, C, H, W) softmax probabilities.
        threshold: a pixel is confident when its max probability is >= this.
        valid: (N, H, W) bool, False on padding.
        class_portion: p in [0, 1]; 0 keeps the plain threshold.
    Returns:
        (labels (N, H, W) long, confident (N, H, W) bool).
    """
    confidence, labels = probs.max(dim=1)
    keep = confidence >= threshold
    if class_portion > 0:
        for c in labels[valid].unique().tolist():
            mask = (labels == c) & valid
            scores = confidence[mask]
            top = max(1, int(round(class_portion * scores.numel())))
            keep |= mask & (confidence >= scores.topk(top).values.min())
    return labels, keep & valid


def quality_weights(keep: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """DAFormer's pseudo-label quality: per frame, the fraction of its valid pixels kept.

    Args:
        keep, valid: (N, H, W) bool.
    Returns:
        (N,) float in [0, 1].
    """
    return keep.flatten(1).sum(1).float() / valid.flatten(1).sum(1).clamp_min(1).float()


def pixel_weights(keep: torch.Tensor, quality: torch.Tensor | None) -> torch.Tensor:
    """Per-pixel loss weights (N, H, W): the frame's quality (or 1 when None) on kept pixels,
    0 elsewhere."""
    weights = keep.float()
    return weights if quality is None else weights * quality.view(-1, 1, 1)


def weighted_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """``sum(w * CE) / (number of pixels with w > 0)``: with quality weights, each frame's mean
    loss over its supervised pixels times its quality. Exactly 0 when no pixel is supervised,
    and still a function of ``logits`` (the graph reaches every parameter that made them).
    Computed in float32 (autocast off), whatever the logits' dtype.

    Args:
        logits: (N, C, H, W); labels: (N, H, W) long; weights: (N, H, W) float >= 0.
    """
    with float32_region(logits.device):
        per_pixel = F.cross_entropy(logits.float(), labels, reduction="none")
        return (weights.float() * per_pixel).sum() / (weights > 0).sum().clamp_min(1)


def class_histogram(labels: torch.Tensor, keep: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(num_classes,) fraction of the kept pixels given to each class (zeros when none kept)."""
    counts = torch.bincount(labels[keep], minlength=num_classes).float()
    return counts / counts.sum().clamp_min(1)
