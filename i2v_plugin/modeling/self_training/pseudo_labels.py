"""Confident pseudo-labels, their quality weights (DAFormer) and the weighted cross entropy."""

import torch
import torch.nn.functional as F


def confident_pseudo_labels(
    probs: torch.Tensor, threshold: float, valid: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's class per pixel and whether it is confident.

    Args:
        probs: (N, C, H, W) softmax probabilities.
        threshold: a pixel is confident when its max probability is >= this.
        valid: (N, H, W) bool, False on padding.
    Returns:
        (labels (N, H, W) long, confident (N, H, W) bool).
    """
    confidence, labels = probs.max(dim=1)
    return labels, (confidence >= threshold) & valid


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

    Args:
        logits: (N, C, H, W); labels: (N, H, W) long; weights: (N, H, W) float >= 0.
    """
    per_pixel = F.cross_entropy(logits.float(), labels, reduction="none")
    return (weights * per_pixel).sum() / (weights > 0).sum().clamp_min(1)


def class_histogram(labels: torch.Tensor, keep: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(num_classes,) fraction of the kept pixels given to each class (zeros when none kept)."""
    counts = torch.bincount(labels[keep], minlength=num_classes).float()
    return counts / counts.sum().clamp_min(1)
